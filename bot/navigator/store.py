"""Data access for the inbox: each function is one unit of work on ``bot.handoff``.

Handlers call them through :func:`run`, which opens a ``session_scope`` in a
worker thread (SQLAlchemy is synchronous; scrypt password checks are slow on
purpose) so the event loop keeps serving live streams. They return plain
frozen views, never ORM objects, so nothing lazy-loads after the session ends.
Every read and write goes through ``bot.handoff.service`` with the navigator,
which is where the organisation check lives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.directory.models import Organization
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.handoff import NotFound, accounts, lifecycle, service
from bot.handoff.models import (
    CURATION_ROLES,
    INSIGHT_ROLES,
    HandoffEvent,
    HandoffRequest,
    Navigator,
    NavigatorTeam,
)
from bot.navigator.keys import SETTINGS

T = TypeVar("T")


async def run(app: web.Application, fn: Callable[..., T], *args: Any) -> T:
    """Runs ``fn(session, *args)`` in a thread, committing on success."""
    url = app[SETTINGS].database_url

    def work() -> T:
        with session_scope(url) as session:
            return fn(session, *args)

    return await asyncio.to_thread(work)


@dataclass(frozen=True)
class NavigatorView:
    id: str
    display_name: str
    organization_id: str
    organization_name: str
    team_id: str
    team_name: str
    role: str = "navigator"

    @property
    def sees_insights(self) -> bool:
        return self.role in INSIGHT_ROLES

    @property
    def curates(self) -> bool:
        return self.role in CURATION_ROLES


@dataclass(frozen=True)
class TeamView:
    id: str
    name: str
    organization_name: str
    open_now: bool
    next_opening: datetime | None
    has_hours: bool


@dataclass(frozen=True)
class RequestView:
    id: str
    status: str
    outcome: str | None
    urgent: bool
    channel: str
    conversation_id: str
    need: str | None
    need_name: str | None
    need_summary: str | None
    place_key: str | None
    place_name: str | None
    audience: str | None
    audience_name: str | None
    preferred_name: str | None
    contact_method: str
    contact_detail: str | None
    good_time: str | None
    consent_at: datetime
    created_at: datetime
    updated_at: datetime
    escalated_at: datetime | None
    closed_at: datetime | None
    live_since: datetime | None
    forgotten_at: datetime | None
    team: TeamView
    claimed_by: str | None
    claimed_by_name: str | None
    held_by_me: bool
    # What this navigator may do now, by bot/handoff/lifecycle.py: what the pages offer.
    allowed: tuple[str, ...]

    @property
    def live(self) -> bool:
        return self.live_since is not None

    @property
    def can_chat(self) -> bool:
        """The holder may talk to the person here: they chose to keep chatting."""
        return "live_start" in self.allowed or "message" in self.allowed


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str
    actor_name: str
    kind: str
    detail: dict[str, Any]


def _navigator_view(session: Session, navigator: Navigator | None) -> NavigatorView | None:
    if navigator is None or not navigator.active:
        return None
    team = session.get(NavigatorTeam, navigator.team_id)
    organization = session.get(Organization, navigator.organization_id)
    return NavigatorView(
        id=navigator.id,
        display_name=navigator.display_name,
        organization_id=navigator.organization_id,
        organization_name=organization.name if organization else "",
        team_id=navigator.team_id,
        team_name=team.name if team else "",
        role=navigator.role,
    )


def navigator_by_id(session: Session, navigator_id: str) -> NavigatorView | None:
    return _navigator_view(session, session.get(Navigator, navigator_id))


def navigator_for_token(session: Session, token: str) -> NavigatorView | None:
    return _navigator_view(session, accounts.navigator_for_token(session, token))


def authenticate(session: Session, email: str, password: str) -> NavigatorView | None:
    return _navigator_view(session, accounts.authenticate(session, email, password))


def _navigator(session: Session, navigator_id: str) -> Navigator:
    navigator = session.get(Navigator, navigator_id)
    if navigator is None or not navigator.active:
        raise NotFound("No such navigator.")
    return navigator


def _team_view(session: Session, team_id: str, now: datetime) -> TeamView:
    team = session.get(NavigatorTeam, team_id)
    organization = session.get(Organization, team.organization_id)
    open_now = service.team_open_now(team, now)
    return TeamView(
        id=team.id,
        name=team.name,
        organization_name=organization.name if organization else "",
        open_now=open_now,
        next_opening=None if open_now else service.next_opening(team, now),
        has_hours=bool(team.hours),
    )


def _request_view(
    session: Session,
    request: HandoffRequest,
    navigator: Navigator,
    now: datetime,
    teams: dict[str, TeamView] | None = None,
) -> RequestView:
    teams = {} if teams is None else teams
    if request.team_id not in teams:
        teams[request.team_id] = _team_view(session, request.team_id, now)
    need = taxonomies().needs.get(request.need or "")
    audience = taxonomies().audiences.get(request.audience or "")
    place = gazetteer().get(request.place_key)
    holder = session.get(Navigator, request.claimed_by) if request.claimed_by else None
    return RequestView(
        id=request.id,
        status=request.status,
        outcome=request.outcome,
        urgent=bool(request.urgent),
        channel=request.channel,
        conversation_id=request.conversation_id,
        need=request.need,
        need_name=need.name if need else request.need,
        need_summary=request.need_summary,
        place_key=request.place_key,
        place_name=place.display_name if place else request.place_key,
        audience=request.audience,
        audience_name=audience.name if audience else request.audience,
        preferred_name=request.preferred_name,
        contact_method=request.contact_method,
        contact_detail=request.contact_detail,
        good_time=request.good_time,
        consent_at=request.consent_at,
        created_at=request.created_at,
        updated_at=request.updated_at,
        escalated_at=request.escalated_at,
        closed_at=request.closed_at,
        live_since=request.live_since,
        forgotten_at=request.forgotten_at,
        team=teams[request.team_id],
        claimed_by=request.claimed_by,
        claimed_by_name=(
            holder.display_name
            if holder and holder.organization_id == navigator.organization_id
            else None
        ),
        held_by_me=request.claimed_by == navigator.id,
        allowed=tuple(sorted(lifecycle.available(request, navigator))),
    )


def _actor_name(session: Session, actor: str, navigator: Navigator) -> str:
    if actor.startswith("navigator:"):
        other = session.get(Navigator, actor.removeprefix("navigator:"))
        if other is None or other.organization_id != navigator.organization_id:
            return "A navigator at another organisation"
        return "You" if other.id == navigator.id else other.display_name
    return {"person": "The person", "bot": "Āwhina", "system": "Inbox"}.get(actor, actor)


def _detail(request: HandoffRequest, event: HandoffEvent) -> dict[str, Any]:
    """The event's detail; a note's or message's text unsealed, or None once erased."""
    try:
        value = json.loads(event.detail or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(value, dict):
        return {}
    if "sealed" in value:
        value = {k: v for k, v in value.items() if k != "sealed"}
        value["text"] = service.event_text(request, event)
    return value


def list_requests(
    session: Session, navigator_id: str, statuses: Collection[str] | None, now: datetime
) -> list[RequestView]:
    navigator = _navigator(session, navigator_id)
    teams: dict[str, TeamView] = {}
    return [
        _request_view(session, r, navigator, now, teams)
        for r in service.visible_requests(session, navigator, statuses)
    ]


def request_detail(
    session: Session, navigator_id: str, request_id: str, now: datetime
) -> tuple[RequestView, list[EventView]]:
    navigator = _navigator(session, navigator_id)
    request = service.get_request(session, navigator, request_id)
    events = [
        EventView(
            id=e.id,
            at=e.at,
            actor=e.actor,
            actor_name=_actor_name(session, e.actor, navigator),
            kind=e.kind,
            detail=_detail(request, e),
        )
        for e in service.events(session, navigator, request_id)
    ]
    return _request_view(session, request, navigator, now), events


def get_request(session: Session, navigator_id: str, request_id: str, now: datetime) -> RequestView:
    navigator = _navigator(session, navigator_id)
    request = service.get_request(session, navigator, request_id)
    return _request_view(session, request, navigator, now)


def change(
    session: Session, navigator_id: str, operation: str, request_id: str, now: datetime, *args: Any
) -> RequestView:
    """Runs one state change of ``bot.handoff.service`` and returns the request after it."""
    navigator = _navigator(session, navigator_id)
    service.BY_OPERATION[operation](session, navigator, request_id, *args, now=now)
    session.flush()
    request = service.get_request(session, navigator, request_id)
    return _request_view(session, request, navigator, now)


@dataclass(frozen=True)
class NewEvent:
    id: int
    kind: str
    request_id: str
    organization_id: str
    urgent: bool


def max_event_id(session: Session) -> int:
    return session.execute(select(func.max(HandoffEvent.id))).scalar() or 0


def events_after(session: Session, after_id: int, limit: int = 200) -> list[NewEvent]:
    """Events of every organisation since a cursor, for the live hub to sort by organisation."""
    rows = session.execute(
        select(
            HandoffEvent.id,
            HandoffEvent.kind,
            HandoffEvent.request_id,
            NavigatorTeam.organization_id,
            HandoffRequest.urgent,
        )
        .join(HandoffRequest, HandoffRequest.id == HandoffEvent.request_id)
        .join(NavigatorTeam, NavigatorTeam.id == HandoffRequest.team_id)
        .where(HandoffEvent.id > after_id)
        .order_by(HandoffEvent.id)
        .limit(limit)
    ).all()
    return [NewEvent(r.id, r.kind, r.request_id, r.organization_id, bool(r.urgent)) for r in rows]
