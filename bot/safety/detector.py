"""Explicit crisis patterns (``data/safety/crisis_patterns.yml``), matched on folded text.

The patterns are kept as data so they can be reviewed and extended without
code changes. Figurative phrases ("this app is killing me") are removed first.
The NLU model's own prediction is combined with these in
``bot.nlu.components.CrisisDetector``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import DATA_DIR
from bot.reo import match_key

PATTERNS_FILE = DATA_DIR / "safety" / "crisis_patterns.yml"
# When a message matches more than one category, the first here wins.
CATEGORIES = ("suicide", "overdose", "violence", "child")


@dataclass(frozen=True)
class CrisisPatterns:
    categories: dict[str, tuple[re.Pattern[str], ...]]
    safe_phrases: tuple[re.Pattern[str], ...]

    def detect(self, text: str) -> str | None:
        """The crisis category a message shows signs of, or None."""
        key = match_key(text)
        for safe in self.safe_phrases:
            key = safe.sub(" ", key)
        for category in CATEGORIES:
            if any(p.search(key) for p in self.categories.get(category, ())):
                return category
        return None


def load_patterns(path: Path = PATTERNS_FILE) -> CrisisPatterns:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    flags = re.IGNORECASE
    categories = {
        name: tuple(re.compile(p, flags) for p in spec.get("patterns") or [])
        for name, spec in raw["categories"].items()
    }
    unknown = set(categories) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown crisis categories in {path}: {sorted(unknown)}")
    safe = tuple(re.compile(p, flags) for p in raw.get("safe_phrases") or [])
    return CrisisPatterns(categories, safe)


@lru_cache(maxsize=1)
def patterns() -> CrisisPatterns:
    return load_patterns()
