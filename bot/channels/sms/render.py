"""How the bot's messages look as text messages. Pure functions, no I/O.

- Markdown is removed: ``**bold**`` and ``_italics_`` keep their words,
  ``[text](url)`` becomes ``text: url``; URLs are never altered.
- Typographic punctuation that would force the whole message into UCS-2
  (curly quotes, dashes, ellipsis, middle dot) becomes its GSM-7 equivalent;
  macrons are kept, so te reo stays correct and the message is UCS-2.
- Buttons become one line, "Reply 1 for A, 2 for B or 3 for C.", numbered on
  from the buttons already shown since the person last wrote, so a reply of
  "3" always means the third button they saw (``buttons_in_turn``).
- Answers long by nature are shortened, because every segment is paid for:
  each service of a search answer becomes one line (``compact_service``), a
  service's details keep what a person needs to act on within two segments
  (``compact_detail``), and the results hint comes once per conversation, in
  SMS words (``once_per_conversation``). Macrons are never removed to save
  segments: the savings come from length.
- A reply within the per-message limit (1,600 characters by default) stays
  one message: phones reassemble its segments in order, while separate
  messages can arrive out of order. A longer reply is split into messages,
  only between sentences, lines or paragraphs unless one sentence is itself
  over the limit. Among the splits into the fewest messages, the one with the
  fewest billed segments is chosen (160 GSM-7 characters in one segment, 153
  per segment of a longer message; 70 and 67 for UCS-2), so parts end near
  segment boundaries instead of wasting a nearly empty segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.directory.present import REFERRAL, UNCHECKED
from bot.text import strip_controls

LIMIT = 1600

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
MULTI = {"GSM-7": 153, "UCS-2": 67}

_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u2026": "...",
        "\u00b7": "-",
    }
)

_URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]}'*_]")
_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMAGE_LINK = re.compile(r"!\[([^\]\n]*)\]\(\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+|mailto:[^>\s]+)>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")
_EMPHASIS = [
    re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])", re.S),
    re.compile(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])", re.S),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])", re.S),
    re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])", re.S),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S),
    re.compile(r"`([^`\n]+)`"),
]
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", re.M)
_BULLET = re.compile(r"^([ \t]*)[*+][ \t]+", re.M)
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.M)
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
# Characters of the Unicode private use area stand in for escaped characters
# and URLs while the markdown is removed around them.
_PRIVATE = 0xE000


def _protect(text: str, pattern: re.Pattern[str], kept: list[str], group: int = 0) -> str:
    def hide(match: re.Match[str]) -> str:
        kept.append(match.group(group))
        return chr(_PRIVATE + len(kept) - 1)

    return pattern.sub(hide, text)


def _restore(text: str, kept: list[str]) -> str:
    return re.sub(
        f"[{chr(_PRIVATE)}-{chr(_PRIVATE + max(len(kept), 1) - 1)}]",
        lambda m: kept[ord(m.group()) - _PRIVATE],
        text,
    )


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if not label or label.rstrip("/") in (url.rstrip("/"), re.sub(r"^\w+://", "", url).rstrip("/")):
        return url
    return f"{label}: {url}"


def plain(text: str) -> str:
    """Markdown removed and punctuation made GSM-7 friendly; words and URLs unchanged."""
    text = re.sub(r"[\ue000-\uf8ff]", "", strip_controls(text))  # and private-use characters
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r" \u00b7 ", "; ", text).translate(_TYPOGRAPHY)
    kept: list[str] = []
    text = _protect(text, _ESCAPE, kept, group=1)
    text = _IMAGE_LINK.sub(_link, text)
    text = _LINK.sub(_link, text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _protect(text, _URL, kept)
    text = _RULE.sub("", text)
    text = _HEADING.sub(r"\1", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub(r"\1- ", text)
    for pattern in _EMPHASIS:
        previous = None
        while previous != text:
            previous, text = text, pattern.sub(r"\1", text)
    text = _restore(text, kept)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def encoding(text: str) -> str:
    """``"GSM-7"`` if every character is in the GSM 03.38 alphabet, else ``"UCS-2"``."""
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text) else "UCS-2"


def _units(char: str, gsm: bool) -> int:
    if gsm:
        return 2 if char in GSM7_EXTENDED else 1
    return 2 if ord(char) > 0xFFFF else 1


def segments(text: str) -> int:
    """How many SMS segments the text is billed as (0 for empty text)."""
    enc = encoding(text)
    units = sum(_units(c, enc == "GSM-7") for c in text)
    return _segment_count(units, enc)


def _segment_count(units: int, enc: str) -> int:
    if units == 0:
        return 0
    if units <= SINGLE[enc]:
        return 1
    return -(-units // MULTI[enc])


# Kinds of cut, from best to worst. A cut inside a sentence is only taken when
# no split between sentences fits; a cut inside a word only for a "word"
# longer than the limit.
PARAGRAPH, LINE, SENTENCE, WORD, CHAR = range(5)
_BAD_CUT = {PARAGRAPH: 0, LINE: 0, SENTENCE: 0, WORD: 1, CHAR: 1000}
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_LIST_NUMBER = re.compile(r"\d+[.)]$")


@dataclass(frozen=True)
class _Cut:
    end: int  # where the part before the cut ends
    start: int  # where the part after the cut starts
    kind: int


def _cuts(text: str, limit: int) -> list[_Cut]:
    cuts = []
    for space in re.finditer(r"\s+", text):
        before = text[max(0, space.start() - 20) : space.start()].rsplit(None, 1)
        before = before[-1] if before else ""
        gap = space.group()
        if gap.count("\n") >= 2:
            kind = PARAGRAPH
        elif "\n" in gap:
            kind = LINE
        elif _SENTENCE_END.search(before) and not _LIST_NUMBER.fullmatch(before):
            kind = SENTENCE
        else:
            kind = WORD
        cuts.append(_Cut(space.start(), space.end(), kind))
    for word in re.finditer(rf"\S{{{limit + 1},}}", text):
        cuts.extend(_Cut(i, i, CHAR) for i in range(word.start() + limit, word.end(), limit))
    return sorted(cuts, key=lambda c: c.end)


def split(text: str, limit: int = LIMIT) -> list[str]:
    """``text`` cut into messages of at most ``limit`` characters (see module docstring).

    Every part is a stripped slice of ``text``; joined, they hold every
    non-space character of ``text`` in order. Empty text gives no parts.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    prefix_other = [0]
    prefix_septets = [0]
    prefix_utf16 = [0]
    for char in text:
        gsm = char in GSM7_BASIC or char in GSM7_EXTENDED
        prefix_other.append(prefix_other[-1] + (not gsm))
        prefix_septets.append(prefix_septets[-1] + (2 if char in GSM7_EXTENDED else 1))
        prefix_utf16.append(prefix_utf16[-1] + _units(char, False))

    def part_segments(start: int, end: int) -> int:
        if prefix_other[end] - prefix_other[start]:
            return _segment_count(prefix_utf16[end] - prefix_utf16[start], "UCS-2")
        return _segment_count(prefix_septets[end] - prefix_septets[start], "GSM-7")

    # Nodes: the start of the text, every cut, the end of the text. best[i] is
    # the cheapest way to cut text[:nodes[i].end]; costs compare as one integer:
    # cuts inside sentences, then number of parts, then billed segments, then
    # the kind of cut (paragraph before line before sentence).
    nodes = [_Cut(0, 0, PARAGRAPH), *_cuts(text, limit), _Cut(len(text), len(text), PARAGRAPH)]
    starts = [n.start for n in nodes]
    last = len(nodes) - 1
    best: list[int | None] = [0] + [None] * last
    back = [0] * len(nodes)
    for j in range(1, len(nodes)):
        end = nodes[j].end
        own = 10**16 + (0 if j == last else _BAD_CUT[nodes[j].kind] * 10**24 + nodes[j].kind)
        for i in range(j - 1, -1, -1):
            start = starts[i]
            if end - start > limit:
                break
            previous = best[i]
            if start >= end or previous is None:
                continue
            cost = previous + own + part_segments(start, end) * 10**8
            if best[j] is None or cost < best[j]:
                best[j], back[j] = cost, i
    parts = []
    j = len(nodes) - 1
    while j:
        i = back[j]
        parts.append(text[nodes[i].start : nodes[j].end].strip())
        j = i
    return [p for p in reversed(parts) if p]


