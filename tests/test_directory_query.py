"""Directory queries and ranking, on SQLite and PostgreSQL, against the real seed."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.db import session_scope
from bot.directory import present, query
from bot.directory.query import (
    LOCAL,
    NATIONAL_ONLY,
    REGIONAL,
    ServiceQuery,
    ServiceSummary,
    ServiceView,
    find_by_name,
    get_services,
    get_summaries,
    search,
    services_for_need,
    warm_up,
)
from bot.directory.taxonomy import taxonomies
from tests.test_directory_ranking import summary_of

NZ = ZoneInfo("Pacific/Auckland")


def _ids(url: str, **query) -> list[str]:
    with session_scope(url) as session:
        return [s.id for s in search(session, ServiceQuery(**query)).services]


def test_local_before_national_for_meth_in_a_coast_town(seeded_url):
    ids = _ids(seeded_url, need="drugs_alcohol", place="greymouth")
    assert ids[0] == "meth-navigation-west-coast"  # regional (West Coast) service first
    assert ids.index("alcohol-drug-helpline") < ids.index("need-to-talk-1737")  # specific first


def test_te_reo_place_key_and_region_alias_find_the_same_services(seeded_url):
    from bot.directory.places import gazetteer

    mawhera = gazetteer().resolve("Māwhera").key
    coast = gazetteer().resolve("the Coast").key
    assert mawhera == "greymouth" and coast == "west-coast"
    assert _ids(seeded_url, need="drugs_alcohol", place=mawhera) == _ids(
        seeded_url, need="drugs_alcohol", place="greymouth"
    )
    assert "meth-navigation-west-coast" in _ids(seeded_url, need="drugs_alcohol", place=coast)


def test_local_services_do_not_show_for_other_regions(seeded_url):
    ids = _ids(seeded_url, need="drugs_alcohol", place="invercargill")
    assert "meth-navigation-west-coast" not in ids
    assert "alcohol-drug-helpline" in ids  # national services always qualify


def test_district_service_shows_for_its_towns_only(seeded_url):
    assert "buller-health" in _ids(seeded_url, need="health", place="reefton")
    assert "buller-health" not in _ids(seeded_url, need="health", place="hokitika")


def test_audience_excludes_services_for_someone_else(seeded_url):
    ids = _ids(seeded_url, need="family_harm", audience="tane")
    assert "womens-refuge-crisisline" not in ids
    assert "shine-helpline" in ids
    assert "youthline" in _ids(seeded_url, need="mental_health", audience="rangatahi")


def test_kaupapa_maori_filter(seeded_url):
    with session_scope(seeded_url) as session:
        views = search(session, ServiceQuery(need="cultural", place="hokitika", kaupapa_maori=True))
    assert views.services and all(v.kaupapa_maori for v in views.services)


def test_open_now_uses_schedules(seeded_url):
    at = datetime(2026, 11, 29, 3, 0, tzinfo=NZ)  # a Sunday, 3am
    ids = _ids(seeded_url, need="mental_health", open_now=True, at=at)
    assert "need-to-talk-1737" in ids  # 24/7
    assert "shine-helpline" not in ids  # no hours known: not claimed open


def test_free_text_is_macron_blind(seeded_url):
    assert "ngati-waewae-runanga" in _ids(
        seeded_url, need="cultural", place="hokitika", text="Ngati Waewae"
    )


def _result(url: str, **query):
    with session_scope(url) as session:
        return search(session, ServiceQuery(**query))


def test_nothing_local_is_said_honestly_with_the_national_options(seeded_url):
    result = _result(seeded_url, need="prison", place="westport")
    assert result.reach == NATIONAL_ONLY
    assert {s.id for s in result.services} >= {"corrections-whanau"}


def test_reach_says_how_near_the_nearest_service_for_the_need_is(seeded_url):
    assert _result(seeded_url, need="health", place="reefton").reach == LOCAL  # Buller district
    assert _result(seeded_url, need="drugs_alcohol", place="westport").reach == REGIONAL
    assert _result(seeded_url, need="drugs_alcohol", place="west-coast").reach == LOCAL
    assert _result(seeded_url, need="drugs_alcohol", place="invercargill").reach == NATIONAL_ONLY
    assert _result(seeded_url, need="drugs_alcohol").reach is None  # no place asked


def test_a_filter_that_leaves_nothing_for_the_need_is_relaxed_and_named(seeded_url):
    result = _result(seeded_url, need="housing", place="westport", kaupapa_maori=True)
    assert result.relaxed == ("kaupapa_maori",)
    assert result.services and not any(s.kaupapa_maori for s in result.services)
    kept = _result(seeded_url, need="cultural", place="westport", kaupapa_maori=True)
    assert kept.relaxed == () and all(s.kaupapa_maori for s in kept.services)


def test_free_filter_keeps_only_free_services(seeded_url):
    result = _result(seeded_url, need="mental_health", free=True)
    assert result.services and all(s.free for s in result.services)


def test_find_by_name_and_get_services(seeded_url):
    with session_scope(seeded_url) as session:
        named = find_by_name(session, "whats the number for lifeline?")
        assert [v.id for v in named] == ["lifeline"]
        assert named[0].phones[0].number == "0800 543 354"
        assert [v.id for v in get_services(session, ["youthline", "nope", "lifeline"])] == [
            "youthline",
            "lifeline",
        ]


def test_a_page_of_results_is_read_as_summaries_the_same_as_the_whole_views(seeded_url):
    """Every need in a town, a district, a region and anywhere, with and without kaupapa
    Māori and open now: the page a search reads holds what a summary shows, equal to the
    whole views' (so the page's words are the same), and no more."""
    at = datetime(2026, 12, 1, 10, 0, tzinfo=NZ)
    shown = 0
    with session_scope(seeded_url) as session:
        for need, place, filters in itertools.product(
            taxonomies().needs,
            ("greymouth", "buller", "west-coast", None),
            ({}, {"kaupapa_maori": True}, {"open_now": True}),
        ):
            found = search(session, ServiceQuery(need, place, at=at, **filters), views=3)
            whole = get_services(session, found.ids[:3])
            assert {type(s) for s in found.services} <= {ServiceSummary}
            assert found.services == [summary_of(v) for v in whole]
            assert get_summaries(session, found.ids[:3]) == found.services
            assert present.summaries(found.services, at=at) == present.summaries(whole, at=at)
            shown += len(whole)
    assert shown > 300


def test_a_follow_up_on_a_service_shown_reads_it_whole(seeded_url):
    """A page holds summaries; what the follow-ups say (who runs it, where, who for, the
    source) comes from the whole view, read by id as the actions read it."""
    with session_scope(seeded_url) as session:
        page = search(session, ServiceQuery("mental_health", "westport"), views=3)
        everything = search(session, ServiceQuery("mental_health", "westport"))
        assert not any(hasattr(page.services[0], name) for name in ("organization", "needs"))
        views = get_services(session, page.ids[:3])
        assert views == everything.services[:3]
        assert {type(v) for v in views} == {ServiceView}
        assert all(v.organization and v.source and v.needs and v.area_keys for v in views)
        assert [summary_of(v) for v in views] == page.services


def test_crisis_lines_come_from_the_directory(seeded_url):
    with session_scope(seeded_url) as session:
        ids = {v.id for v in services_for_need(session, "crisis")}
    assert {"need-to-talk-1737", "lifeline", "suicide-crisis-helpline", "youthline"} <= ids
    assert {"womens-refuge-crisisline", "alcohol-drug-helpline", "emergency-111"} <= ids


def test_every_service_carries_a_source(seeded_url):
    with session_scope(seeded_url) as session:
        views = search(session, ServiceQuery(place="westport")).services
    assert views and all(v.source for v in views)


def test_threats_and_drug_debts_find_police_crimestoppers_and_victim_support(seeded_url):
    with session_scope(seeded_url) as session:
        views = search(session, ServiceQuery(need="threats_intimidation", place="greymouth"))
    found = {v.id: v for v in views.services if "threats_intimidation" in v.needs}
    assert set(found) == {"police-105", "crimestoppers", "victim-support"}
    assert not found["victim-support"].verified  # the reference says "verify"


def _built() -> tuple[int, int]:
    """How many statements search has built in this process."""
    return query._ranking.cache_info().misses, query._view_statement.cache_info().misses


def test_after_warm_up_a_conversation_builds_no_statement(seeded_url):
    with session_scope(seeded_url) as session:
        warm_up(session)
        built = _built()
        for asked in (
            ServiceQuery("housing", "westport", "wahine", open_now=True),
            ServiceQuery("general", "hokitika", "whanau", free=True),
            ServiceQuery(place="greymouth", kaupapa_maori=True),
        ):
            found = search(session, asked, views=3)
            get_services(session, found.ids[1:3])
        assert _built() == built
