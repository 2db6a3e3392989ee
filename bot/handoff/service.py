"""The handoff service: the one API the Rasa actions and the navigators' inbox call.

Every function takes a SQLAlchemy ``Session`` first and never commits: the
caller's ``session_scope`` does, so a request is stored (or nothing is) in one
unit of work. Each change to a request appends exactly one ``handoff_event``;
events are never changed or deleted.

A navigator sees a request only when the request's team belongs to the
navigator's organisation; anything else is ``NotFound``, exactly as if the
request did not exist. Whether a change is allowed, and making it so that two
sessions can never both win, is ``bot.handoff.lifecycle``'s: every change here
is one of its moves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import clock
from bot.directory.taxonomy import taxonomies
from bot.handoff import HandoffError, InvalidTransition, NotFound, lifecycle, sealed
from bot.handoff.lifecycle import escalate
from bot.handoff.models import (
    CONTACT_METHODS,
    OUTCOMES,
    STATUSES,
    HandoffEvent,
    HandoffRequest,
    Navigator,
    NavigatorTeam,
    new_id,
)
from bot.handoff.routing import (
    TEAMS_FILE,
    TeamsError,
    check_place_and_need,
    load_teams,
    route,
)
from bot.phone import InvalidContact, checked_contact
from bot.text import has_controls

__all__ = [
    "TEAMS_FILE",
    "HandoffDraft",
    "HandoffError",
    "InvalidTransition",
    "NotFound",
    "TeamsError",
    "add_note",
    "apply_retention",
    "claim",
    "close",
    "end_live",
    "event_text",
    "escalate",
    "events",
    "forget_conversation",
    "get_request",
    "is_live",
    "load_teams",
    "mark_in_contact",
    "next_opening",
    "record_message",
    "release",
    "route",
    "start_live",
    "submit",
    "team_open_now",
    "visible_requests",
]

log = logging.getLogger(__name__)

MAX_KEY = 255
MAX_NAME = 64
MAX_GOOD_TIME = 100
MAX_SUMMARY = 1000
MAX_TEXT = 2000  # a note or a live message
CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
SCRUBBED = ("preferred_name", "contact_detail", "good_time", "need_summary")


@dataclass(frozen=True)
class HandoffDraft:
    """What the bot's form collected, as the person chose to share it."""

    conversation_id: str
    channel: str
    contact_method: str
    consent: bool
    need: str | None = None
    need_summary: str = ""
    place_key: str | None = None
    audience: str | None = None
    preferred_name: str | None = None
    contact_detail: str | None = None
    good_time: str | None = None
    urgent: bool = False


# Helpers ----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return clock.now()
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise HandoffError("now must be a timezone-aware datetime")
    return now.astimezone(timezone.utc)


