"""Directory search latency (``bot.directory.query``) with generated directories.

The generated services spread over the gazetteer as a real directory would:
most serve one town, fewer a district or a region, a few the whole country;
each has a main need, sometimes one or two more, sometimes an audience, a
phone or two and opening hours. Rows are written with the ORM models into a
fresh database (migrated with Alembic), as ``bot.directory.seed`` writes them,
but in bulk: a temporary SQLite file, and PostgreSQL too when
``BENCH_DATABASE_URL`` (or ``DATABASE_URL``) names one. On PostgreSQL the
directory goes into a schema of its own, dropped afterwards, so the database's
own tables are never touched.

With ``BENCH_KEEP_DIRECTORY=1`` a built directory is kept and used again by later runs
(``kept_database``): a SQLite file under the temporary directory
(``awhina-bench-directory/``), a PostgreSQL schema ``awhina_bench_keep_<size>_<seed>_<key>``.
Its key is a hash of what its rows depend on (``build_key``: the size, the random seed,
this generator, the code that writes and derives the rows, the gazetteer, the taxonomy
and the migrations), so a change to any of them builds it afresh; copies of an older
key are dropped a day later. The runs only read it. A 100,000-service
directory takes minutes to build on PostgreSQL and seconds to reuse.

Three things are timed, each as the actions do it (a fresh session each time):
a search (``search``), a follow-up on the services shown (``get_services`` of
a page of ids) and a follow-up that may name a service (``find_by_name``, half
the messages naming one).

``python -m bench.directory [sizes...]`` runs this part alone and prints the table.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bench.load import percentile
from bot.config import NZ, ROOT
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
from bot.directory.query import (
    ANY_AUDIENCE,
    EVERYONE,
    FACET_FLAGS,
    ServiceQuery,
    facet,
    facets,
    find_by_name,
    get_services,
    search,
    warm_up,
)
from bot.directory.session_state import PAGE_SIZE
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY, taxonomies
from bot.migrate import upgrade

# Share of services by the kind of place they serve.
AREA_KINDS = {"town": 0.75, "district": 0.12, "region": 0.10, "country": 0.03}
SERVICES_PER_ORGANIZATION = 5
CHUNK = 10_000
# Each kind of lookup runs at most this many times or for this long.
MAX_QUERIES = 200
MAX_QUERY_SECONDS = 20.0
# Searches ask "open now" at a fixed time (a Tuesday morning), so runs compare.
AT = datetime(2026, 12, 1, 10, 0, tzinfo=NZ)


@dataclass(frozen=True)
class SearchFigures:
    engine: str
    services: int
    build_s: float
    queries: int
    p50_ms: float
    p95_ms: float
    mean_results: float
    by_ids_p50_ms: float
    by_ids_p95_ms: float
    by_name_p50_ms: float
    by_name_p95_ms: float
    # CPU time of this process per search: less sensitive than wall-clock to the other
    # work on the machine (on PostgreSQL the server's share is not in it).
    cpu_p50_ms: float = float("nan")
    cpu_p95_ms: float = float("nan")
    load_average: float = float("nan")  # the machine's, over the last minute, at the end
    # Per kind of search (``kind``): (kind, searches, p50 ms, p95 ms, CPU p95 ms).
    by_kind: tuple[tuple[str, int, float, float, float], ...] = ()


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
        seed.index_services(session)
    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        # As autovacuum would after a bulk load, done before the timing instead of during
        # it (a vacuum of the new rows ran through a whole run, slowing every statement).
        tables = ["organization", "service_search", "service_words"]
        tables += [model.__tablename__ for model in MODELS.values()]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {', '.join(tables)}"))  # this schema's
        return
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # as autovacuum would after a bulk load


def _queries(rng: random.Random) -> Iterator[ServiceQuery]:
    """Endless realistic searches: a need in a town, now and then a district, an audience or
    a filter ("anything kaupapa Māori?", "free?", "open now?")."""
    places = gazetteer().places.values()
    towns = [p.key for p in places if p.kind == "town"]
    districts = [p.key for p in places if p.kind == "district"]
    needs = [n for n in taxonomies().needs if n != "general"]
    audiences = list(taxonomies().audiences)
    while True:
        place = rng.choice(districts if rng.random() < 0.2 else towns)
        audience = rng.choice(audiences) if rng.random() < 0.3 else None
        wanted = rng.choices(("", "kaupapa_maori", "free", "open_now"), weights=(7, 1, 1, 1))[0]
        filters = {wanted: True} if wanted else {}
        yield ServiceQuery(need=rng.choice(needs), place=place, audience=audience, at=AT, **filters)


def kind(query: ServiceQuery) -> str:
    """What a search asks beyond a need and a place: "plain", or its audience and filters
    (e.g. "audience+kaupapa_maori")."""
    return "+".join((["audience"] if query.audience else []) + list(query.filters)) or "plain"


def _by_kind(
    queries: list[ServiceQuery], latencies: list[float], cpu: list[float]
) -> tuple[tuple[str, int, float, float, float], ...]:
    kinds: dict[str, list[int]] = {}
    for i, query in enumerate(queries):
        kinds.setdefault(kind(query), []).append(i)
    return tuple(
        (
            name,
            len(at),
            percentile([latencies[i] for i in at], 50),
            percentile([latencies[i] for i in at], 95),
            percentile([cpu[i] for i in at], 95),
        )
        for name, at in sorted(kinds.items(), key=lambda item: -len(item[1]))
    )


def _search(session: Session, query: ServiceQuery) -> list[str]:
    """The ids a search shows, as ``actions.search.show_search`` asks for them."""
    return [s.id for s in search(session, query, views=PAGE_SIZE).services]


def _timed(
    url: str,
    call: Callable[[Session, Any], Any],
    arguments: Iterator[Any],
    asked: list[Any] | None = None,
) -> tuple[list[float], list[Any], list[float]]:
    """Milliseconds per ``call(session, argument)`` (a fresh session each, as the actions
    do), the answers, and this process's CPU milliseconds per call; the arguments go
    into ``asked``."""
    asked = [] if asked is None else asked
    latencies, answers, cpu = [], [], []
    deadline = time.perf_counter() + MAX_QUERY_SECONDS
    while len(latencies) < MAX_QUERIES and time.perf_counter() < deadline:
        argument = next(arguments)
        asked.append(argument)
        began, began_cpu = time.perf_counter(), time.process_time()
        with session_scope(url) as session:
            answers.append(call(session, argument))
        latencies.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return latencies, answers, cpu


def _pages(rng: random.Random, shown: list[list[str]]) -> Iterator[list[str]]:
    """Pages a search showed, for follow-ups on them ("whats their number")."""
    pages = [page[:PAGE_SIZE] for page in shown if page] or [["gen-0"]]
    while True:
        yield rng.choice(pages)


def _messages(rng: random.Random, count: int) -> Iterator[str]:
    """Follow-up messages, half of them naming a service ("is Generated service 12 open")."""
    while True:
        if rng.random() < 0.5:
            yield f"is Generated service {rng.randrange(count)} open today?"
        else:
            yield "whats their number"


@contextmanager
def scratch_database(engine: str, base: str | None = None, keep: bool = False) -> Iterator[str]:
    """A URL for an empty database on ``engine``: a temporary SQLite file, or a PostgreSQL
    schema of its own (dropped afterwards, unless ``keep`` and nothing failed) in the
    database ``base`` (by default ``postgres_url()``) names."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="awhina-bench-directory-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'directory.db'}"
            yield url
            get_engine(url).dispose()
        return
    base = base or postgres_url()
    if base is None:
        raise RuntimeError("no PostgreSQL URL: set BENCH_DATABASE_URL")
    schema = f"awhina_bench_{os.getpid()}_{next(_scratch_numbers)}"
    admin = get_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = _in_schema(base, schema)
    drop = not keep
    try:
        yield url
    except BaseException:
        drop = True  # a build that failed is not kept
        raise
    finally:
        get_engine(url).dispose()
        if drop:
            _drop_schema(admin, schema)


