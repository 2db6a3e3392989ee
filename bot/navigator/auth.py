"""Who is asking: sessions for the pages, bearer tokens for the API, CSRF, login limits.

Sessions live in the database (``bot.navigator.sessions``): the cookie holds only
a random token, the table its SHA-256, so logging out really ends the session,
and every inbox replica and a restart know it. Idle and absolute lifetimes are
checked on every request.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import unquote

from aiohttp import web
from yarl import URL

from bot.navigator import limits, store
from bot.navigator.keys import SETTINGS
from bot.navigator.middlewares import error_response
from bot.navigator.sessions import SessionStore

SESSION_COOKIE = "inbox_session"
LOGIN_CSRF_COOKIE = "inbox_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC_PATHS = frozenset({"/login", "/health"})
DEFAULT_NEXT = "/requests"
MAX_NEXT = 300
# One slash, then only unreserved, sub-delimiter, ":", "@", "/", "?" and percent characters.
SAME_SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoginLimiter:
    """The inbox's sign-in limits (``bot.navigator.limits``), counted in its database."""

    def __init__(self, max_failures: int, window: timedelta) -> None:
        self.limits = limits.Limits(max_failures, window)

    async def attempt(
        self, request: web.Request, email: str, now: datetime
    ) -> tuple[list[limits.Limit], timedelta | None]:
        """Counts this attempt before its password is checked: the limits it counts
        under, and None; or nothing and how long to wait (nothing may be checked)."""
        ours = self.limits.for_attempt(email, client_address(request))
        try:
            return await store.run(request.app, limits.attempt, ours, now), None
        except limits.Refused as refused:
            return [], refused.wait

    async def succeeded(
        self, request: web.Request, counted: list[limits.Limit], now: datetime
    ) -> None:
        await store.run(request.app, limits.succeeded, counted, now)


SESSIONS: web.AppKey[SessionStore] = web.AppKey("sessions")
LIMITER: web.AppKey[LoginLimiter] = web.AppKey("limiter")


def client_address(request: web.Request) -> str:
    """The address a sign-in comes from, for its limits.

    ``X-Forwarded-For`` is read only when the connection comes from a trusted
    proxy (``INBOX_TRUSTED_PROXIES``): the nearest address in it that is not one
    of those proxies. Anyone else could write any address there.
    """
    trusted = request.app[SETTINGS].trusted_proxies
    peer = request.remote or "unknown"
    if not _within(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _address(hop) else peer
    return peer


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text)
    except ValueError:
        return None


def _within(text: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def secure_cookies(request: web.Request) -> bool:
    setting = request.app[SETTINGS].secure_cookies
    return request.secure if setting is None else setting


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/")


def tokens_match(given: object, expected: str | None) -> bool:
    if not isinstance(given, str) or not expected or len(given) > 200:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def _csrf_given(request: web.Request) -> object:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    form = await request.post()
    return form.get(CSRF_FIELD)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith("/static/")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route but login, health and static files needs a navigator.

    The API takes a bearer token; the pages take the session cookie, and every
    POST to a page needs the session's CSRF token (the login form has its own).
    A refused request never reaches its handler, so nothing changes.
    """
    path = request.path
    if path.startswith("/api/"):
        token = bearer_token(request)
        navigator = (
            await store.run(request.app, store.navigator_for_token, token) if token else None
        )
        if navigator is None:
            response = error_response(
                request, 401, "Send a valid API token: Authorization: Bearer <token>."
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="inbox"'
            return response
        request["navigator"] = navigator
        return await handler(request)

    if _is_public(path):
        if request.method == "POST" and path == "/login":
            given = await _csrf_given(request)
            if not tokens_match(given, request.cookies.get(LOGIN_CSRF_COOKIE)):
                return error_response(
                    request, 403, "The sign-in form had expired. Load it again and sign in."
                )
        return await handler(request)

    app = request.app
    now = app[SETTINGS].clock()
    token = request.cookies.get(SESSION_COOKIE)
    session = await store.run(app, app[SESSIONS].get, token, now)
    navigator = (
        await store.run(app, store.navigator_by_id, session.navigator_id) if session else None
    )
    if session is None or navigator is None:
        if session is not None:
            await store.run(app, app[SESSIONS].delete, token)
        if request.method in ("GET", "HEAD") and not path.endswith("/live"):
            raise web.HTTPSeeOther(URL("/login").with_query(next=path))
        return error_response(request, 401, "Your session has ended. Sign in again.")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not tokens_match(
        await _csrf_given(request), session.csrf
    ):
        return error_response(
            request, 403, "This form had expired or did not come from the inbox. Nothing changed."
        )
    request["session"] = session
    request["navigator"] = navigator
    try:
        return await handler(request)
    finally:
        if session.flashes_changed:
            await store.run(app, app[SESSIONS].save_flashes, session)


def safe_next(value: str | None) -> str:
    """Where sign-in goes next: a path of the inbox itself, else the request list.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash,
    so ``/<tab>/evil`` and ``/\\evil`` would leave the site: only plain URL path
    characters are kept, the path cannot begin with two slashes, and neither
    can any percent-decoding of it (``/%2F/evil``, ``/%5Cevil``).
    """
    if not isinstance(value, str) or len(value) >= MAX_NEXT or not SAME_SITE_PATH.fullmatch(value):
        return DEFAULT_NEXT
    decoded, previous = value, None
    while decoded != previous:
        previous, decoded = decoded, unquote(decoded)
        if decoded.startswith(("//", "/\\")) or not decoded.isprintable() or "\\" in decoded:
            return DEFAULT_NEXT
    return value
