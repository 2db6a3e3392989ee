"""A handoff request's lifecycle, written once as data.

:data:`MOVES` is the whole rule book: for each operation and the status a
request is in, the status it moves to, who may do it, the event it appends and
any extra condition. Every caller (the inbox pages, the JSON API, the actions,
the escalation worker, the CLI) goes through :func:`allowed` / :func:`check` to
ask, and :func:`apply` to do.

:func:`apply` is a compare-and-set: one ``UPDATE … WHERE id = :id AND status =
:expected AND claimed_by … AND team_id … AND live_since …`` whose row count
says whether the request was still as it was read. Two navigators claiming at
once, or a claim racing an escalation, can never both win, on SQLite (where
``SELECT … FOR UPDATE`` does nothing) as on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.directory import hours as hours_mod
from bot.handoff import HandoffError, InvalidTransition
from bot.handoff.models import LEVELS, STATUSES, HandoffEvent, HandoffRequest, NavigatorTeam
from bot.handoff.routing import all_teams, choose_team, fallback_team

log = logging.getLogger(__name__)

NEW, CLAIMED, IN_CONTACT, CLOSED = STATUSES

# Who may make a move.
HOLDER = "holder"  # the navigator who claimed the request
TEAM = "team"  # any navigator of the organisation whose team has the request
SYSTEM = "system"  # the escalation worker
PERSON = "person"  # the person the request is about ("forget me")
WHO = {
    HOLDER: "the navigator who holds the request",
    TEAM: "any navigator of the organisation whose team has it",
    SYSTEM: "the escalation worker",
    PERSON: "the person",
}

# Conditions besides the status, each with the refusal a navigator reads.
CHAT = "chat"
LIVE = "live"
NOT_LIVE = "not live"
NOT_FORGOTTEN = "not forgotten"
REFUSALS = {
    CHAT: "the person asked to be contacted another way, not in the chat",
    LIVE: "no live chat is running for this request",
    NOT_LIVE: "end the live chat first",
    NOT_FORGOTTEN: "the person's details have been deleted",
}
# Where one operation needs its own words for a condition.
REFUSAL_FOR = {
    ("message", LIVE): "join the conversation first, so Āwhina stays quiet while you talk",
    ("live_start", NOT_LIVE): "you have already joined this conversation",
}


@dataclass(frozen=True)
class Move:
    """One row of the table: the new status (None keeps it), who, the event, conditions."""

    after: str | None
    who: str
    event: str
    needs: frozenset[str] = field(default_factory=frozenset)


def _moves() -> dict[tuple[str, str], Move]:
    held = (CLAIMED, IN_CONTACT)
    open_ = (NEW, CLAIMED, IN_CONTACT)
    table = {
        ("claim", NEW): Move(CLAIMED, TEAM, "claimed", frozenset({NOT_FORGOTTEN})),
        ("release", CLAIMED): Move(NEW, HOLDER, "released", frozenset({NOT_LIVE})),
        ("in_contact", CLAIMED): Move(IN_CONTACT, HOLDER, "in_contact"),
        ("close", NEW): Move(CLOSED, TEAM, "closed", frozenset({NOT_LIVE})),
    }
    for status in held:
        table["close", status] = Move(CLOSED, HOLDER, "closed", frozenset({NOT_LIVE}))
        table["live_start", status] = Move(
            None, HOLDER, "live_started", frozenset({CHAT, NOT_FORGOTTEN, NOT_LIVE})
        )
        table["message", status] = Move(
            None, HOLDER, "message", frozenset({CHAT, NOT_FORGOTTEN, LIVE})
        )
    for status in STATUSES:
        table["note", status] = Move(None, TEAM, "note", frozenset({NOT_FORGOTTEN}))
        table["forget", status] = Move(None, PERSON, "forgotten")
    for status in open_:
        # Anyone in the organisation may hand the chat back, so it is never stuck.
        table["live_end", status] = Move(None, TEAM, "live_ended", frozenset({LIVE}))
    table["escalate", NEW] = Move(None, SYSTEM, "escalated")
    return table


MOVES: dict[tuple[str, str], Move] = _moves()
OPERATIONS: tuple[str, ...] = tuple(dict.fromkeys(operation for operation, _ in MOVES))
VERBS = {
    "claim": "claim",
    "release": "release",
    "in_contact": "mark in contact",
    "close": "close",
    "note": "add a note to",
    "live_start": "join the chat of",
    "message": "chat on",
    "live_end": "hand back",
    "escalate": "escalate",
    "forget": "forget",
}


class RequestLike(Protocol):
    """What the table reads: a ``HandoffRequest`` or the inbox's ``RequestView``."""

    status: str
    claimed_by: str | None
    contact_method: str
    forgotten_at: datetime | None
    live_since: datetime | None


