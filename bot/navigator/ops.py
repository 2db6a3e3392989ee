"""What a navigator can do, shared by the pages (``views``) and the JSON API (``api``).

Each operation checks the input, changes the database through ``store`` (which
calls ``bot.handoff.service``), and talks to the person through Rasa where the
operation needs it. Errors are one of the exceptions mapped by :func:`status_for`.

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
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.channels.limits import MAX_MESSAGE_CHARS
from bot.handoff import HandoffError, InvalidTransition, NotFound
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


class Conflict(Exception):
    """The request is in a state where this can't be done."""


@dataclass(frozen=True)
class Done:
    request: RequestView
    warning: str | None = None


def status_for(exc: Exception) -> int | None:
    """The HTTP status for an expected failure, or None for a real bug."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, (InvalidTransition, Conflict)):
        return 409
    if isinstance(exc, (BadInput, HandoffError)):
        return 400
    if isinstance(exc, RasaError):
        return 502
    return None


def message_for(exc: Exception) -> str:
    if isinstance(exc, NotFound):
        return "There is no such request, or it belongs to another organisation."
    return str(exc) or "That can't be done now."


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


def _now(app: web.Application):
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
    """The conversation from Rasa's tracker, or a note saying why it can't be shown."""
    if request.forgotten_at is not None:
        return [], "The person asked Āwhina to forget this conversation."
    try:
        return await app[RASA].transcript(request.conversation_id), None
    except RasaUnavailable:
        return [], (
            "The conversation can't be shown right now: Āwhina's server is not answering. "
            "The summary above is from the inbox's own records."
        )
    except RasaError as exc:
        return [], f"The conversation can't be shown right now. {exc}"


def _who(navigator: NavigatorView) -> dict[str, str]:
    return {"navigator_name": navigator.display_name, "navigator_org": navigator.organization_name}


async def claim(app: web.Application, navigator: NavigatorView, request_id: str) -> Done:
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
        return (await end_live(app, navigator, request_id)).warning
    return None


async def release(app: web.Application, navigator: NavigatorView, request_id: str) -> Done:
    warning = await _hand_back_first(app, navigator, request_id)
    return Done(await _change(app, navigator, "release", request_id), warning)


async def mark_in_contact(app: web.Application, navigator: NavigatorView, request_id: str) -> Done:
    return Done(await _change(app, navigator, "in_contact", request_id))


async def close(
    app: web.Application, navigator: NavigatorView, request_id: str, outcome: object
) -> Done:
    outcome = clean_outcome(outcome)
    await get(app, navigator, request_id)  # 404 before anything else
    warning = await _hand_back_first(app, navigator, request_id)
    return Done(await _change(app, navigator, "close", request_id, outcome), warning)


async def add_note(
    app: web.Application, navigator: NavigatorView, request_id: str, text: object
) -> Done:
    text = clean_text(text, "text", MAX_NOTE_CHARS)
    return Done(await _change(app, navigator, "note", request_id, text))


def _require_chat(request: RequestView) -> None:
    if not request.held_by_me:
        raise Conflict("Claim this request first: only the navigator who holds it can chat.")
    if request.contact_method != "chat":
        raise Conflict("The person asked to be contacted by another way, not in the chat.")
    if request.forgotten_at is not None:
        raise Conflict("The person asked Āwhina to forget this conversation.")
    if request.status not in ("claimed", "in_contact"):
        raise Conflict("This request is closed.")


async def start_live(app: web.Application, navigator: NavigatorView, request_id: str) -> Done:
    request = await get(app, navigator, request_id)
    _require_chat(request)
    if request.live:
        raise Conflict("You have already joined this conversation.")
    rasa = app[RASA]
    await rasa.pause(request.conversation_id)
    try:
        await rasa.set_slots(request.conversation_id, _who(navigator))
        await rasa.execute(request.conversation_id, "action_navigator_joined")
    except RasaError:
        with contextlib.suppress(RasaError):  # the first error is the one to show
            await rasa.resume(request.conversation_id)
        raise
    return Done(await _change(app, navigator, "live_started", request_id))


async def send_message(
    app: web.Application, navigator: NavigatorView, request_id: str, text: object
) -> Done:
    text = clean_text(text, "text", MAX_MESSAGE_CHARS)
    request = await get(app, navigator, request_id)
    _require_chat(request)
    if not request.live:
        raise Conflict("Join the conversation first, so Āwhina stays quiet while you talk.")
    rasa = app[RASA]
    await rasa.set_slots(request.conversation_id, {**_who(navigator), "navigator_message": text})
    await rasa.execute(request.conversation_id, "action_navigator_message")
    return Done(await _change(app, navigator, "message", request_id, text))


async def end_live(app: web.Application, navigator: NavigatorView, request_id: str) -> Done:
    request = await get(app, navigator, request_id)
    if not request.live:
        raise Conflict("Nobody is chatting with the person live now.")
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
    return Done(await _change(app, navigator, "live_ended", request_id), warning)
