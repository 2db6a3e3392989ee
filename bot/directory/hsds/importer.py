"""Reads HSDS 3.0 into the directory: a CSV data package, or JSON (one or a list of
compiled ``service``/``organization`` objects, or an API page with ``contents``).

Every row is checked first (its table's HSDS schema, our column sizes, phone numbers,
links); any problem stops the import before anything is written, and each problem
names its file, line and field. Records are upserted by id, so importing the same
data twice changes nothing; children of an imported record (phones, hours, areas,
...) are replaced by the import's. Our facts come back from the attributes of the
facts taxonomy, the cost options, ``assured_date`` and ``assurer_email`` (see ``tables.py``).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import Date, String, delete, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.directory import models as dm
from bot.directory import seed
from bot.directory.hsds import models as core
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.mapping import Mapping, published_phone
from bot.directory.hsds.objects import flatten
from bot.directory.hsds.package import DATAPACKAGE, resources, table_schema, typed_row
from bot.directory.hsds.tables import derived_cost_option_id, facts
from bot.directory.places import gazetteer, point_in_nz
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY

# Our tables, by HSDS table name, in the order they are written (links first).
MODELS: dict[str, Any] = {
    "taxonomy": dm.Taxonomy,
    "taxonomy_term": dm.TaxonomyTerm,
    "organization": dm.Organization,
    "service": dm.Service,
    "location": dm.Location,
    "address": dm.Address,
    "service_at_location": dm.ServiceAtLocation,
    "phone": dm.Phone,
    "schedule": dm.Schedule,
    "service_area": dm.ServiceArea,
    "language": dm.Language,
    **core.MODELS,
    "attribute": dm.Attribute,
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ImportFailed(Exception):
    """The data has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Record:
    table: str
    row: dict[str, Any]
    file: str
    line: int
    bad: dict[str, str] = field(default_factory=dict)  # cells not of their column's type


@dataclass
class Report:
    """What an import changed (or, in a dry run, would change)."""

    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    services: dict[str, list[str]] = field(default_factory=dict)  # new/changed/inactive
    # Services that existed before whose curated facts (the service row, its phones or
    # its hours) the import changed: the curation workspace moves their versions.
    curated: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # rows kept out, with why
    not_kept: dict[str, int] = field(default_factory=dict)  # HSDS tables we keep no rows of

    def lines(self) -> list[str]:
        tables = sorted(set(self.added) | set(self.changed) | set(self.removed))
        out = [
            f"{t}: {self.added.get(t, 0)} new, {self.changed.get(t, 0)} changed, "
            f"{self.removed.get(t, 0)} removed"
            for t in tables
        ] or ["no changes"]
        for state, names in self.services.items():
            out += [f"service {state}: {name}" for name in sorted(names)]
        out += [f"skipped {p}" for p in self.skipped]
        out += [f"not kept: {n} {table} row(s)" for table, n in sorted(self.not_kept.items())]
        return out


# Reading --------------------------------------------------------------------------------


def _package(directory: Path) -> dict[str, Any]:
    """The package's ``datapackage.json``. One that is a git symlink checked out as a
    file holding its target's path (as in the Open Referral example package) is the
    HSDS 3.0 package itself, so the standard one is read instead."""
    text = (directory / "datapackage.json").read_text(encoding="utf-8").strip()
    if text and not text.startswith("{") and "\n" not in text and text.endswith(".json"):
        return json.loads(DATAPACKAGE.read_text(encoding="utf-8"))
    return json.loads(text)


def read_package(directory: Path) -> Iterator[Record]:
    """The rows of a CSV data package, typed per the HSDS 3.0 package's schema."""
    try:
        package = _package(directory)
    except (OSError, ValueError) as exc:
        raise ImportFailed([Problem("datapackage.json", 0, "-", f"not readable: {exc}")]) from exc
    known = resources()
    for resource in package.get("resources", []):
        table, path = resource.get("name"), directory / resource.get("path", "")
        if table not in known or not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            for raw in reader:
                row, bad = typed_row(table, raw)
                yield Record(table, row, path.name, reader.line_num, bad)


