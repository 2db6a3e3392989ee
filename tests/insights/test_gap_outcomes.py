"""The outcomes that show gaps are accepted by the database, and migration 0008 goes both ways."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db import get_engine, session_scope
from bot.handoff.models import OUTCOMES
from bot.handoff.routing import load_teams
from bot.handoff.service import submit
from bot.migrate import alembic_config
from bot.navigator.ops import OUTCOME_LABELS
from tests.handoff.conftest import DRAFT

CLOSE = text("UPDATE handoff_request SET status = 'closed', outcome = :outcome")


def _close(url: str, outcome: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(CLOSE, {"outcome": outcome})


def test_every_outcome_has_a_label_and_the_gap_ones_exist() -> None:
    assert set(OUTCOME_LABELS) == set(OUTCOMES)
    assert {"no_local_service", "no_capacity", "unreachable"} <= set(OUTCOMES)


def test_gap_outcomes_are_stored_and_the_migration_goes_both_ways(seeded_url: str) -> None:
    url = seeded_url
    with session_scope(url) as session:
        load_teams(session)
        submit(session, DRAFT, "conv-1:1")
    for outcome in ("no_local_service", "no_capacity", "unreachable"):
        _close(url, outcome)
    with pytest.raises(IntegrityError):
        _close(url, "gone_fishing")
    _close(url, "no_capacity")
    config = alembic_config(url)
    command.downgrade(config, "0007")
    with get_engine(url).begin() as connection:
        assert connection.execute(text("SELECT outcome FROM handoff_request")).all() == [("other",)]
    get_engine(url).dispose()
    with pytest.raises(IntegrityError):
        _close(url, "no_capacity")
    command.upgrade(config, "head")
    get_engine(url).dispose()
    _close(url, "no_capacity")
