"""Schema migrations with Alembic, driven from Python so no alembic.ini is needed."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.config import ROOT, database_url


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    # Alembic's options are ConfigParser values: a "%" (a percent-encoded password) is
    # written "%%" and read back as "%".
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def revision(message: str, url: str | None = None) -> None:
    """Autogenerates a new migration from the models (a developer's tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
