"""The inbox pages: server-rendered HTML that works without JavaScript.

Every POST answers with a redirect back to the page (303) and a one-time
message, or with the page itself and a 4xx status when nothing changed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.channels.limits import MAX_MESSAGE_CHARS
from bot.handoff.models import OUTCOMES, STATUSES
from bot.navigator import ops, store
from bot.navigator.auth import (
    CSRF_FIELD,
    LIMITER,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSIONS,
    clear_cookie,
    safe_next,
    set_cookie,
)
from bot.navigator.keys import SETTINGS
from bot.navigator.middlewares import error_response

log = logging.getLogger(__name__)

MAX_EMAIL_CHARS = 254
MAX_PASSWORD_CHARS = 1024


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    session = request.get("session")
    return aiohttp_jinja2.render_template(
        template,
        request,
        {
            "navigator": request.get("navigator"),
            "csrf_field": CSRF_FIELD,
            "csrf_token": session.csrf if session else None,
            "flashes": session.pop_flashes() if session else [],
            "status_labels": ops.STATUS_LABELS,
            "outcome_labels": ops.OUTCOME_LABELS,
            "contact_labels": ops.CONTACT_LABELS,
            **context,
        },
        status=status,
    )


async def index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/requests")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _login_page(
    request: web.Request, status: int = 200, error: str | None = None, email: str = ""
) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    fresh = not token or len(token) > 100
    if fresh:
        token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "error": error,
            "email": email,
            "next": safe_next(request.query.get("next")),
        },
        status,
    )
    if fresh:
        set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
    return response


async def login_form(request: web.Request) -> web.Response:
    app = request.app
    token = request.cookies.get(SESSION_COOKIE)
    if await store.run(app, app[SESSIONS].alive, token, app[SETTINGS].clock()):
        raise web.HTTPSeeOther("/requests")
    return _login_page(request)


async def login(request: web.Request) -> web.Response:
    app = request.app
    form = await request.post()
    email, password = form.get("email"), form.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        return _login_page(request, 400, "Enter your email and password.")
    if len(email) > MAX_EMAIL_CHARS or len(password) > MAX_PASSWORD_CHARS:
        return _login_page(request, 400, "That email or password is too long.")
    now = app[SETTINGS].clock()
    counted, wait = await app[LIMITER].attempt(request, email, now)  # before the check
    if wait is not None:
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        response = error_response(
            request,
            429,
            f"Too many sign-in attempts that did not work. Wait {minutes} minutes and try "
            "again, or ask your team lead to check your account.",
        )
        response.headers["Retry-After"] = str(int(wait.total_seconds()) + 1)
        return response
    navigator = await store.run(app, store.authenticate, email, password)
    if navigator is None:
        log.info("Sign-in failed")
        return _login_page(request, 401, "That email and password do not match an account.", email)
    await app[LIMITER].succeeded(request, counted, now)
    await store.run(app, app[SESSIONS].delete, request.cookies.get(SESSION_COOKIE))
    token, _ = await store.run(app, app[SESSIONS].create, navigator.id, now)
    log.info("Navigator %s signed in", navigator.id)
    next_path = form.get("next")
    response = _redirect(safe_next(next_path if isinstance(next_path, str) else None))
    set_cookie(response, request, SESSION_COOKIE, token)
    clear_cookie(response, LOGIN_CSRF_COOKIE)
    return response


async def logout(request: web.Request) -> web.Response:
    await store.run(request.app, request.app[SESSIONS].delete, request.cookies.get(SESSION_COOKIE))
    response = _redirect("/login")
    clear_cookie(response, SESSION_COOKIE)
    return response


def _groups(requests: list[store.RequestView]) -> list[tuple[str, list[store.RequestView]]]:
    return [(status, [r for r in requests if r.status == status]) for status in STATUSES]


async def request_list(request: web.Request) -> web.Response:
    requests = await ops.list_requests(request.app, request["navigator"])
    return render(request, "requests.html", {"groups": _groups(requests)})


async def request_list_fragment(request: web.Request) -> web.Response:
    """Just the groups, for the page to swap in when a live event arrives."""
    requests = await ops.list_requests(request.app, request["navigator"])
    return render(request, "_groups.html", {"groups": _groups(requests)})


async def _request_page(
    request: web.Request, status: int = 200, error: str | None = None
) -> web.Response:
    navigator = request["navigator"]
    try:
        current, events = await ops.detail(request.app, navigator, request.match_info["request_id"])
    except Exception as exc:
        code = ops.status_for(exc)
        if code is None:
            raise
        return error_response(request, code, ops.message_for(exc))
    turns, transcript_note = await ops.transcript(request.app, current)
    return render(
        request,
        "request.html",
        {
            "r": current,
            "events": events,
            "notes": [e for e in events if e.kind == "note"],
            "turns": turns,
            "last_timestamp": turns[-1].timestamp if turns else 0,
            "transcript_note": transcript_note,
            "outcomes": OUTCOMES,
            "error": error,
            "max_note": ops.MAX_NOTE_CHARS,
            "max_message": MAX_MESSAGE_CHARS,
        },
        status,
    )


async def request_page(request: web.Request) -> web.Response:
    return await _request_page(request)


def page_action(operation: ops.Operation) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The form POST of an operation: run it, then redirect or show what went wrong."""

    async def handler(request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        form = await request.post()
        body = {name: form.get(name) for name in operation.fields}
        try:
            result = await operation.run(request.app, request["navigator"], request_id, body)
        except Exception as exc:
            code = ops.status_for(exc)
            if code is None:
                raise
            if code == 404:
                return error_response(request, 404, ops.message_for(exc))
            return await _request_page(request, code, ops.message_for(exc))
        session = request["session"]
        session.flash("ok", operation.done)
        if result.warning:
            session.flash("error", result.warning)
        raise web.HTTPSeeOther(f"/requests/{result.request.id}")

    handler.__name__ = operation.name
    return handler
