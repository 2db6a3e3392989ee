"""Settings read from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
VAR_DIR = ROOT / "var"
TIMEZONE = "Pacific/Auckland"
NZ = ZoneInfo(TIMEZONE)  # opening hours, team hours, "mōrena": New Zealand time
# Seconds Rasa keeps an idle connection to the action server (bot/rasa_speedups.py), and
# the action server keeps it (bot/action_server.py): the server must hold on longer, so
# Rasa never writes a call on a connection the server is closing.
ACTION_CALL_KEEPALIVE_S = 15.0
ACTION_SERVER_KEEPALIVE_S = 75


def database_url() -> str:
    """The directory database: ``DATABASE_URL`` or an embedded SQLite file under ``var/``."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'awhina.db'}"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def rasa_url() -> str:
    return os.environ.get("RASA_URL", f"http://127.0.0.1:{env_int('RASA_PORT', 5005)}")
