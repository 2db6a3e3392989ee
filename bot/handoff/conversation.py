"""What the handoff form understands and says: pure functions the actions call.

Replies are parsed (through ``match_key``, so "teen" is matched as "ten")
from the person's own words or the button payloads
("chat here", "call me", "text me", "email me"); the summary a navigator sees
is built only from what the bot already knows (need, place, who for), never
from free text the person typed.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.config import NZ
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.phone import is_email, is_mobile, mask, to_e164_nz
from bot.reo.normalise import match_key

SKIPPED = ""  # a skipped optional answer: filled, so never asked again, but empty
MAX_NAME_CHARS = 40
MAX_GOOD_TIME_CHARS = 80

_YES = {"yes", "yeah", "yep", "yup", "ae", "ok", "okay", "sure", "sweet", "please", "yes please"}
_NO = {"no", "nah", "nope", "kao", "kaore", "no thanks", "dont", "do not"}
_SKIP = re.compile(
    r"^ (skip|pass|rather not|id rather not|no thanks|nah|dont want to|not sure"
    r"|any ?time|whenever) "
)
_METHODS = (
    ("email", re.compile(r" (e ?mail|imel) ")),
    ("text", re.compile(r" (text|txt|sms|message me on my phone) ")),
    ("call", re.compile(r" (call|ring|phone|rang) ")),
    ("chat", re.compile(r" (chat|here|this chat|online|keep chatting|message here) ")),
)
_WHO = (
    ("self", re.compile(r" (me|myself|for me|mine|ko au|ahau) ")),
    (
        "rangatahi",
        re.compile(r" (rangatahi|young person|ten|tenager|youth|my (son|daughter|boy|girl)) "),
    ),
    ("tamariki", re.compile(r" (tamariki|kids|children|child|baby|moko|mokopuna) ")),
    (
        "whanau",
        re.compile(
            r" (whanau|family|someone else|partner|husband|wife|mum|dad|brother|sister"
            r"|mate|friend|cousin|uncle|aunty|nephew|niece) "
        ),
    ),
)
_NAME_LEAD = re.compile(
    r"^(?:(?:my name is|my names|name is|im|i am|it's|its|call me|ko)\s+)", re.I
)
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’ -]*(?:['’ -][^\W\d_]+){0,3}$")


def yes_or_no(text: str | None, intent: str | None) -> bool | None:
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    key = match_key(text or "").strip()
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def is_skip(text: str | None, intent: str | None) -> bool:
    return intent == "skip" or bool(_SKIP.search(match_key(text or "")))


def contact_method(text: str | None) -> str | None:
    key = match_key(text or "")
    return next((method for method, pattern in _METHODS if pattern.search(key)), None)


def who_for(text: str | None) -> str | None:
    key = match_key(text or "")
    return next((who for who, pattern in _WHO if pattern.search(key)), None)


def preferred_name(text: str | None) -> str | None:
    """A first name or what to call the person, or None if it does not look like one."""
    name = _NAME_LEAD.sub("", (text or "").strip()).strip(" .!")
    if not name or len(name) > MAX_NAME_CHARS or not _NAME.match(name):
        return None
    return name[:1].upper() + name[1:]


def contact_detail(method: str, text: str | None) -> str | None:
    """The validated number (E.164) or email for the method, or None if it is not valid."""
    text = (text or "").strip()
    if method == "email":
        return text if is_email(text) else None
    phone = to_e164_nz(text)
    if phone is None or (method == "text" and not is_mobile(phone)):
        return None
    return phone


def good_time(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text[:MAX_GOOD_TIME_CHARS] or None


def need_summary(need: str | None, place_key: str | None, who: str | None) -> str:
    """One line for the navigator, from what the bot knows (no free text of the person's)."""
    needs = taxonomies().needs
    about = needs[need].label if need in needs else "support (need not said)"
    place = gazetteer().get(place_key)
    where = f" in {place.display_name}" if place else ""
    whom = {
        "self": "for themself",
        "rangatahi": "for a young person (rangatahi)",
        "tamariki": "for tamariki",
        "whanau": "for someone in their whānau",
    }.get(who or "", "")
    return " ".join(part for part in (f"Help with {about}{where}", whom) if part) + "."


def shown_detail(method: str, detail: str | None) -> str:
    """The contact detail as repeated back in chat: phone numbers masked."""
    if not detail:
        return ""
    return detail if method == "email" else mask(detail)


def method_phrase(method: str, detail: str | None) -> str:
    shown = shown_detail(method, detail)
    return {
        "chat": "a message here in this chat",
        "call": f"a phone call on {shown}",
        "text": f"a text to {shown}",
        "email": f"an email to {shown}",
    }[method]


def when_phrase(open_now: bool, next_open: datetime | None) -> str:
    """Honest timing from the team's hours."""
    if open_now:
        return "Their team is working now, so you should hear from them today."
    if next_open is None:
        return "They will be in touch as soon as they can."
    local = next_open.astimezone(NZ)
    return (
        "Their team isn't working right now; expect to hear from them after "
        f"{local.strftime('%-I:%M %p').lower()} {local.strftime('%A')}."
    )
