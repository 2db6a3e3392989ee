"""What a navigator can do, shared by the pages (``views``) and the JSON API (``api``).

:data:`OPERATIONS` is the one list of them: ``routes`` makes a page route and an
API route of each, ``views`` and ``api`` one generic handler each. Each
operation checks the input, asks ``bot.handoff.lifecycle`` whether the move is
allowed, changes the database through ``store`` (which calls
``bot.handoff.service``), and talks to the person through Rasa where the
operation needs it. Errors map to HTTP statuses in one place, :data:`STATUSES_BY_ERROR`.

Order of effects, so a failure never leaves a half-done change:
- claim: the claim is committed first; telling the person is best effort and a
  failure comes back as a warning (the claim stands).
- join: pause the bot, tell the person, then record ``live_started``; if telling
  fails the bot is resumed and nothing is recorded.
- message: Rasa relays it first; only a relayed message is recorded.
- hand back: resume the bot first (if that fails the request stays live so the
  navigator can retry); telling the person is best effort; then ``live_ended``.
- release and close hand back first when the navigator is still live.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.channels.limits import MAX_MESSAGE_CHARS
from bot.handoff import HandoffError, InvalidTransition, NotFound, lifecycle
from bot.handoff.models import OUTCOMES, STATUSES
from bot.navigator import store
from bot.navigator.keys import RASA, SETTINGS
from bot.navigator.rasa_client import RasaError, RasaUnavailable, Turn
from bot.navigator.store import NavigatorView, RequestView
from bot.text import has_controls

MAX_NOTE_CHARS = 2000

OUTCOME_LABELS = {
    "connected": "Connected with support",
    "referred": "Referred to another service",
    "no_response": "No response",
    "declined": "Declined help",
    "duplicate": "Duplicate request",
    "other": "Other",
    "no_local_service": "No suitable local service",
    "no_capacity": "Service had no capacity / waitlist",
    "unreachable": "Person could not be reached",
}
STATUS_LABELS = {
    "new": "New",
    "claimed": "Claimed",
    "in_contact": "In contact",
    "closed": "Closed",
}
CONTACT_LABELS = {
    "chat": "Keep chatting in Āwhina",
    "call": "Phone call",
    "text": "Text message",
    "email": "Email",
}


class BadInput(ValueError):
    """The request itself is wrong (missing field, wrong type, too long)."""


@dataclass(frozen=True)
class Done:
    request: RequestView
    warning: str | None = None


# The HTTP status of each expected failure, most specific first; anything else is a bug (500).
STATUSES_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (NotFound, 404),
    (InvalidTransition, 409),
    (BadInput, 400),
    (HandoffError, 400),
    (RasaError, 502),
)


def status_for(exc: Exception) -> int | None:
    """The HTTP status for an expected failure, or None for a real bug."""
    return next((code for kind, code in STATUSES_BY_ERROR if isinstance(exc, kind)), None)


def message_for(exc: Exception) -> str:
    if isinstance(exc, NotFound):
        return "There is no such request, or it belongs to another organisation."
    text = str(exc) or "That can't be done now."
    return text[0].upper() + text[1:]


def clean_text(value: object, field: str, max_chars: int) -> str:
    """Free text from a navigator: a non-empty string with no control characters."""
    if not isinstance(value, str):
        raise BadInput(f"'{field}' must be text.")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise BadInput(f"'{field}' can't be empty.")
    if len(text) > max_chars:
        raise BadInput(f"'{field}' can be up to {max_chars} characters.")
    if has_controls(text):
        raise BadInput(f"'{field}' contains control characters.")
    return text


def clean_outcome(value: object) -> str:
    if not isinstance(value, str) or value not in OUTCOMES:
        raise BadInput(f"'outcome' must be one of: {', '.join(OUTCOMES)}.")
    return value


def clean_statuses(values: list[str]) -> list[str] | None:
    statuses = [s for v in values for s in v.split(",") if s]
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise BadInput(f"Unknown status {unknown[0]!r}: use {', '.join(STATUSES)}.")
    return statuses or None


def _now(app: web.Application) -> datetime:
    return app[SETTINGS].clock()


async def _change(
    app: web.Application, navigator: NavigatorView, operation: str, request_id: str, *args: Any
) -> RequestView:
    return await store.run(app, store.change, navigator.id, operation, request_id, _now(app), *args)


async def get(app: web.Application, navigator: NavigatorView, request_id: str) -> RequestView:
    return await store.run(app, store.get_request, navigator.id, request_id, _now(app))


async def detail(app: web.Application, navigator: NavigatorView, request_id: str):
    return await store.run(app, store.request_detail, navigator.id, request_id, _now(app))


async def list_requests(
    app: web.Application, navigator: NavigatorView, statuses: list[str] | None = None
) -> list[RequestView]:
    return await store.run(app, store.list_requests, navigator.id, statuses, _now(app))


async def transcript(app: web.Application, request: RequestView) -> tuple[list[Turn], str | None]:
    """The conversation from Rasa's tracker up to the request's close, or why it can't be shown.

    A closed request shows what was said until it closed, never the person's
    later conversation (which may be about something else entirely).
    """
    if request.forgotten_at is not None:
        return [], "The person asked Āwhina to forget this conversation."
    try:
        turns = await app[RASA].transcript(request.conversation_id)
    except RasaUnavailable:
        return [], (
            "The conversation can't be shown right now: Āwhina's server is not answering. "
            "The summary above is from the inbox's own records."
        )
    except RasaError as exc:
        return [], f"The conversation can't be shown right now. {exc}"
    if request.closed_at is not None:
        turns = [turn for turn in turns if turn.at <= request.closed_at]
    return turns, None


def _who(navigator: NavigatorView) -> dict[str, str]:
    return {"navigator_name": navigator.display_name, "navigator_org": navigator.organization_name}


Body = Mapping[str, Any]


async def claim(app: web.Application, navigator: NavigatorView, request_id: str, _: Body) -> Done:
    request = await _change(app, navigator, "claim", request_id)
    if request.contact_method != "chat" or request.forgotten_at is not None:
        return Done(request)
    rasa = app[RASA]
    try:
        await rasa.set_slots(request.conversation_id, _who(navigator))
        await rasa.execute(request.conversation_id, "action_handoff_claimed")
    except RasaError as exc:
        return Done(request, f"Claimed, but Āwhina could not tell the person: {exc}")
    return Done(request)


async def _hand_back_first(
    app: web.Application, navigator: NavigatorView, request_id: str
) -> str | None:
    current = await get(app, navigator, request_id)
    if current.live and current.held_by_me and current.status != "closed":
        return (await end_live(app, navigator, request_id, {})).warning
    return None


async def release(app: web.Application, navigator: NavigatorView, request_id: str, _: Body) -> Done:
    warning = await _hand_back_first(app, navigator, request_id)
    return Done(await _change(app, navigator, "release", request_id), warning)


async def mark_in_contact(
    app: web.Application, navigator: NavigatorView, request_id: str, _: Body
) -> Done:
    return Done(await _change(app, navigator, "in_contact", request_id))


async def close(
    app: web.Application, navigator: NavigatorView, request_id: str, body: Body
) -> Done:
    outcome = clean_outcome(body.get("outcome"))
    await get(app, navigator, request_id)  # 404 before anything else
    warning = await _hand_back_first(app, navigator, request_id)
    return Done(await _change(app, navigator, "close", request_id, outcome), warning)


async def add_note(
    app: web.Application, navigator: NavigatorView, request_id: str, body: Body
) -> Done:
    text = clean_text(body.get("text"), "text", MAX_NOTE_CHARS)
    return Done(await _change(app, navigator, "note", request_id, text))


async def start_live(
    app: web.Application, navigator: NavigatorView, request_id: str, _: Body
) -> Done:
    request = await get(app, navigator, request_id)
    lifecycle.check("live_start", request, navigator)  # before Rasa; the store asks again
    rasa = app[RASA]
    await rasa.pause(request.conversation_id)
    try:
        await rasa.set_slots(request.conversation_id, _who(navigator))
        await rasa.execute(request.conversation_id, "action_navigator_joined")
    except RasaError:
        with contextlib.suppress(RasaError):  # the first error is the one to show
            await rasa.resume(request.conversation_id)
        raise
    return Done(await _change(app, navigator, "live_start", request_id))


async def send_message(
    app: web.Application, navigator: NavigatorView, request_id: str, body: Body
) -> Done:
    text = clean_text(body.get("text"), "text", MAX_MESSAGE_CHARS)
    request = await get(app, navigator, request_id)
    lifecycle.check("message", request, navigator)
    rasa = app[RASA]
    await rasa.set_slots(request.conversation_id, {**_who(navigator), "navigator_message": text})
    await rasa.execute(request.conversation_id, "action_navigator_message")
    return Done(await _change(app, navigator, "message", request_id, text))


async def end_live(
    app: web.Application, navigator: NavigatorView, request_id: str, _: Body
) -> Done:
    request = await get(app, navigator, request_id)
    lifecycle.check("live_end", request, navigator)
    rasa = app[RASA]
    await rasa.resume(request.conversation_id)
    warning = None
    try:
        await rasa.set_slots(
            request.conversation_id, {**_who(navigator), "navigator_message": None}
        )
        await rasa.execute(request.conversation_id, "action_navigator_left")
    except RasaError as exc:
        warning = f"Āwhina is back on, but could not tell the person you left: {exc}"
    return Done(await _change(app, navigator, "live_end", request_id), warning)


Run = Callable[[web.Application, NavigatorView, str, Body], Awaitable[Done]]


@dataclass(frozen=True)
class Operation:
    """One thing a navigator can do to a request, as the pages and the API both offer it."""

    name: str  # the move of bot/handoff/lifecycle.py it makes
    page_path: str  # POST /requests/{id}/<page_path>, a form
    api_path: str  # POST /api/requests/{id}/<api_path>, JSON
    run: Run
    done: str  # what the page says once it is done
    fields: dict[str, bool] = field(default_factory=dict)  # name -> required
    api_status: int = 200


OPERATIONS: tuple[Operation, ...] = (
    Operation("claim", "claim", "claim", claim, "You hold this request now."),
    Operation("release", "release", "release", release, "Released: it is back in New."),
    Operation("in_contact", "in-contact", "in-contact", mark_in_contact, "Marked as in contact."),
    Operation("close", "close", "close", close, "Closed.", {"outcome": True}),
    Operation("note", "notes", "notes", add_note, "Note added.", {"text": True}, 201),
    Operation(
        "live_start",
        "live/start",
        "live/start",
        start_live,
        "You joined the conversation: Āwhina is quiet until you hand back.",
    ),
    Operation(
        "message", "live/message", "messages", send_message, "Message sent.", {"text": True}, 201
    ),
    Operation("live_end", "live/end", "live/end", end_live, "Handed back to Āwhina."),
)
