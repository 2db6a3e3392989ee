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
from sqlalchemy import delete
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.config import DATA_DIR
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
    Taxonomy,
    TaxonomyTerm,
)
from bot.directory.places import gazetteer
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY, taxonomies

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
        place_key = _require(loc, "place", where)
        if places.get(place_key) is None:
            raise SeedError(f"{where}: unknown location place {place_key!r}")
        location_id = f"{service_id}:loc:{i}"
        yield Location(
            id=location_id,
            organization_id=org_id,
            name=loc.get("name"),
            location_type="physical",
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


def _delete_service(session: Session, service_id: str) -> None:
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
            count += 1
        session.flush()
    return count
