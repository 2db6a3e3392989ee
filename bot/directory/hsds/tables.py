"""Our directory rows as HSDS 3.0 table rows: the one place that turns one into the other.

Every id becomes its HSDS UUID (``ids.hsds_id``); our own facts become HSDS fields,
cost options and attributes of the facts taxonomy (``data/directory/hsds.yml``).
A row is a dict of HSDS field names, without the fields that have no value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import DATA_DIR
from bot.directory.hsds import models as core
from bot.directory.hsds.ids import hsds_id
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

HSDS_FILE = DATA_DIR / "directory" / "hsds.yml"
Row = dict[str, Any]
Tables = dict[str, list[Row]]


@dataclass(frozen=True)
class Facts:
    """Our facts taxonomy and cost option wording (``data/directory/hsds.yml``)."""

    taxonomy_id: str
    taxonomy_name: str
    taxonomy_description: str
    terms: dict[str, tuple[str, str]]  # code -> (name, description)
    free: str
    paid: str
    currency: str

    def term_id(self, code: str) -> str:
        return hsds_id("taxonomy_term", f"{self.taxonomy_id}:{code}")

    def code_of(self, term_id: str) -> str | None:
        return next((c for c in self.terms if self.term_id(c) == term_id), None)


@lru_cache(maxsize=1)
def facts() -> Facts:
    raw = yaml.safe_load(HSDS_FILE.read_text(encoding="utf-8"))
    tax, cost = raw["facts_taxonomy"], raw["cost_options"]
    return Facts(
        taxonomy_id=tax["id"],
        taxonomy_name=tax["name"],
        taxonomy_description=tax["description"],
        terms={t["code"]: (t["name"], t["description"]) for t in tax["terms"]},
        free=cost["free"],
        paid=cost["paid"],
        currency=cost["currency"],
    )


def _clean(row: Row) -> Row:
    return {k: v for k, v in row.items() if v is not None}


def _hid(table: str, value: Any) -> str | None:
    return hsds_id(table, value) if value is not None else None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _fact(link_entity: str, link_id: str, code: str, value: str) -> Row:
    f = facts()
    term_id = f.term_id(code)
    return {
        "id": hsds_id("attribute", f"{link_entity}:{link_id}:{term_id}"),
        "link_id": link_id,
        "link_type": f.taxonomy_id,
        "link_entity": link_entity,
        "taxonomy_term_id": term_id,
        "value": value,
    }


def _service(s: Service) -> Row:
    return _clean(
        {
            "id": hsds_id("service", s.id),
            "organization_id": hsds_id("organization", s.organization_id),
            "name": s.name,
            "alternate_name": s.alternate_name,
            "description": s.description,
            "url": s.url,
            "email": s.email,
            "status": s.status,
            "interpretation_services": s.interpretation_services,
            "application_process": s.application_process,
            "fees_description": s.fees_description,
            "eligibility_description": s.eligibility_description,
            "minimum_age": s.minimum_age,
            "maximum_age": s.maximum_age,
            "assured_date": s.last_verified.isoformat() if s.last_verified else None,
            "alert": s.alert,
            "last_modified": s.last_modified.isoformat() + "Z" if s.last_modified else None,
        }
    )


def _service_facts(s: Service) -> Iterable[Row]:
    sid = hsds_id("service", s.id)
    if s.kaupapa_maori:
        yield _fact("service", sid, "kaupapa_maori", "true")
    if s.referral:
        yield _fact("service", sid, "referral", s.referral)
    yield _fact("service", sid, "source", s.source)


def _value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _core(table: str, obj: Any) -> Row:
    """A row of one of the core tables (``hsds.models``), its ids and links as UUIDs."""
    links = core.LINKS[table]
    row = {c.key: _value(getattr(obj, c.key)) for c in obj.__table__.columns}
    row["id"] = hsds_id(table, obj.id)
    for field, linked in links.items():
        row[field] = _hid(linked, row[field])
    return _clean(row)


def derived_cost_option_id(service_id: str) -> str:
    """The id of the cost option said by a service's ``free`` (ours, not a source's)."""
    return hsds_id("cost_option", service_id)


def _cost_options(s: Service) -> Iterable[Row]:
    if s.free is None:
        return
    f = facts()
    yield _clean(
        {
            "id": derived_cost_option_id(s.id),
            "service_id": hsds_id("service", s.id),
            "option": f.free if s.free else f.paid,
            "amount": 0 if s.free else None,
            "currency": f.currency if s.free else None,
            "amount_description": None if s.free else s.fees_description,
        }
    )


def _organization(o: Organization) -> Row:
    return _clean(
        {
            "id": hsds_id("organization", o.id),
            "name": o.name,
            "alternate_name": o.alternate_name,
            "description": o.description or "",
            "email": o.email,
            "website": o.website,
            "legal_status": o.legal_status,
            "uri": o.uri,
            "parent_organization_id": _hid("organization", o.parent_organization_id),
        }
    )


def _location(loc: Location) -> Row:
    return _clean(
        {
            "id": hsds_id("location", loc.id),
            "location_type": loc.location_type,
            "organization_id": _hid("organization", loc.organization_id),
            "name": loc.name,
            "description": loc.description,
            "latitude": _number(loc.latitude),
            "longitude": _number(loc.longitude),
        }
    )


def _address(a: Address) -> Row:
    return _clean(
        {
            "id": hsds_id("address", a.id),
            "location_id": hsds_id("location", a.location_id),
            "address_1": a.address_1,
            "address_2": a.address_2,
            "city": a.city,
            "region": a.region,
            "state_province": a.state_province,
            "postal_code": a.postal_code,
            "country": a.country,
            "address_type": a.address_type,
        }
    )


def _phone(p: Phone) -> Row:
    return _clean(
        {
            "id": hsds_id("phone", p.id),
            "service_id": _hid("service", p.service_id),
            "location_id": _hid("location", p.location_id),
            "organization_id": _hid("organization", p.organization_id),
            "number": p.number,
            "extension": int(p.extension) if p.extension and p.extension.isdigit() else None,
            "type": p.type,
            "description": p.description,
        }
    )


def _schedule(s: Schedule) -> Row:
    # HSDS gives ``timezone`` as a UTC offset; ours is a zone (Pacific/Auckland), whose
    # offset changes with daylight saving, so it is not exported.
    return _clean(
        {
            "id": hsds_id("schedule", s.id),
            "service_id": _hid("service", s.service_id),
            "location_id": _hid("location", s.location_id),
            "service_at_location_id": _hid("service_at_location", s.service_at_location_id),
            "freq": s.freq if s.byday else None,
            "byday": s.byday,
            "opens_at": s.opens_at.strftime("%H:%M:%S") if s.opens_at else None,
            "closes_at": s.closes_at.strftime("%H:%M:%S") if s.closes_at else None,
            "valid_from": s.valid_from.isoformat() if s.valid_from else None,
            "valid_to": s.valid_to.isoformat() if s.valid_to else None,
            "description": s.description,
            "notes": s.notes,
        }
    )


def _service_area(a: ServiceArea) -> Row:
    return _clean(
        {
            "id": hsds_id("service_area", a.id),
            "service_id": _hid("service", a.service_id),
            "name": a.name,
            "description": a.description,
            "extent": a.extent,
            "extent_type": a.extent_type if a.extent else None,
        }
    )


def _attribute(a: Attribute) -> Row:
    link_id = hsds_id(a.link_entity, a.link_id)
    term_id = hsds_id("taxonomy_term", a.taxonomy_term_id)
    return _clean(
        {
            "id": hsds_id("attribute", f"{a.link_entity}:{link_id}:{term_id}"),
            "link_id": link_id,
            "link_type": a.link_type,
            "link_entity": a.link_entity,
            "taxonomy_term_id": term_id,
            "value": a.value,
        }
    )


def _taxonomy_terms(session: Session) -> Iterable[Row]:
    names = dict(session.execute(select(Taxonomy.id, Taxonomy.name)).all())
    for t in session.execute(select(TaxonomyTerm).order_by(TaxonomyTerm.id)).scalars():
        yield _clean(
            {
                "id": hsds_id("taxonomy_term", t.id),
                "code": t.code,
                "name": t.name,
                "description": t.description or "",
                "parent_id": _hid("taxonomy_term", t.parent_id),
                "taxonomy": names.get(t.taxonomy_id),
                "taxonomy_id": hsds_id("taxonomy", t.taxonomy_id),
            }
        )
    f = facts()
    for code, (name, description) in f.terms.items():
        yield {
            "id": f.term_id(code),
            "code": code,
            "name": name,
            "description": description,
            "taxonomy": f.taxonomy_name,
            "taxonomy_id": hsds_id("taxonomy", f.taxonomy_id),
        }


def _taxonomies(session: Session) -> Iterable[Row]:
    for t in session.execute(select(Taxonomy).order_by(Taxonomy.id)).scalars():
        yield {"id": hsds_id("taxonomy", t.id), "name": t.name, "description": t.description}
    f = facts()
    yield {
        "id": hsds_id("taxonomy", f.taxonomy_id),
        "name": f.taxonomy_name,
        "description": f.taxonomy_description,
    }


def tables(session: Session) -> Tables:
    """Every directory record as HSDS table rows, keyed by HSDS table name."""

    def rows(model: Any, build: Any) -> list[Row]:
        return [build(r) for r in session.execute(select(model).order_by(model.id)).scalars()]

    services = session.execute(select(Service).order_by(Service.id)).scalars().all()
    places = {
        **{
            ("location", hsds_id("location", i)): key
            for i, key in session.execute(select(Location.id, Location.place_key))
            if key
        },
        **{
            ("service_area", hsds_id("service_area", i)): key
            for i, key in session.execute(select(ServiceArea.id, ServiceArea.place_key))
        },
    }
    phones = session.execute(select(Phone).order_by(Phone.service_id, Phone.position, Phone.id))
    attributes = session.execute(
        select(Attribute).order_by(Attribute.link_id, Attribute.taxonomy_term_id)
    ).scalars()
    priced = set(session.execute(select(core.CostOption.service_id)).scalars())
    found = {
        "organization": rows(Organization, _organization),
        "service": [_service(s) for s in services],
        "location": rows(Location, _location),
        "address": rows(Address, _address),
        "service_at_location": [
            _clean(
                {
                    "id": hsds_id("service_at_location", r.id),
                    "service_id": hsds_id("service", r.service_id),
                    "location_id": hsds_id("location", r.location_id),
                    "description": r.description,
                }
            )
            for r in session.execute(
                select(ServiceAtLocation).order_by(ServiceAtLocation.id)
            ).scalars()
        ],
        "phone": [_phone(p) for p in phones.scalars()],
        "schedule": rows(Schedule, _schedule),
        "service_area": rows(ServiceArea, _service_area),
        "language": [
            _clean(
                {
                    "id": hsds_id("language", lang.id),
                    "service_id": _hid("service", lang.service_id),
                    "name": lang.name,
                    "code": lang.code,
                }
            )
            for lang in session.execute(select(Language).order_by(Language.id)).scalars()
        ],
        **{
            table: [
                _core(table, obj)
                for obj in session.execute(select(model).order_by(model.id)).scalars()
            ]
            for table, model in core.MODELS.items()
        },
        "taxonomy": list(_taxonomies(session)),
        "taxonomy_term": list(_taxonomy_terms(session)),
        "attribute": [
            *(_attribute(a) for a in attributes),
            *(fact for s in services for fact in _service_facts(s)),
            *(
                _fact(entity, record_id, "place", key)
                for (entity, record_id), key in sorted(places.items())
            ),
        ],
    }
    # A service without a source's cost options has the one its ``free`` says.
    found["cost_option"] += [c for s in services if s.id not in priced for c in _cost_options(s)]
    return found
