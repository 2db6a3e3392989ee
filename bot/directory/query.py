"""Directory queries: the one place that finds and ranks services.

Used by the Rasa actions, and later by the navigators' inbox and the API.
Ranking: local (town) before district before regional before national;
a service whose main need is the one asked for before one that also covers it,
before general services; services for the person's audience before services
for everyone; services with contact details before those without.

Filtering and ranking happen in SQL over ``service_search`` (a row per service, place
and need): for the place asked, then the district, region and country containing it
until enough services are found, one statement reads the rows of the need in rank
order through an index and stops at the limit; only the services shown are then
loaded, in one statement: as a page shows them (``ServiceSummary``), or whole for a
follow-up (``ServiceView``). Names mentioned in a message are looked up through
``service_words.name_key``. No query reads every service.

Each kind of statement is built once per process (``_Query``); on PostgreSQL it is also
prepared once per connection and then executed with a generic plan (``_execute``), since
planning a search's statements afresh took as long as running them.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from itertools import combinations, groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    String,
    Time,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection, CursorResult, Dialect, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.types import TypeEngine

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
from bot.directory.taxonomy import AUDIENCE_TAXONOMY, NEED_TAXONOMY, taxonomies
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


@dataclass(frozen=True, kw_only=True)
class ServiceSummary:
    """What a page of search results shows of a service (``present.summary``): every field
    comes from the database. A search reads only this for its page (``get_summaries``);
    what a follow-up on a service says needs its whole view (``ServiceView``)."""

    id: str
    name: str
    description: str | None
    website: str | None
    email: str | None
    phones: tuple[PhoneView, ...]
    hours: tuple[hours_mod.Opening, ...]
    kaupapa_maori: bool
    free: bool | None
    fees_description: str | None
    last_verified: date | None
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


@dataclass(frozen=True, kw_only=True)
class ServiceView(ServiceSummary):
    """What the bot may say about a service: its summary and the rest of what a detail,
    the SMS replies and the ranking read. Every field comes from the database."""

    organization: str
    needs: dict[str, str]  # need code -> "primary" | "also"
    audiences: tuple[str, ...]
    area_keys: tuple[str, ...]
    addresses: tuple[str, ...]
    referral: str | None
    eligibility: str | None
    source: str
    alert: str | None = None


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

# A ``service_search`` row is stored once under each facet its service is in: the audience
# part is ``ANY_AUDIENCE`` (every service), ``EVERYONE`` (a service for everyone) or an
# audience the service is for; the filter part the filters it meets (``FACET_FLAGS``, in
# that order). So a search reads the services for an audience, or kaupapa Māori, or free,
# as an index range of their own (``service_search.facet`` before the rank columns)
# instead of reading every service of the place for the need to find them.
ANY_AUDIENCE = "*"
EVERYONE = ""
FACET_FLAGS = (("kaupapa_maori", "k"), ("free", "f"))


def facet(audience: str, filters: Iterable[str] = ()) -> str:
    """The facet of the rows for ``audience`` that meet ``filters`` (names in ``FILTERS``):
    e.g. ``"tane/k"``, ``"*/"``."""
    wanted = set(filters)
    return audience + "/" + "".join(flag for name, flag in FACET_FLAGS if name in wanted)


def facets(audiences: Iterable[str], kaupapa_maori: bool, free: bool | None) -> list[str]:
    """Every facet a service's rows are stored under (``facet``)."""
    met = [name for name, value in (("kaupapa_maori", kaupapa_maori), ("free", free)) if value]
    groups = [ANY_AUDIENCE, *(sorted(audiences) or [EVERYONE])]
    filter_sets = [c for size in range(len(met) + 1) for c in combinations(met, size)]
    return [facet(group, filters) for group in groups for filters in filter_sets]


# How near the nearest service for the need is to the place asked.
LOCAL, REGIONAL, NATIONAL_ONLY = "local", "regional", "national"
# The most a search returns by default: ten pages of three in a conversation.
MAX_RESULTS = 30
# A message longer than this many words is matched against names in several queries.
_NAMES_PER_QUERY = 500


@dataclass
class SearchResult:
    # The best services: when search was given ``views``, the first ``views`` of ``ids`` as a
    # page shows them (``ServiceSummary``), else every one of ``ids`` whole (``ServiceView``).
    services: list[ServiceSummary]
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


