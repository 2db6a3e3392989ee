"""Shared fixtures: directory databases on SQLite and PostgreSQL, loaded from the real seed,
and the one real stack the e2e and browser tests share."""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import random
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot import clock
from bot.clock import FROZEN_TIME
from bot.db import get_engine, session_scope
from bot.handoff.accounts import MIN_TEST_N, TEST_COST_ENV
from tests.figures import FIGURES

if TYPE_CHECKING:
    from tests.e2e.conftest import Stack

# What only some tests need (Alembic, the seed, the e2e stack) is imported where it is
# used: tests/test_clock_lane.py starts pytest processes that load this file.

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


# Functions that read the clock only to stamp a record they write, (module, name): the
# time of day changes nothing they do, so a test that reads the clock only through them
# is not run again at 10:00 on a Tuesday. Creating a navigator is one: most of the
# handoff and inbox tests do it, and would otherwise all be in the clock lane.
STAMPS = {
    ("bot.handoff.accounts", "create_navigator"),
    ("bot.channels.sms.state", "record_inbound"),
    ("bot.channels.sms.state", "set_opted_out"),
}


def _watched(frozen: Callable[[], object]) -> Callable[[], object]:
    """``bot.clock.frozen``, noting that it was called (``now()`` always calls it) from
    anywhere but STAMPS."""

    @functools.wraps(frozen)
    def watched():
        caller = sys._getframe(1)
        if caller.f_code is clock.now.__code__:
            caller = caller.f_back
        if (caller.f_globals.get("__name__"), caller.f_code.co_name) not in STAMPS:
            _clock_read[0] = True
        return frozen()

    return watched


def pytest_collection_finish(session: pytest.Session) -> None:
    """Moves what importing and collecting made (Rasa, TensorFlow and spaCy: millions of
    objects) out of the garbage collector's sight: the collector no longer walks them
    again and again as the tests run, nor five times over when the session ends (pytest's
    last check for unraisable exceptions, about 10 s per xdist worker). What the tests
    make is collected as before."""
    gc.freeze()


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
    """Collects what the tests left once, then freezes the rest as at collection (see
    pytest_collection_finish): pytest's last check for unraisable exceptions then walks
    only what is made after this. The tests made or imported millions of objects of
    their own (Rasa's, spaCy's, Matplotlib's), and that check's five collections of
    them took 7 to 9 s at each xdist worker's end. Garbage is still collected (here),
    and an exception raised in collecting it is still reported."""
    gc.collect()
    gc.freeze()
    cache = getattr(session.config, "cache", None)
    if _recorded and cache is not None and not hasattr(session.config, "workerinput"):
        cache.set(CLOCK_READERS, {**cache.get(CLOCK_READERS, {}), **_recorded})


def _fresh(url: str) -> str:
    """An empty database migrated to head. PostgreSQL's schema is dropped and made
    again first: a database a test left half-migrated, or one migrated by an older
    revision of a migration, may not downgrade (the migrations' own tests downgrade)."""
    from alembic import command

    from bot.migrate import alembic_config

    if url.startswith("postgresql"):
        engine = get_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    command.upgrade(alembic_config(url), "head")
    return url


Build = Callable[[str], object]
Schema = tuple[str | None, list[str]]
# Where Templates keeps a PostgreSQL template's rows, beside the schema tests use.
TEMPLATE_SCHEMA = "template"


