"""The curation pages: a coordinator's work lists, the edit form of a service, its
"verified today" button and its audit log (bot/directory/curation.py does the work).

Only a coordinator may open them; a navigator is refused (403), and a viewer is kept to
the insights pages by ``viewer_middleware``. CSRF is checked by ``auth_middleware``.

The edit and "verified" forms carry the record's version: when another coordinator
changed the record meanwhile, the page comes back (409) with their changes and the
coordinator's own input still in the form, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from itertools import zip_longest

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.orm import Session

from bot.config import NZ
from bot.directory import curation
from bot.directory.taxonomy import taxonomies
from bot.handoff import accounts
from bot.navigator import store
from bot.navigator.keys import SETTINGS
from bot.navigator.middlewares import error_response
from bot.navigator.views import render

Who = curation.Curator
Handler = Callable[[web.Request, Who], Awaitable[web.Response]]
# Blank phone lines the form offers below the numbers a record has.
SPARE_PHONE_LINES = 2


def coordinators_only(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler for a coordinator; anyone else is refused (403) before it runs."""

    async def checked(request: web.Request) -> web.Response:
        navigator = request.get("navigator")
        if navigator is None or not navigator.curates:
            return error_response(request, 403, "Curating the directory is for coordinators.")
        return await handler(request, curation.Curator(navigator.id, navigator.display_name, None))

    checked.__name__ = handler.__name__
    return checked


@coordinators_only
async def service_list(request: web.Request, who: Who) -> web.Response:
    district = request.query.get("district") or None
    need = request.query.get("need") or None
    queue = request.query.get("queue") or None
    names = dict(curation.districts())
    if district not in (None, *names) or need not in (None, *taxonomies().needs):
        return error_response(request, 400, "Choose a district and a need from the lists.")
    if queue not in (None, *curation.QUEUES):
        return error_response(request, 400, "There is no such list.")
    today = request.app[SETTINGS].clock().astimezone(NZ).date()
    found = await store.run(request.app, curation.services, today, district, need, queue)
    return render(
        request,
        "curation.html",
        {
            "services": found,
            "districts": names,
            "needs": {code: n.name for code, n in taxonomies().needs.items()},
            "queues": curation.QUEUES,
            "chosen": {"district": district, "need": need, "queue": queue},
        },
    )


def _texts(posted: MultiDictProxy, key: str) -> list[str]:
    return [v for v in posted.getall(key, []) if isinstance(v, str)]


def _phone_rows(posted: MultiDictProxy) -> list[tuple[str, str]]:
    """Each phone line's number and type, as posted (a missing half is blank)."""
    pairs = zip_longest(_texts(posted, "phone"), _texts(posted, "phone_type"), fillvalue="")
    return list(pairs)


def _seen(posted: MultiDictProxy) -> int | None:
    """The record's version the form was opened at; None when it is missing or garbled."""
    value = posted.get("version")
    return int(value) if isinstance(value, str) and value.isdigit() else None


async def _edit_page(
    request: web.Request,
    status: int = 200,
    problems: dict[str, str] | None = None,
    posted: tuple[dict[str, str], list[tuple[str, str]]] | None = None,
    stale: curation.Stale | None = None,
    verifying: bool = False,
) -> web.Response:
    """The record's page; after a refused save, ``posted`` (the form and its phone lines)
    is shown as typed, and ``stale`` the changes made since the form (of an edit, or of
    "verified" when ``verifying``) was opened."""
    service_id = request.match_info["service_id"]

    def read(session: Session):
        return (
            curation.facts_of(session, service_id),
            curation.version_of(session, service_id),
            curation.changes(session, service_id),
        )

    try:
        facts, version, changes = await store.run(request.app, read)
    except curation.NotFound:
        return _no_such_service(request)
    form, phones = posted or (None, [(p.dialled, p.type) for p in facts.phones])
    spare = max(0, min(SPARE_PHONE_LINES, curation.MAX_PHONES - len(phones)))
    return render(
        request,
        "curation_edit.html",
        {
            "service_id": service_id,
            "facts": facts,
            "version": stale.version if stale else version,
            "form": form,
            "phones": [*phones, *[("", "voice")] * spare],
            "phone_types": curation.PHONE_TYPES,
            "problems": problems or {},
            "labels": curation.LABELS,
            "changes": changes,
            "stale": stale.since if stale else None,
            "verifying": verifying,
        },
        status,
    )


def _no_such_service(request: web.Request) -> web.Response:
    return error_response(request, 404, "There is no such service.")


def _out_of_date(request: web.Request) -> web.Response:
    return error_response(
        request, 400, "This form has no record version: open the record again and redo the change."
    )


@coordinators_only
async def edit_form(request: web.Request, who: Who) -> web.Response:
    return await _edit_page(request)


@coordinators_only
async def edit(request: web.Request, who: Who) -> web.Response:
    service_id = request.match_info["service_id"]
    posted = await request.post()
    form = {k: v for k in curation.LABELS if isinstance(v := posted.get(k, ""), str)}
    phones, seen = _phone_rows(posted), _seen(posted)
    if seen is None:
        return _out_of_date(request)
    try:
        facts = curation.check(service_id, form, phones)
        now = request.app[SETTINGS].clock()
        changed = await store.run(request.app, curation.save, service_id, facts, who, now, seen)
    except curation.Invalid as exc:
        return await _edit_page(request, 400, exc.problems, (form, phones))
    except curation.Stale as exc:
        return await _edit_page(request, 409, None, (form, phones), exc)
    except curation.NotFound:
        return _no_such_service(request)
    request["session"].flash("ok", "Saved." if changed else "Nothing had changed.")
    raise web.HTTPSeeOther(f"/curation/services/{service_id}")


@coordinators_only
async def verified(request: web.Request, who: Who) -> web.Response:
    service_id = request.match_info["service_id"]
    seen = _seen(await request.post())
    if seen is None:
        return _out_of_date(request)
    now = request.app[SETTINGS].clock()
    try:
        await store.run(request.app, _verify, service_id, who, now, seen)
    except curation.Stale as exc:
        return await _edit_page(request, 409, stale=exc, verifying=True)
    except curation.NotFound:
        return _no_such_service(request)
    request["session"].flash("ok", "Recorded as verified with the organisation today.")
    raise web.HTTPSeeOther(f"/curation/services/{service_id}")


def _verify(session: Session, service_id: str, who: Who, now: datetime, seen: int) -> None:
    """``curation.verify`` with the coordinator's account email: the email they sign in
    with is their work address, which HSDS publishes as ``assurer_email``."""
    account = accounts.get_navigator(session, who.id)
    email = account.email if account is not None else None
    curation.verify(session, service_id, who._replace(email=email), now, seen)


def setup(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/curation", service_list),
            web.get("/curation/services/{service_id}", edit_form),
            web.post("/curation/services/{service_id}", edit),
            web.post("/curation/services/{service_id}/verified", verified),
        ]
    )