_scratch_numbers = itertools.count()


def _in_schema(base: str, schema: str) -> str:
    """``base`` with ``schema`` first in the search path."""
    # Written out, not with URL.update_query_dict: its "%3D" would upset Alembic's
    # config parser (bot.migrate), which reads "%" as interpolation.
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path={schema}"


def _schema_of(url: str) -> str:
    """The schema ``_in_schema`` put first in ``url``'s search path."""
    return url.rsplit("search_path=", 1)[1]


def _drop_schema(admin: Any, schema: str, attempts: int = 3) -> None:
    """Drops ``schema``, again if the drop deadlocks (with autovacuum analysing a table
    just filled, say: PostgreSQL then cancels one of the two)."""
    for attempt in range(attempts):
        try:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            return
        except OperationalError as error:
            if "deadlock" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.5)


@contextmanager
def generated_database(
    engine: str, count: int, seed_value: int, base: str | None = None
) -> Iterator[tuple[str, float]]:
    """A scratch database (``scratch_database``) with ``count`` services generated from
    ``seed_value``, and the seconds its build took."""
    with scratch_database(engine, base) as url:
        started = time.perf_counter()
        build(url, count, random.Random(seed_value))
        yield url, time.perf_counter() - started


KEEP = "BENCH_KEEP_DIRECTORY"
KEPT_FILES = Path(tempfile.gettempdir()) / "awhina-bench-directory"
KEPT_SCHEMA = "awhina_bench_keep"
KEPT_FOR_S = 24 * 3600  # a copy of another key is dropped once this old
# What a generated directory's rows are made from, besides this module's generator.
BUILT_FROM = (
    "bot/directory/seed.py",
    "bot/directory/models.py",
    "bot/directory/places.py",
    "bot/directory/taxonomy.py",
    "bot/directory/hours.py",
    "bot/reo/normalise.py",
    "data/directory/places.yml",
    "data/directory/taxonomy.yml",
)


