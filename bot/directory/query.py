"""Directory queries: the one place that finds and ranks services.

Used by the Rasa actions, and later by the navigators' inbox and the API.
Ranking: local (town) before district before regional before national;
a service whose main need is the one asked for before one that also covers it,
before general services; services for the person's audience before services
for everyone; services with contact details before those without.

Filtering and ranking happen in one SQL statement over ``service_search`` (rows
for the places containing the one asked and the need, read through its primary
key), with a LIMIT; only the services returned are then loaded whole. Names
mentioned in a message are looked up through ``service_words.name_key``. No
query reads every service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from bot import clock
from bot.config import TIMEZONE
from bot.directory import hours as hours_mod
from bot.directory.models import (
    Address,
    Attribute,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceSearch,
    ServiceWords,
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
    # Hours known only as text ("by appointment"): HSDS schedule rows without days.
    hours_text: str | None = None

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
# The most a search returns by default: ten pages of three in a conversation.
MAX_RESULTS = 30
# A message longer than this many words is matched against names in several queries.
_NAMES_PER_QUERY = 500


@dataclass
class SearchResult:
    # The best services, whole (the first ``views`` of ``ids`` when search was given one).
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
    # The ids of the best services, best first (at most the ``limit`` search was given).
    ids: list[str] = field(default_factory=list)


# The columns of ``service`` a view shows.
_SERVICE_COLUMNS = (
    "id",
    "name",
    "description",
    "url",
    "email",
    "kaupapa_maori",
    "free",
    "fees_description",
    "referral",
    "eligibility_description",
    "source",
    "last_verified",
    "alert",
)


def by_service(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Rows by their first column (the service id), in the order read."""
    by_service: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_service[row[0]].append(row)
    return by_service


