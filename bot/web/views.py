"""Request handlers: pages, widget assets, the history API and the REST relay."""

from __future__ import annotations

import json
import logging
import uuid

import aiohttp_jinja2
from aiohttp import ClientError, ClientSession, ClientTimeout, ContentTypeError, web

from bot.channels.widget import is_session_id
from bot.text import strip_controls
from bot.web.assets import Assets
from bot.web.history import transcript
from bot.web.keys import ASSETS, LOADER, RASA_CLIENT, SETTINGS
from bot.web.middlewares import LONG_CACHE, NO_STORE, SHORT_CACHE

log = logging.getLogger(__name__)

RASA_DOWN = (
    "Sorry, the assistant isn't answering right now. If you or someone else is in danger, "
    "call 111. You can call or text 1737 any time, free."
)


def _error(status: int, message: str) -> web.Response:
    response = web.json_response({"error": message}, status=status)
    response.headers["Cache-Control"] = NO_STORE
    return response


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict:
    """The demo page: a support organisation's site with the widget embedded."""
    return {}


@aiohttp_jinja2.template("embed.html")
async def embed(request: web.Request) -> dict:
    """How to put the widget on another site, with a snippet to copy."""
    settings = request.app[SETTINGS]
    return {
        "origin": f"{request.scheme}://{request.host}",
        "server_url": settings.widget_server_url,
        "socket_origins": " ".join(settings.socket_origins),
        "max_chars": settings.max_message_chars,
    }


async def health(request: web.Request) -> web.Response:
    response = web.json_response({"status": "ok"})
    response.headers["Cache-Control"] = NO_STORE
    return response


def _cached(request: web.Request, body: bytes, content_type: str, etag: str, cache: str):
    """A response that answers ``304`` when the browser already has this version."""
    headers = {"Cache-Control": cache, "ETag": f'"{etag}"'}
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return web.Response(status=304, headers=headers)
    response = web.Response(body=body, content_type=content_type, headers=headers)
    response.enable_compression()
    return response


async def widget_loader(request: web.Request) -> web.Response:
    """``/widget.js``, the URL embedders use: a short loader for the fingerprinted assets."""
    loader = request.app[LOADER]
    return _cached(request, loader.body, "text/javascript", loader.digest, SHORT_CACHE)


async def static_asset(request: web.Request) -> web.Response:
    assets: Assets = request.app[ASSETS]
    asset = assets.by_url_name(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound(text="No such file.")
    return _cached(request, asset.body, asset.content_type, asset.digest, LONG_CACHE)


def _allow_origin(request: web.Request, response: web.StreamResponse) -> None:
    """Lets the widget on an allowed site (``WIDGET_ALLOWED_ORIGINS``) read the answer."""
    origin = request.headers.get("Origin")
    response.headers["Vary"] = "Origin"
    if origin and origin in request.app[SETTINGS].allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin


async def history(request: web.Request) -> web.Response:
    """``GET /api/history/{session_id}``: what was said in a widget conversation.

    The id is the conversation's only key: random, 128 bits, held by the person's
    browser. Rasa is asked with the server's token, which never reaches the browser.
    An id Rasa has not seen gives an empty history (Rasa's tracker endpoint itself
    records an empty session for it; nothing else changes).
    """
    session_id = request.match_info["session_id"]
    if not is_session_id(session_id):
        response = _error(400, "Not a conversation id: expected 32 lowercase hex characters.")
    else:
        response = await _fetch_history(request, session_id)
    _allow_origin(request, response)
    return response


async def _fetch_history(request: web.Request, session_id: str) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.rasa_token:
        log.warning("History asked for but RASA_TOKEN is not set")
        return _error(503, "Conversation history is not available on this server.")
    session: ClientSession = request.app[RASA_CLIENT]
    try:
        async with session.get(
            f"{settings.rasa_url}/conversations/{session_id}/tracker",
            params={"token": settings.rasa_token, "include_events": "AFTER_RESTART"},
            timeout=ClientTimeout(total=settings.rasa_timeout_seconds),
        ) as answer:
            if answer.status != 200:
                log.warning("Rasa answered %d when asked for a tracker", answer.status)
                return _error(502, "The assistant could not give the history just now.")
            tracker = await answer.json()
    except (ClientError, TimeoutError, ContentTypeError, json.JSONDecodeError) as exc:
        log.warning("Rasa unreachable for history: %s", type(exc).__name__)
        return _error(502, "The assistant could not give the history just now.")
    events = tracker.get("events") if isinstance(tracker, dict) else None
    response = web.json_response(
        {"session_id": session_id, "messages": transcript(events or [])},
        dumps=lambda data: json.dumps(data, ensure_ascii=False),
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


async def chat(request: web.Request) -> web.Response:
    """Relays one message to Rasa's REST channel: ``{"sender", "message"}`` -> replies."""
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, 'Send JSON: {"sender": "...", "message": "..."}')
    if not isinstance(payload, dict):
        return _error(400, "Send a JSON object.")
    message, sender = payload.get("message"), payload.get("sender")
    # Rasa's REST channel refuses control characters; the widget's channel drops them.
    message = strip_controls(message) if isinstance(message, str) else ""
    if not message.strip():
        return _error(400, "'message' must be non-empty text.")
    limit = request.app[SETTINGS].max_message_chars
    if len(message) > limit:
        return _error(413, f"Messages can be up to {limit} characters.")
    if not isinstance(sender, str) or not 8 <= len(sender) <= 64:
        sender = uuid.uuid4().hex
    session: ClientSession = request.app[RASA_CLIENT]
    try:
        async with session.post(
            f"{request.app[SETTINGS].rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
        ) as response:
            response.raise_for_status()
            replies = await response.json()
    except (ClientError, TimeoutError) as exc:
        log.warning("Rasa unreachable: %s", type(exc).__name__)
        return web.json_response({"sender": sender, "replies": [{"text": RASA_DOWN}]}, status=502)
    return web.json_response({"sender": sender, "replies": replies})
