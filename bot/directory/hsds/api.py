"""The HSDS 3.0 API, read only, under ``/api/hsds/``: paged lists of services,
organizations, taxonomies, taxonomy terms and services at locations, and a service or
organization fully nested by id (``schema/openapi.json`` of the specification).

Each request reads the directory afresh, so an edit or import is served at once, and
reads only what it returns: a list filters, counts and pages in SQL (LIMIT and OFFSET
in id order), a record is found by its indexed HSDS id, and the objects returned are
built from the records of the page alone (``tables.Scope``) by the same code as the
JSON export. Searching text compares each word case blind (``bot.db.casefolded``,
every letter folded, "Ō" as "ō", on SQLite too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.db import casefolded, run_db
from bot.directory import models as dm
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.objects import Directory
from bot.directory.hsds.tables import Row, Scope, facts, hsds_row, tables
from bot.directory.query import containing_text

PREFIX = "/api/hsds"
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 50
BOOLEAN = {"true": True, "false": False}
# The HSDS 3.0 API description this API follows (the specification's branch 3.0).
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"


class BadParameter(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _error(status: int, error: str, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


@dataclass(frozen=True)
class Query:
    """The query parameters of one request, checked against what its endpoint takes."""

    values: dict[str, str]

    @classmethod
    def of(cls, request: web.Request, allowed: Iterable[str]) -> Query:
        allowed = set(allowed)
        for name in request.query:
            if name not in allowed:
                raise BadParameter(
                    name,
                    f"unknown parameter {name!r}; this endpoint takes "
                    f"{', '.join(sorted(allowed)) or 'none'}",
                )
        for name in set(request.query):
            if len(request.query.getall(name)) > 1:
                raise BadParameter(name, f"{name!r} is given more than once")
        return cls(dict(request.query))

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value.strip() if value and value.strip() else None

    def integer(self, name: str, default: int, maximum: int | None = None) -> int:
        value = self.values.get(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) < 1:
            raise BadParameter(name, f"{name!r} must be a whole number from 1, not {value!r}")
        if maximum is not None and int(value) > maximum:
            raise BadParameter(name, f"{name!r} must be at most {maximum}")
        return int(value)

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if value is None:
            return False
        if value.lower() not in BOOLEAN:
            raise BadParameter(name, f"{name!r} must be true or false, not {value!r}")
        return BOOLEAN[value.lower()]

    def moment(self, name: str) -> datetime | None:
        value = self.values.get(name)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadParameter(name, f"{name!r} must be an ISO 8601 date-time") from None


PAGING = ("page", "per_page", "format")
SEARCH = ("search", *PAGING)
SERVICE_FILTERS = ("taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after")


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @classmethod
    def of(cls, query: Query) -> Paging:
        if query.values.get("format", "json") != "json":
            raise BadParameter("format", "only format=json is served")
        return cls(
            query.integer("page", 1), query.integer("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        )

    def rows(self, session: Session, statement: Any, order: Any) -> tuple[int, list[Any]]:
        """How many rows ``statement`` selects, and this page of them in ``order``."""
        total = session.execute(
            select(func.count()).select_from(statement.order_by(None).subquery())
        ).scalar_one()
        offset = (self.page - 1) * self.per_page
        page = session.execute(statement.order_by(order).limit(self.per_page).offset(offset))
        return total, list(page.scalars())

    def slice(self, items: list[Any]) -> list[Any]:
        """This page of ``items`` (a small table read whole)."""
        return items[(self.page - 1) * self.per_page : self.page * self.per_page]

    def body(self, total: int, contents: list[Any]) -> dict[str, Any]:
        total_pages = max(1, math.ceil(total / self.per_page))
        return {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": self.page,
            "size": len(contents),
            "first_page": self.page == 1,
            "last_page": self.page >= total_pages,
            "empty": not contents,
            "contents": contents,
        }


def _words(words: str | None, columns: Iterable[Any]) -> ColumnElement:
    """Every word of ``words`` (case blind) in one of ``columns``."""
    if not words:
        return true()
    columns = list(columns)
    return and_(
        *(
            or_(*(containing_text(casefolded(c), word) for c in columns))
            for word in words.casefold().split()
        )
    )


def _matches(row: Row, words: str | None, fields: tuple[str, ...]) -> bool:
    """``_words`` on a row read whole (the taxonomies)."""
    if not words:
        return True
    text = " ".join(str(row.get(f, "")) for f in fields).casefold()
    return all(word in text for word in words.casefold().split())


def _with_term(session: Session, field: str, value: str) -> ColumnElement:
    """Services with an attribute whose term's HSDS ``field`` ("id" or "taxonomy_id") is
    ``value``: our terms linked to the service, or the facts ``tables`` gives every
    service (kaupapa Māori when it is, referral when known, source always)."""
    ours = [
        term_id
        for term_id, taxonomy_id in session.execute(
            select(dm.TaxonomyTerm.id, dm.TaxonomyTerm.taxonomy_id)
        )
        if (
            hsds_id("taxonomy_term", term_id) if field == "id" else hsds_id("taxonomy", taxonomy_id)
        )
        == value
    ]
    f = facts()
    on_service = {
        "kaupapa_maori": dm.Service.kaupapa_maori.is_(True),
        "referral": dm.Service.referral.is_not(None),
        "source": true(),
    }
    codes = [
        code
        for code in on_service
        if (f.term_id(code) if field == "id" else hsds_id("taxonomy", f.taxonomy_id)) == value
    ]
    linked = exists().where(
        dm.Attribute.link_entity == "service",
        dm.Attribute.link_id == dm.Service.id,
        dm.Attribute.taxonomy_term_id.in_(ours),
    )
    return or_(linked, *(on_service[code] for code in codes))


def _service_filter(session: Session, query: Query) -> list[ColumnElement]:
    """Services matching ``search``, ``taxonomy_term_id``, ``taxonomy_id``,
    ``organization_id`` and ``modified_after``."""
    service = dm.Service
    where = [
        _words(query.text("search"), (service.name, service.alternate_name, service.description))
    ]
    organization = query.text("organization_id")
    if organization:
        owner = select(dm.Organization.id).where(dm.Organization.hsds_id == organization)
        where.append(service.organization_id == owner.scalar_subquery())
    after = query.moment("modified_after")
    if after is not None:
        if after.tzinfo is not None:  # stored in UTC, without a zone
            after = after.astimezone(timezone.utc).replace(tzinfo=None)
        where.append(service.last_modified >= after)
    term, taxonomy = query.text("taxonomy_term_id"), query.text("taxonomy_id")
    if term:
        where.append(_with_term(session, "id", term))
    if taxonomy:
        where.append(_with_term(session, "taxonomy_id", taxonomy))
    return where


def _json(handler: Callable[[Session, web.Request], Any]) -> Callable:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            result = await run_db(handler, request)
        except BadParameter as exc:
            return _error(400, "bad_parameter", str(exc), parameter=exc.parameter)
        if isinstance(result, web.Response):
            return result
        return web.json_response(result)

    return wrapped


def _not_found(kind: str, record_id: str) -> web.Response:
    return _error(404, "not_found", f"no {kind} with id {record_id!r}")


def _directory(session: Session, **records: Iterable[str]) -> Directory:
    """The records asked for (our ids, by kind) and all they nest, as HSDS tables."""
    return Directory(tables(session, Scope.around(session, **records)))


def _page(
    session: Session,
    paging: Paging,
    statement: Any,
    order: Any,
    kind: str,
    nested: Callable[[Directory, str], Any] | None,
) -> Any:
    """The page of ``kind`` records ``statement`` finds: each record's own row, or, given
    ``nested`` (``full=true``), what ``nested(directory, hsds_id)`` makes of each record
    and all it nests."""
    total, found = paging.rows(session, statement, order)
    if nested is None:
        return paging.body(total, [hsds_row(kind, record) for record in found])
    directory = _directory(session, **{f"{kind}s": [record.id for record in found]})
    return paging.body(total, [nested(directory, hsds_id(kind, record.id)) for record in found])


def _by_hsds_id(session: Session, model: Any, record_id: str) -> str | None:
    """Our id of the record of ``model`` published as ``record_id``."""
    return session.execute(select(model.id).where(model.hsds_id == record_id)).scalar()


@_json
def services(session: Session, request: web.Request) -> Any:
    query = Query.of(request, (*SEARCH, *SERVICE_FILTERS, "minimal", "full"))
    paging = Paging.of(query)
    minimal, full = query.boolean("minimal"), query.boolean("full")
    statement = select(dm.Service).where(*_service_filter(session, query))
    total, found = paging.rows(session, statement, dm.Service.id)
    if minimal:
        rows = [hsds_row("service", s) for s in found]
        contents = [{k: s[k] for k in ("id", "last_modified") if k in s} for s in rows]
    elif full:
        directory = _directory(session, services=[s.id for s in found])
        contents = [directory.service(hsds_id("service", s.id)) for s in found]
    else:
        contents = [hsds_row("service", s) for s in found]
    return paging.body(total, contents)


@_json
def service(session: Session, request: web.Request) -> Any:
    Query.of(request, ())
    record_id = request.match_info["id"]
    ours = _by_hsds_id(session, dm.Service, record_id)
    if ours is None:
        return _not_found("service", record_id)
    return _directory(session, services=[ours]).service(record_id)


@_json
def organizations(session: Session, request: web.Request) -> Any:
    query = Query.of(request, (*SEARCH, "full", "full_service"))
    paging = Paging.of(query)
    full, full_service = query.boolean("full"), query.boolean("full_service")
    o = dm.Organization
    statement = select(o).where(
        _words(query.text("search"), (o.name, o.alternate_name, o.description))
    )
    return _page(
        session,
        paging,
        statement,
        o.id,
        "organization",
        (lambda directory, record_id: directory.organization(record_id, full_service))
        if full
        else None,
    )


@_json
def organization(session: Session, request: web.Request) -> Any:
    query = Query.of(request, ("full_service",))
    full_service = query.boolean("full_service")
    record_id = request.match_info["id"]
    ours = _by_hsds_id(session, dm.Organization, record_id)
    if ours is None:
        return _not_found("organization", record_id)
    return _directory(session, organizations=[ours]).organization(record_id, full_service)


def _taxonomies(session: Session) -> Directory:
    """The taxonomies and their terms (every one: a small table), with nothing else."""
    return Directory(tables(session, Scope()))


@_json
def taxonomies(session: Session, request: web.Request) -> Any:
    query = Query.of(request, SEARCH)
    paging, search = Paging.of(query), query.text("search")
    found = [
        t
        for t in _taxonomies(session).tables["taxonomy"]
        if _matches(t, search, ("name", "description"))
    ]
    return paging.body(len(found), paging.slice(found))


@_json
def taxonomy_terms(session: Session, request: web.Request) -> Any:
    query = Query.of(request, (*SEARCH, "taxonomy_id", "top_only", "parent_id"))
    paging = Paging.of(query)
    search, taxonomy = query.text("search"), query.text("taxonomy_id")
    parent, top_only = query.text("parent_id"), query.boolean("top_only")
    found = [
        t
        for t in _taxonomies(session).tables["taxonomy_term"]
        if _matches(t, search, ("name", "code", "description"))
        and (not taxonomy or t.get("taxonomy_id") == taxonomy)
        and (not parent or t.get("parent_id") == parent)
        and (not top_only or "parent_id" not in t)
    ]
    return paging.body(len(found), paging.slice(found))


@_json
def service_at_locations(session: Session, request: web.Request) -> Any:
    query = Query.of(
        request,
        (*SEARCH, *SERVICE_FILTERS, "full", "postcode", "proximity"),
    )
    if query.text("proximity"):
        raise BadParameter("proximity", "'proximity' is not supported: no postcode centroids")
    paging, full = Paging.of(query), query.boolean("full")
    at = dm.ServiceAtLocation
    statement = (
        select(at)
        .join(dm.Service, dm.Service.id == at.service_id)
        .where(*_service_filter(session, query))
    )
    postcode = (query.text("postcode") or "").replace(" ", "").upper()
    if postcode:
        code = func.upper(func.replace(dm.Address.postal_code, " ", ""))
        statement = statement.where(
            exists().where(dm.Address.location_id == at.location_id, code == postcode)
        )
    return _page(
        session,
        paging,
        statement,
        at.id,
        "service_at_location",
        Directory.service_at_location if full else None,
    )


@_json
def service_at_location(session: Session, request: web.Request) -> Any:
    Query.of(request, ())
    record_id = request.match_info["id"]
    ours = _by_hsds_id(session, dm.ServiceAtLocation, record_id)
    if ours is None:
        return _not_found("service_at_location", record_id)
    return _directory(session, service_at_locations=[ours]).service_at_location(record_id)


def _one(table: str) -> Callable:
    """A handler returning one taxonomy or taxonomy term by id."""

    @_json
    def handler(session: Session, request: web.Request) -> Any:
        Query.of(request, ())
        found = _taxonomies(session).get(table, request.match_info["id"])
        return found if found is not None else _not_found(table, request.match_info["id"])

    return handler


async def about(_: web.Request) -> web.Response:
    return web.json_response(
        {
            "version": "3.0",
            "openapi_url": OPENAPI_URL,
        }
    )


def setup_hsds_routes(app: web.Application) -> None:
    """Adds the read-only HSDS API to the web app."""
    for path, handler in (
        ("/services", services),
        ("/services/{id}", service),
        ("/organizations", organizations),
        ("/organizations/{id}", organization),
        ("/taxonomies", taxonomies),
        ("/taxonomy_terms", taxonomy_terms),
        ("/service_at_locations", service_at_locations),
        ("/service_at_locations/{id}", service_at_location),
        ("/taxonomies/{id}", _one("taxonomy")),
        ("/taxonomy_terms/{id}", _one("taxonomy_term")),
        ("/", about),
    ):
        app.router.add_get(PREFIX + path, handler)
