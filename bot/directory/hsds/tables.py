"""Our directory rows as HSDS 3.0 table rows: the one place that turns one into the other.

Every id becomes its HSDS UUID (``ids.hsds_id``); our own facts become HSDS fields,
cost options and attributes of the facts taxonomy (``data/directory/hsds.yml``).
A row is a dict of HSDS field names, without the fields that have no value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from bot.config import DATA_DIR
from bot.directory import models as dm
from bot.directory.hsds import models as core
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.package import resources

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


def _service_facts(s: dm.Service) -> Iterable[Row]:
    sid = hsds_id("service", s.id)
    if s.kaupapa_maori:
        yield _fact("service", sid, "kaupapa_maori", "true")
    if s.referral:
        yield _fact("service", sid, "referral", s.referral)
    yield _fact("service", sid, "source", s.source)


def _value(value: Any) -> Any:
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Each table's links: the field and the table it points to (core tables: hsds.models).
LINKS: dict[str, dict[str, str]] = {
    "organization": {"parent_organization_id": "organization"},
    "service": {"organization_id": "organization"},
    "location": {"organization_id": "organization"},
    "address": {"location_id": "location"},
    "service_at_location": {"service_id": "service", "location_id": "location"},
    "phone": {
        "service_id": "service",
        "location_id": "location",
        "organization_id": "organization",
    },
    "schedule": {
        "service_id": "service",
        "location_id": "location",
        "service_at_location_id": "service_at_location",
    },
    "service_area": {"service_id": "service"},
    "language": {"service_id": "service"},
    "taxonomy": {},
    "taxonomy_term": {"parent_id": "taxonomy_term", "taxonomy_id": "taxonomy"},
    **core.LINKS,
}
# Our values that HSDS holds differently: a field -> its HSDS value, given our record.
SPECIAL: dict[str, dict[str, Any]] = {
    "service": {
        "assured_date": lambda s: _value(s.last_verified),
        "last_modified": lambda s: s.last_modified.isoformat() + "Z" if s.last_modified else None,
    },
    "organization": {"description": lambda o: o.description or ""},
    "location": {
        "latitude": lambda loc: _number(loc.latitude),
        "longitude": lambda loc: _number(loc.longitude),
    },
    "phone": {"extension": lambda p: int(p.extension) if (p.extension or "").isdigit() else None},
    # HSDS gives ``timezone`` as a UTC offset; ours is a zone (Pacific/Auckland), whose
    # offset changes with daylight saving, so it is not exported.
    "schedule": {"timezone": lambda s: None, "freq": lambda s: s.freq if s.byday else None},
    "service_area": {"extent_type": lambda a: a.extent_type if a.extent else None},
    "taxonomy_term": {"description": lambda t: t.description or ""},
}


def hsds_row(table: str, obj: Any) -> Row:
    """Our record ``obj`` as a row of the HSDS ``table``: its columns that are HSDS
    fields, with ids and links as UUIDs."""
    fields = {f["name"] for f in resources()[table]["schema"]["fields"]}
    special = SPECIAL.get(table, {})
    row = {c.key: _value(getattr(obj, c.key)) for c in obj.__table__.columns if c.key in fields}
    row.update({name: build(obj) for name, build in special.items()})
    row["id"] = hsds_id(table, obj.id)
    for field, linked in LINKS[table].items():
        row[field] = _hid(linked, row.get(field))
    return _clean(row)


def derived_cost_option_id(service_id: str) -> str:
    """The id of the cost option said by a service's ``free`` (ours, not a source's)."""
    return hsds_id("cost_option", service_id)


def _cost_options(s: dm.Service) -> Iterable[Row]:
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


def _attribute(a: dm.Attribute) -> Row:
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


def _facts_terms() -> Iterable[Row]:
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


def _facts_taxonomy() -> Row:
    f = facts()
    return {
        "id": hsds_id("taxonomy", f.taxonomy_id),
        "name": f.taxonomy_name,
        "description": f.taxonomy_description,
    }


@dataclass(frozen=True)
class Scope:
    """Which records ``tables`` reads (by our ids): the services, organizations and
    services at locations asked for, and everything an HSDS object of them nests
    (``objects.Directory``); the taxonomies and their terms always whole (small)."""

    services: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    service_at_locations: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()

    @classmethod
    def around(
        cls,
        session: Session,
        services: Iterable[str] = (),
        organizations: Iterable[str] = (),
        service_at_locations: Iterable[str] = (),
    ) -> Scope:
        """The scope of these records: an organization's services, a service's
        organization and services at locations, and the locations of both."""
        organizations, service_at_locations = set(organizations), set(service_at_locations)
        services = set(services) | set(
            session.execute(
                select(dm.Service.id).where(dm.Service.organization_id.in_(organizations))
            ).scalars()
        )
        organizations |= set(
            session.execute(
                select(dm.Service.organization_id).where(dm.Service.id.in_(services))
            ).scalars()
        )
        at = dm.ServiceAtLocation
        sals = session.execute(
            select(at.id, at.location_id).where(
                or_(at.service_id.in_(services), at.id.in_(service_at_locations))
            )
        ).all()
        locations = {location for _, location in sals} | set(
            session.execute(
                select(dm.Location.id).where(dm.Location.organization_id.in_(organizations))
            ).scalars()
        )
        return cls(
            frozenset(services),
            frozenset(organizations),
            frozenset(i for i, _ in sals),
            frozenset(locations),
        )

    def where(self, model: Any) -> Any:
        """The condition on ``model``'s rows in this scope: by id or by a link to a
        record in it."""
        links = {
            "service_id": self.services,
            "organization_id": self.organizations,
            "location_id": self.locations,
        }
        own = {
            "service": self.services,
            "organization": self.organizations,
            "service_at_location": self.service_at_locations,
            "location": self.locations,
        }.get(model.__tablename__)
        if model is dm.Attribute:
            records = self.services | self.organizations | self.locations
            return model.link_id.in_(sorted(records | self.service_at_locations))
        if own is not None:
            return model.id.in_(sorted(own))
        columns = model.__table__.columns
        linked = [columns[name].in_(sorted(ids)) for name, ids in links.items() if name in columns]
        return or_(*linked) if linked else true()  # the taxonomies: every row


def tables(session: Session, scope: Scope | None = None) -> Tables:
    """The directory's records as HSDS table rows, keyed by HSDS table name: every
    record, or those of ``scope``, in the same order either way."""

    def where(model: Any) -> Any:
        return true() if scope is None else scope.where(model)

    def rows(table: str, model: Any, *order: Any) -> list[Row]:
        found = session.execute(select(model).where(where(model)).order_by(*order, model.id))
        return [hsds_row(table, obj) for obj in found.scalars()]

    services = (
        session.execute(select(dm.Service).where(where(dm.Service)).order_by(dm.Service.id))
        .scalars()
        .all()
    )
    places = {
        **{
            ("location", hsds_id("location", i)): key
            for i, key in session.execute(
                select(dm.Location.id, dm.Location.place_key).where(where(dm.Location))
            )
            if key
        },
        **{
            ("service_area", hsds_id("service_area", i)): key
            for i, key in session.execute(
                select(dm.ServiceArea.id, dm.ServiceArea.place_key).where(where(dm.ServiceArea))
            )
        },
    }
    attributes = session.execute(
        select(dm.Attribute)
        .where(where(dm.Attribute))
        .order_by(dm.Attribute.link_id, dm.Attribute.taxonomy_term_id)
    ).scalars()
    priced = set(
        session.execute(select(core.CostOption.service_id).where(where(core.CostOption))).scalars()
    )
    names = {
        hsds_id("taxonomy", i): n
        for i, n in session.execute(select(dm.Taxonomy.id, dm.Taxonomy.name))
    }
    found = {
        "organization": rows("organization", dm.Organization),
        "service": [hsds_row("service", s) for s in services],
        "location": rows("location", dm.Location),
        "address": rows("address", dm.Address),
        "service_at_location": rows("service_at_location", dm.ServiceAtLocation),
        "phone": rows("phone", dm.Phone, dm.Phone.service_id, dm.Phone.position),
        "schedule": rows("schedule", dm.Schedule),
        "service_area": rows("service_area", dm.ServiceArea),
        "language": rows("language", dm.Language),
        **{table: rows(table, model) for table, model in core.MODELS.items()},
        "taxonomy": [*rows("taxonomy", dm.Taxonomy), _facts_taxonomy()],
        "taxonomy_term": [
            *(
                {**row, "taxonomy": names[row["taxonomy_id"]]}
                for row in rows("taxonomy_term", dm.TaxonomyTerm)
            ),
            *_facts_terms(),
        ],
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