class NavigatorLike(Protocol):
    id: str


def _met(condition: str, request: RequestLike) -> bool:
    return {
        CHAT: request.contact_method == "chat",
        LIVE: request.live_since is not None,
        NOT_LIVE: request.live_since is None,
        NOT_FORGOTTEN: request.forgotten_at is None,
    }[condition]


def refusal(operation: str, request: RequestLike, navigator: NavigatorLike | None) -> str | None:
    """Why ``navigator`` (None: the system or the person) may not do this now; None if they may.

    Whether the navigator may see the request at all (their organisation) is
    the lookup's job: a request they may not see is ``NotFound``, never refused.
    """
    if operation not in OPERATIONS:
        raise HandoffError(f"unknown operation {operation!r}")
    verb = VERBS[operation]
    move = MOVES.get((operation, request.status))
    if move is None:
        if operation == "claim" and request.status == CLAIMED:
            return "another navigator has already claimed this request"
        return f"cannot {verb} a request that is {request.status}"
    if move.who in (SYSTEM, PERSON) and navigator is not None:
        return f"only {WHO[move.who]} can {verb} a request"
    if move.who in (HOLDER, TEAM) and navigator is None:
        return f"only a navigator can {verb} a request"
    if move.who == HOLDER and request.claimed_by != (navigator.id if navigator else None):
        return f"only the navigator who claimed the request can {verb} it"
    for condition in sorted(move.needs):
        if not _met(condition, request):
            own = REFUSAL_FOR.get((operation, condition))
            return own or f"cannot {verb} this request: {REFUSALS[condition]}"
    return None


def allowed(operation: str, request: RequestLike, navigator: NavigatorLike | None) -> bool:
    return refusal(operation, request, navigator) is None


def check(operation: str, request: RequestLike, navigator: NavigatorLike | None) -> Move:
    """The move, or ``InvalidTransition`` saying why not."""
    reason = refusal(operation, request, navigator)
    if reason is not None:
        raise InvalidTransition(reason)
    return MOVES[operation, request.status]


def available(request: RequestLike, navigator: NavigatorLike | None) -> frozenset[str]:
    """Every operation ``navigator`` may do on ``request`` now (what the inbox offers)."""
    return frozenset(op for op in OPERATIONS if allowed(op, request, navigator))


