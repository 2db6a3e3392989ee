"""Explicit crisis patterns (``data/safety/crisis_patterns.yml``), matched on folded text.

The patterns are kept as data so they can be reviewed and extended without
code changes. Figurative phrases ("this app is killing me") are removed first.
In a message that talks *about* crisis ("an assignment on suicide prevention",
"I'm not suicidal") only the urgent patterns count.
The NLU model's own prediction is combined with these in
``bot.nlu.components.CrisisDetector``; for some categories it needs a sign in
the message as well (``model_requires``): a child mentioned is not a child in
danger, and a threat is a crisis only when someone is coming or at the house.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import DATA_DIR
from bot.reo import match_key

PATTERNS_FILE = DATA_DIR / "safety" / "crisis_patterns.yml"
# A crisis leaves NLU as the intent CRISIS_PREFIX + category ("crisis_suicide").
CRISIS_PREFIX = "crisis_"
# When a message matches more than one category, the first here wins. Someone who
# cannot talk out loud gets the text lines whatever else the message says; help
# already on its way needs first aid now rather than "call 111".
CATEGORIES = (
    "text_only",
    "suicide",
    "overdose_aid",
    "overdose",
    "violence",
    "child",
    "psychosis",
    "threat",
)


@dataclass(frozen=True)
class CrisisPatterns:
    categories: dict[str, tuple[re.Pattern[str], ...]]
    safe_phrases: tuple[re.Pattern[str], ...]
    safe_contexts: tuple[re.Pattern[str], ...] = ()
    urgent: tuple[re.Pattern[str], ...] = ()
    model_requires: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    def _key(self, text: str) -> str:
        key = match_key(text)
        for safe in self.safe_phrases:
            key = safe.sub(" ", key)
        return key

    def in_safe_context(self, text: str) -> bool:
        """Whether the message talks *about* crisis (informational, negated, historic)
        or uses crisis words figuratively ("my back is killing me")."""
        raw = match_key(text)
        key = self._key(text)
        framed = key != raw or any(p.search(key) for p in self.safe_contexts)
        return framed and not any(p.search(raw) for p in self.urgent)

    def detect(self, text: str) -> str | None:
        """The crisis category a message shows signs of, or None."""
        key = self._key(text)
        if any(p.search(key) for p in self.safe_contexts) and not any(
            p.search(key) for p in self.urgent
        ):
            return None
        for category in CATEGORIES:
            if any(p.search(key) for p in self.categories.get(category, ())):
                return category
        return None

    def model_may_say(self, category: str, text: str) -> bool:
        """Whether the model's guess of ``category`` may stand for this message.

        The classifier learns "children" and "threat" words as much as danger, so
        for those categories its guess needs a sign of danger or urgency here too.
        """
        required = self.model_requires.get(category)
        if not required:
            return True
        key = self._key(text)
        return any(p.search(key) for p in required)


def load_patterns(path: Path = PATTERNS_FILE) -> CrisisPatterns:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    flags = re.IGNORECASE
    categories = {
        name: tuple(re.compile(p, flags) for p in spec.get("patterns") or [])
        for name, spec in raw["categories"].items()
    }
    model_requires = {
        name: tuple(re.compile(p, flags) for p in spec["model_requires"])
        for name, spec in raw["categories"].items()
        if spec.get("model_requires")
    }
    unknown = set(categories) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown crisis categories in {path}: {sorted(unknown)}")

    def compiled(section: str) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, flags) for p in raw.get(section) or [])

    return CrisisPatterns(
        categories,
        compiled("safe_phrases"),
        compiled("safe_contexts"),
        compiled("urgent"),
        model_requires,
    )


@lru_cache(maxsize=1)
def patterns() -> CrisisPatterns:
    return load_patterns()


@lru_cache(maxsize=1024)
def crisis_in(text: str) -> str | None:
    """``patterns().detect(text)``, remembered for the texts seen last.

    The NLU pipeline and the turn guard both ask it of every message, and with some
    two hundred patterns it costs over a millisecond each time.
    """
    return patterns().detect(text)
