"""Telling a question about the services shown from a request to search again, narrower.

"Are they kaupapa Māori?" asks about the services just listed; "is there
anything kaupapa Māori?" or "none of those are Māori tho" asks for other
services, with that filter. The intents are the same (``ask_kaupapa_maori``,
``ask_cost``, ``ask_open_now``); the wording tells them apart.
"""

from __future__ import annotations

import re

from bot.reo import match_key

# The filter each question asks for (names as in bot.directory.query.FILTERS).
FILTER_FOR_INTENT = {
    "ask_kaupapa_maori": "kaupapa_maori",
    "ask_cost": "free",
    "ask_open_now": "open_now",
}
_OTHER_SERVICES = re.compile(
    r"\b(any|anything|anyone|anybody|anywhere|is there|are there|none of|neither|other|others"
    r"|else|something|somewhere|someone|instead|only|what about|ones|services?|places?|options?"
    r"|find me|show me|looking for|need|want"
    r"|ratonga|etahi atu|he \w+ ano)\b"  # te reo: services, others, "any … as well?"
)


def asks_for_other_services(text: str | None) -> bool:
    """Whether a filter question asks for (other) services rather than about those shown."""
    return bool(_OTHER_SERVICES.search(match_key(text or "")))
