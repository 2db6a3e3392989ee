"""The curation pages: a coordinator's work lists, the edit form of a service, its
"verified today" button and its audit log (bot/directory/curation.py does the work).

Only a coordinator may open them; a navigator is refused (403), and a viewer is kept to
the insights pages by ``viewer_middleware``. CSRF is checked by ``auth_middleware``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import NZ
from bot.directory import curation
from bot.directory.taxonomy import taxonomies
from bot.navigator import store
from bot.navigator.keys import SETTINGS
from bot.navigator.middlewares import error_response
from bot.navigator.views import render

Who = tuple[str, str]  # the coordinator's id and name, as the audit log records them
Handler = Callable[[web.Request, Who], Awaitable[web.Response]]


def coordinators_only(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler for a coordinator; anyone else is refused (403) before it runs."""

    async def checked(request: web.Request) -> web.Response:
        navigator = request.get("navigator")
        if navigator is None or not navigator.curates:
            return error_response(request, 403, "Curating the directory is for coordinators.")
        return await handler(request, (navigator.id, navigator.display_name))

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


async def _edit_page(
    request: web.Request,
    status: int = 200,
    problems: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    service_id = request.match_info["service_id"]

    def read(session):
        return curation.facts_of(session, service_id), curation.changes(session, service_id)

    try:
        facts, changes = await store.run(request.app, read)
    except curation.NotFound:
        return error_response(request, 404, "There is no such service.")
    return render(
        request,
        "curation_edit.html",
        {
            "service_id": service_id,
            "facts": facts,
            "form": form,
            "problems": problems or {},
            "labels": curation.LABELS,
            "changes": changes,
        },
        status,
    )


@coordinators_only
async def edit_form(request: web.Request, who: Who) -> web.Response:
    return await _edit_page(request)


@coordinators_only
async def edit(request: web.Request, who: Who) -> web.Response:
    service_id = request.match_info["service_id"]
    posted = await request.post()
    form = {k: v for k in curation.LABELS if isinstance(v := posted.get(k, ""), str)}
    try:
        facts = curation.check(service_id, form)
        now = request.app[SETTINGS].clock()
        changed = await store.run(request.app, curation.save, service_id, facts, who, now)
    except curation.Invalid as exc:
        return await _edit_page(request, 400, exc.problems, form)
    except curation.NotFound:
        return error_response(request, 404, "There is no such service.")
    request["session"].flash("ok", "Saved." if changed else "Nothing had changed.")
    raise web.HTTPSeeOther(f"/curation/services/{service_id}")


@coordinators_only
async def verified(request: web.Request, who: Who) -> web.Response:
    service_id = request.match_info["service_id"]
    now = request.app[SETTINGS].clock()
    try:
        await store.run(request.app, curation.verify, service_id, who, now)
    except curation.NotFound:
        return error_response(request, 404, "There is no such service.")
    request["session"].flash("ok", "Recorded as verified with the organisation today.")
    raise web.HTTPSeeOther(f"/curation/services/{service_id}")


def setup(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/curation", service_list),
            web.get("/curation/services/{service_id}", edit_form),
            web.post("/curation/services/{service_id}", edit),
            web.post("/curation/services/{service_id}/verified", verified),
        ]
    )
