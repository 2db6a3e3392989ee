"""Shared fixtures: directory databases on SQLite and PostgreSQL, loaded from the real seed,
and the one real stack the e2e and browser tests share."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bot import clock
from bot.clock import FROZEN_TIME
from bot.db import get_engine, session_scope
from bot.directory import seed
from bot.handoff.accounts import MIN_TEST_N, TEST_COST_ENV
from bot.migrate import alembic_config
from tests.e2e.conftest import Stack, running_stack
from tests.figures import FIGURES

PG_URL = os.environ.get("DATABASE_URL_PG")
# The suite runs on a frozen clock (bot/clock.py): by default 22:05 on a Saturday in New
# Zealand, when only the national navigators are staffed. `make test` runs the unit tests
# again at 10:00 on a Tuesday (the Makefile sets AWHINA_FROZEN_TIME to TUESDAY_MORNING):
# only the tests that read the clock (see CLOCK_READERS below).
SATURDAY_NIGHT = "2026-11-28T22:05:00+13:00"
TUESDAY_MORNING = "2026-12-01T10:00:00+13:00"


def pytest_configure(config: pytest.Config) -> None:
    """Freezes the clock and cheapens password hashing (tests/handoff/test_accounts.py
    checks the production cost) before any test or server starts; subprocesses inherit both."""
    os.environ.setdefault(FROZEN_TIME, SATURDAY_NIGHT)
    clock.frozen = _watched(clock.frozen)
    os.environ.setdefault(TEST_COST_ENV, str(MIN_TEST_N))


# The clock lane runs only the tests that read the clock: each test's reads of
# bot.clock are recorded (in this process, setup and teardown included) and kept
# in pytest's cache, and such a test is marked ``clock`` when the suite is next
# collected; so is a test the cache does not know yet. A test whose subprocess
# reads the suite's clock is marked ``@pytest.mark.clock`` by hand.
CLOCK_READERS = "awhina/clock-readers"
_READS_CLOCK = "awhina_reads_clock"
_FIGURES = "awhina_figures"
_clock_read = [False]
_figures_from = [0]
_recorded: dict[str, bool] = {}
_unsure: set[str] = set()


def _watched(frozen: Callable[[], object]) -> Callable[[], object]:
    """``bot.clock.frozen``, noting that it was called (``now()`` always calls it)."""

    @functools.wraps(frozen)
    def watched():
        _clock_read[0] = True
        return frozen()

    return watched


def pytest_runtest_logstart() -> None:
    _clock_read[0] = False
    _figures_from[0] = len(FIGURES)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A test's last report carries whether it read the clock and the figures it
    recorded: under pytest-xdist, reports are all that reach the controlling process."""
    report = yield
    if call.when == "teardown":
        figures = FIGURES[_figures_from[0] :]
        del FIGURES[_figures_from[0] :]
        report.user_properties += [(_READS_CLOCK, _clock_read[0]), (_FIGURES, figures)]
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Only a test that passed is recorded as not reading the clock: one that failed or
    was skipped may have stopped before it read it."""
    if not report.passed:
        _unsure.add(report.nodeid)
    for name, value in report.user_properties:
        if name == _READS_CLOCK:
            _recorded[report.nodeid] = bool(value) or report.nodeid in _unsure
        elif name == _FIGURES:
            FIGURES.extend(value)


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    if _recorded and cache is not None and not hasattr(session.config, "workerinput"):
        cache.set(CLOCK_READERS, {**cache.get(CLOCK_READERS, {}), **_recorded})


def _fresh(url: str) -> str:
    """An empty database migrated to head. PostgreSQL's schema is dropped and made
    again first: a database a test left half-migrated, or one migrated by an older
    revision of a migration, may not downgrade (the migrations' own tests downgrade)."""
    if url.startswith("postgresql"):
        engine = get_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (migrating takes ~1 s)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = _fresh(f"sqlite:///{path}")
    get_engine(url).dispose()
    return path


def _emptied(url: str) -> str:
    """PostgreSQL at head with every table emptied; migrated afresh if a test moved it."""
    engine = get_engine(url)
    with engine.begin() as connection:
        tables = inspect(connection).get_table_names()
        at_head = (
            "alembic_version" in tables
            and connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        )
        if at_head:
            names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return url if at_head else _fresh(url)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """PostgreSQL for this process: under pytest-xdist each worker has a database of its
    own (``awhina_test_gw0``, ...), created on first use, else the workers would empty
    each other's tables. Creating one needs the CREATEDB right (.ci/run grants it)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return PG_URL
    url = make_url(PG_URL)
    name = f"{url.database}_{worker}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            known = "SELECT 1 FROM pg_database WHERE datname = :name"
            if connection.execute(text(known), {"name": name}).scalar() is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        yield f"sqlite:///{path}"
        get_engine(f"sqlite:///{path}").dispose()
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("DATABASE_URL_PG must be set in CI: .ci/run starts PostgreSQL")
        pytest.skip("DATABASE_URL_PG not set (PostgreSQL tests run in CI)")
    yield _emptied(request.getfixturevalue("pg_url"))


@pytest.fixture
def seeded_url(db_url: str) -> str:
    """The database with the real directory seed loaded."""
    with session_scope(db_url) as session:
        seed.load(session)
    return db_url


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real stack (Rasa, action server, web app, inbox), shared by e2e and browser tests."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def agent():
    """The trained Rasa model, loaded once for the evaluation tests."""
    from bot.evaluation import load_agent

    return load_agent()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers the selections go by (before ``-m`` deselects):

    - a test that uses the loaded model is marked ``model`` (make test-fast leaves
      it out) and put in one xdist group, so only one worker loads the model;
    - a test that read the clock when last run, or has not run yet, is marked ``clock``.
    """
    cache = getattr(config, "cache", None)
    readers = cache.get(CLOCK_READERS, {}) if cache is not None else {}
    for item in items:
        if "agent" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)
            item.add_marker(pytest.mark.xdist_group("model"))
        if readers.get(item.nodeid, True):
            item.add_marker(pytest.mark.clock)


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("Āwhina figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
