"""A source's mapping file (``data/directory/mappings/<source>.yml``): what its data
means in our terms. A new source is a new file, not new code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import DATA_DIR
from bot.directory.places import gazetteer
from bot.directory.seed import PHONE
from bot.directory.taxonomy import taxonomies
from bot.phone import normalise_e164, to_e164_nz

MAPPINGS_DIR = DATA_DIR / "directory" / "mappings"
DEFAULT_MAPPING = "awhina"
# An extension written after the number: "03 768 1234 ext 5", "x12", "extn. 300".
_EXTENSION = re.compile(r"\s*(?:ext(?:ension|n)?\.?|x)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SHORT_CODE = re.compile(r"\d{3,4}")  # 111, 1737, 8681: services, not personal numbers


class MappingError(ValueError):
    """A mapping file is missing, malformed or names a need, audience or place we lack."""


@dataclass(frozen=True)
class TermMap:
    need: str | None
    audience: str | None


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str
    default_place: str
    places: dict[str, str]
    by_id: dict[str, TermMap]
    by_code: dict[tuple[str, str], TermMap]  # (taxonomy name, code)

    def term(self, term_id: str, taxonomy: str | None, code: str | None) -> TermMap | None:
        return self.by_id.get(term_id) or self.by_code.get((taxonomy or "", code or ""))

    def place(self, *names: str | None) -> str:
        """The place key of the first of ``names`` we know, else the default place."""
        places = gazetteer()
        for name in names:
            if not name:
                continue
            if name in self.places:
                return self.places[name]
            found = places.resolve(name)
            if found is not None:
                return found.key
        return self.default_place


def load_mapping(name: str = DEFAULT_MAPPING, directory: Path = MAPPINGS_DIR) -> Mapping:
    path = directory / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yml")))
        raise MappingError(f"no mapping file {path.name} (known: {known})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    tax, places = taxonomies(), gazetteer()
    for key in ("source", "default_place"):
        if not raw.get(key):
            raise MappingError(f"{path.name}: '{key}' is required")
    place_map = {str(k): str(v) for k, v in (raw.get("places") or {}).items()}
    for key in (raw["default_place"], *place_map.values()):
        if places.get(key) is None:
            raise MappingError(f"{path.name}: unknown place key {key!r} (see places.yml)")
    by_id: dict[str, TermMap] = {}
    by_code: dict[tuple[str, str], TermMap] = {}
    for i, entry in enumerate(raw.get("terms") or [], start=1):
        target = TermMap(need=entry.get("need"), audience=entry.get("audience"))
        if (target.need is None) == (target.audience is None):
            raise MappingError(f"{path.name}: term {i}: give exactly one of need or audience")
        if target.need is not None and target.need not in tax.needs:
            raise MappingError(f"{path.name}: term {i}: unknown need {target.need!r}")
        if target.audience is not None and target.audience not in tax.audiences:
            raise MappingError(f"{path.name}: term {i}: unknown audience {target.audience!r}")
        if entry.get("id"):
            by_id[str(entry["id"])] = target
        elif entry.get("taxonomy") and entry.get("code"):
            by_code[(str(entry["taxonomy"]), str(entry["code"]))] = target
        else:
            raise MappingError(f"{path.name}: term {i}: give its id, or its taxonomy and code")
    return Mapping(name, str(raw["source"]), raw["default_place"], place_map, by_id, by_code)


def published_phone(text: str, extension: str | None = None) -> tuple[str, str | None]:
    """A number as a directory publishes it, in the form the bot shows ("03 768 1234"),
    and its extension; ``ValueError`` when it is not a phone number.

    NZ numbers already in the seed's form ("0800 53 00 00") and short codes stay as they
    are; other NZ numbers take the national form, grouped as people read them ("(03)
    768-1234" -> "03 768 1234"); numbers abroad take E.164.
    """
    number = text.strip().strip("\"'").strip()
    found = _EXTENSION.search(number)
    if found:
        extension, number = found.group(1), number[: found.start()]
    if _SHORT_CODE.fullmatch(number):
        return number, extension
    e164 = to_e164_nz(number)
    if e164 is not None and " " in number and PHONE.match(number):
        return number, extension  # already written as the seed writes numbers
    if e164 is None:
        international = normalise_e164(re.sub(r"[\s\-.()/]", "", number))
        if international is None:
            raise ValueError(f"{text!r} is not a phone number")
        return international, extension
    nsn = e164[3:]
    if nsn.startswith(("800", "508")):
        groups = (nsn[:3], nsn[3:6], nsn[6:])
    elif nsn.startswith("2"):
        groups = (nsn[:2], nsn[2:5], nsn[5:])
    else:
        groups = (nsn[:1], nsn[1:4], nsn[4:])
    return "0" + " ".join(groups), extension
