"""Curating the directory: the coordinators' work lists, edits of a service's core facts,
"verified with the organisation today", and the audit log of every change.

An edit is checked as the HSDS importer checks a row (the ``service`` table's schema, our
column sizes, ``published_phone``), so a fact that could not be imported cannot be typed
in either. Every change writes a ``curation_change`` row (who, when, before and after)
and rebuilds the service's search rows (``seed.index_services``) in the same
transaction: the bot reads services afresh on every search, so it answers with the new
facts at once.

Two coordinators may open the same record. The form carries the record's ``version``
and a save or a "verified" is a compare-and-set on it (``UPDATE ... WHERE version =
seen``): a stale form is refused with the changes made since (``Stale``), and nothing
is written over them. "Verified" keeps the coordinator's account email as HSDS
``assurer_email``, which the export and the HSDS API publish with ``assured_date``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Column, ForeignKey, Integer, String, Text, delete, exists, select, update
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
from bot.text import has_controls

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
# HSDS phone.type: the RFC 6350 TYPE values its schema names ("text" is for SMS), with
# what the form calls them.
PHONE_TYPES = {
    "voice": "Voice",
    "text": "Text (SMS)",
    "cell": "Mobile",
    "fax": "Fax",
    "video": "Video",
    "pager": "Pager",
    "textphone": "Textphone (TTY)",
}
# Text kept in unbounded columns still has a length people can read and check.
TEXT_LIMITS = {"description": 4000, "hours_text": 500}
# Fields of one line: a line break there is refused as other control characters are.
_ONE_LINE = ("name", "email", "website", "hours_text")


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
    version = Column(Integer)  # the service's version this change made (None before 0015)
    before = Column(Text, nullable=False)
    after = Column(Text, nullable=False)


class Curator(NamedTuple):
    """Who changes a record: the audit log keeps the id and name, "verified" the email."""

    id: str
    name: str
    email: str | None


@dataclass(frozen=True)
class PhoneFact:
    """A phone number as the bot shows it, its extension and its HSDS ``type``."""

    number: str
    extension: str | None = None
    type: str = "voice"

    @property
    def dialled(self) -> str:
        """The number as the form shows it: with its extension."""
        return f"{self.number} ext {self.extension}" if self.extension else self.number

    def __str__(self) -> str:
        return f"{self.dialled} ({PHONE_TYPES.get(self.type, self.type)})"


@dataclass(frozen=True)
class Facts:
    """The core facts of a service a coordinator edits."""

    name: str
    description: str | None
    phones: tuple[PhoneFact, ...]
    email: str | None
    website: str | None
    hours_text: str | None
    kaupapa_maori: bool
    free: bool | None
    last_verified: date | None = None


# What an import's log entry compares with: it shows every fact the import wrote.
NOTHING = Facts("", None, (), None, None, None, False, None)


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
    version: int | None = None  # the version the change made (None: logged before 0015)


class NotFound(LookupError):
    """No such service."""


class Invalid(ValueError):
    """The form has problems: field -> what is wrong, for the page to show."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


class Stale(RuntimeError):
    """The record changed since the form was opened: the changes made since, newest first,
    and the version they made (a form carrying it may be saved)."""

    def __init__(self, since: list[ChangeView], version: int) -> None:
        super().__init__(f"changed since it was opened (now version {version})")
        self.since, self.version = since, version


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


def version_of(session: Session, service_id: str) -> int:
    return _service(session, service_id).version