# What a JSON file of our export holds, by its name; other files are told by shape.
JSON_FILES = {
    "services": "service",
    "organizations": "organization",
    "taxonomy_terms": "taxonomy_term",
    "taxonomies": "taxonomy",
}


def _kind(obj: dict[str, Any], path: Path) -> str:
    if path.stem in JSON_FILES:
        return JSON_FILES[path.stem]
    if "status" in obj:
        return "service"
    if {"taxonomy_id", "taxonomy", "code", "taxonomy_detail"} & set(obj):
        return "taxonomy_term"
    return "organization"


def read_json(path: Path) -> Iterator[Record]:
    """The table rows in a JSON file of compiled services or organizations (or terms)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportFailed([Problem(path.name, 0, "-", f"not valid JSON: {exc}")]) from exc
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        document = document["contents"]
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportFailed([Problem(path.name, number, "-", "expected an object")])
        for table, row in flatten(item, _kind(item, path)):
            yield Record(table, row, path.name, number)


def read(path: Path) -> list[Record]:
    """Every record at ``path``: a CSV package directory, a JSON file, or a directory of
    JSON files."""
    if path.is_dir() and (path / "datapackage.json").exists():
        return list(read_package(path))
    if path.is_dir():
        return [r for p in sorted(path.glob("*.json")) for r in read_json(p)]
    if path.is_file():
        return list(read_json(path))
    raise ImportFailed([Problem(str(path), 0, "-", "no such file or directory")])


# Checking -------------------------------------------------------------------------------


def _problem(record: Record, field_name: str, message: str) -> Problem:
    return Problem(record.file, record.line, field_name, message)


_VALIDATORS: dict[str, Draft202012Validator] = {}


# jsonschema checks the "uri" format only with rfc3987 installed, and any scheme passes
# it: a link people can tap must be a web address ("javascript:…" must never be one).
FORMATS = FormatChecker()


@FORMATS.checks("uri")
def _web_address(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def schema_problems(record: Record) -> list[Problem]:
    """The row against its HSDS table's schema (also how the curation form is checked)."""
    if record.table not in _VALIDATORS:
        schema = table_schema(record.table)
        flat = {
            **schema,
            "properties": {
                k: v
                for k, v in schema["properties"].items()
                if v.get("type") != "array" and "$ref" not in v
            },
        }
        _VALIDATORS[record.table] = Draft202012Validator(flat, format_checker=FORMATS)
    return [
        _problem(record, "/".join(map(str, e.absolute_path)) or "-", e.message)
        for e in _VALIDATORS[record.table].iter_errors(record.row)
    ]


def size_problems(record: Record, obj: Any) -> list[Problem]:
    """Text longer than our column holds."""
    out = []
    for column in obj.__table__.columns:
        value = getattr(obj, column.key)
        limit = column.type.length if isinstance(column.type, String) else None
        if limit and isinstance(value, str) and len(value) > limit:
            out.append(_problem(record, column.key, f"longer than {limit} characters"))
    return out


# Turning HSDS rows into ours ---------------------------------------------------------------