class _Query:
    """A statement built once per process, run by ``_execute``; on PostgreSQL prepared
    unless ``prepare`` is False."""

    _numbers = itertools.count()

    def __init__(self, statement: Select, prepare: bool = True) -> None:
        self.statement = statement
        self.prepare = prepare
        self.name = f"awhina_directory_{next(self._numbers)}"
        self._prepared: tuple[str, tuple[str, ...], dict[str, Any]] | None = None

    def prepared(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        """The statement as PostgreSQL's PREPARE takes it, the names of its parameters in
        order (``$1``...), and the values of the constants it was built with.

        The constants (a 0 compared with, the time zone, "general", the limits of a
        part...) stay psycopg2's ``%(name)s``: the PREPARE, run with their values, writes
        them into the statement, so an EXECUTE sends only the search's own values. An
        open-now ranking for an audience had 47 parameters, 34 of them constants, and
        quoting and parsing them on every run took about a quarter of its time."""
        if self._prepared is None:
            compiled = self.statement.compile(dialect=dialect)
            constants = {
                name: bind.effective_value
                for name, bind in compiled.binds.items()
                if not bind.required
            }
            names: list[str] = []

            def numbered(match: re.Match) -> str:
                if match[1] is None or match[1] in constants:  # "%%", or a constant
                    return match[0]
                if match[1] not in names:
                    names.append(match[1])
                return f"${names.index(match[1]) + 1}"

            # The psycopg2 dialect writes parameters "%(name)s" and a literal "%" as "%%"
            # (which psycopg2 writes as "%" when it runs the PREPARE).
            text = re.sub(r"%\((\w+)\)s|%%", numbered, str(compiled))
            self._prepared = text, tuple(names), constants
        return self._prepared


# Where a pooled PostgreSQL connection records the statements prepared on it (the pool
# record's ``info``, emptied when the connection is replaced).
_PREPARED = "awhina_directory_prepared"


def _execute(connection: Connection, query: _Query, values: dict[str, Any]) -> CursorResult:
    """Runs ``query`` with ``values``. On PostgreSQL the first run on a connection prepares
    it, and later runs execute it: the server parses and plans it once per connection
    (``plan_cache_mode`` is ``force_generic_plan``, ``bot.db``) instead of on every call.
    The rows are the same either way: SQLAlchemy converts none of these columns' values
    on PostgreSQL (psycopg2 returns texts, numbers, booleans, dates and times as they are),
    and the parameters' values are psycopg2's to quote, as for any statement."""
    if connection.dialect.name != "postgresql" or not query.prepare:
        return connection.execute(query.statement, values)
    text, names, constants = query.prepared(connection.dialect)
    prepared = connection.connection.info.setdefault(_PREPARED, set())
    if query.name not in prepared:
        connection.exec_driver_sql(f"PREPARE {query.name} AS {text}", constants)
        prepared.add(query.name)
    arguments = ", ".join(f"%({name})s" for name in names)
    return connection.exec_driver_sql(f"EXECUTE {query.name}({arguments})", values)


def by_service(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Rows by their first column (the service id), in the order read."""
    by_service: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_service[row[0]].append(row)
    return by_service


# What a view shows of a service and each kind of record related to it, read in one
# statement: each kind's columns in the same positions (the service's texts, flags and
# date in columns of their own), typed by the first kind (so the times of opening hours
# come back as times), and its order within a service. A summary reads the first three
# kinds only.
_SERVICE, _PHONE, _SCHEDULE, _TERM, _AREA, _ADDRESS = range(6)

# The texts of a service's own row in a view's statement, in order, each with the name
# the view reads it by: what a summary shows (``ServiceSummary``; its website is the
# service's, else its organisation's), then what only a whole view holds (``ServiceView``
# fields of those names).
_SUMMARY_TEXTS: tuple[tuple[str, Any], ...] = (
    ("name", Service.name),
    ("description", Service.description),
    ("url", Service.url),
    ("email", Service.email),
    ("fees_description", Service.fees_description),
    ("website", Organization.website),
)
_DETAIL_TEXTS: tuple[tuple[str, Any], ...] = (
    ("organization", Organization.name),
    ("referral", Service.referral),
    ("eligibility", Service.eligibility_description),
    ("source", Service.source),
    ("alert", Service.alert),
)

# The parts of a ``_related`` row after the kind and the service, each a name (its columns
# are named name0, name1...) and its columns' types: two times, the order (a number and
# two strings), two flags and a date; then the texts, as many as the statement's service
# row has (``_SUMMARY_TEXTS``, and ``_DETAIL_TEXTS`` for whole views).
_PARTS: dict[str, tuple[TypeEngine, ...]] = {
    "time": (Time(),) * 2,
    "o": (Integer(), String(), String()),
    "f": (Boolean(),) * 2,
    "d": (Date(),),
}
# Where each part begins in a row, so that a view reads the row by position.
_TIME, _, _FLAG, _DAY, _T = itertools.accumulate(
    (len(types) for types in _PARTS.values()), initial=2
)


def _related(
    kind: int,
    service_id: ColumnElement,
    texts: tuple[ColumnElement, ...],
    times: tuple[ColumnElement | None, ...] = (),
    order: tuple[ColumnElement | None, ...] = (),
    flags: tuple[ColumnElement, ...] = (),
    day: ColumnElement | None = None,
    *,
    width: int,
) -> Select:
    """One kind's rows: the kind, the service, two times, the order (a number and two
    strings), two flags, a date and ``width`` texts (``t0``...), NULL where the kind has
    none."""

    def typed(name: str, columns: tuple[ColumnElement | None, ...], types: tuple) -> list:
        columns += (None,) * (len(types) - len(columns))
        return [
            (cast(null(), type_) if column is None else column).label(f"{name}{i}")
            for i, (column, type_) in enumerate(zip(columns, types, strict=True))
        ]

    parts = zip(
        (*_PARTS.items(), ("t", (String(),) * width)),
        (times, order, flags, (day,), texts),
        strict=True,
    )
    return select(
        literal_column(str(kind), Integer).label("kind"),
        service_id.label("service_id"),
        *(column for (name, types), columns in parts for column in typed(name, columns, types)),
    )


@lru_cache(maxsize=128)
def _view_statement(count: int, whole: bool) -> _Query:
    """What views are read from, for ``count`` services (parameters ``id0``...), in one
    statement: the services and their organisations, their phones and hours, and for
    ``whole`` views their needs and audiences, areas and addresses, each kind in its own
    order. A summary's statement (not ``whole``) has three kinds of six and six texts of
    eleven: read alone on PostgreSQL, a page of three took 0.30-0.38 ms of the server's
    CPU instead of 0.55-0.65 (bench/results/directory.md, session 11).

    Prepared on PostgreSQL for up to ``MAX_RESULTS`` services, what a conversation shows:
    larger reads (``limit=None``) are rare, and preparing one for every count asked would
    leave each connection holding a prepared statement per count."""
    # A parameter per id (``id0``...), not an expanding one: SQLAlchemy would rewrite the
    # statement's text on every call, which costs more than reading a page's records.
    ids = [bindparam(f"id{i}") for i in range(count)]
    texts = _SUMMARY_TEXTS + (_DETAIL_TEXTS if whole else ())
    width = len(texts)
    kinds = [
        _related(
            _SERVICE,
            Service.id,
            tuple(column for _, column in texts),
            flags=(Service.kaupapa_maori, Service.free),
            day=Service.last_verified,
            width=width,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .where(Service.id.in_(ids)),
        _related(
            _SCHEDULE,
            Schedule.service_id,
            (Schedule.byday, Schedule.timezone, Schedule.description),
            (Schedule.opens_at, Schedule.closes_at),
            (None, Schedule.id),
            width=width,
        ).where(Schedule.service_id.in_(ids)),
        _related(
            _PHONE,
            Phone.service_id,
            (Phone.number, Phone.type, Phone.description),
            order=(Phone.position, Phone.id),
            width=width,
        ).where(Phone.service_id.in_(ids)),
    ]
    if whole:
        kinds += [
            _related(
                _TERM,
                Attribute.link_id,
                (Attribute.link_type, TaxonomyTerm.code, Attribute.value),
                order=(Attribute.id,),
                width=width,
            )
            .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
            .where(Attribute.link_entity == "service", Attribute.link_id.in_(ids)),
            _related(
                _AREA,
                ServiceArea.service_id,
                (ServiceArea.place_key,),
                order=(None, ServiceArea.id),
                width=width,
            ).where(ServiceArea.service_id.in_(ids)),
            _related(
                _ADDRESS,
                ServiceAtLocation.service_id,
                (Address.address_1, Address.address_2, Address.city),
                order=(None, ServiceAtLocation.id, Address.id),
                width=width,
            )
            .join(Address, Address.location_id == ServiceAtLocation.location_id)
            .where(ServiceAtLocation.service_id.in_(ids)),
        ]
    rows = union_all(*(select(kind.subquery()) for kind in kinds)).subquery("rows")
    order = (rows.c.kind, rows.c.service_id, rows.c.o0, rows.c.o1, rows.c.o2)
    return _Query(select(rows).order_by(*order), prepare=count <= MAX_RESULTS)


def _rows(session: Session, ids: list[str], whole: bool) -> list[dict[str, list[Row]]]:
    """The rows of the views of ``ids`` (``_view_statement``), by kind and then by service,
    read afresh each time (what the bot says about a service is never cached).

    Rows are fetched at once and read by position: a row at a time, by column name,
    SQLAlchemy's per-row work cost more than reading a page's records."""
    values = {f"id{i}": value for i, value in enumerate(ids)}
    connection = session.connection()  # plain rows: the ORM's machinery is not needed
    kinds: list[dict[str, list[Row]]] = [defaultdict(list) for _ in range(6)]
    for row in _execute(connection, _view_statement(len(ids), whole), values).all():
        kinds[row[0]][row[1]].append(row)
    return kinds


def _summary_fields(row: Row, phones: list[Row], schedules: list[Row]) -> dict[str, Any]:
    """A ``ServiceSummary``'s fields from its service's row and its phones' and schedules'
    rows (``_related``): the same in a summary's statement and a whole view's."""
    names = [name for name, _ in _SUMMARY_TEXTS]
    texts = dict(zip(names, row[_T : _T + len(names)], strict=True))
    return {
        "id": row[1],
        "name": texts["name"],
        "description": texts["description"],
        "website": texts["url"] or texts["website"],
        "email": texts["email"],
        "phones": tuple(PhoneView(*p) for p in _texts(phones, 3)),
        "hours": tuple(
            hours_mod.from_schedule_row(s[_T], s[_TIME], s[_TIME + 1], s[_T + 1])
            for s in schedules
            if s[_T]
        ),
        "hours_text": "; ".join(s[_T + 2] for s in schedules if not s[_T] and s[_T + 2]) or None,
        "kaupapa_maori": bool(row[_FLAG]),
        "free": row[_FLAG + 1],
        "fees_description": texts["fees_description"],
        "last_verified": row[_DAY],
    }


def _summary(row: Row, phones: list[Row], schedules: list[Row]) -> ServiceSummary:
    """A summary from its service's row and its phones' and schedules' rows."""
    return ServiceSummary(**_summary_fields(row, phones, schedules))


def _view(
    row: Row,
    phones: list[Row],
    schedules: list[Row],
    terms: list[Row],
    areas: list[Row],
    addresses: list[Row],
) -> ServiceView:
    """A view from its service's row and its related rows of each kind (``_related``)."""
    detail = zip((name for name, _ in _DETAIL_TEXTS), row[_T + len(_SUMMARY_TEXTS) :], strict=True)
    needs = {
        code: value or "also"
        for link_type, code, value in _texts(terms, 3)
        if link_type == NEED_TAXONOMY
    }
    audiences = sorted(code for kind, code, _ in _texts(terms, 3) if kind == AUDIENCE_TAXONOMY)
    return ServiceView(
        **_summary_fields(row, phones, schedules),
        **dict(detail),
        needs=needs,
        audiences=tuple(audiences),
        area_keys=tuple(a[_T] for a in areas),
        addresses=tuple(", ".join(part for part in a if part) for a in _texts(addresses, 3)),
    )


def _texts(rows: list[Row], count: int) -> list[tuple]:
    """The first ``count`` text columns of related rows (``_related``)."""
    return [tuple(row[_T : _T + count]) for row in rows]


def locality(place_key: str) -> int:
    """How local a place is (``LOCALITY`` of its kind), as the loader records it."""
    place = gazetteer().get(place_key)
    return LOCALITY[place.kind] if place else LOCALITY["country"]


def _pattern(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere (escaped with "/")."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _containing(column: ColumnElement, name: str) -> ColumnElement:
    """``column`` LIKE the pattern in the parameter ``name`` (``_pattern``).

    The pattern is an expression (a cast to text, which leaves it as it is), not the bare
    parameter: for ``LIKE ?`` in a WHERE clause SQLite's planner notes that its plan may
    depend on the value (the LIKE optimisation), and compiles the statement again whenever
    a value is bound to that parameter (or, past the 31st, to any) - with Python's sqlite3,
    every time the statement runs. An open-now ranking statement (two such LIKEs in its
    schedule subquery) took 1-2 ms a run so, 0.4-0.7 ms without."""
    return column.like(cast(bindparam(name), String), escape="/")


def containing_text(column: ColumnElement, text: str) -> ColumnElement:
    """``column`` containing ``text`` anywhere: LIKE its pattern (``_pattern``), written as
    an expression for the reason ``_containing`` gives."""
    return column.like(cast(literal(_pattern(text)), String), escape="/")


def _open_at(byday: Any, opens_at: Any, closes_at: Any) -> ColumnElement:
    """A schedule row (its columns ``byday``, ``opens_at``, ``closes_at``) open at the time
    given by the parameters ``today``, ``yesterday`` (day codes) and ``now`` (wall-clock
    time), as ``hours.is_open`` reads it.

    A row runs from ``opens_at`` on each of its days to ``closes_at``, on the next
    day when it closes at or before it opens, and to midnight when it closes at 23:59
    (``hours.from_schedule_row``). Compared on New Zealand wall-clock time, the zone
    the loader writes every schedule in; in the hour a daylight-saving change repeats
    or skips, this can differ from ``is_open``'s comparison in UTC.
    """
    now = bindparam("now", type_=Schedule.opens_at.type)
    until_midnight = closes_at == hours_mod.END_OF_DAY
    overnight = closes_at <= opens_at
    return or_(
        and_(
            _containing(byday, "today"),
            opens_at <= now,
            or_(until_midnight, overnight, closes_at > now),
        ),
        and_(_containing(byday, "yesterday"), ~until_midnight, overnight, closes_at > now),
    )


DAY_SECONDS = 24 * 60 * 60


def _second(at: time) -> int:
    """The second of the day ``at`` is in (a fraction of a second left out)."""
    return at.hour * 3600 + at.minute * 60 + at.second


def opening_numbers(byday: str, opens_at: time, closes_at: time) -> tuple[int, int, int]:
    """A schedule row as a search row keeps it (``ServiceSearch.open_days``,
    ``opens_second``, ``closes_second``): its days as bits (bit i for ``hours.DAYS[i]``),
    and the seconds of the day it opens and closes, the closing counted from the day it
    opens: 86,400 (midnight) when it closes at 23:59, and a day later than the time when
    it closes at or before it opens (``_open_at``, ``hours.from_schedule_row``).

    ``_open_now`` then compares them with the second of the day it is (``_parameters``)
    as ``_open_at`` compares the times: the same for times to the second, as our data
    and HSDS give them."""
    days = sum(1 << hours_mod.DAYS.index(day) for day in hours_mod.parse_days(byday))
    if closes_at == hours_mod.END_OF_DAY:
        closes = DAY_SECONDS
    else:
        closes = _second(closes_at) + (DAY_SECONDS if closes_at <= opens_at else 0)
    return days, _second(opens_at), closes


def _open_now(rows: Any) -> ColumnElement:
    """A row of ``service_search`` whose service is open at the time the parameters give:
    open all week; or its one schedule row, kept in the row as numbers
    (``opening_numbers``), is open: opened today and not yet closed, or opened yesterday
    and closing after the time it is now counted from yesterday; or it has several and one
    of them is open (read from ``schedule``, ``_open_at``)."""
    schedule = exists().where(
        Schedule.service_id == rows.service_id,
        Schedule.timezone == TIMEZONE,
        _open_at(Schedule.byday, Schedule.opens_at, Schedule.closes_at),
    )

    def on(day: str) -> ColumnElement:
        return rows.open_days.op("&")(bindparam(day, type_=Integer)) != 0

    second = bindparam("second", type_=Integer)
    return or_(
        rows.always_open.is_(True),
        and_(on("today_bit"), rows.opens_second <= second, rows.closes_second > second),
        and_(
            on("yesterday_bit"),
            rows.closes_second > bindparam("second_from_yesterday", type_=Integer),
        ),
        and_(rows.open_days.is_(None), rows.has_hours.is_(True), schedule),
    )


@dataclass(frozen=True)
class _Shape:
    """What the ranking statement depends on, besides its parameters."""

    need: bool
    general: bool  # "general" services rank after those for the need asked
    audience: bool
    exclude_audience: bool
    open_now: bool  # kaupapa Māori and free are in the facets read (parameters)
    words: int
    limited: bool
    dialect: str
    places: int


def _shape(query: ServiceQuery, dialect: str, limit: int | None, places: int) -> _Shape:
    return _Shape(
        need=bool(query.need),
        general=bool(query.need) and query.need != GENERAL_NEED,
        audience=bool(query.audience),
        exclude_audience=bool(query.audience) and query.audience not in INCLUSIVE_AUDIENCES,
        open_now=query.open_now,
        words=len(match_key(query.text or "").split()),
        limited=limit is not None,
        dialect=dialect,
        places=places,
    )


def _parameters(query: ServiceQuery, places: list[str], limit: int | None) -> dict:
    """The values for the ranking statement's parameters, for ``places``."""
    values: dict = {"need": query.need or "", "rows": limit}
    values |= {f"place{i}": key for i, key in enumerate(places)}
    values["audience"] = _pattern(f",{query.audience},") if query.audience else ""
    in_facet = [name for name, _ in FACET_FLAGS if getattr(query, name)]
    for i, group in enumerate(_audience_groups(query.audience)):
        values[f"facet{i}"] = facet(group, in_facet)
    if query.open_now:
        local = (query.at or clock.now()).astimezone(ZoneInfo(TIMEZONE))
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        values["today"] = _pattern(hours_mod.DAYS[today])
        values["yesterday"] = _pattern(hours_mod.DAYS[yesterday])
        values["now"] = local.time().replace(tzinfo=None)
        values["today_bit"], values["yesterday_bit"] = 1 << today, 1 << yesterday
        values["second"] = _second(local.time())
        values["second_from_yesterday"] = values["second"] + DAY_SECONDS
    for i, word in enumerate(match_key(query.text or "").split()):
        values[f"word{i}"] = _pattern(f" {word} ")
    return values


def _filters(shape: _Shape, rows: Any) -> list[ColumnElement]:
    """What a row of ``rows`` (``service_search`` or an alias of it) must meet to count,
    wherever it is: the place and need conditions are the caller's."""
    where = []
    # The audience, kaupapa Māori and free are the part's facet (``_parts``).
    if shape.open_now:
        where.append(_open_now(rows))
    if shape.words:
        where.append(
            exists().where(
                ServiceWords.service_id == rows.service_id,
                *(_containing(ServiceWords.text_key, f"word{i}") for i in range(shape.words)),
            )
        )
    return where


def _rank_order(shape: _Shape, rows: Any) -> list[ColumnElement]:
    """The order of the rows of ``rows``, best first: nearest place, then (when a need is
    asked) main need, also, general, then (when an audience is asked) for the audience
    before for everyone, then with contact details, name and id.

    Ranks the same for every row are left out: PostgreSQL reads a constant in ORDER BY
    as a column number.
    """
    order: list[ColumnElement] = [rows.locality]
    if shape.need:
        order.append(case((rows.need == bindparam("need"), rows.need_rank), else_=2))
    if shape.audience:
        order.append(case((_containing(rows.audiences, "audience"), 0), else_=1))
    # Python's str order (code points): PostgreSQL's "C" collation, SQLite's BINARY.
    name = rows.sort_name.collate("C") if shape.dialect == "postgresql" else rows.sort_name
    return [*order, case((rows.has_contact.is_(True), 0), else_=1), name, rows.service_id]


def _audience_groups(audience: str | None) -> list[str]:
    """The audience parts of the facets a search reads (parameters ``facet0``...): every
    service; or the services for the audience, then those for everyone (a service only
    for other groups, Women's Refuge when asking for tāne, is left out), or with an
    inclusive audience (whānau) every service, of which the part keeps those not for it."""
    if not audience:
        return [ANY_AUDIENCE]
    return [audience, ANY_AUDIENCE if audience in INCLUSIVE_AUDIENCES else EVERYONE]


def _parts(shape: _Shape) -> list[tuple[bool, list[ColumnElement]]]:
    """The conditions of the parts a search reads, each an index range read in rank order,
    and whether the part holds "general" services (asked for another need).

    Together the parts hold every row the search ranks: for each place asked, the rows of
    the need (ranked main need before also by the index), of "general" with each need
    rank (ranked alike, so read as two parts), or with no need asked the main-need rows;
    each the rows of the facet asked (the filters kaupapa Māori and free met), split
    into for-the-audience and the rest when an audience is asked (``_audience_groups``).
    Within a part the rank is that of ``ix_service_search_need_order``
    (``..._main_order``): need rank, contact, name, id.
    """
    rows = ServiceSearch
    needs: list[tuple[bool, list[ColumnElement]]]
    if not shape.need:
        needs = [(False, [rows.need_rank == 0])]  # every service has one main need
    else:
        needs = [(False, [rows.need == bindparam("need")])]
        if shape.general:
            needs += [(True, [rows.need == GENERAL_NEED, rows.need_rank == r]) for r in (0, 1)]
    audiences: list[list[ColumnElement]] = [[rows.facet == bindparam("facet0")]]
    if shape.audience:
        rest = [rows.facet == bindparam("facet1")]
        if not shape.exclude_audience:  # every service, less those for the audience
            rest.append(~_containing(rows.audiences, "audience"))
        audiences.append(rest)
    return [
        (general, [rows.place_key == bindparam(f"place{i}"), *need, *audience])
        for i in range(shape.places)
        for general, need in needs
        for audience in audiences
    ]


@lru_cache(maxsize=256)
def _ranking(shape: _Shape) -> _Query:
    """The rows of the best services in the places of one locality, best first (built
    once per shape).

    A service has a row per place it serves and need it meets, so its best row, the
    first read, carries its nearest locality and its best specificity together. Each
    part (``_parts``) is read in rank order and stops after ``rows`` (the limit) rows
    that pass the filters: a service appears once in a part, so no part has more rows
    before the limit-th service than that, and the union ranked again holds the best
    ``rows`` services in order. A part for the need has a row when its place has a
    service for the need itself, which ``reach`` needs.

    "General" services rank after every service for the need in the same locality, so
    when the parts for the need hold ``rows`` services the general parts are not read:
    their limit is then 0 (a limit is worked out once, before any row is read; a
    condition in the WHERE clause would be tested on every row of the range). With open
    now too: in a town with a few dozen services for the need, its open ones fill the
    limit, and the general parts (rows read until ``rows`` of them are open) were most of
    the statement's work.
    """
    rows = ServiceSearch
    # What a part reads through its index, in that index's order.
    within = (rows.need_rank, rows.has_contact.desc(), rows.sort_name, rows.service_id)
    columns = (
        rows.service_id,
        rows.locality,
        rows.need,
        rows.need_rank,
        rows.audiences,
        rows.has_contact,
        rows.sort_name,
    )

    def part(where: list[ColumnElement], limit: ColumnElement | None = None) -> Select:
        read = select(*columns).where(*where, *_filters(shape, rows)).order_by(*within)
        if shape.limited:
            read = read.limit(bindparam("rows", type_=Integer) if limit is None else limit)
        return select(read.subquery())

    parts = _parts(shape)
    own = [part(where) for general, where in parts if not general]
    general = [where for is_general, where in parts if is_general]
    limit = None
    if shape.limited and general:
        found = union_all(*own).cte("found")
        # A service is in one part for the need per place: counted once with one place.
        count = func.count(func.distinct(found.c.service_id)) if shape.places > 1 else func.count()
        short = select(count).select_from(found).scalar_subquery() < bindparam("rows")
        limit = case((short, bindparam("rows", type_=Integer)), else_=0)
        own = [select(found)]
    ranked = union_all(*own, *(part(where, limit) for where in general)).subquery("ranked")
    return _Query(
        select(ranked.c.service_id, ranked.c.locality, ranked.c.need).order_by(
            *_rank_order(shape, ranked.c)
        )
    )


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
    """The ranking, read one locality at a time, nearest first (the town, then its district,
    region and the country): locality ranks first, so it stops once it has ``limit``
    services and knows the nearest place with a service for the need."""
    lineage = gazetteer().lineage(query.place) if query.place else [NATIONAL]
    dialect = session.get_bind().dialect.name
    localities: dict[str, int] = {}
    found = False  # any row at all
    nearest: int | None = None  # the nearest locality with a row for the need asked
    for near, group in groupby(sorted(lineage, key=locality), key=locality):
        places = list(group)
        shape = _shape(query, dialect, limit, len(places))
        values = _parameters(query, places, limit)
        rows = _execute(session.connection(), _ranking(shape), values).all()
        for service_id, service_locality, need in rows:  # each service's first row is its best
            localities.setdefault(service_id, service_locality)
            found = True
            if nearest is None and (not query.need or need == query.need):
                nearest = near
        if limit is not None and len(localities) >= limit and nearest is not None:
            break
    ids = list(localities)[:limit]
    localities = {i: localities[i] for i in ids}
    services = get_services(session, ids) if views is None else get_summaries(session, ids[:views])
    if query.need and nearest is None:
        return SearchResult(services, fallback=found, localities=localities, ids=ids)
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
    the first ``views`` of them as a page shows them (``get_summaries``), or all of them
    whole when ``views`` is None: a conversation keeps the ids, shows a page and reads a
    service whole when asked about it (``get_services``).
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


def warm_up(session: Session, page: int = 3) -> None:
    """Runs a search of each shape a conversation asks for, in a town, with a page of
    ``page`` summaries (a need, "general" or none; no audience, one or an inclusive one;
    open now or not), and reads one to ``page`` services as summaries and whole. A process
    builds and compiles each kind of statement the first time it runs it (10-40 ms each),
    which a server can do at start instead of in its first conversations; on PostgreSQL
    this also prepares them on the connection used."""
    town = next(p.key for p in gazetteer().places.values() if p.kind == "town")
    need = next(n for n in taxonomies().needs if n != GENERAL_NEED)
    exclusive = next(a for a in taxonomies().audiences if a not in INCLUSIVE_AUDIENCES)
    for needed, audience, open_now in itertools.product(
        (need, GENERAL_NEED, None), (None, exclusive, *INCLUSIVE_AUDIENCES), (False, True)
    ):
        query = ServiceQuery(needed, town, audience, open_now=open_now)
        found = search(session, query, views=page)
        for count in range(1, page + 1):
            get_summaries(session, found.ids[:count])
            get_services(session, found.ids[:count])


def _read(session: Session, ids: list[str], whole: bool) -> list[Any]:
    """The services ``ids`` in the order given, whole (``_view``) or as summaries, in one
    indexed statement; unknown ids are left out."""
    if not ids:
        return []
    kinds = _rows(session, list(dict.fromkeys(ids)), whole)
    make, related = (_view, range(_PHONE, 6)) if whole else (_summary, (_PHONE, _SCHEDULE))
    by_id = {
        service_id: make(row, *(kinds[kind][service_id] for kind in related))
        for service_id, (row,) in kinds[_SERVICE].items()
    }
    return [by_id[i] for i in ids if i in by_id]


def get_services(session: Session, ids: list[str]) -> list[ServiceView]:
    """Services by id, whole, in the order given; unknown ids are left out."""
    return _read(session, ids, whole=True)


def get_summaries(session: Session, ids: list[str]) -> list[ServiceSummary]:
    """Services by id as a page of results shows them (``ServiceSummary``), in the order
    given; unknown ids are left out. Half the statement ``get_services`` runs: no needs,
    audiences, areas or addresses."""
    return _read(session, ids, whole=False)


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
    ids = search(session, ServiceQuery(need=need), limit=None, views=0).ids
    return [s for s in get_services(session, ids) if need in s.needs]
