"""The te reo Māori glossary (``data/reo/glossary.yml``): look-up and chat wording.

Matching goes through ``bot.reo.match_key`` only, so ``whānau``, ``whanau``,
``whaanau`` and ``WHANAU`` find the same entry. Words that differ only by a
macron (``kahu`` a cloak, ``kāhu`` a hawk) fold to one key: a look-up returns all
of them, the one spelt as typed first, and ``explain`` shows each with its
spelling. Nothing here guesses: a word that is not in the glossary is unknown.

A place entry's ``place_key`` names a place of the directory's gazetteer; that
it does is checked by the tests (``tests/reo/test_glossary.py``), not here: the
te reo package sits below the directory, which folds its place names with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import DATA_DIR
from bot.reo.normalise import match_key, spelling_variants

GLOSSARY_FILE = DATA_DIR / "reo" / "glossary.yml"
KINDS = frozenset(
    {
        "person",
        "wellbeing",
        "concept",
        "everyday",
        "greeting",
        "response",
        "question",
        "organisation",
        "iwi",
        "place",
    }
)
REQUIRED_FIELDS = ("word", "meaning", "kind")
OPTIONAL_FIELDS = ("note", "place_key")
# Longer than any glossary term; a longer look-up cannot be a term.
MAX_TERM_CHARS = 80
MAX_TERM_WORDS = 8
# A "what does X mean" question is short; longer messages are not scanned for one.
MAX_QUESTION_CHARS = 300
# Bot replies and messages scanned by ``terms_in`` are cut to this length.
MAX_TEXT_CHARS = 5000
# How much of an unknown word is repeated back to the person.
MAX_ECHO_CHARS = 40

# A word as ``match_key`` sees one: letters and digits, apostrophes inside.
_WORD = re.compile(r"[^\W_]+(?:['’‘`][^\W_]+)*")


class GlossaryError(ValueError):
    """The glossary file is missing, malformed or has an invalid entry."""


@dataclass(frozen=True)
class Entry:
    word: str
    meaning: str
    kind: str
    note: str | None = None
    place_key: str | None = None

    @property
    def key(self) -> str:
        """The matching key (``match_key`` without its padding)."""
        return match_key(self.word).strip()


def _as_typed(text: str) -> str:
    """Lower case, words joined by single spaces; macrons kept (unlike ``match_key``)."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", text).lower()))


def _spelling_rank(entry: Entry, typed: str) -> int:
    """0: spelt exactly as typed; 1: a usual way of typing it; 2: only the folded key matches."""
    as_typed = _as_typed(typed)
    if as_typed == _as_typed(entry.word):
        return 0
    if as_typed in {_as_typed(v) for v in spelling_variants(entry.word)}:
        return 1
    return 2


def _best_spelt(entries: list[Entry], typed: str) -> list[Entry]:
    """The entries whose spelling fits ``typed`` best; all of them when none fits better."""
    ranks = [_spelling_rank(e, typed) for e in entries]
    best = min(ranks)
    if best == 2:
        return list(entries)
    return [e for e, rank in zip(entries, ranks, strict=True) if rank == best]


def _shown(text: str) -> str:
    """A typed word made safe to repeat back: letters, digits, spaces, hyphens and apostrophes."""
    words = re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", unicodedata.normalize("NFC", text))
    shown = " ".join(words)
    return shown if len(shown) <= MAX_ECHO_CHARS else shown[: MAX_ECHO_CHARS - 1].rstrip() + "…"