def button_line(buttons: Sequence[Mapping[str, Any]], first: int = 1) -> str:
    """``"Reply 1 for A, 2 for B or 3 for C."`` (titles without markdown)."""
    options = [
        f"{first + i} for {plain(str(b.get('title') or b.get('payload') or '')).rstrip('.')}"
        for i, b in enumerate(buttons)
    ]
    if not options:
        return ""
    listed = options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]
    return f"Reply {listed}."


def message_buttons(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The buttons (or quick replies) of a bot message or a ``bot`` event's ``data``."""
    return list(message.get("buttons") or message.get("quick_replies") or [])


# Compact answers. The bot words its answers for a screen; on SMS every
# character is paid for (a macron makes the whole message UCS-2, 67 characters
# a segment), so the answers that are long by nature are recognised by their
# shape (``bot.directory.present``) and shortened here, keeping every fact a
# person needs to act on. Text that does not have the shape is left as it is.

# A search answer: "2. Alcohol Drug Helpline 0800 787 797 (24/7, free)" per service.
_HEAD = re.compile(r"(?P<number>\d{1,3})\. (?P<name>\S.*)")
_PHONE = re.compile(r"(?P<verb>Call|Text) (?P<number>\d[\d ]*\d|\d)(?: \([^()]*\))?")
_OTHER_CONTACT = re.compile(r"https?://\S+|Email \S+@\S+")
NO_CONTACT = "No checked contact details yet."  # present.summary, for no contact details
_CONTACT_SEPARATOR = " \u00b7 "  # present's " · " between contact details and between tags
_HOURS_FACTS = (("Open 24/7", "24/7"), ("Open now", "open now"), ("Closed now", "closed now"))


def _is_contact_line(line: str) -> bool:
    if line == NO_CONTACT:
        return True
    items = line.split(_CONTACT_SEPARATOR)
    return all(_PHONE.fullmatch(i) or _OTHER_CONTACT.fullmatch(i) for i in items)


def _reach(contact: str) -> str:
    """The one way to reach a service a list line shows: its first number to call,
    else to text; a website or email only when it has no number."""
    if contact == NO_CONTACT:
        return ""
    items = contact.split(_CONTACT_SEPARATOR)
    phones = [m for m in map(_PHONE.fullmatch, items) if m]
    calls = [m["number"] for m in phones if m["verb"] == "Call"]
    if calls:
        return calls[0]
    if phones:
        return f"text {phones[0]['number']}"
    return items[0].removeprefix("Email ")


def compact_service(paragraph: str) -> str | None:
    """A numbered service of a search answer (``present.summary``) as one line;
    None for any other paragraph.

    ``"2. Alcohol Drug Helpline 0800 787 797 (24/7, free)"``: the name, one way to
    reach them (none for a service without checked contact details), whether
    they are open (24/7, open now, closed now), free, and "not yet checked" for
    a record nobody has checked. The rest (what they do, other numbers, hours,
    kaupapa Māori) comes with the details, on request.
    """
    lines = paragraph.strip().split("\n")
    head = _HEAD.fullmatch(lines[0])
    rest = lines[1:]
    unchecked = bool(rest) and rest[-1] == UNCHECKED
    if unchecked:
        rest = rest[:-1]
    contact = next((i for i, line in enumerate(rest) if _is_contact_line(line)), None)
    if head is None or contact is None or contact > 1 or len(rest) - contact > 2:
        return None
    tags = rest[contact + 1].split(_CONTACT_SEPARATOR) if len(rest) > contact + 1 else []
    facts = [fact for tag in tags for start, fact in _HOURS_FACTS if tag.startswith(start)]
    facts += ["free"] if "Free" in tags else []
    facts += ["not yet checked"] if unchecked else []
    reach = _reach(rest[contact])
    line = f"{head['number']}. {head['name']}"
    if reach and reach not in head["name"]:  # "Emergency 111" says its number already
        line += f" {reach}"
    return line + (f" ({', '.join(facts)})" if facts else "")


# A service's details (``present.detail``), within DETAIL_SEGMENTS: the lines a
# person needs to act on are always kept; the others are added in order of
# PRIORITY while the whole still fits.
DETAIL_SEGMENTS = 2
# Stands for the source line of a record nobody has checked when the details
# are shortened (the source itself is then one of the optional lines).
NOT_CHECKED = "Not yet checked: confirm with them first."
_DETAIL_PREFIXES = {
    "Run by ": "run_by",
    "Who for: ": "who_for",
    "Contact: ": "contact",
    "Where: ": "where",
    "Hours: ": "hours",
    "Cost: ": "cost",
    "Note: ": "note",
    "Source: ": "source",
}
ESSENTIAL = frozenset({"name", "contact", "hours", "cost", "kaupapa_maori", "note", "not_checked"})
PRIORITY = ("who_for", "description", "where", "referral", "run_by", "source")


def _detail_kind(line: str) -> str:
    if line == "Kaupapa Māori service.":
        return "kaupapa_maori"
    if line in REFERRAL.values():
        return "referral"
    for prefix, kind in _DETAIL_PREFIXES.items():
        if line.startswith(prefix):
            return kind
    return "description"


def compact_detail(text: str) -> str | None:
    """A service's details (``present.detail``) shortened to ``DETAIL_SEGMENTS``;
    None for any other text, or details that already fit.

    Always kept: the name, how to reach them, hours, cost, kaupapa Māori, a
    note (an alert) and, for a record nobody has checked, ``NOT_CHECKED``.
    Then, while the whole fits: who it is for, what they do, where, referral,
    who runs it, the source. The lines stay in their order.
    """
    lines = text.strip().split("\n")
    kinds = ["name"] + [_detail_kind(line) for line in lines[1:]]
    if len(lines) < 3 or "contact" not in kinds or kinds[-1] != "source":
        return None
    if segments(plain(text)) <= DETAIL_SEGMENTS:
        return None
    if lines[-1].endswith("(not yet checked)"):
        lines, kinds = [*lines, NOT_CHECKED], [*kinds, "not_checked"]
    kept = {i for i, kind in enumerate(kinds) if kind in ESSENTIAL}
    for wanted in PRIORITY:
        for i in [i for i, kind in enumerate(kinds) if kind == wanted]:
            if segments(plain(_keep(lines, kept | {i}))) <= DETAIL_SEGMENTS:
                kept.add(i)
    return _keep(lines, kept)


def _keep(lines: Sequence[str], kept: set[int]) -> str:
    return "\n".join(line for i, line in enumerate(lines) if i in kept)


# Responses shown once per conversation on SMS, by response name, with their
# SMS wording. Only words the bot understands: a number picks a result
# (bot/nlu/picks.py), "more" and "talk to someone" are intents.
RESULTS_HINT = "Reply a number for details, 'more', or 'talk to someone'."
ONCE_PER_CONVERSATION: Mapping[str, str] = {"utter_results_hint": RESULTS_HINT}


def once_per_conversation(
    messages: Iterable[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The turn's messages with each response of ``ONCE_PER_CONVERSATION`` in its
    SMS wording the first time in a conversation, and left out after that.

    ``events`` are the conversation's tracker events as dicts, this turn's
    included (the channel reads them after Rasa answered). A conversation is
    a Rasa session, so someone who comes back after it expired sees the hint
    again. Responses are recognised by the ``utter_action`` Rasa records with
    each bot event, and the turn's messages by their text.
    """
    starts = [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    session = events[starts[-1] if starts else 0 :]
    users = [i for i, e in enumerate(session) if e.get("event") == "user"]
    turn = users[-1] if users else 0

    def responses(part: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        found = {}
        for event in part:
            name = (event.get("metadata") or {}).get("utter_action")
            if event.get("event") == "bot" and name in ONCE_PER_CONVERSATION:
                found[(event.get("text") or "").strip()] = name
        return found

    shown = set(responses(session[:turn]).values())
    now = responses(session[turn:])
    kept = []
    for message in messages:
        name = now.get(str(message.get("text") or "").strip())
        if name is None:
            kept.append(message)
        elif name not in shown:
            shown.add(name)
            kept.append({**message, "text": ONCE_PER_CONVERSATION[name]})
    return kept


# Rendering a turn. A block is a piece of SMS text and whether it is a line of
# a list: list lines are joined to their neighbours with a line break, other
# blocks with a blank line.
_Block = tuple[str, bool]


def _text_blocks(text: str) -> list[_Block]:
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text.strip()) if p.strip()]
    lines = [compact_service(p) for p in paragraphs]
    if any(lines):
        return [(plain(line or p), bool(line)) for p, line in zip(paragraphs, lines, strict=True)]
    return [(plain(compact_detail(text) or text), False)]


def _message_blocks(message: Mapping[str, Any], first: int) -> list[_Block]:
    blocks = _text_blocks(str(message["text"])) if message.get("text") else []
    tail = [button_line(message_buttons(message), first)]
    tail += [
        message[key].strip()
        for key in ("image", "attachment")
        if isinstance(message.get(key), str) and message[key].strip()
    ]
    tail = [t for t in tail if t]
    if tail and blocks:
        text, listed = blocks[-1]
        blocks[-1] = ("\n".join([text, *tail]), listed)
    elif tail:
        blocks.append(("\n".join(tail), False))
    return [b for b in blocks if b[0]]


def _join(blocks: Sequence[_Block]) -> str:
    text = ""
    for i, (block, listed) in enumerate(blocks):
        if i:
            text += "\n" if listed or blocks[i - 1][1] else "\n\n"
        text += block
    return text


def render_message(message: Mapping[str, Any], first: int = 1) -> str:
    """One bot message (Rasa's dict: text, buttons, image, attachment) as SMS text."""
    return _join(_message_blocks(message, first))


def render(messages: Iterable[Mapping[str, Any]], first: int = 1, limit: int = LIMIT) -> list[str]:
    """The bot's messages for one turn as text messages to send, in order.

    Messages are joined with blank lines (a list's lines with line breaks) and
    split only where the limit needs it, or where an opening that needs UCS-2
    costs less sent on its own; buttons are numbered on from ``first`` across
    the messages.
    """
    blocks: list[_Block] = []
    number = first
    for message in messages:
        blocks += _message_blocks(message, number)
        number += len(message_buttons(message))
    whole = split(_join(blocks), limit)
    opening, rest = (blocks[0], blocks[1:]) if blocks else (("", False), [])
    if not rest or opening[1] or encoding(opening[0]) == "GSM-7":
        return whole
    if encoding(_join(rest)) != "GSM-7":
        return whole
    # An opening sentence (not a list's line) that needs UCS-2 ("None listed are
    # kaupapa Māori.") would bill the whole reply at 67 characters a segment; alone,
    # it costs one or two and the rest stays GSM-7. Sent apart only when cheaper.
    apart = [*split(opening[0], limit), *split(_join(rest), limit)]
    return apart if sum(map(segments, apart)) < sum(map(segments, whole)) else whole


def buttons_in_turn(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every button the bot showed since the person's last message, in order.

    ``events`` are tracker events as dicts (``event.as_dict()``); numbering in
    ``render`` continues across the same messages, so reply "n" is item n-1.
    """
    turn: list[Mapping[str, Any]] = []
    for event in reversed(list(events)):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            turn.insert(0, event)
    return [b for e in turn for b in message_buttons(e.get("data") or {})]


_CHOICE = re.compile(r"#?\s*(\d{1,3})\s*[.)]?")


def chosen_payload(reply: str, buttons: Sequence[Mapping[str, Any]]) -> str | None:
    """The payload of the button a reply like "2" (or "2." or "#2") picks, if any."""
    match = _CHOICE.fullmatch(reply.strip())
    if not match or not buttons:
        return None
    number = int(match.group(1))
    if not 1 <= number <= len(buttons):
        return None
    button = buttons[number - 1]
    payload = button.get("payload") or button.get("title")
    return str(payload) if payload else None
