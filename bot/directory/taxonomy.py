"""Need and audience taxonomies (``data/directory/taxonomy.yml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from bot.config import DATA_DIR
from bot.reo import fold

TAXONOMY_FILE = DATA_DIR / "directory" / "taxonomy.yml"
NEED_TAXONOMY = "need"
AUDIENCE_TAXONOMY = "audience"


@dataclass(frozen=True)
class Need:
    code: str
    name: str
    label: str
    intent: str | None
    words: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()


@dataclass(frozen=True)
class Audience:
    code: str
    name: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomies:
    needs: dict[str, Need]
    audiences: dict[str, Audience]

    def need_for_intent(self, intent: str | None) -> Need | None:
        return next((n for n in self.needs.values() if intent and n.intent == intent), None)

    def audience_for_word(self, word: str | None) -> Audience | None:
        if not word:
            return None
        key = fold(word)
        for audience in self.audiences.values():
            if key == fold(audience.code) or key in {fold(w) for w in audience.words}:
                return audience
        return None


@lru_cache(maxsize=1)
def taxonomies() -> Taxonomies:
    raw = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    needs = {
        n["code"]: Need(
            n["code"],
            n["name"],
            n["label"],
            n.get("intent"),
            tuple(n.get("words", ())),
            tuple(n.get("exact", ())),
        )
        for n in raw["needs"]
    }
    audiences = {
        a["code"]: Audience(a["code"], a["name"], tuple(a["words"])) for a in raw["audiences"]
    }
    return Taxonomies(needs, audiences)
