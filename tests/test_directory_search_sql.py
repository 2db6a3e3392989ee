"""Directory search in SQL (issue 11.2), on SQLite and PostgreSQL: the same answers as
ranking every service would give, open now as ``hours.is_open`` says, names found
through the index, and no statement that reads every service."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from alembic import command
from sqlalchemy import event, func, inspect, select
from sqlalchemy.engine import Connection

from bench.directory import kept_database
from bot.config import NZ
from bot.db import get_engine, run_db, session_scope
from bot.directory import seed
from bot.directory.models import Service, ServiceSearch, ServiceWords
from bot.directory.query import (
    NATIONAL_ONLY,
    ServiceQuery,
    facet,
    facets,
    find_by_name,
    get_services,
    opening_numbers,
    search,
)
from bot.migrate import alembic_config
from tests.conftest import postgres_url

MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=NZ)
HOURS = """
organizations:
  - id: hours-org
    name: Hours org
    services:
      - {id: late, name: Late bar help, needs: [money_food], areas: [nz], source: a test,
         hours: [{days: FR-SA, opens: '20:00', closes: '02:00'}]}
      - {id: evening, name: Evening line, needs: [money_food], areas: [nz], source: a test,
         hours: [{days: MO-FR, opens: '18:00', closes: '24:00'}]}
      - {id: always, name: Always line, needs: [money_food], areas: [nz], source: a test,
         hours: 24/7}
      - {id: office, name: Office hours, needs: [money_food], areas: [nz], source: a test,
         hours: [{days: MO-FR, opens: '08:30', closes: '17:00'},
                 {days: SA, opens: '00:00', closes: '00:00'}]}
      - {id: unknown, name: No hours known, needs: [money_food], areas: [nz], source: a test}
