"""The place gazetteer (``data/directory/places.yml``): names, te reo names and nesting."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import DATA_DIR
from bot.reo import fold

PLACES_FILE = DATA_DIR / "directory" / "places.yml"
NATIONAL = "nz"
# How local a place is: a town is more local than its district, and so on.
LOCALITY = {"town": 0, "district": 1, "region": 2, "country": 3}


@dataclass(frozen=True)
class Place:
    key: str
    name: str
    kind: str
    parent: str | None = None
    reo_name: str | None = None
    aliases: tuple[str, ...] = ()
    exact_case: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.reo_name})" if self.reo_name else self.name

    @property
    def names(self) -> tuple[str, ...]:
        """Every name matched without regard to case or macrons."""
        return tuple(n for n in (self.name, self.reo_name, *self.aliases) if n)


@dataclass
class Gazetteer:
    places: dict[str, Place]
    _by_fold: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for place in self.places.values():
            for name in (*place.names, *place.exact_case, place.key):
                self._by_fold.setdefault(fold(name), place.key)

    def get(self, key: str | None) -> Place | None:
        return self.places.get(key) if key else None

    def resolve(self, text: str | None) -> Place | None:
        """The place a name or key refers to, whatever its case or macrons."""
        if not text:
            return None
        key = self._by_fold.get(fold(text.strip().removeprefix("the ").strip()))
        return self.places.get(key) if key else None

    def lineage(self, key: str) -> list[str]:
        """The place and every place that contains it, most local first, ending at ``nz``."""
        keys: list[str] = []
        place = self.places.get(key)
        while place and place.key not in keys:
            keys.append(place.key)
            place = self.places.get(place.parent) if place.parent else None
        if NATIONAL not in keys:
            keys.append(NATIONAL)
        return keys

    def region_of(self, key: str) -> str | None:
        for k in self.lineage(key):
            place = self.places.get(k)
            if place and place.kind == "region":
                return k
        return None


def load_gazetteer(path: Path = PLACES_FILE) -> Gazetteer:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["places"]
    places = {
        p["key"]: Place(
            key=p["key"],
            name=p["name"],
            kind=p["kind"],
            parent=p.get("parent"),
            reo_name=p.get("reo_name"),
            aliases=tuple(p.get("aliases", ())),
            exact_case=tuple(p.get("exact_case", ())),
        )
        for p in raw
    }
    return Gazetteer(places)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return load_gazetteer()
