"""The JSON API under ``/api/`` (bearer token), documented in ``openapi.yaml``.

Errors are ``{"error": "<HTTP reason>", "message": "<what to fix>"}``: 400 bad
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


def request_json(request: store.RequestView) -> dict[str, Any]:
    data = _json(asdict(request))
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


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            code = ops.status_for(exc)
            if code is None:
                raise
            return error_response(request, code, ops.message_for(exc))

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


@_guarded
async def me(request: web.Request) -> web.Response:
    return web.json_response({"navigator": asdict(request["navigator"])})


@_guarded
async def list_requests(request: web.Request) -> web.Response:
    statuses = ops.clean_statuses(request.query.getall("status", []))
    requests = await ops.list_requests(request.app, request["navigator"], statuses)
    return web.json_response({"requests": [request_json(r) for r in requests]})


@_guarded
async def get_request(request: web.Request) -> web.Response:
    current, events = await ops.detail(
        request.app, request["navigator"], request.match_info["request_id"]
    )
    return web.json_response(
        {"request": request_json(current), "events": [event_json(e) for e in events]}
    )


@_guarded
async def transcript(request: web.Request) -> web.Response:
    current = await ops.get(request.app, request["navigator"], request.match_info["request_id"])
    turns, note = await ops.transcript(request.app, current)
    if note is not None and current.forgotten_at is None:
        return error_response(request, 502, note)
    return web.json_response({"turns": [turn_json(t) for t in turns], "note": note})


def _done(done: ops.Done, status: int = 200) -> web.Response:
    return web.json_response(
        {"request": request_json(done.request), "warning": done.warning}, status=status
    )


def _operation(
    run: Callable[[web.Request, dict[str, Any]], Awaitable[ops.Done]],
    fields: dict[str, bool],
    status: int = 200,
) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        payload = await _body(request, fields)
        return _done(await run(request, payload), status)

    return _guarded(handler)


def _args(request: web.Request) -> tuple[web.Application, store.NavigatorView, str]:
    return request.app, request["navigator"], request.match_info["request_id"]


claim = _operation(lambda r, body: ops.claim(*_args(r)), {})
release = _operation(lambda r, body: ops.release(*_args(r)), {})
in_contact = _operation(lambda r, body: ops.mark_in_contact(*_args(r)), {})
close = _operation(lambda r, body: ops.close(*_args(r), body["outcome"]), {"outcome": True})
add_note = _operation(
    lambda r, body: ops.add_note(*_args(r), body["text"]), {"text": True}, status=201
)
live_start = _operation(lambda r, body: ops.start_live(*_args(r)), {})
live_end = _operation(lambda r, body: ops.end_live(*_args(r)), {})
send_message = _operation(
    lambda r, body: ops.send_message(*_args(r), body["text"]), {"text": True}, status=201
)
