"""Greetings and farewells that mirror the person's own.

"Kia ora" gets "Kia ora", "tēnā koe" gets "Tēnā koe", "mōrena" or "good
morning" gets "Mōrena" while it is morning in New Zealand (and "Kia ora"
after midday). Every te reo word used here is a glossary entry; the spelling
comes from the glossary, capitalised at the start of the reply.
"""

from __future__ import annotations

from datetime import datetime

from bot import clock
from bot.config import NZ
from bot.reo.glossary import default_glossary
from bot.reo.normalise import match_key

NOON = 12

# (folded words the person may use, glossary word the bot answers with)
MIRRORED_GREETINGS = (
    (("tena koutou",), "tēnā koutou"),
    (("tena korua",), "tēnā kōrua"),
    (("tena koe",), "tēnā koe"),
)
MORNING_WORDS = ("morena", "ata marie", "good morning", "morning", "mornin")
FAREWELLS = ((("po marie", "good night", "goodnight", "night night", "nite"), "pō mārie"),)
DEFAULT_GREETING = "kia ora"
DEFAULT_FAREWELL = "ka kite anō"


def _said(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether any phrase occurs as whole words (``match_key`` pads with spaces)."""
    key = match_key(text)
    return any(match_key(p) in key for p in phrases)


def _spelt(word: str) -> str:
    """The glossary's spelling, capitalised for the start of a sentence."""
    entries = default_glossary().lookup(word)
    spelt = entries[0].word if entries else word
    return spelt[:1].upper() + spelt[1:]


def greeting_for(text: str, now: datetime | None = None) -> str:
    """The greeting to answer ``text`` with."""
    local = (now or clock.now()).astimezone(NZ)
    for phrases, reply in MIRRORED_GREETINGS:
        if _said(text, phrases):
            return _spelt(reply)
    if _said(text, MORNING_WORDS) and local.hour < NOON:
        return _spelt("mōrena")
    return _spelt(DEFAULT_GREETING)


def farewell_for(text: str) -> str:
    """The farewell to answer ``text`` with."""
    for phrases, reply in FAREWELLS:
        if _said(text, phrases):
            return _spelt(reply)
    return _spelt(DEFAULT_FAREWELL)