"""


def _ids(url: str, **query) -> list[str]:
    with session_scope(url) as session:
        return search(session, ServiceQuery(**query), limit=None).ids


def test_a_page_is_the_start_of_the_whole_ranking(seeded_url):
    for query in (
        {"need": "drugs_alcohol", "place": "greymouth"},
        {"need": "mental_health", "audience": "rangatahi"},
        {"place": "westport"},
    ):
        whole = _ids(seeded_url, **query)
        with session_scope(seeded_url) as session:
            page = search(session, ServiceQuery(**query), limit=4, views=2)
        assert len(whole) > 4
        assert page.ids == whole[:4]
        assert [s.id for s in page.services] == whole[:2]
        assert set(page.localities) == set(page.ids)


def test_reach_counts_services_beyond_the_page(db_url, tmp_path):
    """A local general service comes first; the national one for the need, past the
    limit, still says how near help for the need is."""
    path = tmp_path / "two.yml"
    path.write_text(
        "organizations:\n  - id: o\n    name: O\n    services:\n"
        "      - {id: town-hub, name: Town hub, needs: [general], areas: [greymouth],"
        " source: a test}\n"
        "      - {id: housing-line, name: Housing line, needs: [housing], areas: [nz],"
        " source: a test}\n"
    )
    with session_scope(db_url) as session:
        seed.load(session, path)
        first = search(session, ServiceQuery(need="housing", place="greymouth"), limit=1)
        whole = search(session, ServiceQuery(need="housing", place="greymouth"), limit=None)
    assert whole.ids == ["town-hub", "housing-line"] and first.ids == ["town-hub"]
    assert (first.reach, first.fallback) == (whole.reach, whole.fallback) == (NATIONAL_ONLY, False)


def test_open_now_in_sql_agrees_with_is_open_all_week(db_url, tmp_path):
    path = tmp_path / "hours.yml"
    path.write_text(HOURS)
    with session_scope(db_url) as session:
        seed.load(session, path)
        views = get_services(session, ["late", "evening", "always", "office", "unknown"])
    for step in range(8 * 48):  # every half hour for eight days
        at = MONDAY + timedelta(minutes=30 * step)
        expected = {v.id for v in views if v.is_open(at)}
        assert set(_ids(db_url, need="money_food", open_now=True, at=at)) == expected, at


def test_a_service_with_one_schedule_row_is_open_now_from_its_search_rows(db_url, tmp_path):
    """Open now reads a lone schedule row from the search rows, as numbers: the days as
    bits (Monday first), the seconds of the day it opens and closes, the closing counted
    from the day it opens (past midnight: a day later; at 24:00, 86,400). A service with
    more (office hours) is read from its schedule."""
    path = tmp_path / "hours.yml"
    path.write_text(HOURS)
    with session_scope(db_url) as session:
        seed.load(session, path)
        rows = session.execute(
            select(
                ServiceSearch.service_id,
                ServiceSearch.open_days,
                ServiceSearch.opens_second,
                ServiceSearch.closes_second,
            ).where(ServiceSearch.facet == facet("*"))
        ).all()
    assert {service_id: tuple(numbers) for service_id, *numbers in rows} == {
        "late": (0b0110000, 20 * 3600, 26 * 3600),
        "evening": (0b0011111, 18 * 3600, 24 * 3600),
        "always": (0b1111111, 0, 24 * 3600),
        "office": (None, None, None),
        "unknown": (None, None, None),
    }


@pytest.mark.parametrize(
    ("row", "numbers"),
    [
        (("MO,WE", time(9), time(17, 0, 30)), (0b101, 9 * 3600, 17 * 3600 + 30)),
        (("SU", time(22), time(6)), (0b1000000, 22 * 3600, 30 * 3600)),
        (("MO-FR", time(9), time(9)), (0b11111, 9 * 3600, 33 * 3600)),
        (("SA", time(0), time(0)), (0b100000, 0, 24 * 3600)),
        (("tu", time(12), time(23, 59)), (0b10, 12 * 3600, 24 * 3600)),
    ],
)
def test_a_schedule_row_as_numbers_closes_the_day_it_opens_or_later(row, numbers):
    """Past midnight, a whole day from the same time, or all day: the closing is counted
    from the day it opens; 23:59 is until midnight (``hours.from_schedule_row``)."""
    assert opening_numbers(*row) == numbers


def test_find_by_name_uses_alternate_names_macrons_and_the_order_mentioned(seeded_url):
    with session_scope(seeded_url) as session:
        rows = session.execute(select(Service.id, Service.name)).all()
        lifeline = next(name for i, name in rows if i == "lifeline")
        youthline = next(name for i, name in rows if i == "youthline")
        named = find_by_name(session, f"is {youthline.upper()} or {lifeline} better")
        assert [v.id for v in named] == ["youthline", "lifeline"]
        assert find_by_name(session, "whats their number") == []
        long_message = "kia ora " * 400 + lifeline  # past the first batch of word runs
        assert [v.id for v in find_by_name(session, long_message)] == ["lifeline"]
        assert find_by_name(session, "Ngāti Waewae rūnanga?") == find_by_name(
            session, "ngati waewae runanga"
        )


def _relaxed(url: str) -> tuple[str, ...]:
    """The filters a kaupapa Māori search for housing in Greymouth had to drop."""
    query = ServiceQuery(need="housing", place="greymouth", kaupapa_maori=True)
    with session_scope(url) as session:
        result = search(session, query)
    assert result.ids == ["test-service"]
    return result.relaxed


def test_reloading_a_service_updates_what_search_reads(db_url, tmp_path):
    path = tmp_path / "one.yml"
    record = """
organizations:
  - id: test-org
    name: Test org
    services:
      - id: test-service
        name: Test service
        alternate_name: Tester
        needs: [housing]
        areas: [greymouth]
        kaupapa_maori: true
        source: a test
