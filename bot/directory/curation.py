"""Curating the directory: the coordinators' work lists, edits of a service's core facts,
"verified with the organisation today", and the audit log of every change.

An edit is checked as the HSDS importer checks a row (the ``service`` table's schema, our
column sizes, ``published_phone``), so a fact that could not be imported cannot be typed
in either. Every change writes a ``curation_change`` row (who, when, before and after)
and rebuilds the service's search rows (``seed.index_services``) in the same
transaction: the bot reads services afresh on every search, so it answers with the new
facts at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Column, ForeignKey, Integer, String, Text, delete, exists, select
from sqlalchemy.orm import Session

from bot.config import NZ
from bot.db import Base, UtcDateTime
from bot.directory import models as dm
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.importer import Record, schema_problems, size_problems
from bot.directory.hsds.mapping import published_phone
from bot.directory.places import NATIONAL, gazetteer
from bot.directory.seed import index_services
from bot.directory.taxonomy import NEED_TAXONOMY

# The work lists (queues) a coordinator goes through.
QUEUES = {
    "never": "Never verified",
    "stale": "Not verified for 12 months",
    "no_contact": "Local, without any contact detail",
}
STALE_AFTER = timedelta(days=365)
# The form's fields, as the page names them.
LABELS = {
    "name": "Name",
    "description": "Description",
    "phones": "Phone numbers",
    "email": "Email",
    "website": "Website",
    "hours_text": "Hours (as text)",
    "kaupapa_maori": "Kaupapa Māori",
    "free": "Free",
}
# The HSDS field each of ours is checked as.
_HSDS_FIELD = {"url": "website"}
MAX_PHONES = 10


class CurationChange(Base):
    """One change to a service by a coordinator: its facts before and after, as JSON."""

    __tablename__ = "curation_change"
    id = Column(Integer, primary_key=True, autoincrement=True)
    service_id = Column(
        String(64), ForeignKey("service.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = Column(UtcDateTime, nullable=False)
    navigator_id = Column(String(64), nullable=False)
    navigator_name = Column(String(64), nullable=False)
    action = Column(String(16), nullable=False)  # edit, verified
    before = Column(Text, nullable=False)
    after = Column(Text, nullable=False)


@dataclass(frozen=True)
class Facts:
    """The core facts of a service a coordinator edits."""

    name: str
    description: str | None
    phones: tuple[str, ...]
    email: str | None
    website: str | None
    hours_text: str | None
    kaupapa_maori: bool
    free: bool | None
    last_verified: date | None = None


@dataclass(frozen=True)
class Listed:
    id: str
    name: str
    organization: str
    last_verified: date | None
    has_contact: bool


@dataclass(frozen=True)
class ChangeView:
    at: datetime
    navigator_name: str
    action: str
    changed: dict[str, tuple[object, object]]  # field -> (before, after)


class NotFound(LookupError):
    """No such service."""


class Invalid(ValueError):
    """The form has problems: field -> what is wrong, for the page to show."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def districts() -> list[tuple[str, str]]:
    """(key, name) of every district in the gazetteer, by name."""
    places = gazetteer().places.values()
    return sorted(((p.key, p.name) for p in places if p.kind == "district"), key=lambda p: p[1])


def _serving(key: str) -> list[str]:
    """The places whose services serve the district ``key`` locally: the district, every
    place in it, and the region it is in (not the country)."""
    places = gazetteer()
    inside = [k for k in places.places if key in places.lineage(k)]
    return inside + [k for k in places.lineage(key) if k not in (key, NATIONAL)]


def _local_keys() -> list[str]:
    """Every place but the country: a service for one of them is local."""
    return [k for k, p in gazetteer().places.items() if p.kind != "country"]


def services(
    session: Session,
    today: date,
    district: str | None = None,
    need: str | None = None,
    queue: str | None = None,
) -> list[Listed]:
    """Active services for the filters given, by name (a queue: the oldest check first)."""
    area = dm.ServiceArea
    contact = (
        exists().where(dm.Phone.service_id == dm.Service.id)
        | dm.Service.url.is_not(None)
        | dm.Service.email.is_not(None)
        | dm.Organization.website.is_not(None)
    )
    stmt = (
        select(
            dm.Service.id,
            dm.Service.name,
            dm.Organization.name.label("organization"),
            dm.Service.last_verified,
            contact.label("has_contact"),
        )
        .join(dm.Organization, dm.Organization.id == dm.Service.organization_id)
        .where(dm.Service.status == "active")
    )
    if district:
        keys = _serving(district)
        stmt = stmt.where(
            exists().where(area.service_id == dm.Service.id, area.place_key.in_(keys))
        )
    if need:
        stmt = stmt.where(
            exists().where(
                dm.Attribute.link_id == dm.Service.id,
                dm.Attribute.link_entity == "service",
                dm.Attribute.link_type == NEED_TAXONOMY,
                dm.Attribute.taxonomy_term_id == dm.TaxonomyTerm.id,
                dm.TaxonomyTerm.code == need,
            )
        )
    if queue == "never":
        stmt = stmt.where(dm.Service.last_verified.is_(None))
    elif queue == "stale":
        stmt = stmt.where(dm.Service.last_verified < today - STALE_AFTER)
    elif queue == "no_contact":
        local = exists().where(area.service_id == dm.Service.id, area.place_key.in_(_local_keys()))
        stmt = stmt.where(local, ~contact)
    order = (dm.Service.last_verified, dm.Service.name) if queue else (dm.Service.name,)
    rows = session.execute(stmt.order_by(*order, dm.Service.id)).all()
    return [
        Listed(r.id, r.name, r.organization, r.last_verified, bool(r.has_contact)) for r in rows
    ]


