"""Demand records: counted once per conversation, need and week, and nothing that leads back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import inspect, select

from bot.db import get_engine, session_scope
from bot.directory import query
from bot.insights import demand
from bot.insights.models import DemandRecord, WeekKey

# A Saturday evening in New Zealand (its ISO week began on Monday 23 November).
SATURDAY = datetime(2026, 11, 28, 9, 5, tzinfo=timezone.utc)
MONDAY = SATURDAY.date().replace(day=23)


class FakeTracker:
    def __init__(self, sender_id: str, texts: list[str], channel: str = "rest") -> None:
        self.sender_id = sender_id
        self.events: list[dict[str, Any]] = [{"event": "user", "text": t} for t in texts]
        self._channel = channel

    def get_latest_input_channel(self) -> str:
        return self._channel

    def get_slot(self, key: str) -> Any:
        return None


def _found(reach: str | None, fallback: bool = False) -> query.SearchResult:
    return query.SearchResult(services=[object()], reach=reach, fallback=fallback)  # type: ignore[list-item]


NOTHING = query.SearchResult(services=[])


def _record(url: str, tracker: FakeTracker, asked: query.ServiceQuery, result, at=SATURDAY):
    with session_scope(url) as session:
        demand.record_search(session, tracker, asked, result, at)


def _rows(url: str) -> list[DemandRecord]:
    with session_scope(url) as session:
        return list(session.scalars(select(DemandRecord).order_by(DemandRecord.id)))


def test_a_conversation_counts_once_per_need_and_week(db_url: str) -> None:
    tracker = FakeTracker("conv-1", ["need a place to stay in greymouth"])
    housing = query.ServiceQuery(need="housing", place="greymouth")
    _record(db_url, tracker, housing, _found(query.REGIONAL))
    _record(db_url, tracker, housing, _found(query.REGIONAL), SATURDAY + timedelta(hours=1))
    _record(db_url, tracker, query.ServiceQuery(need="drugs_alcohol", place="greymouth"), NOTHING)
    _record(db_url, FakeTracker("conv-2", ["housing"]), housing, _found(query.LOCAL))
    _record(db_url, tracker, housing, _found(query.LOCAL), SATURDAY + timedelta(days=2))
    rows = _rows(db_url)
    assert [(r.week, r.need, r.outcome) for r in rows] == [
        (MONDAY, "housing", "regional"),
        (MONDAY, "drugs_alcohol", "nothing"),
        (MONDAY, "housing", "local"),
        (MONDAY + timedelta(weeks=1), "housing", "local"),
    ]
    assert {r.area for r in rows} == {"grey"}  # no checked population: the district
    assert {r.channel for r in rows} == {"rest"}


def test_a_record_holds_nothing_about_the_person(db_url: str) -> None:
    tracker = FakeTracker("sender-+64211234567", ["kei te pōuri au, my son is on P"], "twilio")
    _record(db_url, tracker, query.ServiceQuery(need="drugs_alcohol", place="westport"), NOTHING)
    columns = {c["name"] for c in inspect(get_engine(db_url)).get_columns("insight_demand")}
    assert columns == {
        "id", "week", "area", "need", "audience", "channel", "reo", "outcome", "handoff",
        "demo", "tally", "handoff_asked", "handoff_consented",
    }  # fmt: skip
    (row,) = _rows(db_url)
    values = [str(getattr(row, c)) for c in columns]
    assert not any("sender" in v or "64211234567" in v or "pōuri" in v for v in values)
    assert (row.area, row.channel, row.reo, row.outcome) == ("buller", "twilio", True, "nothing")


def test_the_latest_search_with_a_place_is_kept_and_te_reo_once_used_stays(db_url: str) -> None:
    tracker = FakeTracker("conv-1", ["help with food"])
    _record(db_url, tracker, query.ServiceQuery(need="money_food"), _found(None))
    assert [(r.area, r.outcome, r.reo) for r in _rows(db_url)] == [(None, "no_place", False)]
    tracker.events.append({"event": "user", "text": "kia ora, hokitika"})
    later = query.ServiceQuery(need="money_food", place="hokitika", audience="rangatahi")
    _record(db_url, tracker, later, _found(query.NATIONAL_ONLY))
    tracker.events[:] = [{"event": "user", "text": "and no place"}]
    _record(db_url, tracker, query.ServiceQuery(need="money_food"), _found(None))
    assert [(r.area, r.audience, r.outcome, r.reo) for r in _rows(db_url)] == [
        ("westland", "rangatahi", "national", True)
    ]


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (_found(query.LOCAL), "local"),
        (_found(query.REGIONAL), "regional"),
        (_found(query.NATIONAL_ONLY), "national"),
        (_found(None, fallback=True), "nothing"),
        (NOTHING, "nothing"),
        (_found(None), "no_place"),
    ],
)
def test_outcome_of_a_search(result: query.SearchResult, outcome: str) -> None:
    assert demand.outcome_of(result) == outcome


def test_a_town_is_named_only_with_a_population_over_the_threshold(tmp_path) -> None:
    rules = demand.AreaRules(5000, {"greymouth": 8000, "reefton": 900}, 5)
    assert demand.area_of("greymouth", rules) == "greymouth"
    assert demand.area_of("reefton", rules) == "buller"
    assert demand.area_of("runanga", rules) == "grey"
    assert demand.area_of("westland", rules) == "westland"
    assert demand.area_of("west-coast", rules) == "west-coast"
    assert demand.area_of("nz", rules) is None
    assert demand.area_of(None, rules) is None
    wrong = tmp_path / "areas.yml"
    wrong.write_text(
        "town_minimum_population: 1\ntown_populations: {atlantis: 3}\nsmallest_shown_count: 5\n"
    )
    with pytest.raises(ValueError, match="atlantis"):
        demand.area_rules(wrong)


def test_the_data_file_names_no_town_without_a_checked_population() -> None:
    rules = demand.area_rules()
    assert rules.town_minimum_population > 0 and rules.smallest_shown_count == 5
    assert all(p >= rules.town_minimum_population for p in rules.town_populations.values())


def test_a_handoff_marks_the_search_this_week_or_last(db_url: str) -> None:
    tracker = FakeTracker("conv-1", ["housing"])
    _record(db_url, tracker, query.ServiceQuery(need="housing", place="hokitika"), NOTHING)
    with session_scope(db_url) as session:
        assert not demand.record_handoff(session, "conv-2", "housing", SATURDAY)
        assert not demand.record_handoff(session, "conv-1", "drugs_alcohol", SATURDAY)
        assert demand.record_handoff(session, "conv-1", "housing", SATURDAY + timedelta(days=3))
    assert [r.handoff for r in _rows(db_url)] == [True]


def test_keys_and_hashes_go_once_the_following_week_is_over(db_url: str) -> None:
    tracker = FakeTracker("conv-1", ["housing"])
    housing = query.ServiceQuery(need="housing", place="hokitika")
    _record(db_url, tracker, housing, NOTHING)
    _record(db_url, tracker, housing, NOTHING, SATURDAY + timedelta(weeks=1))
    with session_scope(db_url) as session:
        assert len(session.scalars(select(WeekKey)).all()) == 2
    _record(db_url, tracker, housing, NOTHING, SATURDAY + timedelta(weeks=2))
    with session_scope(db_url) as session:
        weeks = session.scalars(select(WeekKey.week).order_by(WeekKey.week)).all()
        assert weeks == [MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=2)]
    assert [r.tally is None for r in _rows(db_url)] == [True, False, False]
    assert len(_rows(db_url)) == 3


def test_te_reo_words_count_but_names_of_places_and_organisations_do_not() -> None:
    assert demand.used_reo(["kei te hiahia āwhina au"])
    assert not demand.used_reo(["I live in Māwhera, is Oranga Tamariki open", None])
    assert not demand.used_reo(["need housing help"])