"""
    path.write_text(record)
    with session_scope(db_url) as session:
        seed.load(session, path)
    assert _relaxed(db_url) == ()
    path.write_text(record.replace("kaupapa_maori: true", "kaupapa_maori: false"))
    with session_scope(db_url) as session:
        seed.load(session, path)
        assert [v.id for v in find_by_name(session, "is tester open")] == ["test-service"]
        # One row for every service and one for everyone's: no kaupapa Māori facet left.
        facets = session.execute(select(ServiceSearch.facet)).scalars().all()
        assert sorted(facets) == ["*/", "/"]
    assert _relaxed(db_url) == ("kaupapa_maori",)  # no longer kaupapa Māori


def test_migration_0004_indexes_a_directory_loaded_before_it(seeded_url):
    before = _ids(seeded_url, need="drugs_alcohol", place="greymouth")
    config = alembic_config(seeded_url)
    command.downgrade(config, "0003")
    assert not {"service_search", "service_words"} & set(
        inspect(get_engine(seeded_url)).get_table_names()
    )
    command.upgrade(config, "head")
    assert _ids(seeded_url, need="drugs_alcohol", place="greymouth") == before
    with session_scope(seeded_url) as session:
        assert [v.id for v in find_by_name(session, "ring lifeline")] == ["lifeline"]


FACETED_QUERIES = (
    {"need": "drugs_alcohol", "place": "greymouth"},
    {"need": "mental_health", "audience": "rangatahi"},
    {"need": "mental_health", "audience": "whanau", "free": True},
    {"need": "housing", "place": "westport", "audience": "tane", "kaupapa_maori": True},
    {"need": "family_harm", "kaupapa_maori": True, "free": True},
    {"place": "westport", "audience": "wahine"},
)


def test_migration_0018_spreads_the_rows_over_facets_and_back(seeded_url):
    before = [_ids(seeded_url, **query) for query in FACETED_QUERIES]
    with session_scope(seeded_url) as session:
        rows = session.execute(select(func.count()).select_from(ServiceSearch)).scalar()
        everyone = session.execute(
            select(func.count()).where(ServiceSearch.facet == facet("*"))
        ).scalar()
    config = alembic_config(seeded_url)
    command.downgrade(config, "0017")
    engine = get_engine(seeded_url)
    columns = {c["name"] for c in inspect(engine).get_columns("service_search")}
    assert "facet" not in columns and "audiences" in columns
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM service_search").scalar() == (
            everyone
        )
    command.upgrade(config, "head")
    assert [_ids(seeded_url, **query) for query in FACETED_QUERIES] == before
    with session_scope(seeded_url) as session:
        assert session.execute(select(func.count()).select_from(ServiceSearch)).scalar() == rows


def _numbers(url: str) -> set[tuple]:
    """Each search row's service, facet and open-now numbers."""
    with session_scope(url) as session:
        return set(
            session.execute(
                select(
                    ServiceSearch.service_id,
                    ServiceSearch.place_key,
                    ServiceSearch.need,
                    ServiceSearch.facet,
                    ServiceSearch.open_days,
                    ServiceSearch.opens_second,
                    ServiceSearch.closes_second,
                )
            ).all()
        )


def test_migration_0019_keeps_open_now_as_numbers_and_back(seeded_url):
    """Down, the rows get their lone schedule row's text back (as 0018 copied it); up,
    the same numbers the loader writes, and the same services open now all week."""
    week = [MONDAY + timedelta(hours=7 * step) for step in range(24)]
    before = [_ids(seeded_url, open_now=True, at=at) for at in week]
    numbers = _numbers(seeded_url)
    kept = {row[0] for row in numbers if row[4] is not None}
    assert kept and any(row[4] is None for row in numbers)  # lone rows and others
    config = alembic_config(seeded_url)
    command.downgrade(config, "0018")
    engine = get_engine(seeded_url)
    columns = {c["name"] for c in inspect(engine).get_columns("service_search")}
    assert {"byday", "opens_at", "closes_at"} <= columns and "open_days" not in columns
    with engine.connect() as connection:
        copied = connection.exec_driver_sql(
            "SELECT DISTINCT s.service_id FROM service_search s JOIN schedule h"
            " ON h.service_id = s.service_id AND h.byday = s.byday"
            " AND h.opens_at = s.opens_at AND h.closes_at = s.closes_at"
        )
        assert set(copied.scalars()) == kept
    command.upgrade(config, "head")
    assert _numbers(seeded_url) == numbers
    assert [_ids(seeded_url, open_now=True, at=at) for at in week] == before


def test_a_service_is_in_the_facet_of_every_audience_and_filter_combination_it_meets():
    assert facets([], False, None) == ["*/", "/"]
    assert facets(["wahine", "tane"], True, True) == [
        *("*/", "*/k", "*/f", "*/kf"),
        *("tane/", "tane/k", "tane/f", "tane/kf"),
        *("wahine/", "wahine/k", "wahine/f", "wahine/kf"),
    ]
    assert facets(["rangatahi"], False, False) == ["*/", "rangatahi/"]
    assert facet("tane", ["free", "kaupapa_maori"]) == "tane/kf"


