"""Directory search latency (``bot.directory.query.search``) with generated directories.

The generated services spread over the gazetteer as a real directory would:
most serve one town, fewer a district or a region, a few the whole country;
each has a main need, sometimes one or two more, sometimes an audience, a
phone or two and opening hours. Rows are written with the ORM models into a
fresh SQLite database (migrated with Alembic), as ``bot.directory.seed``
writes them, but in bulk.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.load import percentile
from bot.db import get_engine, session_scope
from bot.directory import hours as hours_mod
from bot.directory import seed
from bot.directory.models import (
    Attribute,
    Language,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
)
from bot.directory.places import gazetteer
from bot.directory.query import ServiceQuery, search
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY, taxonomies
from bot.migrate import upgrade

# Share of services by the kind of place they serve.
AREA_KINDS = {"town": 0.75, "district": 0.12, "region": 0.10, "country": 0.03}
SERVICES_PER_ORGANIZATION = 5
CHUNK = 10_000
MAX_QUERIES = 40
MAX_QUERY_SECONDS = 30.0


@dataclass(frozen=True)
class SearchFigures:
    services: int
    build_s: float
    queries: int
    p50_ms: float
    p95_ms: float
    mean_results: float


def _service(rng: random.Random, i: int, places: dict[str, list[str]]) -> dict[str, list[dict]]:
    """The rows of one generated service, by model name."""
    tax = taxonomies()
    service_id = f"gen-{i}"
    kind = rng.choices(list(AREA_KINDS), weights=list(AREA_KINDS.values()))[0]
    area = rng.choice(places[kind])
    needs = rng.sample(list(tax.needs), k=rng.choices((1, 2, 3), weights=(6, 3, 1))[0])
    audiences = rng.sample(list(tax.audiences), k=1) if rng.random() < 0.3 else []
    rows: dict[str, list[dict]] = {
        "service": [
            {
                "id": service_id,
                "organization_id": f"gen-org-{i // SERVICES_PER_ORGANIZATION}",
                "name": f"Generated service {i}",
                "description": f"Help with {tax.needs[needs[0]].label} in {area}.",
                "status": "active",
                "kaupapa_maori": rng.random() < 0.15,
                "free": rng.choice((True, True, True, False, None)),
                "referral": rng.choice(("self", "referral", "either", None)),
                "source": "Generated for the benchmark",
                "last_verified": date(2026, 11, 1) if rng.random() < 0.5 else None,
            }
        ],
        "attribute": [
            {
                "link_id": service_id,
                "link_type": NEED_TAXONOMY,
                "link_entity": "service",
                "taxonomy_term_id": f"{NEED_TAXONOMY}:{need}",
                "value": "primary" if n == 0 else "also",
            }
            for n, need in enumerate(needs)
        ]
        + [
            {
                "link_id": service_id,
                "link_type": AUDIENCE_TAXONOMY,
                "link_entity": "service",
                "taxonomy_term_id": f"{AUDIENCE_TAXONOMY}:{audience}",
                "value": None,  # every row of one insert has the same keys
            }
            for audience in audiences
        ],
        "area": [
            {
                "id": f"{service_id}:{area}",
                "service_id": service_id,
                "name": gazetteer().get(area).display_name,
                "extent_type": kind,
                "place_key": area,
            }
        ],
        "phone": [
            {
                "id": f"{service_id}:phone:{p}",
                "service_id": service_id,
                "number": f"03 {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
                "type": "voice",
                "position": p,
            }
            for p in range(rng.choice((0, 1, 1, 2)))
        ],
        "schedule": [],
        "language": [
            {
                "id": f"{service_id}:lang:en",
                "service_id": service_id,
                "name": "English",
                "code": "en",
            }
        ],
    }
    if rng.random() < 0.6:
        all_week = rng.random() < 0.15  # 24/7, as the seed writes it
        rows["schedule"].append(
            {
                "id": f"{service_id}:hours:0",
                "service_id": service_id,
                "byday": "MO,TU,WE,TH,FR,SA,SU" if all_week else "MO,TU,WE,TH,FR",
                "opens_at": clock_time(0) if all_week else clock_time(9),
                "closes_at": hours_mod.END_OF_DAY if all_week else clock_time(17),
            }
        )
    return rows


MODELS: dict[str, Any] = {
    "service": Service,
    "attribute": Attribute,
    "area": ServiceArea,
    "phone": Phone,
    "schedule": Schedule,
    "language": Language,
}


def _chunks(count: int, rng: random.Random) -> Iterator[dict[str, list[dict]]]:
    places: dict[str, list[str]] = {kind: [] for kind in AREA_KINDS}
    for place in gazetteer().places.values():
        places[place.kind].append(place.key)
    for start in range(0, count, CHUNK):
        chunk: dict[str, list[dict]] = {name: [] for name in MODELS}
        for i in range(start, min(count, start + CHUNK)):
            for name, rows in _service(rng, i, places).items():
                chunk[name].extend(rows)
        yield chunk


def build(url: str, count: int, rng: random.Random) -> None:
    """A migrated database at ``url`` with ``count`` generated services."""
    upgrade(url)
    with session_scope(url) as session:
        seed.load_taxonomies(session)
        session.flush()  # the terms exist before the attributes that point at them
        organizations = (count + SERVICES_PER_ORGANIZATION - 1) // SERVICES_PER_ORGANIZATION
        session.execute(
            insert(Organization),
            [{"id": f"gen-org-{o}", "name": f"Generated org {o}"} for o in range(organizations)],
        )
        for chunk in _chunks(count, rng):
            for name, model in MODELS.items():
                if chunk[name]:
                    session.execute(insert(model), chunk[name])


def _queries(rng: random.Random) -> Iterator[ServiceQuery]:
    """Endless realistic searches: a need in a town, now and then a district or an audience."""
    places = gazetteer().places.values()
    towns = [p.key for p in places if p.kind == "town"]
    districts = [p.key for p in places if p.kind == "district"]
    needs = [n for n in taxonomies().needs if n != "general"]
    audiences = list(taxonomies().audiences)
    while True:
        place = rng.choice(districts if rng.random() < 0.2 else towns)
        audience = rng.choice(audiences) if rng.random() < 0.3 else None
        yield ServiceQuery(need=rng.choice(needs), place=place, audience=audience)


def measure(count: int, seed_value: int = 11) -> SearchFigures:
    """Search latency over ``count`` generated services (a fresh session per search, as the
    actions do), for at most ``MAX_QUERIES`` searches or ``MAX_QUERY_SECONDS``."""
    rng = random.Random(seed_value)
    with tempfile.TemporaryDirectory(prefix="awhina-bench-directory-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'directory.db'}"
        started = time.perf_counter()
        build(url, count, rng)
        build_s = time.perf_counter() - started
        queries = _queries(rng)
        with session_scope(url) as session:
            search(session, next(queries))  # warm-up: mappers, statement cache
        latencies, results = [], []
        deadline = time.perf_counter() + MAX_QUERY_SECONDS
        while len(latencies) < MAX_QUERIES and time.perf_counter() < deadline:
            query = next(queries)
            began = time.perf_counter()
            with session_scope(url) as session:
                found = search(session, query)
            latencies.append((time.perf_counter() - began) * 1000)
            results.append(len(found.services))
        get_engine(url).dispose()
    return SearchFigures(
        services=count,
        build_s=build_s,
        queries=len(latencies),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        mean_results=sum(results) / len(results),
    )