class Glossary:
    """The glossary entries, indexed by matching key (several entries may share one)."""

    def __init__(self, entries: Iterable[Entry], source: str = "") -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.source = source
        self._by_key: dict[str, list[Entry]] = {}
        for entry in self.entries:
            self._by_key.setdefault(entry.key, []).append(entry)
        self._max_words = max((len(k.split()) for k in self._by_key), default=0)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Glossary:
        """Reads and validates a glossary file (the project's one by default).

        Raises ``GlossaryError`` naming the file and the entry at fault.
        """
        path = Path(path) if path is not None else GLOSSARY_FILE
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise GlossaryError(f"{path}: cannot read the glossary ({exc})") from exc
        except yaml.YAMLError as exc:
            raise GlossaryError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(raw, dict) or set(raw) != {"source", "entries"}:
            raise GlossaryError(f"{path}: needs exactly two keys, `source` and `entries`")
        source = raw["source"]
        if not isinstance(source, str) or not source.strip():
            raise GlossaryError(f"{path}: `source` must name the references relied on")
        items = raw["entries"]
        if not isinstance(items, list) or not items:
            raise GlossaryError(f"{path}: `entries` must be a non-empty list")
        entries: list[Entry] = []
        seen: dict[str, int] = {}
        for number, item in enumerate(items, start=1):
            entry = _parse_entry(item, f"{path}: entry {number}")
            spelling = _as_typed(entry.word)
            if spelling in seen:
                raise GlossaryError(
                    f"{path}: entry {number} ({entry.word!r}) repeats entry {seen[spelling]}"
                )
            seen[spelling] = number
            entries.append(entry)
        return cls(entries, source.strip())

    def lookup(self, text: str | None) -> list[Entry]:
        """Every entry ``text`` folds to, the one spelt as typed first.

        Case, macrons, doubled vowels and punctuation are ignored; a leading
        "te" may be given or left off ("Manatū Hauora" = "Te Manatū Hauora").
        """
        if not isinstance(text, str):
            return []
        text = text.strip()
        if len(text) > MAX_TERM_CHARS:
            return []
        key = match_key(text).strip()
        if not key:
            return []
        found = self._by_key.get(key)
        if found is None:
            other = key[3:] if key.startswith("te ") else f"te {key}"
            found = self._by_key.get(other, [])
        return sorted(found, key=lambda entry: _spelling_rank(entry, text))

    def collisions(self) -> list[tuple[Entry, ...]]:
        """Groups of different words that fold to one key (kahu and kāhu), by key."""
        return [tuple(group) for _, group in sorted(self._by_key.items()) if len(group) > 1]

    def terms_in(self, text: str | None, kinds: Collection[str] | None = None) -> list[Entry]:
        """Glossary terms used in ``text``, in order of first use, each once.

        The longest term wins at each position and terms do not overlap, so
        "kaupapa Māori" is found rather than "kaupapa", and "Oranga Tamariki"
        rather than "tamariki". Where a spelling fits one of several colliding
        words (kāhu), only that word is returned. ``kinds`` keeps only those
        kinds (a span taken by another kind is still taken).
        """
        if not isinstance(text, str) or not text:
            return []
        text = unicodedata.normalize("NFC", text[:MAX_TEXT_CHARS])
        tokens = []
        for m in _WORD.finditer(text):
            key = match_key(m.group()).strip()
            tokens.append((m.start(), m.end(), key if key and " " not in key else None))
        found: list[Entry] = []
        i = 0
        while i < len(tokens):
            step = 1
            for n in range(min(self._max_words, len(tokens) - i), 0, -1):
                keys = [key for _, _, key in tokens[i : i + n]]
                if None in keys:
                    continue
                entries = self._by_key.get(" ".join(k for k in keys if k))
                if entries is None:
                    continue
                typed = text[tokens[i][0] : tokens[i + n - 1][1]]
                for entry in _best_spelt(entries, typed):
                    if (kinds is None or entry.kind in kinds) and entry not in found:
                        found.append(entry)
                step = n
                break
            i += step
        return found

    def explain(self, term: str | None) -> str:
        """One short chat message: the word's spelling in bold, its meaning and note."""
        shown = _shown(term) if isinstance(term, str) else ""
        if not shown:
            return "Which word would you like me to explain?"
        entries = self.lookup(term)
        if not entries:
            return (
                f"Sorry, I don't know the word “{shown}” yet, and I won't guess what it means. "
                "Te Aka Māori Dictionary (https://maoridictionary.co.nz) is a good place "
                "to look it up."
            )
        if len(entries) == 1:
            entry = entries[0]
            stop = "" if entry.meaning.endswith((".", "?", "!")) else "."
            text = f"**{entry.word}**: {entry.meaning}{stop}"
            return f"{text} {entry.note}" if entry.note else text
        senses = "; ".join(f"**{e.word}** ({e.meaning})" for e in entries)
        return f"{senses}. Written without macrons they look the same."


