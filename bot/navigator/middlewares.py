"""Security headers on every response, clear error pages, and the request body limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from bot.navigator import ops
from bot.navigator.keys import SETTINGS

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

MESSAGES = {
    400: "The request was not understood.",
    401: "Sign in first.",
    403: "You can't do that here.",
    404: "There is nothing here, or it is not yours to see.",
    405: "That method is not allowed here.",
    409: "That can't be done in the request's current state.",
    413: "That was too large.",
    415: "Send JSON.",
    429: "Too many attempts. Wait a while and try again.",
    500: "Something went wrong in the inbox. Nothing was lost; try again.",
    502: "Āwhina's server is not answering.",
}


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def error_response(request: web.Request, status: int, message: str | None = None) -> web.Response:
    """A clear error: JSON ``{"error", "message"}`` for the API, a small page otherwise."""
    message = message or MESSAGES.get(status, "That did not work.")
    if is_api(request):
        return web.json_response(
            {"error": web.Response(status=status).reason, "message": message}, status=status
        )
    session = request.get("session")
    return aiohttp_jinja2.render_template(
        "error.html",
        request,
        {
            "status": status,
            "message": message,
            "navigator": request.get("navigator"),
            "csrf_field": "csrf_token",
            "csrf_token": session.csrf if session else "",
            "flashes": [],
        },
        status=status,
    )


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every response, streams and static files included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(request, exc.status, _message(request, exc))
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        expected = ops.status_for(exc)
        if expected is not None:
            return error_response(request, expected, ops.message_for(exc))
        # The exception's text can hold request data (SQL parameters, names):
        # only its type is logged at ERROR, the traceback at DEBUG.
        log.error("Unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
        log.debug("Traceback", exc_info=True)
        return error_response(request, 500)


def _message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 413:
        limit = request.app[SETTINGS].max_body_bytes // 1024
        return f"That was too large: the limit is {limit} KB."
    if exc.text and not exc.text.startswith(f"{exc.status}:"):
        return exc.text
    return MESSAGES.get(exc.status, exc.reason)


@web.middleware
async def body_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuses a declared body over the limit before anything reads it.

    Chunked bodies with no length are stopped by ``client_max_size`` when read.
    """
    limit = request.app[SETTINGS].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    return await handler(request)
