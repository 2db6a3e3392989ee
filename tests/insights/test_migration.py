"""Migration 0007 (demand records) goes down and up again on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from bot.db import get_engine
from bot.migrate import alembic_config

TABLES = {"insight_demand", "insight_week_key"}


def test_the_demand_tables_go_down_and_up_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "0006")
    get_engine(db_url).dispose()
    assert not TABLES & set(inspect(get_engine(db_url)).get_table_names())
    command.upgrade(config, "head")
    get_engine(db_url).dispose()
    assert set(inspect(get_engine(db_url)).get_table_names()) >= TABLES


def test_navigator_roles_go_down_and_up_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "0008")
    get_engine(db_url).dispose()
    columns = {c["name"] for c in inspect(get_engine(db_url)).get_columns("navigator")}
    assert "role" not in columns
    command.upgrade(config, "head")
    get_engine(db_url).dispose()
    columns = {c["name"] for c in inspect(get_engine(db_url)).get_columns("navigator")}
    assert "role" in columns


def test_handoff_steps_go_down_and_up_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "0011")
    get_engine(db_url).dispose()
    columns = {c["name"] for c in inspect(get_engine(db_url)).get_columns("insight_demand")}
    assert not {"handoff_asked", "handoff_consented"} & columns
    command.upgrade(config, "head")
    get_engine(db_url).dispose()
    columns = {c["name"] for c in inspect(get_engine(db_url)).get_columns("insight_demand")}
    assert {"handoff_asked", "handoff_consented"} <= columns