_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
_WHAT = r"(?:what|wat|wot|wut|wht|whta|waht)"
_DOES = r"(?:does|dose|dos|do|did|dus)"
_YOU = r"(?:you|u|ya|yu|they|people|ppl|she|he|we)"
_MEAN = r"(?:means?|meen|mena|stand\s+for|translate\s+(?:to|as))"
_IS = r"(?:'s|s|\s+is|\s+iz|\s+r|\s+are)"
_TERM = r"(?P<term>.+?)"
_QUESTION_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"\b{_WHAT}\s+{_DOES}\s+{_YOU}\s+mean\s+(?:by\s+)?{_TERM}$",
        rf"\bwdym\s+(?:by\s+)?{_TERM}$",
        rf"\b{_WHAT}{_IS}\s+(?:the\s+)?(?:meaning|definition|translation|english)"
        rf"\s+(?:of|for|behind)\s+{_TERM}$",
        rf"\b(?:meaning|definition|translation|english(?:\s+word)?)\s+(?:of|for|behind)\s+{_TERM}$",
        rf"\b{_WHAT}\s+{_DOES}\s+{_TERM}\s+{_MEAN}\b",
        rf"\b{_WHAT}{_IS}\s+{_TERM}\s+{_MEAN}\b",
        rf"\bhe\s+aha\s+te\s+tikanga\s+o\s+(?:te\s+kupu\s+)?{_TERM}$",
        rf"\bwhat\s+(?:an?\s+)?{_TERM}\s+(?:means|stands\s+for|is\s+in\s+english)\b",
        r"\b(?:(?:i\s+)?(?:dont|don't|do\s+not|dnt|didnt|didn't)\s+(?:know|understand|get)"
        r"|not\s+sure|no\s+idea|unsure|tell\s+me|wondering|wonder)\s+what\s+(?:an?\s+)?"
        rf"{_TERM}\s+(?:is|are)\b",
        rf"\b(?:hearing|heard|saying|says|said|using|uses|seen|saw)\s+{_TERM}\s*[,.?!-]*\s*"
        rf"{_WHAT}(?:'s|s|\s+is|\s+does)\s+(?:that|it|this)(?:\s+mean)?[\s?!.]*$",
        rf"\b(?:explain|define|translate)\s+(?:to\s+me\s+)?(?:what\s+)?{_TERM}"
        r"(?:\s+(?:is|are|means?))?$",
        rf"\b{_WHAT}{_IS}\s+(?:an?\s+)?{_TERM}$",
        r"\bi\s+(?:dont|don't|do\s+not|dnt|didnt|didn't)\s+(?:understand|get|know)\s+"
        rf"(?:the\s+(?:word|term|phrase)\s+)?{_TERM}$",
    )
]
_LEADING_FILLER = re.compile(
    r"^(?:(?:kia\s+ora|hey|hi|hello|sorry|um+|uh+|so|ok|okay|oh|and|but)\b[\s,.!-]*)+",
    re.IGNORECASE,
)
_BARE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^{_TERM}\s*[,.?!-]*\s*{_WHAT}(?:'s|s|\s+is|\s+does)\s+(?:that|it|this)"
        r"(?:\s+mean)?[\s?!.]*$",
        rf"^{_TERM}\s+(?:means?|meaning)(?:\s+what)?[\s?!.]*$",
        rf"^{_TERM}\s+in\s+(?:english|m[aā]ori|te\s+reo)[\s?!.]*$",
        rf"^{_TERM}\s*\?+$",
    )
]
_TRAILING_FILLER = re.compile(
    r"(?:\s+(?:in\s+english|in\s+te\s+reo(?:\s+m[aā]ori)?|in\s+m[aā]ori|mean|means|meaning"
    r"|please|pls|plz|thanks|thx|again|exactly|actually|about|bro|mate|e\s+hoa|lol|then"
    r"|for\s+me|to\s+me))+$",
    re.IGNORECASE,
)
_LEADING_WORD = re.compile(r"^(?:(?:the|that|this)\s+)?(?:word|term|phrase|kupu)\s+", re.IGNORECASE)
_EDGE_PUNCTUATION = "\"'*_.,!?:;()[]{}<> "
_NOT_A_TERM = {"that", "this", "it", "that word", "this word", "that one", "those", "these"}
# A bare "X?" is a term only if it isn't an English question.
_ENGLISH_QUESTION = re.compile(
    r"^(?:what|how|why|when|where|who|which|is|are|can|could|do|does|did|will|would|any)\b",
    re.IGNORECASE,
)