def _text(value: Any, field: str, limit: int, *, multiline: bool = False) -> str | None:
    """Stripped text, or None when empty; refuses control characters and overlong text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise HandoffError(f"{field} must be text")
    value = value.strip()
    if not value:
        return None
    if has_controls(value, one_line=not multiline):
        raise HandoffError(f"{field} contains characters that are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise HandoffError(f"{field} is not valid text") from exc
    if len(value) > limit:
        raise HandoffError(f"{field} is too long (at most {limit} characters)")
    return value


def _required(value: Any, field: str, limit: int, *, multiline: bool = False) -> str:
    text = _text(value, field, limit, multiline=multiline)
    if text is None:
        raise HandoffError(f"{field} is required")
    return text


def _by_key(session: Session, key: str) -> HandoffRequest | None:
    return session.execute(
        select(HandoffRequest).where(HandoffRequest.idempotency_key == key)
    ).scalar_one_or_none()


# Submitting -------------------------------------------------------------------------------


def _contact(method: Any, detail: Any) -> str | None:
    if method not in CONTACT_METHODS:
        raise HandoffError(f"contact method must be one of {', '.join(CONTACT_METHODS)}")
    if method == "chat":
        return None  # keep chatting here: no number or address is needed, so none is kept
    try:
        return checked_contact(method, detail)
    except InvalidContact as exc:
        raise HandoffError(str(exc)) from exc


def _validated(draft: HandoffDraft) -> dict[str, Any]:
    """The draft as column values, or ``HandoffError`` with a plain message."""
    if not isinstance(draft, HandoffDraft):
        raise HandoffError("a handoff needs a HandoffDraft")
    if draft.consent is not True:
        raise HandoffError("a request can only be sent with the person's consent")
    channel = _required(draft.channel, "channel", 32)
    if not CHANNEL.fullmatch(channel):
        raise HandoffError(f"unknown channel {channel!r}")
    if not isinstance(draft.urgent, bool):
        raise HandoffError("urgent must be true or false")
    check_place_and_need(draft.place_key, draft.need)
    if draft.audience is not None and not isinstance(draft.audience, str):
        raise HandoffError("audience must be text")
    if draft.audience is not None and draft.audience not in taxonomies().audiences:
        raise HandoffError(f"unknown audience {draft.audience!r}")
    return {
        "conversation_id": _required(draft.conversation_id, "conversation id", MAX_KEY),
        "channel": channel,
        "contact_method": draft.contact_method,
        "contact_detail": _contact(draft.contact_method, draft.contact_detail),
        "need": draft.need,
        "need_summary": _text(draft.need_summary, "need summary", MAX_SUMMARY, multiline=True),
        "place_key": draft.place_key,
        "audience": draft.audience,
        "preferred_name": _text(draft.preferred_name, "name", MAX_NAME),
        "good_time": _text(draft.good_time, "good time", MAX_GOOD_TIME),
        "urgent": draft.urgent,
    }


def submit(
    session: Session, draft: HandoffDraft, idempotency_key: str, now: datetime | None = None
) -> HandoffRequest:
    """Stores a consented request routed to its team, with a 'created' event.

    The same ``idempotency_key`` again returns the stored request unchanged,
    even when two submissions race (the unique key decides, in a savepoint).
    """
    now = _now(now)
    key = _required(idempotency_key, "idempotency key", MAX_KEY)
    existing = _by_key(session, key)
    if existing is not None:
        return existing
    values = _validated(draft)
    team = route(session, values["place_key"], values["need"])
    request = HandoffRequest(
        id=new_id(),
        idempotency_key=key,
        status="new",
        team_id=team.id,
        consent_at=now,
        created_at=now,
        updated_at=now,
        content_key=sealed.new_key(),
        **values,
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        existing = _by_key(session, key)
        if existing is None:
            raise
        return existing
    lifecycle.append_event(
        session,
        request,
        now,
        "bot",
        "created",
        {
            "team_id": team.id,
            "channel": request.channel,
            "contact_method": request.contact_method,
            "urgent": request.urgent,
        },
    )
    log.info(
        "handoff request %s created: team %s, channel %s, contact by %s%s",
        request.id,
        team.id,
        request.channel,
        request.contact_method,
        ", urgent" if request.urgent else "",
    )
    return request


# What a navigator sees --------------------------------------------------------------------


def _active(navigator: Any) -> bool:
    return isinstance(navigator, Navigator) and bool(navigator.active)


def visible_requests(
    session: Session, navigator: Navigator, statuses: Collection[str] | None = None
) -> list[HandoffRequest]:
    """The navigator's organisation's requests: urgent first, then newest first."""
    if isinstance(statuses, str):
        statuses = (statuses,)
    if statuses is not None and not set(statuses) <= set(STATUSES):
        raise HandoffError(f"status must be among {', '.join(STATUSES)}")
    if not _active(navigator):
        return []
    query = (
        select(HandoffRequest)
        .join(NavigatorTeam, HandoffRequest.team_id == NavigatorTeam.id)
        .where(NavigatorTeam.organization_id == navigator.organization_id)
        .order_by(HandoffRequest.urgent.desc(), HandoffRequest.created_at.desc(), HandoffRequest.id)
    )
    if statuses is not None:
        query = query.where(HandoffRequest.status.in_(list(statuses)))
    return list(session.execute(query).scalars())


def _find(session: Session, navigator: Navigator, request_id: str) -> HandoffRequest:
    if not _active(navigator) or not isinstance(request_id, str) or len(request_id) > 64:
        raise NotFound("no such request")
    query = (
        select(HandoffRequest)
        .join(NavigatorTeam, HandoffRequest.team_id == NavigatorTeam.id)
        .where(
            HandoffRequest.id == request_id,
            NavigatorTeam.organization_id == navigator.organization_id,
        )
    )
    request = session.execute(query).scalar_one_or_none()
    if request is None:
        raise NotFound("no such request")
    return request


def get_request(session: Session, navigator: Navigator, request_id: str) -> HandoffRequest:
    return _find(session, navigator, request_id)


def events(session: Session, navigator: Navigator, request_id: str) -> list[HandoffEvent]:
    """The request's history, oldest first (notes included: they stay in the organisation)."""
    request = _find(session, navigator, request_id)
    return list(
        session.execute(
            select(HandoffEvent)
            .where(HandoffEvent.request_id == request.id)
            .order_by(HandoffEvent.id)
        ).scalars()
    )


