"""Migration 0003: upgrading a database at 0002 keeps its directory data; downgrade is clean."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, inspect, select

from bot.db import get_engine, session_scope
from bot.directory import seed
from bot.directory.models import Organization, Phone, Service
from bot.handoff.models import HandoffRequest
from bot.handoff.routing import load_teams
from bot.handoff.service import route, submit
from bot.migrate import alembic_config
from tests.handoff.conftest import DRAFT, NOW

HANDOFF_TABLES = {
    "navigator_team",
    "navigator_team_hours",
    "navigator_team_area",
    "navigator",
    "handoff_request",
    "handoff_event",
}


def _counts(url: str) -> tuple[int, ...]:
    with session_scope(url) as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Organization, Service, Phone)
        )


def _tables(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names())


def test_upgrade_from_0002_keeps_the_directory(db_url):
    """A directory loaded before the handoff tables existed survives the upgrade. (The
    seed loader writes today's schema, so the directory is loaded first and the
    database taken back to 0002 with it.)"""
    config = alembic_config(db_url)
    with session_scope(db_url) as session:
        seed.load(session)
    before = _counts(db_url)
    assert before[1] > 20
    command.downgrade(config, "0002")
    assert not HANDOFF_TABLES & _tables(db_url)
    assert _counts(db_url) == before

    command.upgrade(config, "head")
    assert _tables(db_url) >= HANDOFF_TABLES
    assert _counts(db_url) == before
    with session_scope(db_url) as session:
        load_teams(session)
        assert route(session, "greymouth", "drugs_alcohol").id == "grey-navigators"
        submit(session, DRAFT, "k", NOW)

    command.downgrade(config, "0002")  # with requests and (append-only) events in it
    assert not HANDOFF_TABLES & _tables(db_url)
    assert _counts(db_url)[1:] == before[1:]  # the sample organisation row stays behind
    command.upgrade(config, "head")
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(HandoffRequest)).scalar_one() == 0