def _clean_term(raw: str) -> str | None:
    term = raw.strip(_EDGE_PUNCTUATION)
    previous = None
    while term != previous:
        previous = term
        term = _TRAILING_FILLER.sub("", term).strip(_EDGE_PUNCTUATION)
        term = _LEADING_WORD.sub("", term).strip(_EDGE_PUNCTUATION)
    term = " ".join(term.split())
    if (
        not term
        or len(term) > MAX_TERM_CHARS
        or len(term.split()) > MAX_TERM_WORDS
        or term.lower() in _NOT_A_TERM
        or _ENGLISH_QUESTION.match(term)
        or not match_key(term).strip()
    ):
        return None
    return term


def extract_term(message: str | None) -> str | None:
    """The word a person is asking the meaning of, as they typed it, or ``None``.

    "what does rangatahi mean", "whats whanau", "meaning of mokopuna",
    "rangatahi?", "i dont know what a marae is", "what do you mean by mahi" ...
    Quotes and surrounding punctuation are dropped; spelling is left alone.
    "What does that mean" gives ``None``: it names no word.
    """
    if not isinstance(message, str) or len(message) > MAX_QUESTION_CHARS:
        return None
    text = " ".join(unicodedata.normalize("NFC", message).translate(_QUOTES).split())
    if not text:
        return None
    bare = _LEADING_FILLER.sub("", text)
    for pattern in _QUESTION_PATTERNS:
        m = pattern.search(text)
        term = _clean_term(m.group("term")) if m else None
        if term:
            return term
    for pattern in _BARE_PATTERNS:
        m = pattern.search(bare)
        term = _clean_term(m.group("term")) if m else None
        if term:
            return term
    return None


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    """The project's glossary, loaded once per process."""
    return Glossary.load()


def _parse_entry(item: object, where: str) -> Entry:
    if not isinstance(item, dict):
        raise GlossaryError(f"{where}: must be a mapping with {', '.join(REQUIRED_FIELDS)}")
    word = item.get("word")
    label = f"{where} ({word!r})" if isinstance(word, str) and word.strip() else where
    unknown = sorted(str(k) for k in set(item) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise GlossaryError(f"{label}: unknown field(s) {', '.join(unknown)}")
    for name in REQUIRED_FIELDS:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            raise GlossaryError(f"{label}: missing field `{name}` (a non-empty string)")
    for name in OPTIONAL_FIELDS:
        value = item.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise GlossaryError(f"{label}: `{name}` must be a non-empty string when given")
    kind = item["kind"].strip()
    if kind not in KINDS:
        raise GlossaryError(
            f"{label}: unknown kind {kind!r}; use one of {', '.join(sorted(KINDS))}"
        )
    entry = Entry(
        word=unicodedata.normalize("NFC", item["word"].strip()),
        meaning=item["meaning"].strip(),
        kind=kind,
        note=item["note"].strip() if item.get("note") else None,
        place_key=item["place_key"].strip() if item.get("place_key") else None,
    )
    if not entry.key:
        raise GlossaryError(f"{label}: `word` has no letters to match on")
    if entry.place_key is not None and entry.kind != "place":
        raise GlossaryError(f"{label}: `place_key` is only for kind `place`")
    return entry