class _Plan:
    """Our rows for the records, the problems found and the rows kept out."""

    def __init__(self, session: Session, mapping: Mapping, records: list[Record]) -> None:
        self.session, self.mapping = session, mapping
        self.problems: list[Problem] = []
        self.skipped: list[Problem] = []
        self.rows: dict[str, list[tuple[Record, Any]]] = defaultdict(list)
        self.by_table: dict[str, dict[str, Record]] = defaultdict(dict)
        self.ours = self._our_ids()
        self.invalid: set[int] = set()
        for record in records:
            found = [_problem(record, k, v) for k, v in record.bad.items()]
            found = found or schema_problems(record)
            if found:
                self.problems += found
                self.invalid.add(id(record))
            if "id" in record.row and isinstance(record.row["id"], str):
                record.row["id"] = self.our_id(record.table, record.row["id"])
            seen = self.by_table[record.table].get(record.row.get("id"))
            if seen is not None and seen.row != record.row and record.file.endswith(".csv"):
                self.problems.append(
                    _problem(record, "id", f"duplicate of {seen.file}:{seen.line}")
                )
            self.by_table[record.table][record.row.get("id")] = record
        self.facts = self._facts()
        # Rows by the record they belong to, for the facts read from another table.
        self.children: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
        for table, parent_table, parent_field in (
            ("cost_option", "service", "service_id"),
            ("address", "location", "location_id"),
        ):
            for record in self.by_table[table].values():
                parent = self.our_id(parent_table, record.row.get(parent_field))
                self.children[(table, parent)].append(record.row)
        self.phones_of: dict[str | None, int] = defaultdict(int)

    def _our_ids(self) -> dict[str, dict[str, str]]:
        """Per table, the HSDS id of each of our slug ids -> the slug, so our own
        export comes back onto the records it came from."""
        ours: dict[str, dict[str, str]] = {}
        for table, model in MODELS.items():
            if table == "attribute":
                continue
            ids = self.session.execute(select(model.id)).scalars()
            ours[table] = {hsds_id(table, i): i for i in ids}
        return ours

    def our_id(self, table: str, value: str | None) -> str | None:
        return self.ours.get(table, {}).get(value, value) if value else None

    def exists(self, table: str, record_id: str | None) -> bool:
        if not record_id:
            return False
        return record_id in self.by_table[table] or record_id in self.ours.get(table, {}).values()

    def _facts(self) -> dict[str, dict[str, str]]:
        """Our facts from the facts taxonomy's attributes: link id -> {code: value}."""
        f = facts()
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for record in self.by_table["attribute"].values():
            code = f.code_of(record.row.get("taxonomy_term_id", ""))
            if code is not None:
                link = record.row.get("link_entity") or "service"
                link_id = self.our_id(link, record.row.get("link_id"))
                found[link_id][code] = str(record.row.get("value", ""))
        return found

    def link(
        self, record: Record, table: str, field_name: str, required: bool = False
    ) -> str | None:
        """The our-id a field links to, or None (a problem when required, else noted)."""
        value = self.our_id(table, record.row.get(field_name))
        if value is None or self.exists(table, value):
            if value is None and required:
                self.problems.append(_problem(record, field_name, "is required"))
            return value
        if required:
            self.problems.append(_problem(record, field_name, f"no {table} with id {value}"))
        else:
            self.skipped.append(_problem(record, field_name, f"no {table} {value}; link dropped"))
        return None

    def add(self, record: Record, obj: Any) -> None:
        self.rows[record.table].append((record, obj))

    def build(self, progress: bool) -> None:
        records = [r for table in MODELS for r in self.by_table[table].values()]
        for record in tqdm(records, desc="checking", unit="row", disable=not progress):
            if id(record) not in self.invalid:
                build = self._core if record.table in core.MODELS else None
                (build or getattr(self, f"_{record.table}"))(record)
        for rows in self.rows.values():
            for record, obj in rows:
                self.problems += size_problems(record, obj)
        self.not_kept = {
            table: len(rows)
            for table, rows in self.by_table.items()
            if rows and table not in MODELS
        }

    # One method per HSDS table.

    def _taxonomy(self, record: Record) -> None:
        r = record.row
        if facts().taxonomy_id == r["id"] or hsds_id("taxonomy", facts().taxonomy_id) == r["id"]:
            return
        self.add(record, dm.Taxonomy(id=r["id"], name=r["name"], description=r["description"]))

    def _taxonomy_term(self, record: Record) -> None:
        r = record.row
        if facts().code_of(r["id"]) is not None:
            return
        taxonomy_id = self.our_id("taxonomy", r.get("taxonomy_id"))
        if not self.exists("taxonomy", taxonomy_id):
            # A term naming a taxonomy the data does not describe: the taxonomy is
            # recorded from what the term says of it.
            taxonomy_id = taxonomy_id or hsds_id("taxonomy", r.get("taxonomy") or "unnamed")
            name = r.get("taxonomy") or taxonomy_id
            taxonomy = Record(
                "taxonomy", {"id": taxonomy_id, "name": name}, record.file, record.line
            )
            self.by_table["taxonomy"][taxonomy_id] = taxonomy
            self.add(taxonomy, dm.Taxonomy(id=taxonomy_id, name=name, description=""))
        self.add(
            record,
            dm.TaxonomyTerm(
                id=r["id"],
                taxonomy_id=taxonomy_id,
                code=r.get("code") or r["id"],
                name=r["name"],
                description=r["description"],
                parent_id=self.link(record, "taxonomy_term", "parent_id"),
            ),
        )

    def _organization(self, record: Record) -> None:
        r = record.row
        self.add(
            record,
            dm.Organization(
                id=r["id"],
                name=r["name"],
                description=r["description"],
                alternate_name=r.get("alternate_name"),
                email=r.get("email"),
                website=r.get("website"),
                legal_status=r.get("legal_status"),
                uri=r.get("uri"),
                parent_organization_id=self.link(record, "organization", "parent_organization_id"),
            ),
        )

    def _service(self, record: Record) -> None:
        r, ours = record.row, self.facts.get(record.row["id"], {})
        referral = ours.get("referral")
        if referral not in (None, "self", "referral", "either"):
            self.problems.append(_problem(record, "referral", f"unknown value {referral!r}"))
        assured = r.get("assured_date")
        try:
            last_verified = date.fromisoformat(assured) if assured else None
        except ValueError:
            self.problems.append(_problem(record, "assured_date", "expected YYYY-MM-DD"))
            return
        costs = self.children[("cost_option", r["id"])]
        self.add(
            record,
            dm.Service(
                id=r["id"],
                organization_id=self.link(record, "organization", "organization_id", True),
                name=r["name"],
                alternate_name=r.get("alternate_name"),
                description=r.get("description"),
                url=r.get("url"),
                email=r.get("email"),
                status=r["status"],
                interpretation_services=r.get("interpretation_services"),
                application_process=r.get("application_process"),
                fees_description=r.get("fees_description"),
                eligibility_description=r.get("eligibility_description"),
                minimum_age=_whole(r.get("minimum_age")),
                maximum_age=_whole(r.get("maximum_age")),
                alert=r.get("alert"),
                kaupapa_maori=ours.get("kaupapa_maori") == "true",
                free=all(c.get("amount") == 0 for c in costs) if costs else None,
                referral=referral,
                source=ours.get("source") or self.mapping.source,
                last_verified=last_verified,
                assurer_email=r.get("assurer_email"),
            ),
        )

    def _location(self, record: Record) -> None:
        r = record.row
        cities = [a.get("city") for a in self.children[("address", r["id"])]]
        self.add(
            record,
            dm.Location(
                id=r["id"],
                location_type=r["location_type"],
                organization_id=self.link(record, "organization", "organization_id"),
                name=r.get("name"),
                description=r.get("description"),
                latitude=_text(r.get("latitude")),
                longitude=_text(r.get("longitude")),
                # Where no town is named, the nearest place to its coordinates (in NZ).
                place_key=gazetteer().locate(
                    self.mapping.place(
                        self.facts.get(r["id"], {}).get("place"), *cities, r.get("name")
                    ),
                    point_in_nz(r.get("latitude"), r.get("longitude")),
                ),
            ),
        )

    def _address(self, record: Record) -> None:
        r = record.row
        location_id = self.link(record, "location", "location_id", True)
        self.add(
            record,
            dm.Address(
                id=r["id"],
                location_id=location_id,
                address_1=r["address_1"],
                address_2=r.get("address_2"),
                city=r["city"],
                region=r.get("region"),
                state_province=r["state_province"],
                postal_code=r["postal_code"],
                country=r["country"],
                address_type=r["address_type"],
            ),
        )

    def _service_at_location(self, record: Record) -> None:
        r = record.row
        self.add(
            record,
            dm.ServiceAtLocation(
                id=r["id"],
                service_id=self.link(record, "service", "service_id", True),
                location_id=self.link(record, "location", "location_id", True),
                description=r.get("description"),
            ),
        )

    def _phone(self, record: Record) -> None:
        r = record.row
        try:
            number, extension = published_phone(str(r["number"]), _text(r.get("extension")))
        except ValueError as exc:
            self.problems.append(_problem(record, "number", str(exc)))
            return
        links = {
            "service_id": self.link(record, "service", "service_id"),
            "location_id": self.link(record, "location", "location_id"),
            "organization_id": self.link(record, "organization", "organization_id"),
        }
        if not any(links.values()):
            self.skipped.append(_problem(record, "service_id", "linked to nothing we keep"))
            return
        position = self.phones_of[links["service_id"]]
        self.phones_of[links["service_id"]] += 1
        self.add(
            record,
            dm.Phone(
                id=r["id"],
                number=number,
                extension=extension,
                type=r.get("type") or "voice",
                description=r.get("description"),
                position=position,
                **links,
            ),
        )

    def _schedule(self, record: Record) -> None:
        r = record.row
        timed = ("byday", "opens_at", "closes_at")
        given = [k for k in timed if r.get(k)]
        if given and len(given) < len(timed):
            missing = next(k for k in timed if not r.get(k))
            self.problems.append(_problem(record, missing, f"needed with {', '.join(given)}"))
            return
        if not given and not r.get("description"):
            self.problems.append(
                _problem(record, "description", "give days and times, or the hours as text")
            )
            return
        try:
            opens, closes = (time.fromisoformat(r[k]) if r.get(k) else None for k in timed[1:])
            valid = [
                date.fromisoformat(r[k]) if r.get(k) else None for k in ("valid_from", "valid_to")
            ]
        except ValueError as exc:
            self.problems.append(_problem(record, "opens_at", f"not a time or date: {exc}"))
            return
        links = {
            "service_id": self.link(record, "service", "service_id"),
            "location_id": self.link(record, "location", "location_id"),
            "service_at_location_id": self.link(
                record, "service_at_location", "service_at_location_id"
            ),
        }
        self.add(
            record,
            dm.Schedule(
                id=r["id"],
                freq=r.get("freq") or "WEEKLY",
                byday=r.get("byday"),
                opens_at=opens,
                closes_at=closes,
                valid_from=valid[0],
                valid_to=valid[1],
                description=r.get("description"),
                notes=r.get("notes"),
                **links,
            ),
        )

    def _service_area(self, record: Record) -> None:
        r = record.row
        service_id = self.link(record, "service", "service_id", True)
        place_key = self.mapping.place(self.facts.get(r["id"], {}).get("place"), r.get("name"))
        place = gazetteer().get(place_key)
        self.add(
            record,
            dm.ServiceArea(
                id=r["id"],
                service_id=service_id,
                name=r.get("name") or place.display_name,
                description=r.get("description"),
                extent=r.get("extent"),
                # As the seed does: without an extent, the kind of place it covers.
                extent_type=r.get("extent_type") if r.get("extent") else place.kind,
                place_key=place_key,
            ),
        )

    def _core(self, record: Record) -> None:
        """A row of the core tables kept as published (``hsds.models``)."""
        r, model = record.row, core.MODELS[record.table]
        service_id = self.our_id("service", r.get("service_id"))
        if record.table == "cost_option" and r["id"] == derived_cost_option_id(service_id or ""):
            return  # what our own ``free`` says, read back there
        values: dict[str, Any] = {}
        for column in model.__table__.columns:
            value = r.get(column.key)
            if column.key in core.LINKS[record.table]:
                value = self.link(record, core.LINKS[record.table][column.key], column.key)
            elif isinstance(column.type, Date) and value is not None:
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    self.problems.append(_problem(record, column.key, "expected YYYY-MM-DD"))
                    return
            values[column.key] = value
        if not any(values[k] for k in core.LINKS[record.table]):
            self.skipped.append(_problem(record, "id", "linked to nothing we keep"))
            return
        self.add(record, model(**values))

    def _language(self, record: Record) -> None:
        r = record.row
        service_id = self.link(record, "service", "service_id")
        if service_id is None:
            self.skipped.append(_problem(record, "service_id", "only services' languages are kept"))
            return
        if not r.get("name") or not r.get("code"):
            self.problems.append(_problem(record, "code", "a language needs its name and code"))
            return
        self.add(
            record, dm.Language(id=r["id"], service_id=service_id, name=r["name"], code=r["code"])
        )

    def _attribute(self, record: Record) -> None:
        r = record.row
        term_id = self.our_id("taxonomy_term", r.get("taxonomy_term_id"))
        if facts().code_of(r.get("taxonomy_term_id", "")) is not None:
            return
        entity = r.get("link_entity") or "service"
        link_id = self.our_id(entity, r.get("link_id"))
        if entity not in MODELS or not self.exists(entity, link_id):
            self.skipped.append(_problem(record, "link_id", f"no {entity} {r.get('link_id')}"))
            return
        if not self.exists("taxonomy_term", term_id):
            self.problems.append(_problem(record, "taxonomy_term_id", f"no term {term_id}"))
            return
        term = self.by_table["taxonomy_term"].get(term_id)
        taxonomy = (term.row.get("taxonomy") if term else None) or ""
        target = self.mapping.term(term_id, taxonomy, term.row.get("code") if term else None)
        self.add(
            record,
            dm.Attribute(
                link_id=link_id,
                link_type=r.get("link_type") or "",
                link_entity=entity,
                taxonomy_term_id=term_id,
                value=r.get("value"),
            ),
        )
        if target is not None and entity == "service":
            kind = NEED_TAXONOMY if target.need else AUDIENCE_TAXONOMY
            code = target.need or target.audience
            primary = not any(
                a.link_id == link_id and a.link_type == NEED_TAXONOMY
                for _, a in self.rows["attribute"]
            )
            self.add(
                record,
                dm.Attribute(
                    link_id=link_id,
                    link_type=kind,
                    link_entity="service",
                    taxonomy_term_id=f"{kind}:{code}",
                    value=("primary" if primary else "also") if target.need else None,
                ),
            )


