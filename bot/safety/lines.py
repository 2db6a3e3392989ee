"""The crisis lines: which directory services to list, in order, for each kind of crisis.

One list per kind in ``data/safety/crisis_responses.yml``, and a general one
for when no kind is known (the handoff's "if things get urgent", SMS HELP). The
numbers and facts shown come from the directory, never from here.
"""

from __future__ import annotations

from functools import lru_cache

import yaml
from sqlalchemy.orm import Session

from bot.config import DATA_DIR
from bot.directory.query import ServiceView, get_services

LINES_FILE = DATA_DIR / "safety" / "crisis_responses.yml"
# A kind with no list of its own gets the suicide lines, as it gets the suicide answer
# (GENERAL_CRISIS_ANSWER in bot.dialogue.safety_policy): 1737 and Lifeline suit any crisis.
FALLBACK_CATEGORY = "suicide"


@lru_cache(maxsize=1)
def _lists() -> dict[str | None, tuple[str, ...]]:
    """Service ids by kind of crisis; the general list under None."""
    raw = yaml.safe_load(LINES_FILE.read_text(encoding="utf-8"))
    lists: dict[str | None, tuple[str, ...]] = {
        category: tuple(spec["services"]) for category, spec in raw["categories"].items()
    }
    lists[None] = tuple(raw["general"]["services"])
    return lists


def crisis_line_ids(category: str | None = None) -> tuple[str, ...]:
    """The ids of the lines for a kind of crisis (the general list for None), in order."""
    lists = _lists()
    return lists.get(category, lists[FALLBACK_CATEGORY])


def crisis_lines(session: Session, category: str | None = None) -> list[ServiceView]:
    """The directory's services for a kind of crisis (the general list for None), in order;
    a service missing from the directory is left out."""
    return get_services(session, list(crisis_line_ids(category)))
