"""Shared fixtures: directory databases on SQLite and PostgreSQL, loaded from the real seed,
and the one real stack the e2e and browser tests share."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.clock import FROZEN_TIME
from bot.db import get_engine, session_scope
from bot.directory import seed
from bot.handoff.accounts import MIN_TEST_N, TEST_COST_ENV
from bot.migrate import alembic_config
from tests.e2e.conftest import Stack, running_stack

PG_URL = os.environ.get("DATABASE_URL_PG")
# The suite runs on a frozen clock (bot/clock.py): by default 22:05 on a Saturday in New
# Zealand, when only the national navigators are staffed. `make test` runs the unit tests
# again at 10:00 on a Tuesday (the Makefile sets AWHINA_FROZEN_TIME to TUESDAY_MORNING).
SATURDAY_NIGHT = "2026-11-28T22:05:00+13:00"
TUESDAY_MORNING = "2026-12-01T10:00:00+13:00"


def pytest_configure(config: pytest.Config) -> None:
    """Freezes the clock and cheapens password hashing (tests/handoff/test_accounts.py
    checks the production cost) before any test or server starts; subprocesses inherit both."""
    os.environ.setdefault(FROZEN_TIME, SATURDAY_NIGHT)
    os.environ.setdefault(TEST_COST_ENV, str(MIN_TEST_N))


def _fresh(url: str) -> str:
    """An empty database migrated to head (PostgreSQL is reset to base first)."""
    config = alembic_config(url)
    if url.startswith("postgresql"):
        command.downgrade(config, "base")
    command.upgrade(config, "head")
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
    yield _emptied(PG_URL)


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the loaded model is marked ``model``: make test-fast leaves it out."""
    for item in items:
        if "agent" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.figures import FIGURES

    if FIGURES:
        terminalreporter.section("Āwhina figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