@lru_cache(maxsize=1)
def _view_statements() -> tuple[Select, ...]:
    """What a view is read from: the service and its organisation, phones, hours, needs and
    audiences, areas and addresses, for the services in the parameter ``ids``."""
    ids = bindparam("ids", expanding=True)
    return (
        select(
            *(getattr(Service, name) for name in _SERVICE_COLUMNS),
            Organization.name.label("organization"),
            Organization.website,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .where(Service.id.in_(ids)),
        select(Phone.service_id, Phone.number, Phone.type, Phone.description)
        .where(Phone.service_id.in_(ids))
        .order_by(Phone.service_id, Phone.position),
        select(
            Schedule.service_id,
            Schedule.byday,
            Schedule.opens_at,
            Schedule.closes_at,
            Schedule.timezone,
            Schedule.description,
        )
        .where(Schedule.service_id.in_(ids))
        .order_by(Schedule.id),
        select(Attribute.link_id, Attribute.link_type, TaxonomyTerm.code, Attribute.value)
        .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
        .where(Attribute.link_entity == "service", Attribute.link_id.in_(ids))
        .order_by(Attribute.id),
        select(ServiceArea.service_id, ServiceArea.place_key)
        .where(ServiceArea.service_id.in_(ids))
        .order_by(ServiceArea.id),
        select(ServiceAtLocation.service_id, Address.address_1, Address.address_2, Address.city)
        .join(Address, Address.location_id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id.in_(ids))
        .order_by(ServiceAtLocation.id, Address.id),
    )


def _views(session: Session, ids: list[str]) -> dict[str, ServiceView]:
    """The services ``ids`` whole, by id: one indexed query per kind of record, read
    afresh each time (what the bot says about a service is never cached)."""
    main, *related = _view_statements()
    connection = session.connection()  # plain rows: the ORM's machinery is not needed
    services = connection.execute(main, {"ids": ids}).all()
    phones, schedules, terms, areas, addresses = (
        by_service(connection.execute(stmt, {"ids": ids})) for stmt in related
    )
    return {
        row.id: _view(
            row, phones[row.id], schedules[row.id], terms[row.id], areas[row.id], addresses[row.id]
        )
        for row in services
    }


def _view(
    row: Row,
    phones: list[Row],
    schedules: list[Row],
    terms: list[Row],
    areas: list[Row],
    addresses: list[Row],
) -> ServiceView:
    needs = {
        code: value or "also" for _, link_type, code, value in terms if link_type == NEED_TAXONOMY
    }
    audiences = sorted(code for _, kind, code, _ in terms if kind == AUDIENCE_TAXONOMY)
    return ServiceView(
        id=row.id,
        name=row.name,
        organization=row.organization,
        description=row.description,
        website=row.url or row.website,
        email=row.email,
        phones=tuple(PhoneView(p.number, p.type, p.description) for p in phones),
        hours=tuple(hours_mod.from_schedule_row(*s[1:5]) for s in schedules if s.byday),
        hours_text="; ".join(s.description for s in schedules if not s.byday and s.description)
        or None,
        needs=needs,
        audiences=tuple(audiences),
        area_keys=tuple(a.place_key for a in areas),
        addresses=tuple(", ".join(part for part in a[1:] if part) for a in addresses),
        kaupapa_maori=bool(row.kaupapa_maori),
        free=row.free,
        fees_description=row.fees_description,
        referral=row.referral,
        eligibility=row.eligibility_description,
        source=row.source,
        last_verified=row.last_verified,
        alert=row.alert,
    )


def locality(place_key: str) -> int:
    """How local a place is (``LOCALITY`` of its kind), as the loader records it."""
    place = gazetteer().get(place_key)
    return LOCALITY[place.kind] if place else LOCALITY["country"]


def _pattern(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere (escaped with "/")."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _containing(column: ColumnElement, name: str) -> ColumnElement:
    return column.like(bindparam(name), escape="/")


def _open_at(rows: Any) -> ColumnElement:
    """A schedule row of the service open at the time given by the parameters ``today``,
    ``yesterday`` (day codes) and ``now`` (wall-clock time), as ``hours.is_open`` reads it.

    A row runs from ``opens_at`` on each of its days to ``closes_at``, on the next
    day when it closes at or before it opens, and to midnight when it closes at 23:59
    (``hours.from_schedule_row``). Compared on New Zealand wall-clock time, the zone
    the loader writes every schedule in; in the hour a daylight-saving change repeats
    or skips, this can differ from ``is_open``'s comparison in UTC.
    """
    now = bindparam("now", type_=Schedule.opens_at.type)
    until_midnight = Schedule.closes_at == hours_mod.END_OF_DAY
    overnight = Schedule.closes_at <= Schedule.opens_at
    return exists().where(
        Schedule.service_id == rows.service_id,
        Schedule.timezone == TIMEZONE,
        or_(
            and_(
                _containing(Schedule.byday, "today"),
                Schedule.opens_at <= now,
                or_(until_midnight, overnight, Schedule.closes_at > now),
            ),
            and_(
                _containing(Schedule.byday, "yesterday"),
                ~until_midnight,
                overnight,
                Schedule.closes_at > now,
            ),
        ),
    )


@dataclass(frozen=True)
class _Shape:
    """What the ranking statement depends on, besides its parameters."""

    need: bool
    audience: bool
    exclude_audience: bool
    kaupapa_maori: bool
    free: bool
    open_now: bool
    words: int
    limited: bool
    dialect: str
    places: int


def _shape(query: ServiceQuery, dialect: str, limit: int | None, places: int) -> _Shape:
    return _Shape(
        need=bool(query.need),
        audience=bool(query.audience),
        exclude_audience=bool(query.audience) and query.audience not in INCLUSIVE_AUDIENCES,
        kaupapa_maori=query.kaupapa_maori,
        free=query.free,
        open_now=query.open_now,
        words=len(match_key(query.text or "").split()),
        limited=limit is not None,
        dialect=dialect,
        places=places,
    )


def _parameters(query: ServiceQuery, lineage: list[str], limit: int | None) -> dict:
    """The values for the ranking statement's parameters."""
    values: dict = {"lineage": lineage, "needs": sorted({query.need or "", GENERAL_NEED})}
    values["need"] = query.need or ""
    # Rows enough for ``limit`` services: at most two per place (the need and "general").
    values["rows"] = limit * len(lineage) * 2 if limit is not None else None
    nearest_first = sorted(lineage, key=locality)
    values |= {f"place{i}": key for i, key in enumerate(nearest_first)}
    values |= {f"locality{i}": locality(key) for i, key in enumerate(nearest_first)}
    values["audience"] = _pattern(f",{query.audience},") if query.audience else ""
    if query.open_now:
        local = (query.at or clock.now()).astimezone(ZoneInfo(TIMEZONE))
        values["today"] = _pattern(hours_mod.DAYS[local.weekday()])
        values["yesterday"] = _pattern(hours_mod.DAYS[(local.weekday() - 1) % 7])
        values["now"] = local.time().replace(tzinfo=None)
    for i, word in enumerate(match_key(query.text or "").split()):
        values[f"word{i}"] = _pattern(f" {word} ")
    return values


def _filters(shape: _Shape, rows: Any) -> list[ColumnElement]:
    """What a row of ``rows`` (``service_search`` or an alias of it) must meet to count,
    wherever it is: the place and need conditions are the caller's."""
    where = []
    if shape.exclude_audience:
        # A service only for other groups (Women's Refuge when asking for tāne) is left out.
        where.append(or_(rows.audiences == "", _containing(rows.audiences, "audience")))
    if shape.kaupapa_maori:
        where.append(rows.kaupapa_maori.is_(True))
    if shape.free:
        where.append(rows.free.is_(True))
    if shape.open_now:
        where.append(
            or_(rows.always_open.is_(True), and_(rows.has_hours.is_(True), _open_at(rows)))
        )
    if shape.words:
        where.append(
            exists().where(
                ServiceWords.service_id == rows.service_id,
                *(_containing(ServiceWords.text_key, f"word{i}") for i in range(shape.words)),
            )
        )
    return where


def _nearest_specific(shape: _Shape) -> ColumnElement:
    """The locality of the nearest service for the need itself, or None: the first of the
    places asked (most local first) with one, each looked for with an EXISTS that stops
    at the first row found."""
    rows = aliased(ServiceSearch)
    return case(
        *(
            (
                exists().where(
                    rows.place_key == bindparam(f"place{i}"),
                    rows.need == bindparam("need"),
                    *_filters(shape, rows),
                ),
                bindparam(f"locality{i}", type_=Integer),
            )
            for i in range(shape.places)
        ),
        else_=null(),
    )


@lru_cache(maxsize=256)
def _ranking(shape: _Shape) -> Select:
    """The rows of the best services, best first (built once per shape).

    A service has a row per place it serves and need it meets, so its best row, the
    first read, carries its nearest locality and its best specificity together; it
    has at most two rows per place asked (the need and "general"; one, its main need,
    when no need is asked), so ``rows`` (the limit) bounds the services found.
    """
    rows = ServiceSearch
    # Ranks the same for every row are left out: PostgreSQL reads a constant in ORDER BY
    # as a column number.
    order: list[ColumnElement] = [rows.locality]
    if shape.need:  # main need, also, general
        order.append(case((rows.need == bindparam("need"), rows.need_rank), else_=2))
    if shape.audience:  # for the audience asked, for everyone
        order.append(case((_containing(rows.audiences, "audience"), 0), else_=1))
    # Python's str order (code points), which PostgreSQL only follows in the "C" collation.
    name = rows.sort_name.collate("C") if shape.dialect == "postgresql" else rows.sort_name
    where = [rows.place_key.in_(bindparam("lineage", expanding=True)), *_filters(shape, rows)]
    if shape.need:
        where.append(rows.need.in_(bindparam("needs", expanding=True)))
    else:
        where.append(rows.need_rank == 0)  # every service has one main need
    nearest = _nearest_specific(shape) if shape.need else null()
    stmt = (
        select(rows.service_id, rows.locality, nearest.label("nearest_specific"))
        .where(*where)
        .order_by(*order, case((rows.has_contact.is_(True), 0), else_=1), name, rows.service_id)
    )
    return stmt.limit(bindparam("rows", type_=Integer)) if shape.limited else stmt


def _reach(query: ServiceQuery, nearest: int | None) -> str | None:
    """LOCAL, REGIONAL or NATIONAL_ONLY for the nearest service for the need, given the place."""
    place = gazetteer().get(query.place)
    if place is None or place.key == NATIONAL or nearest is None:
        return None
    if nearest <= max(LOCALITY["district"], LOCALITY[place.kind]):
        return LOCAL
    return REGIONAL if nearest < LOCALITY["country"] else NATIONAL_ONLY


def _ranked(
    session: Session, query: ServiceQuery, limit: int | None, views: int | None
) -> SearchResult:
    lineage = gazetteer().lineage(query.place) if query.place else [NATIONAL]
    shape = _shape(query, session.get_bind().dialect.name, limit, len(lineage))
    rows = session.connection().execute(_ranking(shape), _parameters(query, lineage, limit)).all()
    localities: dict[str, int] = {}
    for row in rows:  # each service's first row is its best
        localities.setdefault(row.service_id, row.locality)
    ids = list(localities)[:limit]
    localities = {i: localities[i] for i in ids}
    services = get_services(session, ids if views is None else ids[:views])
    if not query.need:
        nearest = rows[0].locality if rows else None
    else:
        nearest = rows[0].nearest_specific if rows else None
    if query.need and nearest is None:
        return SearchResult(services, fallback=bool(rows), localities=localities, ids=ids)
    return SearchResult(services, localities=localities, reach=_reach(query, nearest), ids=ids)


def search(
    session: Session,
    query: ServiceQuery,
    limit: int | None = MAX_RESULTS,
    views: int | None = None,
) -> SearchResult:
    """Services for a need in a place, best first, saying how local the best ones are.

    National services always qualify, so a need is never left without an
    answer; ``reach`` says honestly whether any of them is local. When the
    filters asked for (kaupapa Māori, free, open now) leave nothing for the
    need, they are dropped and named in ``relaxed``: the closest options.

    ``ids`` holds the best ``limit`` services (every one when None); ``services``
    the first ``views`` of them whole (all of them when None): a conversation keeps
    the ids and shows a page.
    """
    result = _ranked(session, query, limit, views)
    if not query.filters or (result.ids and not result.fallback):
        return result
    closest = _ranked(
        session,
        ServiceQuery(query.need, query.place, query.audience, text=query.text, at=query.at),
        limit,
        views,
    )
    closest.relaxed = query.filters
    return closest


def get_services(session: Session, ids: list[str]) -> list[ServiceView]:
    """Services by id, in the order given; unknown ids are left out."""
    if not ids:
        return []
    by_id = _views(session, list(dict.fromkeys(ids)))
    return [by_id[i] for i in ids if i in by_id]


_LONGEST_NAME = select(func.max(ServiceWords.words))
# Two selects, not one with OR: each reads its own index (SQLite would scan for the OR).
_NAMED = union_all(
    *(
        select(ServiceWords.service_id, ServiceWords.name_key, ServiceWords.alternate_key).where(
            column.is_not(None), column.in_(bindparam("runs", expanding=True))
        )
        for column in (ServiceWords.name_key, ServiceWords.alternate_key)
    )
)


def find_by_name(session: Session, text: str) -> list[ServiceView]:
    """Services whose name or organisation is mentioned in ``text`` (case and macron blind),
    in the order the message mentions them.

    A name is mentioned when its words appear together in the message: each run of
    the message's words, up to the longest name, is looked up in the name index.
    """
    key = match_key(text)
    words = key.split()
    connection = session.connection()
    longest = connection.execute(_LONGEST_NAME).scalar() or 0
    runs = sorted(
        {
            f" {' '.join(words[start:end])} "
            for start in range(len(words))
            for end in range(start + 1, min(len(words), start + longest) + 1)
        }
    )
    found: dict[str, int] = {}
    for first in range(0, len(runs), _NAMES_PER_QUERY):
        chunk = runs[first : first + _NAMES_PER_QUERY]
        rows = connection.execute(_NAMED, {"runs": chunk})
        for row in rows:
            names = {row.name_key, row.alternate_key} & set(chunk)
            found[row.service_id] = min(
                [key.find(name) for name in names] + [found.get(row.service_id, len(key))]
            )
    return get_services(session, sorted(found, key=lambda i: (found[i], i)))


def services_for_need(session: Session, need: str) -> list[ServiceView]:
    """Every active national service for a need, e.g. the crisis lines."""
    result = search(session, ServiceQuery(need=need), limit=None)
    return [s for s in result.services if need in s.needs]
