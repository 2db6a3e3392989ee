"""The place gazetteer (``data/directory/places.yml``): names, te reo names, nesting and points."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.config import DATA_DIR
from bot.reo import fold

PLACES_FILE = DATA_DIR / "directory" / "places.yml"
NATIONAL = "nz"
# How local a place is: a town is more local than its district, and so on.
LOCALITY = {"town": 0, "district": 1, "region": 2, "country": 3}
# Mean Earth radius (IUGG), for great-circle distances.
EARTH_RADIUS_KM = 6371.0088
# New Zealand's main islands, Stewart Island and the Chatham Islands (east of 180°).
NZ_LATITUDES = (-48.0, -34.0)
NZ_LONGITUDES = ((166.0, 180.0), (-180.0, -175.0))
# Without a district given, a point further than this from every place's point is not
# located: that far out, the nearest point says little about which district it is in.
NEAR_KM = 100.0

Point = tuple[float, float]


def parse_point(latitude: Any, longitude: Any) -> Point:
    """``(latitude, longitude)`` as numbers, or ValueError saying what is wrong with them."""
    values = []
    for label, value in (("latitude", latitude), ("longitude", longitude)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{label} {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{label} {value!r} is not a number")
        values.append(number)
    lat, lon = values
    low, high = NZ_LATITUDES
    if not (low <= lat <= high and any(w <= lon <= e for w, e in NZ_LONGITUDES)):
        raise ValueError(f"latitude {lat}, longitude {lon} is not in New Zealand")
    return lat, lon


def point_in_nz(latitude: Any, longitude: Any) -> Point | None:
    """``parse_point``'s point, or None when either is missing, not a number or not in NZ
    (for data whose own checks report values that are not numbers)."""
    try:
        return parse_point(latitude, longitude)
    except ValueError:
        return None


def distance_km(a: Point, b: Point) -> float:
    """The great-circle (haversine) distance between two points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Place:
    key: str
    name: str
    kind: str
    parent: str | None = None
    reo_name: str | None = None
    aliases: tuple[str, ...] = ()
    exact_case: tuple[str, ...] = ()
    # Stats NZ's code for a region or district (territorial authority).
    stats_code: str | None = None
    # The place's point (``at`` in the file), where a source gives one.
    point: Point | None = None

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
        return self._kind_of(key, "region")

    def district_of(self, key: str) -> str | None:
        return self._kind_of(key, "district")

    def _kind_of(self, key: str, kind: str) -> str | None:
        for k in self.lineage(key):
            place = self.places.get(k)
            if place and place.kind == kind:
                return k
        return None

    def nearest(self, point: Point, district: str | None = None) -> Place | None:
        """The gazetteer place nearest a point, by great-circle distance.

        In ``district``: its nearest town with a point, else the district itself.
        Without one, the district is that of the nearest town or district with a
        point (None when none is within ``NEAR_KM``), and then the same rule.
        """
        if district is None:
            kinds = ("town", "district")
            located = [p for p in self.places.values() if p.point and p.kind in kinds]
            if not located:
                return None
            closest = min(located, key=lambda p: distance_km(point, p.point))
            if distance_km(point, closest.point) > NEAR_KM:
                return None
            district = self.district_of(closest.key)
            if district is None:
                return closest
        elif self.places.get(district) is None or self.places[district].kind != "district":
            raise ValueError(f"{district!r} is not a district in the gazetteer")
        towns = [
            p
            for p in self.places.values()
            if p.kind == "town" and p.point and self.district_of(p.key) == district
        ]
        if not towns:
            return self.places[district]
        return min(towns, key=lambda p: distance_km(point, p.point))

    def locate(self, key: str | None, point: Point | None) -> str | None:
        """The place of a record at ``point`` whose known place is ``key``.

        A known town stays; a known district narrows to its nearest town; a region,
        the country or nothing known gives way to the nearest place, when there is one.
        """
        place = self.get(key)
        if point is None or (place is not None and place.kind == "town"):
            return key
        found = self.nearest(point, key if place is not None and place.kind == "district" else None)
        return found.key if found else key


def _point(raw: dict[str, Any]) -> Point | None:
    at = raw.get("at")
    if at is None:
        return None
    if not isinstance(at, dict) or not at.get("sa2"):
        raise ValueError(f"place {raw['key']!r}: 'at' needs lat, lon and the sa2 it is from")
    try:
        return parse_point(at.get("lat"), at.get("lon"))
    except ValueError as exc:
        raise ValueError(f"place {raw['key']!r}: {exc}") from None


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
            stats_code=(p.get("stats") or {}).get("code"),
            point=_point(p),
        )
        for p in raw
    }
    return Gazetteer(places)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return load_gazetteer()