def event_text(request: HandoffRequest, event: HandoffEvent) -> str | None:
    """A note's or live message's text; None once the person is forgotten (its key is gone)."""
    token = event.data.get("sealed")
    return None if token is None else sealed.unseal(request.content_key, request.id, token)


def is_live(request: HandoffRequest) -> bool:
    """Whether a navigator is chatting live (the bot is paused) in this request's conversation."""
    return request.live_since is not None


# State changes: each is a move of bot/handoff/lifecycle.py ---------------------------------


def _navigator_move(
    session: Session,
    navigator: Navigator,
    operation: str,
    request_id: str,
    now: datetime | None,
    detail: dict[str, Any] | None = None,
    *,
    text: str | None = None,
    **values: Any,
) -> tuple[HandoffRequest, HandoffEvent]:
    """Finds the request as the navigator sees it and makes the move; ``text`` is sealed."""
    now = _now(now)
    request = _find(session, navigator, request_id)
    if text is not None:
        lifecycle.check(operation, request, navigator)  # a forgotten request has no key
        detail = {"sealed": sealed.seal(request.content_key, request.id, text)}
    event = lifecycle.apply(
        session, operation, request, navigator, now, actor=navigator.actor, detail=detail, **values
    )
    return request, event


def claim(
    session: Session, navigator: Navigator, request_id: str, now: datetime | None = None
) -> HandoffRequest:
    """new -> claimed, held by this navigator."""
    return _navigator_move(session, navigator, "claim", request_id, now, claimed_by=navigator.id)[0]


def release(
    session: Session, navigator: Navigator, request_id: str, now: datetime | None = None
) -> HandoffRequest:
    """claimed -> new, by the navigator who holds it."""
    return _navigator_move(session, navigator, "release", request_id, now, claimed_by=None)[0]


def mark_in_contact(
    session: Session, navigator: Navigator, request_id: str, now: datetime | None = None
) -> HandoffRequest:
    """claimed -> in_contact, by the navigator who holds it."""
    return _navigator_move(session, navigator, "in_contact", request_id, now)[0]


def close(
    session: Session,
    navigator: Navigator,
    request_id: str,
    outcome: str,
    now: datetime | None = None,
) -> HandoffRequest:
    """new, claimed or in_contact -> closed with an outcome (a held request only by its holder)."""
    if outcome not in OUTCOMES:
        raise HandoffError(f"outcome must be one of {', '.join(OUTCOMES)}")
    now = _now(now)
    return _navigator_move(
        session,
        navigator,
        "close",
        request_id,
        now,
        {"outcome": outcome},
        outcome=outcome,
        closed_at=now,
    )[0]


def add_note(
    session: Session,
    navigator: Navigator,
    request_id: str,
    text: str,
    now: datetime | None = None,
) -> HandoffEvent:
    """A private note, seen only inside the navigator's organisation."""
    body = _required(text, "note", MAX_TEXT, multiline=True)
    return _navigator_move(session, navigator, "note", request_id, now, text=body)[1]


def record_message(
    session: Session,
    navigator: Navigator,
    request_id: str,
    text: str,
    now: datetime | None = None,
) -> HandoffEvent:
    """A live reply from the navigator holding the request, for the person's chat."""
    body = _required(text, "message", MAX_TEXT, multiline=True)
    return _navigator_move(session, navigator, "message", request_id, now, text=body)[1]


