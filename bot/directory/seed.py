"""Loads the directory seed (``data/directory/services.yml``) into the database.

Loading is idempotent: each organisation and service is replaced by id, so
running it again after editing the file updates the records. Every service
must carry a ``source``; place keys, needs and audiences must exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import column, delete, insert, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.config import DATA_DIR, TIMEZONE
from bot.directory import hours as hours_mod
from bot.directory.models import (
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceSearch,
    ServiceWords,
    Taxonomy,
    TaxonomyTerm,
)
from bot.directory.places import Point, gazetteer, parse_point
from bot.directory.query import by_service, facets, locality, opening_numbers
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY, taxonomies
from bot.reo import match_key

SERVICES_FILE = DATA_DIR / "directory" / "services.yml"
# NZ numbers as published: 111, short codes (1737, 105, 8681), 0800/0508 and
# landline or mobile numbers with spaces.
PHONE = re.compile(r"^(\d{3,4}|0\d{1,4}( ?\d{2,4}){1,3}|\+64( ?\d{1,4}){2,4})$")
# People see a service's source ("Source: nzfamilies.org.nz"), so it names an
# organisation or publication, never one of our files.
FILE_IN_SOURCE = re.compile(
    r"\.(md|ya?ml|py|json|csv|txt)\b|(^|[\s(])(shared|data|docs|bot|tests)/", re.IGNORECASE
)
# Ids of the navigator teams' sample organisations (data/handoff/teams.yml);
# no directory organisation may take one.
SAMPLE_ORG_PREFIX = "sample-"
SERVICE_FIELDS = {
    "id",
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "needs",
    "audiences",
    "areas",
    "phones",
    "hours",
    "free",
    "fees",
    "kaupapa_maori",
    "referral",
    "languages",
    "source",
    "last_verified",
    "eligibility",
    "minimum_age",
    "maximum_age",
    "locations",
    "alert",
    "application_process",
}


class SeedError(ValueError):
    """A seed record is invalid; the message names the record and the field."""


def _term_id(taxonomy: str, code: str) -> str:
    return f"{taxonomy}:{code}"


def load_taxonomies(session: Session) -> None:
    tax = taxonomies()
    for taxonomy_id, name, terms in (
        (NEED_TAXONOMY, "Needs", [(n.code, n.name) for n in tax.needs.values()]),
        (AUDIENCE_TAXONOMY, "Audiences", [(a.code, a.name) for a in tax.audiences.values()]),
    ):
        session.merge(Taxonomy(id=taxonomy_id, name=name, description=f"Āwhina {name.lower()}"))
        for code, term_name in terms:
            session.merge(
                TaxonomyTerm(
                    id=_term_id(taxonomy_id, code),
                    taxonomy_id=taxonomy_id,
                    code=code,
                    name=term_name,
                    description=term_name,
                )
            )


def _require(record: dict[str, Any], key: str, where: str) -> Any:
    value = record.get(key)
    if value in (None, ""):
        raise SeedError(f"{where}: '{key}' is required")
    return value


def _hours(spec: Any, where: str) -> list[tuple[str, time, time]]:
    """Schedule rows (``byday``, opens, closes) for the hours as written."""
    try:
        openings = hours_mod.parse_hours(spec)
    except ValueError as exc:
        raise SeedError(f"{where}: {exc}") from exc
    return [hours_mod.schedule_row(o) for o in openings]


def _service_rows(org_id: str, raw: dict[str, Any]) -> Iterable[Any]:
    where = f"service {raw.get('id')!r}"
    unknown = set(raw) - SERVICE_FIELDS
    if unknown:
        raise SeedError(f"{where}: unknown fields {sorted(unknown)}")
    service_id = _require(raw, "id", where)
    needs = _require(raw, "needs", where)
    areas = _require(raw, "areas", where)
    tax, places = taxonomies(), gazetteer()
    for need in needs:
        if need not in tax.needs:
            raise SeedError(f"{where}: unknown need {need!r}")
    for audience in raw.get("audiences", []):
        if audience not in tax.audiences:
            raise SeedError(f"{where}: unknown audience {audience!r}")
    for area in areas:
        if places.get(area) is None:
            raise SeedError(f"{where}: unknown place {area!r} (add it to places.yml)")
    if FILE_IN_SOURCE.search(str(raw.get("source", ""))):
        raise SeedError(f"{where}: 'source' names a file; name the organisation or publication")
    last_verified = raw.get("last_verified")
    if last_verified is not None and not isinstance(last_verified, date):
        raise SeedError(f"{where}: last_verified must be a date (YYYY-MM-DD) or empty")
    yield Service(
        id=service_id,
        organization_id=org_id,
        name=_require(raw, "name", where),
        alternate_name=raw.get("alternate_name"),
        description=raw.get("description"),
        url=raw.get("url"),
        email=raw.get("email"),
        status="active",
        application_process=raw.get("application_process"),
        fees_description=raw.get("fees"),
        eligibility_description=raw.get("eligibility"),
        minimum_age=raw.get("minimum_age"),
        maximum_age=raw.get("maximum_age"),
        alert=raw.get("alert"),
        kaupapa_maori=bool(raw.get("kaupapa_maori", False)),
        free=raw.get("free"),
        referral=raw.get("referral"),
        source=_require(raw, "source", where),
        last_verified=last_verified,
    )
    for i, need in enumerate(needs):
        yield Attribute(
            link_id=service_id,
            link_type=NEED_TAXONOMY,
            link_entity="service",
            taxonomy_term_id=_term_id(NEED_TAXONOMY, need),
            value="primary" if i == 0 else "also",
        )
    for audience in raw.get("audiences", []):
        yield Attribute(
            link_id=service_id,
            link_type=AUDIENCE_TAXONOMY,
            link_entity="service",
            taxonomy_term_id=_term_id(AUDIENCE_TAXONOMY, audience),
        )
    for area in areas:
        place = places.get(area)
        yield ServiceArea(
            id=f"{service_id}:{area}",
            service_id=service_id,
            name=place.display_name,
            extent_type=place.kind,
            place_key=area,
        )
    for i, phone in enumerate(raw.get("phones", [])):
        number = str(_require(phone, "number", where))
        if not PHONE.match(number):
            raise SeedError(f"{where}: phone {number!r} is not a NZ number as published")
        yield Phone(
            id=f"{service_id}:phone:{i}",
            service_id=service_id,
            number=number,
            type=phone.get("type", "voice"),
            description=phone.get("description"),
            position=i,
        )
    for i, (days, opens, closes) in enumerate(_hours(raw.get("hours"), where)):
        yield Schedule(
            id=f"{service_id}:hours:{i}",
            service_id=service_id,
            byday=days,
            opens_at=opens,
            closes_at=closes,
        )
    for code in raw.get("languages", ["en"]):
        name = {"en": "English", "mi": "te reo Māori"}.get(code, code)
        yield Language(id=f"{service_id}:lang:{code}", service_id=service_id, name=name, code=code)
    for i, loc in enumerate(raw.get("locations", [])):
        place_key, point = _location_place(loc, where)
        location_id = f"{service_id}:loc:{i}"
        yield Location(
            id=location_id,
            organization_id=org_id,
            name=loc.get("name"),
            location_type="physical",
            latitude=str(point[0]) if point else None,
            longitude=str(point[1]) if point else None,
            place_key=place_key,
        )
        if loc.get("address"):
            yield Address(
                id=f"{location_id}:addr",
                location_id=location_id,
                address_1=loc["address"],
                city=places.get(place_key).name,
                state_province=places.get(places.region_of(place_key) or "nz").name,
            )
        yield ServiceAtLocation(
            id=f"{service_id}:sal:{i}", service_id=service_id, location_id=location_id
        )


def _location_place(loc: dict[str, Any], where: str) -> tuple[str, Point | None]:
    """A location's place and point: the place as given, or from its coordinates the
    nearest gazetteer place (``Gazetteer.locate``) when no town is given."""
    places = gazetteer()
    known = loc.get("place")
    if known is not None and places.get(known) is None:
        raise SeedError(f"{where}: unknown location place {known!r}")
    point = None
    if "latitude" in loc or "longitude" in loc:
        try:
            point = parse_point(loc.get("latitude"), loc.get("longitude"))
        except ValueError as exc:
            raise SeedError(f"{where}: location {exc}") from exc
    place_key = places.locate(known, point)
    if place_key is None:
        raise SeedError(f"{where}: a location needs a 'place', or coordinates near a known place")
    return place_key, point


def _delete_service(session: Session, service_id: str) -> None:
    for derived in (ServiceSearch, ServiceWords):
        session.execute(delete(derived).where(derived.service_id == service_id))
    session.execute(delete(Attribute).where(Attribute.link_id == service_id))
    for model in (ServiceArea, Phone, Schedule, Language):
        session.execute(delete(model).where(model.service_id == service_id))
    location_ids = [
        lid
        for (lid,) in session.query(ServiceAtLocation.location_id).filter_by(service_id=service_id)
    ]
    session.execute(delete(ServiceAtLocation).where(ServiceAtLocation.service_id == service_id))
    if location_ids:
        session.execute(delete(Address).where(Address.location_id.in_(location_ids)))
        session.execute(delete(Location).where(Location.id.in_(location_ids)))
    session.execute(delete(Service).where(Service.id == service_id))


def read_seed(path: Path = SERVICES_FILE) -> list[dict[str, Any]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("organizations"), list):
        raise SeedError(f"{path}: expected a mapping with an 'organizations' list")
    return raw["organizations"]


def load(session: Session, path: Path = SERVICES_FILE, progress: bool = False) -> int:
    """Loads (or reloads) every organisation and service in ``path``; returns the service count."""
    load_taxonomies(session)
    count = 0
    organizations = read_seed(path)
    loaded: list[str] = []
    for raw_org in tqdm(organizations, desc="organisations", disable=not progress, unit="org"):
        where = f"organisation {raw_org.get('id')!r}"
        org_id = _require(raw_org, "id", where)
        if str(org_id).startswith(SAMPLE_ORG_PREFIX):
            raise SeedError(f"{where}: ids starting with '{SAMPLE_ORG_PREFIX}' are for samples")
        session.merge(
            Organization(
                id=org_id,
                name=_require(raw_org, "name", where),
                description=raw_org.get("description", ""),
                alternate_name=raw_org.get("alternate_name"),
                website=raw_org.get("website"),
                email=raw_org.get("email"),
            )
        )
        for raw_service in _require(raw_org, "services", where):
            _delete_service(session, raw_service.get("id"))
            session.flush()
            session.add_all(list(_service_rows(org_id, raw_service)))
            loaded.append(raw_service["id"])
            count += 1
        session.flush()
    index_services(session, loaded)
    return count


# What search and find_by_name read (bot.directory.query) -----------------------------------

INDEX_BATCH = 500


def index_services(
    session: Session | Connection, ids: Iterable[str] | None = None, faceted: bool = True
) -> None:
    """Rebuilds ``service_search`` and ``service_words`` for ``ids`` (every service when
    None) from the services' records; a service that is not active gets no rows.

    The one place that derives them: the loader calls it after writing services, and so
    do the HSDS importer, curation's edits, the benchmark and migration 0004 (for a
    directory loaded before it; with ``faceted`` False, a row per service, place and
    need, as the table was until migration 0018, which spreads them over the facets).
    """
    if ids is None:
        ids = session.execute(select(Service.id)).scalars().all()
    ids = list(ids)
    for start in range(0, len(ids), INDEX_BATCH):
        batch = ids[start : start + INDEX_BATCH]
        for derived in (ServiceSearch, ServiceWords):
            session.execute(delete(derived).where(derived.service_id.in_(batch)))
        search_rows, word_rows = _index_rows(session, batch, faceted)
        if search_rows:
            # Before migration 0018 (``faceted`` False) the table has no facet column.
            columns = search_rows[0].keys()
            target = (
                ServiceSearch.__table__
                if faceted
                else table(ServiceSearch.__tablename__, *map(column, columns))
            )
            session.execute(insert(target), search_rows)
        if word_rows:
            session.execute(insert(ServiceWords), word_rows)


def _index_rows(
    session: Session | Connection, ids: list[str], faceted: bool = True
) -> tuple[list[dict], list[dict]]:
    """The derived rows of the services ``ids``, as ``bot.directory.query.ServiceView``
    reads the same records (needs, audiences, contact, hours, locality of each area): a
    search row per place, need and facet (``bot.directory.query.facets``)."""
    services = session.execute(
        select(
            Service.id,
            Service.name,
            Service.alternate_name,
            Service.description,
            Service.url,
            Service.email,
            Service.kaupapa_maori,
            Service.free,
            Organization.name.label("organization"),
            Organization.website,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .where(Service.id.in_(ids), Service.status == "active")
    ).all()
    terms = by_service(
        session.execute(
            select(Attribute.link_id, Attribute.link_type, TaxonomyTerm.code, Attribute.value)
            .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
            .where(Attribute.link_entity == "service", Attribute.link_id.in_(ids))
        )
    )
    areas = by_service(
        session.execute(
            select(ServiceArea.service_id, ServiceArea.place_key).where(
                ServiceArea.service_id.in_(ids)
            )
        )
    )
    phoned = set(
        session.execute(select(Phone.service_id).where(Phone.service_id.in_(ids))).scalars()
    )
    hours = by_service(
        session.execute(
            select(
                Schedule.service_id,
                Schedule.byday,
                Schedule.opens_at,
                Schedule.closes_at,
                Schedule.timezone,
            ).where(Schedule.service_id.in_(ids), Schedule.byday.is_not(None))
        )
    )
    search_rows: list[dict] = []
    word_rows: list[dict] = []
    for s in services:
        openings = [hours_mod.from_schedule_row(*row[1:]) for row in hours[s.id]]
        # A schedule row alone, in the zone a search compares, is kept in the rows as numbers.
        (alone,) = hours[s.id] if len(hours[s.id]) == 1 else (None,)
        if alone is not None and alone.timezone != TIMEZONE:
            alone = None
        needs = {
            code: value or "also"
            for _, link_type, code, value in terms[s.id]
            if link_type == NEED_TAXONOMY
        }
        audiences = sorted(code for _, kind, code, _ in terms[s.id] if kind == AUDIENCE_TAXONOMY)
        facts = {
            "service_id": s.id,
            "sort_name": s.name.lower(),
            "audiences": f",{','.join(audiences)}," if audiences else "",
            "kaupapa_maori": bool(s.kaupapa_maori),
            "free": s.free,
            "has_contact": bool(s.id in phoned or s.url or s.website or s.email),
            "has_hours": bool(openings),
            "always_open": hours_mod.is_24_7(openings),
        }
        if faceted:  # the columns migrations 0018 and 0019 add
            days, opens, closes = opening_numbers(*alone[1:4]) if alone else (None,) * 3
            facts |= {"open_days": days, "opens_second": opens, "closes_second": closes}
        in_facets = facets(audiences, s.kaupapa_maori, s.free) if faceted else []
        for place_key in {key for _, key in areas[s.id]}:
            for need, rank in needs.items():
                row = facts | {
                    "place_key": place_key,
                    "need": need,
                    "locality": locality(place_key),
                    "need_rank": 0 if rank == "primary" else 1,
                }
                if faceted:
                    search_rows.extend(row | {"facet": f} for f in in_facets)
                else:
                    search_rows.append(row)
        word_rows.append(_words(s))
    return search_rows, word_rows


def _words(service: Any) -> dict[str, Any]:
    name = match_key(service.name)
    alternate = match_key(service.alternate_name) if service.alternate_name else None
    text = " ".join(filter(None, (service.name, service.organization, service.description)))
    return {
        "service_id": service.id,
        "name_key": name,
        "alternate_key": alternate,
        "words": max(len(name.split()), len((alternate or "").split())),
        "text_key": match_key(text),
    }
