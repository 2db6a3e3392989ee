"""Shared fixtures: directory databases on SQLite and PostgreSQL, loaded from the real seed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic import command

from bot.clock import FROZEN_TIME
from bot.db import get_engine, session_scope
from bot.directory import seed
from bot.migrate import alembic_config

PG_URL = os.environ.get("DATABASE_URL_PG")
# The suite runs on a frozen clock (bot/clock.py): by default 22:05 on a Saturday in New
# Zealand, when only the national navigators are staffed. `make test` runs the unit tests
# again at 10:00 on a Tuesday (the Makefile sets AWHINA_FROZEN_TIME to TUESDAY_MORNING).
SATURDAY_NIGHT = "2026-11-28T22:05:00+13:00"
TUESDAY_MORNING = "2026-12-01T10:00:00+13:00"


def pytest_configure(config: pytest.Config) -> None:
    """Freezes the clock before any test or server starts; subprocesses inherit it."""
    os.environ.setdefault(FROZEN_TIME, SATURDAY_NIGHT)


def _fresh(url: str) -> str:
    """An empty database migrated to head (PostgreSQL is reset to base first)."""
    config = alembic_config(url)
    if url.startswith("postgresql"):
        command.downgrade(config, "base")
    command.upgrade(config, "head")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        yield _fresh(f"sqlite:///{tmp_path / 'test.db'}")
        get_engine(f"sqlite:///{tmp_path / 'test.db'}").dispose()
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("DATABASE_URL_PG must be set in CI: .ci/run starts PostgreSQL")
        pytest.skip("DATABASE_URL_PG not set (PostgreSQL tests run in CI)")
    yield _fresh(PG_URL)


@pytest.fixture
def seeded_url(db_url: str) -> str:
    """The database with the real directory seed loaded."""
    with session_scope(db_url) as session:
        seed.load(session)
    return db_url


@pytest.fixture(scope="session")
def agent():
    """The trained Rasa model, loaded once for the evaluation tests."""
    from bot.evaluation import load_agent

    return load_agent()


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.figures import FIGURES

    if FIGURES:
        terminalreporter.section("Āwhina figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
