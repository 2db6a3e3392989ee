"""The free lines to ring now, for "just give me a number" (and leaving a form that way).

Which lines is data (``data/directory/helplines.yml``, by service id); what the bot
says about them comes from the directory, like every other service.
"""

from __future__ import annotations

from functools import lru_cache

import yaml
from sqlalchemy.orm import Session

from bot.config import DATA_DIR
from bot.directory.query import ServiceView, get_services

HELPLINES_FILE = DATA_DIR / "directory" / "helplines.yml"


@lru_cache(maxsize=1)
def _choice() -> dict:
    return yaml.safe_load(HELPLINES_FILE.read_text(encoding="utf-8"))


def helpline_ids(need: str | None) -> list[str]:
    """The lines always given, then the one for ``need`` if one fits."""
    ids = list(_choice()["always"])
    line = _choice()["needs"].get(need or "")
    if line and line not in ids:
        ids.append(line)
    return ids


def helplines(session: Session, need: str | None) -> list[ServiceView]:
    return get_services(session, helpline_ids(need))


def helpline_for_need(session: Session, need: str | None) -> ServiceView | None:
    """The one checked line for ``need`` itself, if there is one (for a first reply)."""
    line = _choice()["needs"].get(need or "")
    views = get_services(session, [line]) if line else []
    return views[0] if views and views[0].verified and views[0].phones else None
