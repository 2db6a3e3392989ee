"""Search ranks as the ranking rules say, read in index order (issue 11): over a generated
directory and the real seed, on SQLite and PostgreSQL, every result (ids in order, views,
localities, reach, fallback, filters relaxed) equals a plain ranking of every service's
view by the rules in ``bot.directory.query``'s docstring, and the page a search reads
equals the summaries of those views."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bench.directory import kept_database
from bot.config import NZ
from bot.db import session_scope
from bot.directory.models import Service
from bot.directory.places import NATIONAL, gazetteer
from bot.directory.query import (
    FILTERS,
    GENERAL_NEED,
    INCLUSIVE_AUDIENCES,
    LOCAL,
    NATIONAL_ONLY,
    REGIONAL,
    ServiceQuery,
    ServiceSummary,
    ServiceView,
    get_services,
    locality,
    search,
)
from bot.directory.taxonomy import taxonomies
from tests.conftest import postgres_url

SERVICES = 1_000
SEARCHES = 400


@dataclass(frozen=True)
class Expected:
    ids: list[str]
    localities: dict[str, int]
    reach: str | None
    fallback: bool
    relaxed: tuple[str, ...]


def _passes(view: ServiceView, query: ServiceQuery) -> bool:
    """The filters asked, on the view."""
    audience = query.audience
    exclusive = audience and audience not in INCLUSIVE_AUDIENCES
    if exclusive and view.audiences and audience not in view.audiences:
        return False
    if query.kaupapa_maori and not view.kaupapa_maori:
        return False
    if query.free and view.free is not True:
        return False
    return not query.open_now or view.is_open(query.at) is True


def _rows(view: ServiceView, query: ServiceQuery, lineage: list[str]) -> Iterator[tuple]:
    """The view's (rank key, need) for each place asked that it serves and need it meets."""
    specific = {
        need: 0 if rank == "primary" else 1
        for need, rank in view.needs.items()
        if need == query.need or (query.need and need == GENERAL_NEED)
    }
    if not query.need:
        specific = {need: 0 for need, rank in view.needs.items() if rank == "primary"}
    for place in set(lineage) & set(view.area_keys):
        for need, rank in specific.items():
            key: tuple = (locality(place),)
            if query.need:
                key += (rank if need == query.need else 2,)
            if query.audience:
                key += (0 if query.audience in view.audiences else 1,)
            yield (*key, not view.has_contact, view.name.lower(), view.id), need


# How local the nearest service for the need is, by the kind of place asked and the
# locality of that service (town, district, region, country): within the district, or
# within a region asked, is local.
REACH = {
    "town": (LOCAL, LOCAL, REGIONAL, NATIONAL_ONLY),
    "district": (LOCAL, LOCAL, REGIONAL, NATIONAL_ONLY),
    "region": (LOCAL, LOCAL, LOCAL, NATIONAL_ONLY),
}


def _reach(query: ServiceQuery, nearest: int | None) -> str | None:
    place = gazetteer().get(query.place)
    if place is None or place.key == NATIONAL or nearest is None:
        return None
    return REACH[place.kind][nearest]


def _ranked(views: Directory, query: ServiceQuery, limit: int | None) -> Expected:
    lineage = gazetteer().lineage(query.place) if query.place else [NATIONAL]
    best: dict[str, tuple] = {}
    specific: list[int] = []
    for view in views.serving(lineage):
        rows = list(_rows(view, query, lineage))
        if not rows or not _passes(view, query):  # the filters (open now: slow) only if needed
            continue
        for key, need in rows:
            best[view.id] = min(best.get(view.id, key), key)
            if need == query.need:
                specific.append(key[0])
    order = sorted(best, key=best.__getitem__)
    ids = order[:limit] if limit is not None else order
    localities = {i: best[i][0] for i in ids}
    if not query.need:
        nearest = min((key[0] for key in best.values()), default=None)
    else:
        nearest = min(specific, default=None)
    if query.need and nearest is None:
        return Expected(ids, localities, None, bool(best), ())
    return Expected(ids, localities, _reach(query, nearest), False, ())