def build_key(count: int, seed_value: int) -> str:
    """A hash of what ``build`` writes for ``count`` services from ``seed_value``: the
    generator's code and constants, the code that writes and derives the rows (``BUILT_FROM``,
    ``facet``, ``facets``), the gazetteer, the taxonomy and the migrations."""
    digest = hashlib.sha256(f"{count}/{seed_value}".encode())
    for function in (_service, _chunks, build, facet, facets):
        digest.update(inspect.getsource(function).encode())
    constants = (AREA_KINDS, SERVICES_PER_ORGANIZATION, CHUNK, ANY_AUDIENCE, EVERYONE, FACET_FLAGS)
    digest.update(repr(constants).encode())
    migrations = sorted((ROOT / "bot" / "migrations" / "versions").glob("*.py"))
    for path in [*(ROOT / name for name in BUILT_FROM), *migrations]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


@contextmanager
def kept_database(
    engine: str, count: int, seed_value: int, base: str | None = None
) -> Iterator[tuple[str, float]]:
    """A database with ``count`` services generated from ``seed_value`` on ``engine``, built
    the first time and kept for later runs (keyed by ``build_key``), and the seconds spent
    building it (none when it was kept). For reading only.

    It is built under a name of its own and renamed when whole, so no run reads one half
    built, and two runs building it at once keep the first. Copies of other keys (older
    code) are dropped once a day old: a run of other code may be reading one."""
    name = f"{count}_{seed_value}_{build_key(count, seed_value)}"
    started = time.perf_counter()
    if engine == "sqlite":
        path = KEPT_FILES / f"directory_{name}.db"
        if not path.exists():
            KEPT_FILES.mkdir(exist_ok=True)
            building = path.with_suffix(f".{os.getpid()}.building")
            build(f"sqlite:///{building}", count, random.Random(seed_value))
            get_engine(f"sqlite:///{building}").dispose()  # its write-ahead log folded in
            with contextlib.suppress(FileExistsError):
                os.link(building, path)
            building.unlink()
        stale = time.time() - KEPT_FOR_S
        for old in KEPT_FILES.glob(f"directory_{count}_{seed_value}_*.db"):
            if old != path and old.stat().st_mtime < stale:
                old.unlink()
        url = f"sqlite:///{path}"
    else:
        base = base or postgres_url()
        if base is None:
            raise RuntimeError("no PostgreSQL URL: set BENCH_DATABASE_URL")
        url = _kept_schema(base, count, seed_value, f"{KEPT_SCHEMA}_{name}")
    yield url, time.perf_counter() - started
    get_engine(url).dispose()


def _kept_schema(base: str, count: int, seed_value: int, schema: str) -> str:
    """``kept_database`` on PostgreSQL: the URL of ``schema`` in ``base``, built if need be.
    Each kept schema's comment is when it was built (seconds since the epoch)."""
    admin = get_engine(base)
    with admin.connect() as connection:
        kept = dict(
            connection.execute(
                text(
                    "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace"
                    " WHERE nspname LIKE :like"
                ),
                {"like": f"{KEPT_SCHEMA}_{count}_{seed_value}_%"},
            ).all()
        )
    if schema not in kept:
        with scratch_database("postgresql", base, keep=True) as url:
            build(url, count, random.Random(seed_value))
            building = _schema_of(url)
        with admin.begin() as connection:
            connection.execute(text(f"COMMENT ON SCHEMA {building} IS '{time.time():.0f}'"))
        try:
            with admin.begin() as connection:
                connection.execute(text(f"ALTER SCHEMA {building} RENAME TO {schema}"))
        except ProgrammingError:  # built meanwhile by another run
            _drop_schema(admin, building)
    stale = time.time() - KEPT_FOR_S
    for old, built in kept.items():
        if old != schema and float(built or 0) < stale:
            _drop_schema(admin, old)
    return _in_schema(base, schema)


