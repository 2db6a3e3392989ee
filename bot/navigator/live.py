"""Live updates by server-sent events.

Two streams:
- ``/live``: every change to the organisation's requests (a new request, an
  escalated one arriving, a claim). Requests are written by the action server,
  another process, so :class:`LiveHub` polls ``handoff_event`` past a cursor
  (its integer id) and hands each event only to the subscribers of the
  organisation whose team now holds the request. The payload carries ids, not
  personal details: the page fetches what it shows with the navigator's session.
- ``/requests/{id}/live``: the person's and the bot's new messages, for the
  navigator holding a chat request. It polls Rasa's tracker while open and
  stops when the navigator no longer holds the request, the person asks to be
  forgotten, or the navigator's session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from aiohttp import web

from bot.navigator import ops, store
from bot.navigator.auth import SESSION_COOKIE, SESSIONS
from bot.navigator.keys import RASA, SETTINGS
from bot.navigator.rasa_client import RasaError

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
# A full queue means a stalled client: it is told to reload instead of growing memory.
RELOAD = {"kind": "reload"}


def sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class LiveHub:
    """Fans the organisation's request events out to its open ``/live`` streams."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = defaultdict(set)
        self.cursor: int | None = None
        self.closed = False

    def subscribe(self, organization_id: str) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[organization_id].add(queue)
        return queue

    def unsubscribe(self, organization_id: str, queue: asyncio.Queue) -> None:
        queues = self._subscribers.get(organization_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[organization_id]

    def publish(self, event: store.NewEvent) -> None:
        payload = {"kind": event.kind, "id": event.request_id, "urgent": event.urgent}
        for queue in list(self._subscribers.get(event.organization_id, ())):
            try:
                queue.put_nowait(payload)
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(RELOAD)

    async def poll_once(self, app: web.Application) -> None:
        if self.cursor is None:
            self.cursor = await store.run(app, store.max_event_id)
            return
        for event in await store.run(app, store.events_after, self.cursor):
            self.cursor = event.id
            self.publish(event)

    async def run(self, app: web.Application) -> None:
        interval = app[SETTINGS].live_poll_seconds
        while not self.closed:
            try:
                await self.poll_once(app)
            except Exception as exc:  # the database may be down for a while
                log.warning("Live poll failed: %s", type(exc).__name__)
            await asyncio.sleep(interval)

    def close(self) -> None:
        """Ends every open stream (on shutdown)."""
        self.closed = True
        for queues in self._subscribers.values():
            for queue in queues:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)


HUB: web.AppKey[LiveHub] = web.AppKey("hub")


async def _still_signed_in(request: web.Request) -> bool:
    app = request.app
    token = request.cookies.get(SESSION_COOKIE)
    return await store.run(app, app[SESSIONS].alive, token, app[SETTINGS].clock())


async def _open_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    await response.write(b"retry: 5000\n\n")
    return response


async def organisation_stream(request: web.Request) -> web.StreamResponse:
    """``GET /live``: the navigator's organisation's request events."""
    navigator: store.NavigatorView = request["navigator"]
    hub = request.app[HUB]
    keepalive = request.app[SETTINGS].keepalive_seconds
    queue = hub.subscribe(navigator.organization_id)
    try:
        response = await _open_stream(request)
        while not hub.closed:
            try:
                item = await asyncio.wait_for(queue.get(), keepalive)
            except asyncio.TimeoutError:
                if not await _still_signed_in(request):
                    await response.write(sse("end", {"reason": "signed_out"}))
                    break
                await response.write(b": keepalive\n\n")
                continue
            if item is None:
                break
            await response.write(sse("request", item))
    except ConnectionResetError:
        pass
    finally:
        hub.unsubscribe(navigator.organization_id, queue)
    return response


def _timestamp(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise web.HTTPBadRequest(text="'after' must be a number (a Rasa timestamp).") from exc
    if not 0 <= number < float("inf"):  # also refuses NaN
        raise web.HTTPBadRequest(text="'after' must be a number (a Rasa timestamp).")
    return number


def _after(request: web.Request) -> float:
    """Where to start: the page's last turn, or the last one sent before a reconnect."""
    after = _timestamp(request.query.get("after", "0"))
    last_sent = request.headers.get("Last-Event-ID")
    return max(after, _timestamp(last_sent)) if last_sent else after


async def transcript_stream(request: web.Request) -> web.StreamResponse:
    """``GET /requests/{id}/live``: new turns of the conversation, for its holder only."""
    navigator: store.NavigatorView = request["navigator"]
    request_id = request.match_info["request_id"]
    app = request.app
    after = _after(request)
    current = await ops.get(app, navigator, request_id)  # NotFound -> 404
    if not current.can_chat:
        raise web.HTTPConflict(
            text="Only the navigator holding a chat request can follow the conversation live."
        )
    settings = app[SETTINGS]
    hub = app[HUB]
    response = await _open_stream(request)
    trouble: str | None = None
    idle = 0.0
    try:
        while not hub.closed:
            try:
                current = await ops.get(app, navigator, request_id)
            except Exception as exc:
                if ops.status_for(exc) is None:
                    raise
                await response.write(sse("end", {"reason": "no_longer_yours"}))
                break
            if not current.can_chat or not await _still_signed_in(request):
                # A person who asked to be forgotten ends the chat: the page says so on reload.
                reason = "forgotten" if current.forgotten_at else "no_longer_yours"
                await response.write(sse("end", {"reason": reason}))
                break
            try:
                turns = await app[RASA].transcript(current.conversation_id)
            except RasaError as exc:
                if str(exc) != trouble:
                    trouble = str(exc)
                    await response.write(sse("notice", {"message": trouble}))
            else:
                if trouble is not None:
                    trouble = None
                    await response.write(sse("notice", {"message": ""}))
                for turn in turns:
                    if turn.timestamp > after:
                        after = turn.timestamp
                        await response.write(sse("turn", turn_json(turn), repr(turn.timestamp)))
                        idle = 0.0
            await asyncio.sleep(settings.transcript_poll_seconds)
            idle += settings.transcript_poll_seconds
            if idle >= settings.keepalive_seconds:
                idle = 0.0
                await response.write(b": keepalive\n\n")
    except ConnectionResetError:
        pass
    return response


def turn_json(turn: Any) -> dict[str, Any]:
    return {
        "actor": turn.actor,
        "text": turn.text,
        "at": turn.at.isoformat(),
        "timestamp": turn.timestamp,
        "crisis": turn.crisis,
    }
