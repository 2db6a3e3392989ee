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
from bot.phone import InvalidContact, checked_contact, mask
from bot.reo.normalise import match_key

SKIPPED = ""  # a skipped optional answer: filled, so never asked again, but empty
MAX_NAME_CHARS = 40
MAX_GOOD_TIME_CHARS = 80
# Why a form was left (the slot ``form_left``): "stop" gets the free lines and
# nothing is kept; "number" gets the numbers to ring now.
STOP = "stop"
NUMBER = "number"
# Intents that mean leaving whatever question is open, when the model is sure.
LEAVING_INTENTS = {"cancel": STOP, "goodbye": STOP, "ask_helpline": NUMBER}


def _phrases(phrases: str) -> str:
    """A regex alternation of comma-separated phrases as ``match_key`` folds them ("sweet"
    is matched as "swet", "kāti" as "kati"), longest first so "no worries" beats "no"."""
    folded = {re.escape(match_key(p).strip()) for p in phrases.split(",")}
    return "|".join(sorted(folded, key=len, reverse=True))


_YES = _phrases(
    "yes, yeah, yea, ya, yep, yup, āe, ok, okay, k, sure, sure thing, of course, definitely,"
    "absolutely, sweet, sweet as, all sweet, all good,"
    "no worries, that's fine, fine, that's right, right, correct, all correct, looks good,"
    "sounds good, perfect, please, pls, yes please, go ahead, go for it, do it, send,"
    "send it, just send it, send it through, ka pai, tika, tika tonu, kei te pai, choice"
)
_NO = _phrases(
    "no, nah, na, nope, kāo, kāore, no thanks, not now, not really, not yet, not today,"
    "not right now, don't, do not, i don't want to, rather not, i'd rather not"
)
_FILLER = _phrases(
    "thanks, thank you, ta, cheers, chur, mate, bro, sis, cuz, e hoa, kia ora, then, now,"
    "for now, already, actually, just, um, oh, eh"
)
_STOP_WORDS = _phrases(
    "stop, stop this, stop asking, cancel, cancel it, cancel that, cancel this,"
    "cancel the request, quit, exit, forget it, forget about it, forget this, never mind,"
    "nevermind, i'm done, i am done, done with this, leave it, leave it there, kāti,"
    "kāti rā, heoi anō, enough, that's enough, no more, end this, don't bother,"
    "i don't want to do this, i don't want to do this anymore, changed my mind,"
    "i changed my mind, i've changed my mind"
)
# One word or phrase of a short reply, named by its group.
_REPLY_WORD = re.compile(
    rf" (?:(?P<stop>{_STOP_WORDS})|(?P<yes>{_YES})|(?P<no>{_NO})|(?P<filler>{_FILLER}))(?= )"
)
# "Send it", "go ahead": go on with the request (where a question is open: skip it).
_GO_AHEAD = re.compile(rf" ({_phrases('send, send it, go ahead, go for it, do it')}) ")
_WANTS_NUMBER = re.compile(
    r" (?:(?:give|gimme|send|want|need|get|have|just|only)(?: me)?(?: just)?"
    r" (?:a|the|some|your) (?:phone |help ?line |helpline )?numbers?"
    r"|numbers? (?:to|i can|i could|can i|could i|for me to|do i|should i) (?:ring|call|text)"
    r"|help ?lines?"
    r"|(?:who|what) (?:can|could|do|should) i (?:ring|call))(?= )"
)
_NEGATION = re.compile(r" (?:dont|do not|not|never|no) ")
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
_CORRECTING = r"(?:(?:no|nah|actually|oh|sorry|oops|ok|yes|yeah)\s)*"
_METHOD_ONLY = re.compile(
    rf"^ {_CORRECTING}(?:(?:can you|can they|please|pls|just|id like a|a) )?"
    r"(?:(?:call|ring|phone|text|txt|e ?mail|imel)(?: me)?|phone call)"
    r"(?: please| pls| instead| thanks)? $"
    rf"|^ {_CORRECTING}(?:keep |just )?chat(?:ting)? here"
)
_WHOM_ONLY = re.compile(
    rf"^ {_CORRECTING}(?:(?:its|it is|help is|this is|its all) )?(?:for |just )?"
    r"(?:me|myself|ko au|ahau|my \w+|someone (?:else|in my whanau)|a young person|whanau) "
)
_AROUND_PLACE = re.compile(
    r" (?:(?:im|i am|were|we are|theyre|they are|hes|shes|in|at|from|near|on|the|around"
    r"|live|living|based|out|up|down|over|just|its|it is)\s)*"
)
_CHANGE = re.compile(r" (change|changes|edit|fix|wrong|update|different|not right) ")
# What "change the ..." asks again, first match wins; EVERYTHING when it names nothing.
_CHANGE_WHAT: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("handoff_name",), re.compile(r" name ")),
    (("handoff_good_time",), re.compile(r" (time|when|morning|afternoon|evening|day) ")),
    (("place",), re.compile(r" (place|town|area|where|location|suburb) ")),
    (("handoff_for",), re.compile(r" (who|whom) ")),
    (("handoff_contact_detail",), re.compile(r" (number|mobile|cell|digits|address) ")),
    (
        ("handoff_contact_method", "handoff_contact_detail", "handoff_good_time"),
        re.compile(r" (how|contact|method|way|call|ring|phone|text|txt|e ?mail|chat) "),
    ),
)
EVERYTHING = (
    "handoff_name",
    "handoff_contact_method",
    "handoff_contact_detail",
    "handoff_good_time",
    "handoff_for",
)
_NAME_LEAD = re.compile(
    r"^(?:(?:kia ora|hi|hey|hello|tēnā koe|tena koe|mōrena|morena)[\s,.!]+)?"
    r"(?:(?:my name is|my names|name is|i'?m|i’m|i am|it'?s|it’s|call me|ko)\s+)?",
    re.I,
)
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’ -]*(?:['’ -][^\W\d_]+){0,3}$")


def _reply_kinds(text: str | None) -> set[str] | None:
    """The kinds of words ("yes", "no", "stop", "filler") a short reply is made of, or None
    if it holds anything else ("yes send it" is yes; "yes my name is Mere" is None)."""
    key = match_key(text or "")
    kinds: set[str] = set()
    pos = 0
    while pos < len(key) - 1:
        word = _REPLY_WORD.match(key, pos)
        if word is None or word.lastgroup is None:
            return None
        kinds.add(word.lastgroup)
        pos = word.end()
    return kinds or None


def yes_or_no(text: str | None, intent: str | None) -> bool | None:
    """A yes or a no: from the words first ("sweet as", "yes send it", "yeah nah" is no),
    else from a sure intent; None when it is neither."""
    kinds = _reply_kinds(text)
    if kinds and kinds & {"yes", "no"} and "stop" not in kinds:
        return "no" not in kinds
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


def is_go_ahead(text: str | None) -> bool:
    """'Send it', 'yes go ahead': a yes to carrying on, whatever question is open."""
    return yes_or_no(text, None) is True and bool(_GO_AHEAD.search(match_key(text or "")))


def leaving(text: str | None, intent: str | None) -> str | None:
    """NUMBER for "I just want a number" / "give me a number to ring", STOP for "no. stop",
    "cancel", "nah forget it", "kāti", "im done"; None otherwise.

    The words decide first: a short reply made of such words leaves, one made of
    other short words ("send it", "yeah nah") does not, and neither does a change
    ("change the number") or a longer message holding a stop word ("stop the bot,
    I want a person"). Otherwise a leaving ``intent`` (pass it only when the model
    is sure) leaves. "skip" is not leaving.
    """
    key = match_key(text or "")
    wants = _WANTS_NUMBER.search(key)
    if wants and not _NEGATION.search(key[: wants.start() + 1]):
        return NUMBER
    kinds = _reply_kinds(text)
    if kinds is not None:
        return STOP if "stop" in kinds else None
    if to_change(text) is not None:
        return None
    return LEAVING_INTENTS.get(intent or "")


def is_skip(text: str | None, intent: str | None) -> bool:
    """Declining the question: "skip", "pass", "nah", "not now", or a sure skip or no."""
    return (
        intent in ("skip", "deny")
        or bool(_SKIP.search(match_key(text or "")))
        or yes_or_no(text, None) is False
    )


def is_reply_word(text: str | None) -> bool:
    """Only yes, no or filler words ("ok", "sweet as", "thanks"): no answer to a question."""
    return _reply_kinds(text) is not None


def to_change(text: str | None) -> tuple[str, ...] | None:
    """The answers to ask again when the read-back is to be changed ("change the number"
    asks only for the number), or None if the reply asks for no change."""
    key = match_key(text or "")
    if not _CHANGE.search(key):
        return None
    return next((slots for slots, pattern in _CHANGE_WHAT if pattern.search(key)), EVERYTHING)


def contact_method(text: str | None) -> str | None:
    key = match_key(text or "")
    return next((method for method, pattern in _METHODS if pattern.search(key)), None)


def method_only(text: str | None) -> str | None:
    """The contact method of a reply that is only that ("text me", "keep chatting here"),
    given where another question was asked ("call me Mere" is a name)."""
    return contact_method(text) if _METHOD_ONLY.search(match_key(text or "")) else None


def contact_given(method: str | None, text: str | None) -> tuple[str, str] | None:
    """A phone number or email given as the whole reply, as (method, detail): the method
    asked for if the detail suits it, else a call (or email)."""
    for candidate in (method, "call", "email"):
        if candidate in ("call", "text", "email"):
            detail = contact_detail(candidate, text)
            if detail:
                return candidate, detail
    return None


def who_for(text: str | None) -> str | None:
    key = match_key(text or "")
    return next((who for who, pattern in _WHO if pattern.search(key)), None)


def whom_only(text: str | None) -> str | None:
    """Who the help is for, from a reply that is plainly about that ("me", "for my son"),
    given where another question was asked."""
    return who_for(text) if _WHOM_ONLY.search(match_key(text or "")) else None


def is_only_place(text: str | None, spans: list[tuple[int, int]], bare: bool) -> bool:
    """Whether the reply only says where: the place (its entity spans) and words like
    "I'm in". With ``bare`` false a place on its own does not count: where a name is
    asked, "Moana" or "Ross" on its own may well be a name."""
    text = text or ""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    rest = match_key(text).strip()
    if not spans:
        return False
    return bool(_AROUND_PLACE.fullmatch(f" {rest} ")) if rest else bare


def preferred_name(text: str | None) -> str | None:
    """A first name or what to call the person, or None if it does not look like one
    (a yes, a no or a thank-you is not a name)."""
    if is_reply_word(text):
        return None
    name = _NAME_LEAD.sub("", (text or "").strip()).strip(" .!")
    if not name or len(name) > MAX_NAME_CHARS or not _NAME.match(name):
        return None
    return name[:1].upper() + name[1:]


def contact_detail(method: str, text: str | None) -> str | None:
    """The number (E.164) or email for the method, as the request will store it; None if
    it is not valid for the method (``bot.phone.checked_contact``)."""
    try:
        return checked_contact(method, text)
    except InvalidContact:
        return None


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