def postgres_url() -> str | None:
    """``BENCH_DATABASE_URL``, else ``DATABASE_URL``, when it names a PostgreSQL database."""
    for name in ("BENCH_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return url
    return None


def engines() -> tuple[str, ...]:
    """SQLite always; PostgreSQL when a URL names one."""
    return ("sqlite", "postgresql") if postgres_url() else ("sqlite",)


def measure(count: int, engine: str = "sqlite", seed_value: int = 11) -> SearchFigures:
    """Search and follow-up latency over ``count`` generated services on ``engine``, each
    for at most ``MAX_QUERIES`` calls or ``MAX_QUERY_SECONDS``."""
    keep = os.environ.get(KEEP) == "1"
    directory = kept_database if keep else generated_database
    with directory(engine, count, seed_value) as (url, build_s):
        rng = random.Random(seed_value)
        for _ in _chunks(count, rng):  # the searches go on from where the build left it
            pass
        queries = _queries(rng)
        # Warm-up, as the action server's at start: mappers, and each kind's statement
        # built and compiled once per process (10-40 ms each, which a run of 200 searches
        # would otherwise count as its slowest twentieth).
        with session_scope(url) as session:
            warm_up(session, PAGE_SIZE)
        # Then as many searches of the same mix, other ones, unmeasured: a running server
        # has its database in memory, and a directory built or kept earlier may not (the
        # first run on a kept one was two to three times slower, bench/results/directory.md).
        _timed(url, _search, _queries(random.Random(seed_value + 1)))
        asked: list[ServiceQuery] = []
        latencies, shown, cpu = _timed(url, _search, queries, asked)
        ids_latencies, _, _ = _timed(url, get_services, _pages(rng, shown))
        name_latencies, _, _ = _timed(url, find_by_name, _messages(rng, count))
    return SearchFigures(
        engine=engine,
        services=count,
        build_s=build_s,
        queries=len(latencies),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        mean_results=sum(map(len, shown)) / len(shown),
        by_ids_p50_ms=percentile(ids_latencies, 50),
        by_ids_p95_ms=percentile(ids_latencies, 95),
        by_name_p50_ms=percentile(name_latencies, 50),
        by_name_p95_ms=percentile(name_latencies, 95),
        cpu_p50_ms=percentile(cpu, 50),
        cpu_p95_ms=percentile(cpu, 95),
        load_average=os.getloadavg()[0],
        by_kind=_by_kind(asked, latencies, cpu),
    )


def table(figures: list[SearchFigures]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| engine | services | searches | search p50 (ms) | search p95 (ms) "
        "| search CPU p50 / p95 (ms) | shown per search "
        "| by ids p50 / p95 (ms) | by name p50 / p95 (ms) | build (s) | load average |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        lines.append(
            f"| {f.engine} | {f.services:,} | {f.queries} | {f.p50_ms:.1f} | {f.p95_ms:.1f} "
            f"| {f.cpu_p50_ms:.1f} / {f.cpu_p95_ms:.1f} "
            f"| {f.mean_results:.0f} | {f.by_ids_p50_ms:.1f} / {f.by_ids_p95_ms:.1f} "
            f"| {f.by_name_p50_ms:.1f} / {f.by_name_p95_ms:.1f} | {f.build_s:.0f} "
            f"| {f.load_average:.1f} |"
        )
    return "\n".join(lines)


def kinds_table(figures: list[SearchFigures]) -> str:
    """The searches of each run by kind (``kind``), as a Markdown table."""
    lines = [
        "| engine | services | kind of search | searches | p50 (ms) | p95 (ms) | CPU p95 (ms) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for f in figures:
        for name, count, p50, p95, cpu_p95 in f.by_kind:
            lines.append(
                f"| {f.engine} | {f.services:,} | {name} | {count} | {p50:.1f} | {p95:.1f} "
                f"| {cpu_p95:.1f} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [100, 10_000, 100_000]
    figures = []
    for engine in engines():
        for size in sizes:
            figures.append(measure(size, engine))
            print(table(figures[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(figures))
    print()
    print(kinds_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