def _whole(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Writing --------------------------------------------------------------------------------


def _snapshot(session: Session) -> dict[tuple[str, Any], tuple]:
    """Every row of our directory tables, for telling what an import changed."""
    rows: dict[tuple[str, Any], tuple] = {}
    for table, model in MODELS.items():
        columns = [
            c for c in model.__table__.columns if not (table == "attribute" and c.key == "id")
        ]
        for values in session.execute(select(*columns)):
            key = (
                (values.link_id, values.link_entity, values.taxonomy_term_id)
                if table == "attribute"
                else values[0]
            )
            rows[(table, key)] = tuple(values)
    return rows


def _replace_children(session: Session, plan: _Plan) -> None:
    """Removes the children of every imported record, which the import then rewrites."""
    ids = {t: [obj.id for _, obj in plan.rows[t]] for t in ("service", "location", "organization")}
    linked = sorted({a.link_id for _, a in plan.rows["attribute"]} | set(ids["service"]))
    for model, column, parents in (
        (dm.Attribute, dm.Attribute.link_id, linked + ids["location"]),
        (dm.Phone, dm.Phone.service_id, ids["service"]),
        (dm.Schedule, dm.Schedule.service_id, ids["service"]),
        (dm.ServiceArea, dm.ServiceArea.service_id, ids["service"]),
        (dm.Language, dm.Language.service_id, ids["service"]),
        (dm.ServiceAtLocation, dm.ServiceAtLocation.service_id, ids["service"]),
        (dm.Address, dm.Address.location_id, ids["location"]),
        (core.Contact, core.Contact.service_id, ids["service"]),
        (core.Contact, core.Contact.location_id, ids["location"]),
        (core.Contact, core.Contact.organization_id, ids["organization"]),
        (core.CostOption, core.CostOption.service_id, ids["service"]),
        (core.RequiredDocument, core.RequiredDocument.service_id, ids["service"]),
        (core.Program, core.Program.organization_id, ids["organization"]),
        (core.Accessibility, core.Accessibility.location_id, ids["location"]),
        (dm.Phone, dm.Phone.location_id, ids["location"]),
        (dm.Phone, dm.Phone.organization_id, ids["organization"]),
    ):
        for start in range(0, len(parents), 500):
            session.execute(delete(model).where(column.in_(parents[start : start + 500])))
    session.flush()


def run_import(
    session: Session,
    records: list[Record],
    mapping: Mapping,
    full: bool = False,
    progress: bool = False,
) -> Report:
    """Writes ``records`` in ``session`` (the caller commits, or rolls back for a dry
    run) and returns what changed; raises ``ImportFailed`` with every problem found."""
    seed.load_taxonomies(session)
    session.flush()
    plan = _Plan(session, mapping, records)
    plan.build(progress)
    if plan.problems:
        raise ImportFailed(plan.problems)
    before = _snapshot(session)
    _replace_children(session, plan)
    for table in MODELS:
        if table == "attribute":
            unique = {
                (a.link_id, a.link_entity, a.taxonomy_term_id): a for _, a in plan.rows[table]
            }
            session.add_all(unique.values())
        else:
            for _, obj in plan.rows[table]:
                session.merge(obj)
        session.flush()
    imported = [obj.id for _, obj in plan.rows["service"]]
    inactive: list[str] = []
    if full:
        inactive = [
            sid
            for sid in session.execute(
                select(dm.Service.id).where(dm.Service.status != "inactive")
            ).scalars()
            if sid not in set(imported)
        ]
        for start in range(0, len(inactive), 500):
            session.execute(
                update(dm.Service)
                .where(dm.Service.id.in_(inactive[start : start + 500]))
                .values(status="inactive")
            )
    seed.index_services(session, imported + inactive)
    session.flush()
    return _report(before, _snapshot(session), plan, inactive)


def _report(before: dict, after: dict, plan: _Plan, inactive: Iterable[str]) -> Report:
    report = Report(skipped=plan.skipped, not_kept=plan.not_kept)
    for key in after.keys() - before.keys():
        report.added[key[0]] = report.added.get(key[0], 0) + 1
    for key in before.keys() - after.keys():
        report.removed[key[0]] = report.removed.get(key[0], 0) + 1
    for key in before.keys() & after.keys():
        if before[key] != after[key]:
            report.changed[key[0]] = report.changed.get(key[0], 0) + 1
    names = {obj.id: obj.name for _, obj in plan.rows["service"]}
    touched = {k[1] for k in after.keys() ^ before.keys() if k[0] == "service"}
    changed = {
        k[1] for k in before.keys() & after.keys() if k[0] == "service" and before[k] != after[k]
    }
    report.services = {
        "new": [names.get(i, i) for i in touched if i in names],
        "changed": [names.get(i, i) for i in changed if i not in set(inactive)],
        "inactive": list(inactive),
    }
    report.services = {k: v for k, v in report.services.items() if v}
    report.curated = _curated_changes(before, after)
    return report


# The tables holding what a coordinator edits (bot.directory.curation), by the column
# naming their service.
_CURATED = {"service": "id", "phone": "service_id", "schedule": "service_id"}


def _curated_changes(before: dict, after: dict) -> list[str]:
    """Services in ``before`` whose service row, phones or hours differ in ``after``."""
    owners = {
        table: [c.key for c in MODELS[table].__table__.columns].index(column)
        for table, column in _CURATED.items()
    }
    touched = {
        (after.get(key) or before[key])[owners[key[0]]]
        for key in before.keys() | after.keys()
        if key[0] in owners and before.get(key) != after.get(key)
    }
    existed = {key[1] for key in before if key[0] == "service"}
    return sorted(touched & existed)
