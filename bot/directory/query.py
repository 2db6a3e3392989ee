"""Directory queries: the one place that finds and ranks services.

Used by the Rasa actions, and later by the navigators' inbox and the API.
Ranking: local (town) before district before regional before national;
a service whose main need is the one asked for before one that also covers it,
before general services; services for the person's audience before services
for everyone; services with contact details before those without.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import clock
from bot.directory import hours as hours_mod
from bot.directory.models import (
    Attribute,
    Service,
    ServiceArea,
    ServiceAtLocation,
    TaxonomyTerm,
)
from bot.directory.places import LOCALITY, NATIONAL, gazetteer
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY
from bot.reo import match_key

GENERAL_NEED = "general"
# Audiences that cover everyone in them: asking for whānau does not rule out
# a service for rangatahi.
INCLUSIVE_AUDIENCES = {"whanau"}


@dataclass(frozen=True)
class PhoneView:
    number: str
    type: str
    description: str | None = None


@dataclass(frozen=True)
class ServiceView:
    """What the bot may say about a service: every field comes from the database."""

    id: str
    name: str
    organization: str
    description: str | None
    website: str | None
    email: str | None
    phones: tuple[PhoneView, ...]
    hours: tuple[hours_mod.Opening, ...]
    needs: dict[str, str]  # need code -> "primary" | "also"
    audiences: tuple[str, ...]
    area_keys: tuple[str, ...]
    addresses: tuple[str, ...]
    kaupapa_maori: bool
    free: bool | None
    fees_description: str | None
    referral: str | None
    eligibility: str | None
    source: str
    last_verified: date | None
    alert: str | None = None

    @property
    def verified(self) -> bool:
        return self.last_verified is not None

    @property
    def has_contact(self) -> bool:
        return bool(self.phones or self.website or self.email)

    def is_open(self, at: datetime | None = None) -> bool | None:
        """Open at ``at`` (now by default); None when no hours are known."""
        return hours_mod.is_open(self.hours, at or clock.now()) if self.hours else None

    @property
    def is_24_7(self) -> bool:
        return hours_mod.is_24_7(self.hours)


@dataclass(frozen=True)
class ServiceQuery:
    need: str | None = None
    place: str | None = None
    audience: str | None = None
    kaupapa_maori: bool = False
    free: bool = False
    open_now: bool = False
    text: str | None = None
    at: datetime | None = None

    @property
    def filters(self) -> tuple[str, ...]:
        """The narrowing filters in force, by name (see ``FILTERS``)."""
        return tuple(name for name in FILTERS if getattr(self, name))


# Filters a person can ask for ("anything kaupapa Māori?", "is there anything
# free?", "who's open now?"); a search relaxes them when nothing matches.
FILTERS = ("kaupapa_maori", "free", "open_now")

# How near the nearest service for the need is to the place asked.
LOCAL, REGIONAL, NATIONAL_ONLY = "local", "regional", "national"


@dataclass
class SearchResult:
    services: list[ServiceView]
    # True when no service anywhere is for the need itself, and ``services``
    # holds general ones instead.
    fallback: bool = False
    localities: dict[str, int] = field(default_factory=dict)
    # LOCAL (in the town or district asked, or the region when a region was
    # asked), REGIONAL or NATIONAL_ONLY; None when no place was asked or
    # nothing is for the need.
    reach: str | None = None
    # Filters left out because nothing matched with them (the closest options).
    relaxed: tuple[str, ...] = ()


def _load_options():
    return (
        selectinload(Service.organization),
        selectinload(Service.phones),
        selectinload(Service.schedules),
        selectinload(Service.service_areas),
        selectinload(Service.attributes).selectinload(Attribute.taxonomy_term),
        selectinload(Service.service_at_locations)
        .selectinload(ServiceAtLocation.location)
        .selectinload("addresses"),
    )


def _view(service: Service) -> ServiceView:
    needs: dict[str, str] = {}
    audiences: list[str] = []
    for attribute in service.attributes:
        term = attribute.taxonomy_term
        if attribute.link_type == NEED_TAXONOMY:
            needs[term.code] = attribute.value or "also"
        elif attribute.link_type == AUDIENCE_TAXONOMY:
            audiences.append(term.code)
    addresses = []
    for sal in service.service_at_locations:
        for a in sal.location.addresses:
            addresses.append(", ".join(p for p in (a.address_1, a.address_2, a.city) if p))
    return ServiceView(
        id=service.id,
        name=service.name,
        organization=service.organization.name,
        description=service.description,
        website=service.url or service.organization.website,
        email=service.email,
        phones=tuple(PhoneView(p.number, p.type, p.description) for p in service.phones),
        hours=tuple(
            hours_mod.from_schedule_row(s.byday, s.opens_at, s.closes_at, s.timezone)
            for s in service.schedules
        ),
        needs=needs,
        audiences=tuple(sorted(audiences)),
        area_keys=tuple(a.place_key for a in service.service_areas),
        addresses=tuple(addresses),
        kaupapa_maori=bool(service.kaupapa_maori),
        free=service.free,
        fees_description=service.fees_description,
        referral=service.referral,
        eligibility=service.eligibility_description,
        source=service.source,
        last_verified=service.last_verified,
        alert=service.alert,
    )


def _locality(view: ServiceView, lineage: list[str]) -> int | None:
    """How local a service is to the place asked (lower is more local).

    None when the service does not serve that place.
    """
    places = gazetteer().places
    ranks = [
        LOCALITY[places[key].kind] if key in places else LOCALITY["country"]
        for key in view.area_keys
        if key in lineage
    ]
    return min(ranks) if ranks else None


def _excluded_by_audience(view: ServiceView, audience: str | None) -> bool:
    """A service only for other groups (Women's Refuge when asking for tāne)."""
    if not audience or not view.audiences or audience in INCLUSIVE_AUDIENCES:
        return False
    return audience not in view.audiences


def _matches_text(view: ServiceView, text: str) -> bool:
    haystack = match_key(" ".join(filter(None, (view.name, view.organization, view.description))))
    return all(f" {word} " in haystack for word in match_key(text).split())


def _candidates(session: Session, query: ServiceQuery, lineage: list[str]) -> list[ServiceView]:
    stmt = (
        select(Service)
        .where(Service.status == "active")
        .where(
            Service.id.in_(select(ServiceArea.service_id).where(ServiceArea.place_key.in_(lineage)))
        )
        .options(*_load_options())
    )
    if query.need:
        needs = {query.need, GENERAL_NEED}
        stmt = stmt.where(
            Service.id.in_(
                select(Attribute.link_id)
                .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
                .where(Attribute.link_type == NEED_TAXONOMY, TaxonomyTerm.code.in_(needs))
            )
        )
    if query.kaupapa_maori:
        stmt = stmt.where(Service.kaupapa_maori.is_(True))
    if query.free:
        stmt = stmt.where(Service.free.is_(True))
    return [_view(s) for s in session.execute(stmt).scalars().unique()]


def _reach(query: ServiceQuery, localities: list[int]) -> str | None:
    """LOCAL, REGIONAL or NATIONAL_ONLY for the nearest of ``localities``, given the place."""
    place = gazetteer().get(query.place)
    if place is None or place.key == NATIONAL or not localities:
        return None
    nearest = min(localities)
    if nearest <= max(LOCALITY["district"], LOCALITY[place.kind]):
        return LOCAL
    return REGIONAL if nearest < LOCALITY["country"] else NATIONAL_ONLY


def _ranked(session: Session, query: ServiceQuery) -> SearchResult:
    lineage = gazetteer().lineage(query.place) if query.place else [NATIONAL]
    at = query.at or clock.now()
    ranked: list[tuple[tuple, ServiceView]] = []
    localities: dict[str, int] = {}
    for view in _candidates(session, query, lineage):
        locality = _locality(view, lineage)
        if locality is None:
            continue
        if _excluded_by_audience(view, query.audience):
            continue
        if query.text and not _matches_text(view, query.text):
            continue
        if query.open_now and not view.is_open(at):
            continue
        specificity = {"primary": 0, "also": 1}.get(view.needs.get(query.need or ""), 2)
        audience_rank = 0 if query.audience and query.audience in view.audiences else 1
        key = (locality, specificity, audience_rank, not view.has_contact, view.name.lower())
        ranked.append((key, view))
        localities[view.id] = locality
    ranked.sort(key=lambda item: item[0])
    services = [view for _, view in ranked]
    specific = [s for s in services if query.need is None or query.need in s.needs]
    reach = _reach(query, [localities[s.id] for s in specific])
    if query.need and not specific:
        return SearchResult(services, fallback=bool(services), localities=localities)
    return SearchResult(services, localities=localities, reach=reach)


def search(session: Session, query: ServiceQuery) -> SearchResult:
    """Services for a need in a place, best first, saying how local the best ones are.

    National services always qualify, so a need is never left without an
    answer; ``reach`` says honestly whether any of them is local. When the
    filters asked for (kaupapa Māori, free, open now) leave nothing for the
    need, they are dropped and named in ``relaxed``: the closest options.
    """
    result = _ranked(session, query)
    if not query.filters or any(
        query.need is None or query.need in s.needs for s in result.services
    ):
        return result
    closest = _ranked(
        session, ServiceQuery(query.need, query.place, query.audience, text=query.text, at=query.at)
    )
    closest.relaxed = query.filters
    return closest


def get_services(session: Session, ids: list[str]) -> list[ServiceView]:
    """Services by id, in the order given; unknown ids are left out."""
    if not ids:
        return []
    rows = session.execute(select(Service).where(Service.id.in_(ids)).options(*_load_options()))
    by_id = {s.id: _view(s) for s in rows.scalars().unique()}
    return [by_id[i] for i in ids if i in by_id]


def find_by_name(session: Session, text: str) -> list[ServiceView]:
    """Services whose name or organisation is mentioned in ``text`` (case and macron blind)."""
    key = match_key(text)
    rows = session.execute(
        select(Service.id, Service.name, Service.alternate_name).where(Service.status == "active")
    ).all()
    hits = [
        row.id
        for row in rows
        if any(name and match_key(name) in key for name in (row.name, row.alternate_name))
    ]
    return get_services(session, hits)


def services_for_need(session: Session, need: str) -> list[ServiceView]:
    """Every active national service for a need, e.g. the crisis lines."""
    result = search(session, ServiceQuery(need=need))
    return [s for s in result.services if need in s.needs]