def start_live(
    session: Session, navigator: Navigator, request_id: str, now: datetime | None = None
) -> HandoffRequest:
    """The holder joins the person's chat: the bot is to stay quiet until ``end_live``."""
    now = _now(now)
    return _navigator_move(session, navigator, "live_start", request_id, now, live_since=now)[0]


def end_live(
    session: Session, navigator: Navigator, request_id: str, now: datetime | None = None
) -> HandoffRequest:
    """Hands the chat back to the bot; anyone in the organisation may, so it is never stuck."""
    return _navigator_move(session, navigator, "live_end", request_id, now, live_since=None)[0]


# What a navigator does, by the operation names of bot/handoff/lifecycle.py.
BY_OPERATION: dict[str, Callable[..., Any]] = {
    "claim": claim,
    "release": release,
    "in_contact": mark_in_contact,
    "close": close,
    "note": add_note,
    "message": record_message,
    "live_start": start_live,
    "live_end": end_live,
}


# When nobody is there ---------------------------------------------------------------------


def team_open_now(team: NavigatorTeam, now: datetime) -> bool:
    """Whether the team is staffed at ``now`` (its hours are New Zealand time)."""
    return lifecycle.team_open_now(team, _now(now))


def next_opening(team: NavigatorTeam, now: datetime) -> datetime | None:
    """When the team is next staffed, in NZ time: ``now`` if it is now; None without hours."""
    return lifecycle.next_opening(team, _now(now))


# Privacy ----------------------------------------------------------------------------------


def _scrub(
    session: Session, request: HandoffRequest, now: datetime, actor: str, detail: dict[str, Any]
) -> None:
    """Deletes what identifies the person and destroys the key of the request's free text.

    A live chat ends with it: the navigator sees the ``forgotten`` event and the chat closes.
    """
    if request.live_since is not None:
        detail = {**detail, "ended_live_chat": True}
    lifecycle.apply(
        session,
        "forget",
        request,
        None,
        now,
        actor=actor,
        detail=detail,
        forgotten_at=now,
        live_since=None,
        content_key=None,
        **dict.fromkeys(SCRUBBED),
    )


def forget_conversation(session: Session, conversation_id: str, now: datetime) -> int:
    """Deletes the contact details of this conversation's requests; returns how many.

    The anonymous request (need, place, status, outcome) and its events stay, so
    navigators can see a request existed; a request already forgotten is not counted.
    """
    now = _now(now)
    conversation_id = _required(conversation_id, "conversation id", MAX_KEY)
    requests = (
        session.execute(
            select(HandoffRequest).where(
                HandoffRequest.conversation_id == conversation_id,
                HandoffRequest.forgotten_at.is_(None),
            )
        )
        .scalars()
        .all()
    )
    count = 0
    for request in requests:
        _scrub(session, request, now, "person", {"reason": "asked"})
        count += 1
    log.info("forgot the contact details of %d handoff request(s)", count)
    return count


def apply_retention(session: Session, now: datetime, days: int) -> int:
    """Forgets requests closed (or, if never closed, created) more than ``days`` ago."""
    now = _now(now)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise HandoffError("days must be a whole number of at least 1")
    cutoff = now - timedelta(days=days)
    closed_at = (
        select(HandoffEvent.request_id, func.max(HandoffEvent.at).label("at"))
        .where(HandoffEvent.kind == "closed")
        .group_by(HandoffEvent.request_id)
        .subquery()
    )
    rows = session.execute(
        select(HandoffRequest, closed_at.c.at)
        .outerjoin(closed_at, closed_at.c.request_id == HandoffRequest.id)
        .where(HandoffRequest.forgotten_at.is_(None), HandoffRequest.created_at < cutoff)
        .order_by(HandoffRequest.created_at)
    ).all()
    count = 0
    for request, closed in rows:
        if request.status == "closed" and closed is not None:
            closed = closed if closed.tzinfo else closed.replace(tzinfo=timezone.utc)
            if closed >= cutoff:
                continue
        _scrub(session, request, now, "system", {"reason": "retention", "days": days})
        count += 1
    log.info("retention (%d days): forgot the contact details of %d request(s)", days, count)
    return count
