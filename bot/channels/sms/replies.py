"""The keywords the channel answers itself (STOP, START, HELP) and its fixed replies.

HELP, with the crisis lines after it, fits two segments (UCS-2: 134 characters);
the lines are read from the directory, so they say what the directory says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.db import session_scope
from bot.directory.present import cost_line
from bot.directory.query import ServiceView, get_services
from bot.safety.lines import crisis_line_ids

logger = logging.getLogger(__name__)

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# "yes" is an everyday answer; it only opts back in when the number is opted out.
START_WHILE_OPTED_OUT = frozenset({"YES"})

# Directory services named in the HELP answer (all in the "crisis" need).
HELP_SERVICES = crisis_line_ids()

STOPPED = (
    "You've been unsubscribed from Āwhina texts and won't get any more. Reply START to resubscribe."
)
STARTED = (
    "You're subscribed to Āwhina texts again. Tell me what's going on, "
    "or reply HELP for help or STOP to stop."
)
HELP_INTRO = "Āwhina, a chatbot, finds support services: text what's going on. STOP to stop."
EMPTY = "Sorry, I can only read text. Please type your question."
# Told once a window to a number over the flood limits (bot/channels/sms/flood.py).
TOO_FAST = (
    "You're sending messages faster than I can answer. Please wait a minute and try again; "
    "in an emergency call 111."
)
BUSY = (
    "I'm getting more messages than I can answer right now. Please try again in a minute; "
    "in an emergency call 111."
)


def keyword(body: str) -> str:
    """The body as a keyword candidate: trimmed, upper case, without trailing . or !"""
    return body.strip().rstrip(".!").strip().upper()


def _help_facts(view: ServiceView) -> list[str]:
    return [f.lower() for f in ("24/7" if view.is_24_7 else None, cost_line(view)) if f]


def _help_line(view: ServiceView, said: Sequence[str]) -> str:
    """``"call or text 1737"``, with the facts not ``said`` already; the name only
    for a service without a number."""
    kinds: dict[str, list[str]] = {}
    for phone in view.phones:
        kinds.setdefault(phone.number, []).append("text" if phone.type == "text" else "call")
    how = "; ".join(
        f"{' or '.join(dict.fromkeys(sorted(verbs)))} {number}" for number, verbs in kinds.items()
    )
    facts = ", ".join(f for f in _help_facts(view) if f not in said)
    line = how or view.name
    return f"{line} ({facts})" if facts else line


def help_text(db_url: str, service_ids: Sequence[str]) -> str:
    """Two lines: what Āwhina is, then the crisis lines as the directory has them,
    e.g. "Urgent (24/7, free): call 111; call or text 1737." (facts they all share first)."""
    with session_scope(db_url) as session:
        views = get_services(session, list(service_ids))
    if not views:
        logger.error("sms HELP: none of the services %s is in the directory", list(service_ids))
        return HELP_INTRO
    shared = [f for f in _help_facts(views[0]) if all(f in _help_facts(v) for v in views)]
    head = f"Urgent ({', '.join(shared)})" if shared else "Urgent"
    return f"{HELP_INTRO}\n{head}: " + "; ".join(_help_line(v, shared) for v in views) + "."