class Templates:
    """Databases migrated and loaded once per session, restored for each test.

    A template is a name and what loads it (``build``, given the migrated database's
    URL). On SQLite a test gets a copy of the template's file. On PostgreSQL each
    template has a database of this process's own, named after DATABASE_URL_PG's, the
    xdist worker and the pid (so neither two workers nor two runs on one server empty
    each other's tables; creating it needs the CREATEDB right, which .ci/run grants),
    dropped when the session ends (and, should the process be killed first, by the next
    run on the same machine: the name carries a hash of the host's name, and a database
    whose process is gone is dropped before this process makes its own). Its rows are
    kept in the schema ``template`` and put back before each test: deleting and
    inserting a few hundred rows takes a tenth of the time ``CREATE DATABASE ...
    TEMPLATE`` or ``TRUNCATE`` take (both write files) and a hundredth of migrating
    and seeding. A test that moved the schema (the migrations' tests) is followed by a
    fresh build.
    """

    def __init__(self, workdir: Path, pg_url: str | None) -> None:
        self.workdir = workdir
        self.pg_url = make_url(pg_url) if pg_url else None
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.ours = f"{self.pg_url.database if self.pg_url else ''}_{_host_tag()}_"
        self.prefix = f"{self.ours}{worker}_{os.getpid()}"
        self.files: dict[str, Path] = {}
        # templates whose build read the clock: each test given one has read it too
        self.read_clock: set[str] = set()
        # database name: its schema as built (see _schema) and the SQL that restores it
        self.restores: dict[str, tuple[Schema, str]] = {}

    def sqlite(self, name: str, build: Build, path: Path) -> str:
        """A copy of template ``name`` at ``path``, as a URL."""
        if name not in self.files:
            from alembic import command

            from bot.migrate import alembic_config

            template = self.workdir / f"{name}.db"
            url = f"sqlite:///{template}"
            command.upgrade(alembic_config(url), "head")
            self._watching(name, build, url)
            get_engine(url).dispose()
            self.files[name] = template
        self._reads(name)
        shutil.copyfile(self.files[name], path)
        return f"sqlite:///{path}"

    def empty(self, path: Path) -> str:
        """A migrated, empty SQLite database at ``path``, as a URL."""
        return self.sqlite("empty", _nothing, path)

    def _watching(self, name: str, build: Build, url: str) -> None:
        """``build(url)``, noting whether it read the clock: a template is built during
        the first test that asks for it, and every test given it depends on that read
        (the clock lane must run them all, not only the first)."""
        before, _clock_read[0] = _clock_read[0], False
        try:
            build(url)
        finally:
            if _clock_read[0]:
                self.read_clock.add(name)
            _clock_read[0] = before or _clock_read[0]

    def _reads(self, name: str) -> None:
        if name in self.read_clock:
            _clock_read[0] = True

    def postgres(self, name: str, build: Build) -> str:
        """This process's database for template ``name``, as the template left it."""
        database = f"{self.prefix}_{name}"
        url = self._url(database)
        if database not in self.restores:
            if not self.restores:
                self.drop_orphans()
            self._server(f'CREATE DATABASE "{database}"')
            self.restores[database] = self._build(name, url, build)
        built, restore = self.restores[database]
        with get_engine(url).begin() as connection:
            unmoved = self._schema(connection) == built
            if unmoved:
                connection.exec_driver_sql(restore)
        if not unmoved:
            self.restores[database] = self._build(name, url, build)
        self._reads(name)
        return url

    def drop_orphans(self) -> None:
        """Drops this machine's test databases whose process is gone (a run killed with
        SIGKILL never reached ``drop_all``)."""
        owner = re.compile(rf"{re.escape(self.ours)}(?:main|gw\d+)_(\d+)_")
        names = self._server("SELECT datname FROM pg_database")
        for database in [n for n in names if (m := owner.match(n)) and _gone(int(m[1]))]:
            self.drop(database)

    def drop_all(self) -> None:
        for database in self.restores:
            get_engine(self._url(database)).dispose()
            self.drop(database)

    def drop(self, database: str, attempts: int = 20, pause: float = 0.25) -> None:
        """Drops ``database`` if it exists, ending the connections left in it.

        FORCE ends them only if this role may signal every one: an autovacuum worker
        belongs to no role, so while one is in the database PostgreSQL refuses FORCE
        to a role without pg_signal_backend. A plain DROP stops autovacuum workers
        itself but fails while any other session is in the database, so the two are
        tried in turn until one succeeds."""
        for attempt in range(attempts):
            try:
                self._server(_DROPS[attempt % len(_DROPS)].format(database))
                return
            except DBAPIError as error:
                last = attempt == attempts - 1
                if last or getattr(error.orig, "pgcode", None) not in _DROP_RETRIES:
                    raise
            time.sleep(pause)

    @staticmethod
    def _schema(connection: Connection) -> Schema:
        """The migration the database is at and its tables."""
        tables = sorted(inspect(connection).get_table_names())
        version = None
        if "alembic_version" in tables:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        return version, tables

    def _build(self, name: str, url: str, build: Build) -> tuple[Schema, str]:
        """Migrates and loads ``url`` afresh, copies its rows into the schema
        ``template`` and returns the SQL that puts them back."""
        from bot.schema import Base

        _fresh(url)
        self._watching(name, build, url)
        ordered = [t.name for t in Base.metadata.sorted_tables]
        restore = []
        with get_engine(url).begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {TEMPLATE_SCHEMA} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {TEMPLATE_SCHEMA}")
            tables = inspect(connection).get_table_names()
            tables.sort(key=lambda t: ordered.index(t) if t in ordered else -1)
            guarded = {  # tables with triggers of their own, such as an append-only log's
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
                )
            }
            for table in reversed(tables):
                delete = f'DELETE FROM public."{table}";'
                if table in guarded:
                    delete = (
                        f'ALTER TABLE public."{table}" DISABLE TRIGGER USER; {delete} '
                        f'ALTER TABLE public."{table}" ENABLE TRIGGER USER;'
                    )
                restore.append(delete)
            for table in tables:
                copy = f'{TEMPLATE_SCHEMA}."{table}"'
                connection.exec_driver_sql(f'CREATE TABLE {copy} AS TABLE public."{table}"')
                if connection.exec_driver_sql(f"SELECT count(*) FROM {copy}").scalar():
                    columns = ", ".join(
                        f'"{c["name"]}"'
                        for c in inspect(connection).get_columns(table)
                        if not c.get("computed")
                    )
                    restore.append(
                        f'INSERT INTO public."{table}" ({columns}) OVERRIDING SYSTEM VALUE '
                        f"SELECT {columns} FROM {copy};"
                    )
            sequences = (
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
            for sequence, value in connection.exec_driver_sql(sequences):
                at = f"{value}, true" if value is not None else "1, false"
                restore.append(f"SELECT setval('public.\"{sequence}\"', {at});")
            built = self._schema(connection)
        return built, "\n".join(restore)

    def _url(self, database: str) -> str:
        assert self.pg_url is not None
        return self.pg_url.set(database=database).render_as_string(hide_password=False)

    def _server(self, sql: str) -> list[Any]:
        """Runs ``sql`` outside a transaction (CREATE and DROP DATABASE need it); the
        first column of the rows it returns, if any."""
        server = create_engine(self.pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with server.connect() as connection:
                result = connection.exec_driver_sql(sql)
                return result.scalars().all() if result.returns_rows else []
        finally:
            server.dispose()


_DROPS = ('DROP DATABASE IF EXISTS "{}" WITH (FORCE)', 'DROP DATABASE IF EXISTS "{}"')
# insufficient_privilege (FORCE met a process it may not end), object_in_use (a plain
# DROP met another session)
_DROP_RETRIES = {"42501", "55006"}


def _host_tag() -> str:
    """Six hex digits naming this machine in its test databases' names."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def _gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process
        pass
    return False


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"), PG_URL)
    yield made
    made.drop_all()


def copied(request: pytest.FixtureRequest, name: str, build: Build) -> Iterator[str]:
    """For a fixture parametrized ``sqlite`` and ``postgres``: a copy of template ``name``
    on that backend (PostgreSQL's tests are skipped without DATABASE_URL_PG, except in CI)."""
    templates: Templates = request.getfixturevalue("templates")
    if request.param == "sqlite":
        url = templates.sqlite(name, build, request.getfixturevalue("tmp_path") / f"{name}.db")
    else:
        postgres_url()  # skips without PostgreSQL
        url = templates.postgres(name, build)
    yield url
    get_engine(url).dispose()


def postgres_url() -> str:
    """DATABASE_URL_PG; without it a PostgreSQL test is skipped, except in CI."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("DATABASE_URL_PG must be set in CI: .ci/run starts PostgreSQL")
        pytest.skip("DATABASE_URL_PG not set (PostgreSQL tests run in CI)")
    return PG_URL


def generated_directory(request: pytest.FixtureRequest, services: int, seed: int) -> Iterator[str]:
    """For a module fixture parametrized ``sqlite`` and ``postgresql``: a scratch database
    on that engine with ``services`` services generated as the benchmark generates them
    (``bench.directory.build``), from random seed ``seed``. A test module's tests that use
    it should share an xdist group: each worker running one of them builds its own."""
    from bench.directory import build, scratch_database

    base = postgres_url() if request.param == "postgresql" else None
    with scratch_database(request.param, base) as url:
        build(url, services, random.Random(seed))
        yield url


@functools.cache
def trained_examples() -> tuple[tuple[str, str], ...]:
    """(intent, text) of every NLU training example (data/nlu), as Rasa's own loader reads
    them: read once per process, where five test modules each took about a second to."""
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.config import DATA_DIR

    return tuple(
        (m.get("intent"), m.get("text")) for m in load_data(str(DATA_DIR / "nlu")).intent_examples
    )


def _nothing(url: str) -> None:
    """Leaves a migrated template empty."""


def load_seed(url: str) -> None:
    """Loads the real directory seed."""
    from bot.directory import seed

    with session_scope(url) as session:
        seed.load(session)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    yield from copied(request, "empty", _nothing)


@pytest.fixture(params=["sqlite", "postgres"])
def seeded_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database with the real directory seed loaded, on each backend."""
    yield from copied(request, "seeded", load_seed)


@pytest.fixture(scope="session")
def migrated_sqlite_file(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty migrated SQLite file, for a test to copy."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"
    templates.sqlite("empty", _nothing, path)
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real stack (Rasa, action server, web app, inbox), shared by e2e and browser tests."""
    from tests.e2e.conftest import running_stack

    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def agent():
    """The trained Rasa model, loaded once for the evaluation tests."""
    from bot.evaluation import load_agent

    return load_agent()


# The servers group's slowest test files, in the order the group starts them: it runs a
# file at a time on each worker (make test: --dist loadfile --no-loadscope-reorder), and
# one of these started last would keep its worker busy long after the other is done.
SLOWEST_FIRST = ("tests/e2e/test_conversation_fuzz.py", "tests/e2e/test_conversations.py")


def _slow_first(item: pytest.Item) -> int:
    path = item.nodeid.split("::")[0]
    return SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers the selections go by (before ``-m`` deselects):

    - a browser test, or one that uses the stack, is marked ``e2e`` (the servers group);
    - a test that uses the loaded model is marked ``model`` (make test-fast leaves
      it out) and put in one xdist group, so only one worker loads the model;
    - a test that read the clock when last run, or has not run yet, is marked ``clock``;

    and the slowest servers' files first (SLOWEST_FIRST).
    """
    items.sort(key=_slow_first)
    cache = getattr(config, "cache", None)
    readers = cache.get(CLOCK_READERS, {}) if cache is not None else {}
    for item in items:
        if item.nodeid.startswith("tests/browser/") or "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
        if "agent" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)
            item.add_marker(pytest.mark.xdist_group("model"))
        if readers.get(_reported_as(item), readers.get(item.nodeid, True)):
            item.add_marker(pytest.mark.clock)


def _reported_as(item: pytest.Item) -> str:
    """The test's id in the reports of a ``--dist loadgroup`` run, which pytest-xdist gives
    an ``@group`` suffix when the test is in a group (its hook runs after this file's):
    without it, the tests in a group (those using the model, for one) were never found in
    the record, and ran in the clock lane every time."""
    groups = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return f"{item.nodeid}@{'_'.join(sorted(groups))}" if groups else item.nodeid


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("Āwhina figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
