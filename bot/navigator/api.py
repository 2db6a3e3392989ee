"""The JSON API under ``/api/`` (bearer token), documented in ``openapi.yaml``.

Errors are ``{"error": "<HTTP reason>", "message": "<what to fix>"}``, made by
``middlewares.error_middleware`` from ``ops.STATUSES_BY_ERROR``: 400 bad
JSON or fields, 401 no or bad token, 404 unknown request or another
organisation's, 409 not allowed in the request's state, 413 too large,
415 not JSON, 502 Rasa failed (the change was not made, or a warning says what
was not done).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.navigator import ops, store
from bot.navigator.live import turn_json
from bot.navigator.middlewares import error_response
from bot.navigator.ops import BadInput


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


# Never sent to a navigator: the conversation id is the person's own key to their chat
# (the widget's history and /chat), which must not outlive the navigator's access.
PRIVATE_FIELDS = ("conversation_id",)


def request_json(request: store.RequestView) -> dict[str, Any]:
    data = {k: v for k, v in _json(asdict(request)).items() if k not in PRIVATE_FIELDS}
    data["allowed"] = list(request.allowed)
    data["live"] = request.live
    data["can_chat"] = request.can_chat
    return data


def event_json(event: store.EventView) -> dict[str, Any]:
    return _json(asdict(event))


async def _body(request: web.Request, fields: dict[str, bool]) -> dict[str, Any]:
    """The JSON object sent, with only ``fields`` (name -> required) allowed."""
    raw = await request.read()
    if not raw.strip():
        payload: Any = {}
    else:
        content_type = request.content_type
        if content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(
                text="Send JSON with Content-Type: application/json."
            )
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInput("The body is not valid JSON.") from exc
    if not isinstance(payload, dict):
        raise BadInput("Send a JSON object.")
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        raise BadInput(f"Unknown field {unknown[0]!r}.")
    missing = [name for name, required in fields.items() if required and name not in payload]
    if missing:
        raise BadInput(f"Missing field {missing[0]!r}.")
    return payload


Handler = Callable[[web.Request], Awaitable[web.Response]]


async def me(request: web.Request) -> web.Response:
    return web.json_response({"navigator": asdict(request["navigator"])})


async def list_requests(request: web.Request) -> web.Response:
    statuses = ops.clean_statuses(request.query.getall("status", []))
    requests = await ops.list_requests(request.app, request["navigator"], statuses)
    return web.json_response({"requests": [request_json(r) for r in requests]})


async def get_request(request: web.Request) -> web.Response:
    current, events = await ops.detail(
        request.app, request["navigator"], request.match_info["request_id"]
    )
    return web.json_response(
        {"request": request_json(current), "events": [event_json(e) for e in events]}
    )


async def transcript(request: web.Request) -> web.Response:
    current = await ops.get(request.app, request["navigator"], request.match_info["request_id"])
    turns, note = await ops.transcript(request.app, current)
    if note is not None and current.forgotten_at is None:
        return error_response(request, 502, note)
    return web.json_response({"turns": [turn_json(t) for t in turns], "note": note})


def api_action(operation: ops.Operation) -> Handler:
    """The JSON POST of an operation: only its fields are accepted."""

    async def handler(request: web.Request) -> web.Response:
        body = await _body(request, operation.fields)
        navigator, request_id = request["navigator"], request.match_info["request_id"]
        done = await operation.run(request.app, navigator, request_id, body)
        return web.json_response(
            {"request": request_json(done.request), "warning": done.warning},
            status=operation.api_status,
        )

    handler.__name__ = operation.name
    return handler
