"""Security and cache headers on every response; an access log that keeps conversation ids out."""

from __future__ import annotations

import base64
import hashlib
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.web.keys import PAGE_CSP
from bot.web.settings import Settings

# Fingerprinted assets never change under the same name; pages and the loader
# (whose name embedders hard-code) are re-checked after a minute or five.
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
PAGE_CACHE = "public, max-age=60"
NO_STORE = "no-store"
# Anything that is not a page may not run, frame or load anything.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HISTORY_PATH = re.compile(r"^/api/history/[^/?]*")


def script_hash(source: str) -> str:
    """A CSP source allowing exactly this inline script."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def page_csp(settings: Settings, inline_scripts: list[str]) -> str:
    """Our pages load only from us; the widget may also talk to Rasa's socket.io.

    Only the configured Rasa origin (HTTP polling and WebSocket) is added to
    ``connect-src``; no third party is contacted.
    """
    scripts = " ".join(["'self'", *(script_hash(s) for s in inline_scripts)])
    connect = " ".join(["'self'", *settings.socket_origins])
    return (
        "default-src 'none'; "
        f"script-src {scripts}; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        f"connect-src {connect}; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: runs for every response, errors and 304s included."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", request.app[PAGE_CSP])
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cache-Control", PAGE_CACHE)
    else:
        headers.setdefault("Content-Security-Policy", API_CSP)


class AccessLogger(AbstractAccessLogger):
    """Method, path, status and time; a conversation id in a path is not written."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = HISTORY_PATH.sub("/api/history/…", request.path)
        self.logger.info("%s %s %d %.0fms", request.method, path, response.status, time * 1000)
