"""The HSDS 3.0 API, read only, under ``/api/hsds/`` (``schema/openapi.json`` of the
specification): paged lists of services, organizations, taxonomies, taxonomy terms and
services at locations, and a service or organization fully nested by id.

Each request reads the directory afresh (``tables.tables``), so an edit or import is
served at once; objects are built by the same code as the JSON export.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.db import run_db
from bot.directory.hsds.objects import Directory
from bot.directory.hsds.tables import Row, tables

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


def _page(query: Query, items: list[Any]) -> dict[str, Any]:
    if query.values.get("format", "json") != "json":
        raise BadParameter("format", "only format=json is served")
    per_page = query.integer("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    page = query.integer("page", 1)
    total_pages = max(1, math.ceil(len(items) / per_page))
    contents = items[(page - 1) * per_page : page * per_page]
    return {
        "total_items": len(items),
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _matches(row: Row, words: str | None, fields: tuple[str, ...]) -> bool:
    if not words:
        return True
    text = " ".join(str(row.get(f, "")) for f in fields).casefold()
    return all(word in text for word in words.casefold().split())


def _service_filter(directory: Directory, query: Query) -> Callable[[Row], bool]:
    """Services matching ``search``, ``taxonomy_term_id``, ``taxonomy_id``,
    ``organization_id`` and ``modified_after``."""
    search, term, taxonomy = (
        query.text("search"),
        query.text("taxonomy_term_id"),
        query.text("taxonomy_id"),
    )
    organization, after = query.text("organization_id"), query.moment("modified_after")

    def keep(service: Row) -> bool:
        if not _matches(service, search, ("name", "alternate_name", "description")):
            return False
        if organization and service.get("organization_id") != organization:
            return False
        if after is not None:
            modified = service.get("last_modified")
            if not modified or datetime.fromisoformat(modified.replace("Z", "+00:00")) < after:
                return False
        terms = [
            directory.get("taxonomy_term", a["taxonomy_term_id"]) or {}
            for a in directory.linked("attribute", "link_id", service["id"])
        ]
        if term and not any(t.get("id") == term for t in terms):
            return False
        return not taxonomy or any(t.get("taxonomy_id") == taxonomy for t in terms)

    return keep


async def _directory() -> Directory:
    return Directory(await run_db(tables))


def _json(handler: Callable[[web.Request, Directory], Any]) -> Callable:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            result = handler(request, await _directory())
        except BadParameter as exc:
            return _error(400, "bad_parameter", str(exc), parameter=exc.parameter)
        if isinstance(result, web.Response):
            return result
        return web.json_response(result)

    return wrapped


def _not_found(kind: str, record_id: str) -> web.Response:
    return _error(404, "not_found", f"no {kind} with id {record_id!r}")


@_json
def services(request: web.Request, directory: Directory) -> Any:
    query = Query.of(
        request,
        (
            *SEARCH,
            "taxonomy_term_id",
            "taxonomy_id",
            "organization_id",
            "modified_after",
            "minimal",
            "full",
        ),
    )
    keep = _service_filter(directory, query)
    found = [s for s in directory.tables["service"] if keep(s)]
    if query.boolean("minimal"):
        found = [{k: s[k] for k in ("id", "last_modified") if k in s} for s in found]
    elif query.boolean("full"):
        found = [directory.service(s["id"]) for s in found]
    return _page(query, found)


@_json
def service(request: web.Request, directory: Directory) -> Any:
    Query.of(request, ())
    found = directory.service(request.match_info["id"])
    return found if found is not None else _not_found("service", request.match_info["id"])


@_json
def organizations(request: web.Request, directory: Directory) -> Any:
    query = Query.of(request, (*SEARCH, "full", "full_service"))
    search = query.text("search")
    found = [
        o
        for o in directory.tables["organization"]
        if _matches(o, search, ("name", "alternate_name", "description"))
    ]
    if query.boolean("full"):
        full_service = query.boolean("full_service")
        found = [directory.organization(o["id"], full_service) for o in found]
    return _page(query, found)


@_json
def organization(request: web.Request, directory: Directory) -> Any:
    query = Query.of(request, ("full_service",))
    found = directory.organization(request.match_info["id"], query.boolean("full_service"))
    return found if found is not None else _not_found("organization", request.match_info["id"])


@_json
def taxonomies(request: web.Request, directory: Directory) -> Any:
    query = Query.of(request, SEARCH)
    search = query.text("search")
    return _page(
        query,
        [t for t in directory.tables["taxonomy"] if _matches(t, search, ("name", "description"))],
    )


@_json
def taxonomy_terms(request: web.Request, directory: Directory) -> Any:
    query = Query.of(request, (*SEARCH, "taxonomy_id", "top_only", "parent_id"))
    search, taxonomy = query.text("search"), query.text("taxonomy_id")
    parent, top_only = query.text("parent_id"), query.boolean("top_only")
    found = [
        t
        for t in directory.tables["taxonomy_term"]
        if _matches(t, search, ("name", "code", "description"))
        and (not taxonomy or t.get("taxonomy_id") == taxonomy)
        and (not parent or t.get("parent_id") == parent)
        and (not top_only or "parent_id" not in t)
    ]
    return _page(query, found)


@_json
def service_at_locations(request: web.Request, directory: Directory) -> Any:
    query = Query.of(
        request,
        (
            *SEARCH,
            *("taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after", "full"),
            *("postcode", "proximity"),
        ),
    )
    if query.text("proximity"):
        raise BadParameter("proximity", "'proximity' is not supported: no postcode centroids")
    keep = _service_filter(directory, query)
    postcode = (query.text("postcode") or "").replace(" ", "").upper()
    found = []
    for sal in directory.tables["service_at_location"]:
        owner = directory.get("service", sal["service_id"])
        if owner is None or not keep(owner):
            continue
        addresses = directory.linked("address", "location_id", sal["location_id"])
        codes = {a.get("postal_code", "").replace(" ", "").upper() for a in addresses}
        if postcode and postcode not in codes:
            continue
        found.append(directory.service_at_location(sal["id"]) if query.boolean("full") else sal)
    return _page(query, found)


@_json
def service_at_location(request: web.Request, directory: Directory) -> Any:
    Query.of(request, ())
    found = directory.service_at_location(request.match_info["id"])
    return found or _not_found("service_at_location", request.match_info["id"])


def _one(table: str) -> Callable:
    """A handler returning one record of ``table`` by id."""

    @_json
    def handler(request: web.Request, directory: Directory) -> Any:
        Query.of(request, ())
        found = directory.get(table, request.match_info["id"])
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
