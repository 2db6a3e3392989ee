"""Alembic environment: migrates the directory tables on the configured database."""

from __future__ import annotations

from alembic import context

from bot.db import get_engine
from bot.schema import Base

OUR_TABLES = set(Base.metadata.tables)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave Rasa's tracker-store tables (``events``) alone."""
    return not (type_ == "table" and name not in OUR_TABLES)


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