def append_event(
    session: Session,
    request: HandoffRequest,
    now: datetime,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
) -> HandoffEvent:
    event = HandoffEvent(
        request_id=request.id,
        at=now,
        actor=actor,
        kind=kind,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
    )
    session.add(event)
    session.flush()
    return event


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def apply(
    session: Session,
    operation: str,
    request: HandoffRequest,
    navigator: NavigatorLike | None,
    now: datetime,
    *,
    actor: str,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> HandoffEvent:
    """Checks the move, then makes it with a compare-and-set and appends its event.

    ``values`` are the other columns the move sets (``claimed_by``, ``outcome``,
    ``team_id``…). The ``WHERE`` repeats everything the check read, so if
    another session changed the request since it was read, nothing is written
    and ``InvalidTransition`` says so.
    """
    move = check(operation, request, navigator)
    if move.after is not None:
        values["status"] = move.after
    values["updated_at"] = now
    result = session.execute(
        update(HandoffRequest)
        .where(
            HandoffRequest.id == request.id,
            HandoffRequest.status == request.status,
            _same(HandoffRequest.claimed_by, request.claimed_by),
            HandoffRequest.team_id == request.team_id,
            _same(HandoffRequest.live_since, request.live_since),
            _same(HandoffRequest.forgotten_at, request.forgotten_at),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(request)
        raise InvalidTransition(
            "someone else changed this request just now: reload it and try again"
        )
    session.refresh(request)
    event = append_event(session, request, now, actor, move.event, detail)
    log.info("handoff request %s: %s by %s", request.id, move.event, actor.split(":")[0])
    return event


# Escalation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalated:
    """A request moved to another team, and whether the person can be told in their chat."""

    request_id: str
    conversation_id: str
    organisation: str
    reason: str
    tell_person: bool


def _shifts(team: NavigatorTeam) -> list[hours_mod.Opening]:
    """The team's shifts, one row a weekday in the database (``NavigatorTeamHours``)."""
    return [
        hours_mod.Opening((hours_mod.DAYS[h.weekday],), h.opens_at, h.closes_at) for h in team.hours
    ]


def team_open_now(team: NavigatorTeam, now: datetime) -> bool:
    """Whether the team is staffed at ``now`` (its hours are New Zealand time)."""
    return hours_mod.is_open(_shifts(team), now)


def next_opening(team: NavigatorTeam, now: datetime) -> datetime | None:
    """When the team is next staffed, in NZ time: ``now`` if it is now; None without hours."""
    return hours_mod.next_opening(_shifts(team), now)


def _waiting(session: Session) -> list[HandoffRequest]:
    return list(
        session.execute(
            select(HandoffRequest)
            .where(HandoffRequest.status == NEW)
            .order_by(HandoffRequest.created_at, HandoffRequest.id)
        ).scalars()
    )


def _overdue(
    session: Session, now: datetime, unclaimed_minutes: int
) -> Iterator[tuple[HandoffRequest, NavigatorTeam, str]]:
    cutoff = now - timedelta(minutes=unclaimed_minutes)
    for request in _waiting(session):
        if (request.escalated_at or request.created_at) <= cutoff:
            to = fallback_team(session, request.team, request.place_key, request.need)
            if to is not None:
                yield request, to, "unclaimed"


def _out_of_hours(
    session: Session, now: datetime
) -> Iterator[tuple[HandoffRequest, NavigatorTeam, str]]:
    teams = all_teams(session)
    for request in _waiting(session):
        if team_open_now(request.team, now):
            continue
        for level in LEVELS[LEVELS.index(request.team.level) + 1 :]:
            to = choose_team(teams, request.place_key, request.need, (level,))
            if to is not None and to.id != request.team_id and team_open_now(to, now):
                yield request, to, "team closed"
                break


def _move(
    session: Session, request: HandoffRequest, to: NavigatorTeam, now: datetime, reason: str
) -> bool:
    from_team = request.team_id
    try:
        apply(
            session,
            "escalate",
            request,
            None,
            now,
            actor="system",
            detail={"from_team": from_team, "to_team": to.id, "reason": reason},
            team_id=to.id,
            escalated_at=now,
        )
    except InvalidTransition:
        log.info("handoff request %s changed while escalating it; left as it is", request.id)
        return False
    log.info(
        "handoff request %s escalated from %s to %s (%s)", request.id, from_team, to.id, reason
    )
    return True


def escalate(
    session: Session,
    now: datetime,
    notify: Callable[[Escalated], None],
    unclaimed_minutes: int,
    *,
    out_of_hours: bool = True,
) -> list[HandoffRequest]:
    """Moves waiting requests up a level; ``notify`` is called once for each move.

    First the requests still new ``unclaimed_minutes`` after they reached their
    team (the wait restarts at each escalation: local, then regional, then
    national); then, unless ``out_of_hours`` is False, new requests whose team
    is not staffed go to the nearest higher team that is. Each move is a
    compare-and-set: a request claimed meanwhile stays with the claimer's team.

    ``notify`` runs inside the caller's unit of work: callers that talk to the
    outside world queue the message there and send it once the session has
    committed (see ``bot.navigator.escalator``).
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise HandoffError("now must be a timezone-aware datetime")
    if not isinstance(unclaimed_minutes, int) or unclaimed_minutes < 1:
        raise HandoffError("unclaimed_minutes must be a whole number of at least 1")
    moved: list[HandoffRequest] = []
    sources = [_overdue(session, now, unclaimed_minutes)]
    if out_of_hours:
        sources.append(_out_of_hours(session, now))
    for source in sources:
        for request, to, reason in list(source):
            if _move(session, request, to, now, reason):
                moved.append(request)
                notify(
                    Escalated(
                        request.id,
                        request.conversation_id,
                        request.team.organization.name,
                        reason,
                        request.contact_method == "chat" and request.forgotten_at is None,
                    )
                )
    return moved


def markdown_table() -> str:
    """:data:`MOVES` as the README shows it (a test keeps the two the same)."""
    rows = ["| operation | from | to | who | event | only if |", "|---|---|---|---|---|---|"]
    grouped: dict[tuple[str, Move], list[str]] = {}
    for (operation, status), move in MOVES.items():
        grouped.setdefault((operation, move), []).append(status)
    for (operation, move), statuses in grouped.items():
        before = ", ".join(statuses)
        conditions = ", ".join(sorted(move.needs)) or "–"
        rows.append(
            f"| {operation} | {before} | {move.after or 'same'} | {move.who} "
            f"| {move.event} | {conditions} |"
        )
    return "\n".join(rows)