def facts_of(session: Session, service_id: str) -> Facts:
    service = _service(session, service_id)
    hours = _text_hours(session, service_id)
    return Facts(
        name=service.name,
        description=service.description,
        phones=tuple(PhoneFact(p.number, p.extension, p.type) for p in service.phones),
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


def _phones(rows: Sequence[tuple[str, str]], problems: dict[str, str]) -> list[PhoneFact]:
    """The (number, type) rows a form gives, blank numbers left out, each checked as the
    importer checks a phone row."""
    given = [(number.strip(), kind) for number, kind in rows if number.strip()]
    if len(given) > MAX_PHONES:
        problems["phones"] = f"at most {MAX_PHONES} numbers"
        return []
    phones = []
    for number, kind in given:
        if kind not in PHONE_TYPES:
            problems["phones"] = f"{number}: choose one of the kinds listed ({kind!r} is not)"
            return []
        try:
            dialled, extension = published_phone(number)
        except ValueError as exc:
            problems["phones"] = str(exc)
            return []
        phones.append(PhoneFact(dialled, extension, kind))
    return phones


def _text_problems(form: Mapping[str, str]) -> dict[str, str]:
    """Control characters and text too long to read, for the fields the schema leaves open."""
    problems = {}
    for key in LABELS:
        value = form.get(key) or ""
        if has_controls(value, one_line=key in _ONE_LINE):
            what = "a line break or " if key in _ONE_LINE else ""
            problems[key] = f"has {what}a control character: type it again as plain text"
        elif key in TEXT_LIMITS and len(value.strip()) > TEXT_LIMITS[key]:
            problems[key] = f"longer than {TEXT_LIMITS[key]} characters"
    return problems


def check(service_id: str, form: Mapping[str, str], phone_rows: Sequence[tuple[str, str]]) -> Facts:
    """The facts a form gives, checked as the importer checks a row; ``Invalid`` names every
    field that is wrong. ``phone_rows``: each phone line's number and HSDS type."""
    problems = _text_problems(form)
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
    phones = _phones(phone_rows, problems)
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


def _claim(session: Session, service_id: str, seen: int) -> int:
    """Compare-and-set: moves the service from version ``seen`` to the next and returns it;
    ``Stale`` (with the changes made since ``seen``) when another change came first."""
    moved = session.execute(
        update(dm.Service)
        .where(dm.Service.id == service_id, dm.Service.version == seen)
        .values(version=dm.Service.version + 1)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1:
        session.expire_all()
        return seen + 1
    now = version_of(session, service_id)
    raise Stale([c for c in changes(session, service_id) if (c.version or 0) > seen], now)


def _record(
    session: Session,
    service_id: str,
    who: Curator,
    now: datetime,
    action: str,
    version: int,
    **sides: Facts,
) -> None:
    session.add(
        CurationChange(
            service_id=service_id,
            at=now,
            navigator_id=who.id,
            navigator_name=who.name,
            action=action,
            version=version,
            **{k: json.dumps(asdict(v), default=str, ensure_ascii=False) for k, v in sides.items()},
        )
    )


def save(
    session: Session, service_id: str, facts: Facts, who: Curator, now: datetime, seen: int
) -> bool:
    """Writes the facts over version ``seen`` of the record (False when nothing changed),
    records the change and reindexes; ``Stale`` when the record moved on since ``seen``."""
    before = facts_of(session, service_id)
    after = replace(facts, last_verified=before.last_verified)
    if after == before:
        return False
    version = _claim(session, service_id, seen)
    old_phones = {(p.number, p.extension): p for p in _service(session, service_id).phones}
    service = _service(session, service_id)
    service.name, service.description = facts.name, facts.description
    service.email, service.url = facts.email, facts.website
    service.kaupapa_maori, service.free = facts.kaupapa_maori, facts.free
    if facts.phones != before.phones:
        session.execute(delete(dm.Phone).where(dm.Phone.service_id == service_id))
        for position, phone in enumerate(facts.phones):
            kept = old_phones.get((phone.number, phone.extension))
            session.add(
                dm.Phone(
                    id=f"{service_id}-phone-{position}",
                    service_id=service_id,
                    number=phone.number,
                    extension=phone.extension,
                    type=phone.type,
                    description=kept.description if kept else None,
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
    _record(session, service_id, who, now, "edit", version, before=before, after=after)
    session.flush()
    index_services(session, [service_id])
    return True


def imported(session: Session, service_ids: Sequence[str], source: str, now: datetime) -> None:
    """An HSDS import changed these records' facts: each moves to its next version, so a
    form opened before the import is refused showing what the import wrote, not saved
    over it; the log names the source as who."""
    who = Curator("import", f"Import: {source}"[:64], None)
    for service_id in service_ids:
        version = _claim(session, service_id, version_of(session, service_id))
        after = facts_of(session, service_id)
        _record(session, service_id, who, now, "import", version, before=NOTHING, after=after)


def verify(session: Session, service_id: str, who: Curator, now: datetime, seen: int) -> None:
    """Records "verified with the organisation today" for the facts of version ``seen``:
    the date and the coordinator's email on the service (HSDS ``assured_date`` and
    ``assurer_email``), who and when in the log; ``Stale`` when the facts moved on."""
    before = facts_of(session, service_id)
    version = _claim(session, service_id, seen)
    today = now.astimezone(NZ).date()
    service = _service(session, service_id)
    service.last_verified, service.assurer_email = today, who.email
    after = replace(before, last_verified=today)
    _record(session, service_id, who, now, "verified", version, before=before, after=after)


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
        changed = {
            k: (_readable(k, before.get(k)), _readable(k, v))
            for k, v in after.items()
            if before.get(k) != v
        }
        out.append(ChangeView(row.at, row.navigator_name, row.action, changed, row.version))
    return out


def _readable(field: str, value: object) -> object:
    """A logged value as the page shows it: phones (logged as numbers before their types
    were kept, as objects since) as text."""
    if field == "phones" and isinstance(value, list):
        return [str(PhoneFact(**p)) if isinstance(p, dict) else p for p in value]
    return value