class Directory:
    """Every service's view, and which serve each place: a view serving none of the places
    asked has no row to rank (``_rows``), so the plain ranking need not look at it."""

    def __init__(self, views: list[ServiceView]) -> None:
        self.by_place: dict[str, list[ServiceView]] = {}
        for view in views:
            for place in set(view.area_keys):
                self.by_place.setdefault(place, []).append(view)

    def serving(self, places: list[str]) -> list[ServiceView]:
        """The views of the services serving any of ``places``, each once."""
        found = {view.id: view for place in places for view in self.by_place.get(place, [])}
        return list(found.values())


def expected(views: Directory, query: ServiceQuery, limit: int | None) -> Expected:
    """What a search should answer: every view ranked by the rules, filters relaxed when
    they leave nothing for the need."""
    found = _ranked(views, query, limit)
    if not query.filters or (found.ids and not found.fallback):
        return found
    plain = ServiceQuery(query.need, query.place, query.audience, at=query.at)
    return Expected(**{**_ranked(views, plain, limit).__dict__, "relaxed": query.filters})


def queries(rng: random.Random) -> Iterator[tuple[ServiceQuery, int | None]]:
    """Searches of every shape: any place kind or none, any need or none (general too),
    audiences (inclusive ones too), each filter and pairs of them, open now at any hour
    of the week, and limits from one to every service."""
    places = [None, *gazetteer().places]
    needs = [None, *taxonomies().needs]
    audiences = [None, None, *taxonomies().audiences]
    monday = datetime(2026, 11, 30, tzinfo=NZ)
    while True:
        filters = {f: True for f in FILTERS if rng.random() < 0.2}
        at = monday + timedelta(minutes=rng.randrange(7 * 24 * 60))
        query = ServiceQuery(
            need=rng.choice(needs),
            place=rng.choice(places),
            audience=rng.choice(audiences),
            at=at,
            **filters,
        )
        yield query, rng.choice((None, 1, 3, 30, 30, 30))


def summary_of(view: ServiceView) -> ServiceSummary:
    """What a page shows of a service, taken from its whole view."""
    return ServiceSummary(**{f.name: getattr(view, f.name) for f in fields(ServiceSummary)})


def compare(url: str, searches: int, rng: random.Random) -> int:
    """Compares ``searches`` searches with the plain ranking, and their pages with the
    summaries of the whole views; returns how many were compared."""
    with session_scope(url) as session:
        active = select(Service.id).where(Service.status == "active")
        whole = {v.id: v for v in get_services(session, list(session.execute(active).scalars()))}
        views = Directory(list(whole.values()))
        for count, (query, limit) in enumerate(queries(rng), start=1):
            found = search(session, query, limit=limit, views=3)
            want = expected(views, query, limit)
            got = Expected(found.ids, found.localities, found.reach, found.fallback, found.relaxed)
            assert got == want, (query, limit)
            assert found.services == [summary_of(whole[i]) for i in want.ids[:3]]
            if count == searches:
                return count
    return 0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def generated(request: pytest.FixtureRequest) -> Iterator[str]:
    """A directory generated as the benchmark generates it, built once and kept for later
    runs while what it is built from is unchanged (``bench.directory.kept_database``): the
    tests only read it."""
    base = postgres_url() if request.param == "postgresql" else None
    with kept_database(request.param, SERVICES, 5, base) as (url, _):
        yield url


def test_search_ranks_a_generated_directory_as_the_rules_say(generated):
    assert compare(generated, SEARCHES, random.Random(7)) == SEARCHES


def test_search_ranks_the_seed_as_the_rules_say(seeded_url):
    assert compare(seeded_url, 300, random.Random(8)) == 300