def _service(session: Session, service_id: str) -> dm.Service:
    service = session.get(dm.Service, service_id)
    if service is None:
        raise NotFound(service_id)
    return service


def _text_hours(session: Session, service_id: str) -> dm.Schedule | None:
    return session.scalars(
        select(dm.Schedule)
        .where(dm.Schedule.service_id == service_id, dm.Schedule.byday.is_(None))
        .order_by(dm.Schedule.id)
    ).first()


def facts_of(session: Session, service_id: str) -> Facts:
    service = _service(session, service_id)
    hours = _text_hours(session, service_id)
    return Facts(
        name=service.name,
        description=service.description,
        phones=tuple(
            f"{p.number} ext {p.extension}" if p.extension else p.number for p in service.phones
        ),
        email=service.email,
        website=service.url,
        hours_text=hours.description if hours else None,
        kaupapa_maori=bool(service.kaupapa_maori),
        free=service.free,
        last_verified=service.last_verified,
    )


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def check(service_id: str, form: Mapping[str, str]) -> Facts:
    """The facts a form gives, checked as the importer checks a row; ``Invalid`` names every
    field that is wrong."""
    problems: dict[str, str] = {}
    name = (form.get("name") or "").strip()
    row = {
        "id": service_id,
        "name": name,
        "description": _blank(form.get("description")),
        "email": _blank(form.get("email")),
        "url": _blank(form.get("website")),
        "status": "active",
    }
    # As exported: the HSDS id (a UUID) stands for ours.
    hsds_row = {k: v for k, v in row.items() if v is not None} | {
        "id": hsds_id("service", service_id)
    }
    record = Record("service", hsds_row, "form", 1)
    probe = dm.Service(**row)
    for problem in schema_problems(record) + size_problems(record, probe):
        key = _HSDS_FIELD.get(problem.field, problem.field)
        problems.setdefault(key if key in LABELS else "name", problem.message)
    if not name:
        problems["name"] = "is required"
    phones: list[str] = []
    lines = [line.strip() for line in (form.get("phones") or "").splitlines() if line.strip()]
    for line in lines:
        try:
            number, extension = published_phone(line)
        except ValueError as exc:
            problems["phones"] = str(exc)
            break
        phones.append(f"{number} ext {extension}" if extension else number)
    if len(lines) > MAX_PHONES:
        problems["phones"] = f"at most {MAX_PHONES} numbers"
    free = {"yes": True, "no": False, "": None}.get(form.get("free") or "")
    if (form.get("free") or "") not in ("yes", "no", ""):
        problems["free"] = "choose yes, no or not known"
    if problems:
        raise Invalid(problems)
    return Facts(
        name=name,
        description=row["description"],
        phones=tuple(phones),
        email=row["email"],
        website=row["url"],
        hours_text=_blank(form.get("hours_text")),
        kaupapa_maori=form.get("kaupapa_maori") == "yes",
        free=free,
    )


def _record(
    session: Session, service_id: str, who: tuple[str, str], now: datetime, action: str, **sides
) -> None:
    session.add(
        CurationChange(
            service_id=service_id,
            at=now,
            navigator_id=who[0],
            navigator_name=who[1],
            action=action,
            **{k: json.dumps(asdict(v), default=str, ensure_ascii=False) for k, v in sides.items()},
        )
    )


def save(
    session: Session, service_id: str, facts: Facts, who: tuple[str, str], now: datetime
) -> bool:
    """Writes the facts (False when nothing changed), records the change and reindexes."""
    before = facts_of(session, service_id)
    after = Facts(**{**asdict(facts), "last_verified": before.last_verified})
    if after == before:
        return False
    service = _service(session, service_id)
    service.name, service.description = facts.name, facts.description
    service.email, service.url = facts.email, facts.website
    service.kaupapa_maori, service.free = facts.kaupapa_maori, facts.free
    if facts.phones != before.phones:
        session.execute(delete(dm.Phone).where(dm.Phone.service_id == service_id))
        for position, text in enumerate(facts.phones):
            number, _, extension = text.partition(" ext ")
            session.add(
                dm.Phone(
                    id=f"{service_id}-phone-{position}",
                    service_id=service_id,
                    number=number,
                    extension=extension or None,
                    position=position,
                )
            )
    hours = _text_hours(session, service_id)
    if facts.hours_text and hours is None:
        session.add(
            dm.Schedule(
                id=f"{service_id}-hours-text", service_id=service_id, description=facts.hours_text
            )
        )
    elif hours is not None and facts.hours_text:
        hours.description = facts.hours_text
    elif hours is not None:
        session.delete(hours)
    _record(session, service_id, who, now, "edit", before=before, after=after)
    session.flush()
    index_services(session, [service_id])
    return True


def verify(session: Session, service_id: str, who: tuple[str, str], now: datetime) -> None:
    """Records "verified with the organisation today": the date on the service, who in the log."""
    before = facts_of(session, service_id)
    today = now.astimezone(NZ).date()
    _service(session, service_id).last_verified = today
    after = Facts(**{**asdict(before), "last_verified": today})
    _record(session, service_id, who, now, "verified", before=before, after=after)


def changes(session: Session, service_id: str) -> list[ChangeView]:
    """The service's changes, newest first, each with only the fields that changed."""
    rows = session.scalars(
        select(CurationChange)
        .where(CurationChange.service_id == service_id)
        .order_by(CurationChange.at.desc(), CurationChange.id.desc())
    )
    out = []
    for row in rows:
        before, after = json.loads(row.before), json.loads(row.after)
        changed = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
        out.append(ChangeView(row.at, row.navigator_name, row.action, changed))
    return out