def test_run_db_works_in_a_thread_with_a_session_of_its_own(seeded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    loop_thread = threading.get_ident()

    def lookup(session, ids):
        return threading.get_ident(), [v.id for v in get_services(session, ids)]

    thread, ids = asyncio.run(run_db(lookup, ["youthline", "lifeline"]))
    assert thread != loop_thread and ids == ["youthline", "lifeline"]
    with pytest.raises(ZeroDivisionError):
        asyncio.run(run_db(lambda session: 1 / 0))


def test_sqlite_compiles_a_search_once_not_every_time_it_runs(seeded_url):
    """SQLite compiles a statement again every time values are bound to it when its plan
    may depend on them (a bare parameter as a LIKE pattern in a WHERE clause: open now's
    schedule subquery, words; an inclusive audience's NOT LIKE is in for good measure),
    which for a search's statements cost more than running them (``query._containing``).
    SQLite calls the authorizer while it compiles: run again, the searches call it not
    at all."""
    if not seeded_url.startswith("sqlite"):
        pytest.skip("PostgreSQL runs them prepared once per connection (query._execute)")
    at = MONDAY + timedelta(hours=10)
    searches = [
        ServiceQuery(
            need="mental_health", place="greymouth", audience="rangatahi", open_now=True, at=at
        ),
        ServiceQuery(need="housing", place="westport", open_now=True, at=at),
        ServiceQuery(need="housing", place="greymouth", audience="whanau", kaupapa_maori=True),
        ServiceQuery(need="legal", place="westport", text="advice for tenants"),
    ]
    compiled: list[tuple] = []
    with session_scope(seeded_url) as session:
        # Set before the first searches: setting an authorizer expires every statement.
        sqlite = session.connection().connection.dbapi_connection
        sqlite.set_authorizer(lambda *action: compiled.append(action) or sqlite3.SQLITE_OK)
        try:
            for query in searches:
                search(session, query, views=3)
            assert compiled  # the first time, each is compiled
            compiled.clear()
            for query in searches:
                search(session, query, views=3)
        finally:
            sqlite.set_authorizer(None)
    assert compiled == []


# No statement reads every service ---------------------------------------------------------

SERVICES = 10_000
# Tables as big as the directory: a statement must reach them through an index.
BIG = {"service", "service_search", "service_words", "attribute", "service_area", "phone"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big_directory(request: pytest.FixtureRequest) -> Iterator[str]:
    """The directory generated as the benchmark generates it, built once and kept for later
    runs while what it is built from is unchanged (``bench.directory.kept_database``): the
    tests only read it."""
    base = postgres_url() if request.param == "postgresql" else None
    with kept_database(request.param, SERVICES, 11, base) as (url, _):
        yield url


# The tests on the big directory run on one xdist worker, which builds it once per engine.
on_the_big_directory = pytest.mark.xdist_group("big-directory")


@contextmanager
def _statements(url: str) -> Iterator[list[tuple[str, object]]]:
    """The statements run on ``url``'s engine meanwhile, with their parameters."""
    statements: list[tuple[str, object]] = []
    engine = get_engine(url)

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _text(connection: Connection, statement: str) -> str:
    """What ``statement`` runs: on PostgreSQL an ``EXECUTE`` runs the statement prepared
    on the connection (``bot.directory.query._execute``)."""
    executed = re.match(r"EXECUTE (\w+)", statement)
    if executed is None:
        return statement
    prepared = "SELECT statement FROM pg_prepared_statements WHERE name = %(name)s"
    text = connection.exec_driver_sql(prepared, {"name": executed[1]}).scalar_one()
    return re.sub(r"^PREPARE \w+ AS ", "", text)  # as the client sent it


def _selects(connection: Connection, statements: list[tuple[str, object]], naming: str = ""):
    """The queries among ``statements`` (a SELECT, or a WITH and then one; those naming
    ``naming`` when given), by what they run (``_text``)."""
    return [
        (statement, parameters)
        for statement, parameters in statements
        if re.match(rf"\s*(SELECT|WITH)\b.*{naming}", _text(connection, statement), re.S)
    ]


def _plan(connection: Connection, statement: str, parameters, how: str = "") -> list:
    """The query plan of ``statement`` (on PostgreSQL, of a prepared one its generic plan,
    the one it runs with), on the connection that ran it."""
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a seq scan only if forced
    return connection.exec_driver_sql(f"EXPLAIN {how}{statement}", parameters).scalars().all()


def _full_reads(connection: Connection, statement: str, parameters) -> list[str]:
    """The tables in ``BIG`` that ``statement`` would read whole, from its query plan."""
    plan = _plan(connection, statement, parameters)
    if connection.dialect.name == "sqlite":
        lines = [row[-1] for row in plan]
        return [line for line in lines if re.match(rf"SCAN ({'|'.join(BIG)})\b", line)]
    return [line for line in plan if re.search(rf"Seq Scan on ({'|'.join(BIG)})\b", line)]


@on_the_big_directory
def test_no_statement_reads_every_service(big_directory):
    with session_scope(big_directory) as session:
        with _statements(big_directory) as statements:
            found = search(session, ServiceQuery(need="housing", place="greymouth"), views=3)
            search(session, ServiceQuery(need="housing", place="grey", audience="tane"), views=3)
            search(session, ServiceQuery(need="legal", place="greymouth", open_now=True), views=3)
            search(session, ServiceQuery(need="legal", kaupapa_maori=True, free=True), views=3)
            get_services(session, found.ids[3:6])
            named = find_by_name(session, "is Generated service 4321 open")
            find_by_name(session, "whats their number")
        connection = session.connection()  # the one that ran them (and prepared some)
        selects = _selects(connection, statements)
        assert [v.id for v in named] == ["gen-4321"]
        assert len(selects) >= 10
        for statement, parameters in selects:
            full = _full_reads(connection, statement, parameters)
            assert full == [], _text(connection, statement)


def _index_reads(connection: Connection, statement: str, parameters) -> tuple[list[str], int]:
    """How ``statement`` reads ``service_search``: its index scans (kind, index and
    condition) and its other reads of the table, and how many sorts its plan has."""
    if connection.dialect.name == "sqlite":
        lines = [row[-1] for row in _plan(connection, statement, parameters)]
        reads = [line for line in lines if "service_search" in line]
        return reads, sum("TEMP B-TREE" in line for line in lines)
    (plan,) = _plan(connection, statement, parameters, "(FORMAT JSON) ")
    reads, sorts = [], 0
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        sorts += node["Node Type"] == "Sort"
        if node.get("Relation Name") == "service_search" and "Index Name" not in node:
            reads.append(node["Node Type"])  # a Seq Scan, or the heap of a bitmap scan
        elif node.get("Index Name", "").startswith("ix_service_search"):
            reads.append(f"{node['Node Type']} {node['Index Name']} {node['Index Cond']}")
    return reads, sorts


@on_the_big_directory
@pytest.mark.parametrize(
    "query",
    [
        ServiceQuery(need="housing", place="greymouth", audience="tane"),
        ServiceQuery(need="housing", place="greymouth", audience="whanau"),
        ServiceQuery(need="legal", place="westport", kaupapa_maori=True),
        ServiceQuery(need="legal", place="grey", audience="wahine", free=True),
        ServiceQuery(audience="kaumatua", kaupapa_maori=True, free=True),
    ],
    ids=repr,
)
def test_a_search_for_an_audience_or_filter_reads_index_ranges_of_its_facet(big_directory, query):
    """Each part of the ranking is an index range of the facet asked (the audience,
    kaupapa Māori, free), read in rank order, not every row of the place for the need."""
    with session_scope(big_directory) as session:
        with _statements(big_directory) as statements:
            search(session, query, views=3)
        connection = session.connection()
        ranking = _selects(connection, statements, "service_search")
        assert ranking
        for statement, parameters in ranking:
            reads, sorts = _index_reads(connection, statement, parameters)
            if connection.dialect.name == "sqlite":
                assert sorts == 1, statement  # the union's, of a few rows: parts read in order
            else:  # a part of a few rows may be read as a bitmap of its range, then sorted
                reads = [read for read in reads if read != "Bitmap Heap Scan"]
            assert reads, statement
            for read in reads:
                assert "ix_service_search_need_order" in read or "main_order" in read, read
                assert "facet" in read, read  # the facet is in the index condition


@on_the_big_directory
def test_the_big_directory_is_indexed_whole(big_directory):
    with session_scope(big_directory) as session:
        count = session.execute(select(func.count()).select_from(ServiceWords)).scalar()
        searched = session.execute(
            select(func.count(func.distinct(ServiceSearch.service_id)))
        ).scalar()
    assert count == searched == SERVICES


def test_ties_are_broken_by_name_on_every_engine(seeded_url):
    """PostgreSQL reads a constant in ORDER BY as a column number: a rank that is the
    same for every service must not be one."""
    with session_scope(seeded_url) as session:
        views = search(session, ServiceQuery(), limit=None).services
    names = [v.name.lower() for v in views if v.has_contact]
    assert views[0].id == "need-to-talk-1737" and names == sorted(names)
