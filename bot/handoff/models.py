"""Handoff tables: navigator teams and their routing data, navigators, requests and events.

Every timestamp is stored in UTC and read back timezone-aware (``UtcDateTime``),
on SQLite as on PostgreSQL. Team hours are the one place with local time: they
are wall-clock times in New Zealand (Pacific/Auckland).

``handoff_event`` is append-only: the ORM refuses to update or delete an event
(see the mapper guards at the end), and the migration adds database triggers
that refuse it too.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    event,
)
from sqlalchemy.orm import relationship

from bot.db import Base, UtcDateTime

ID = String(64)

LEVELS = ("local", "regional", "national")
STATUSES = ("new", "claimed", "in_contact", "closed")
# The last three show gaps (bot/insights): nothing suitable near the person, a service
# with no room or a waitlist, a person the navigators could not reach.
OUTCOMES = (
    "connected",
    "referred",
    "no_response",
    "declined",
    "duplicate",
    "other",
    "no_local_service",
    "no_capacity",
    "unreachable",
)
CONTACT_METHODS = ("chat", "call", "text", "email")
# A navigator works requests; a coordinator also sees the insights page (bot/insights);
# a viewer (the leadership group) sees only the insights page, never a request.
ROLES = ("navigator", "coordinator", "viewer")
INSIGHT_ROLES = ("coordinator", "viewer")
# Only a coordinator curates the directory (bot/directory/curation.py).
CURATION_ROLES = ("coordinator",)
EVENT_KINDS = (
    "created",
    "claimed",
    "released",
    "in_contact",
    "closed",
    "note",
    "message",
    "escalated",
    "forgotten",
    "live_started",
    "live_ended",
)


def new_id() -> str:
    return uuid.uuid4().hex


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class NavigatorTeam(Base):
    """A team of navigators at a directory organisation, and the requests routed to it."""

    __tablename__ = "navigator_team"
    __table_args__ = (CheckConstraint(_in("level", LEVELS), name="ck_navigator_team_level"),)
    id = Column(ID, primary_key=True)
    organization_id = Column(ID, ForeignKey("organization.id"), nullable=False, index=True)
    name = Column(String(255), nullable=False)
    level = Column(String(16), nullable=False)
    needs = Column(String(500), nullable=False, default="")  # comma list; empty = all needs
    is_sample = Column(Boolean, nullable=False, default=False)

    organization = relationship("Organization")
    hours = relationship(
        "NavigatorTeamHours",
        cascade="all, delete-orphan",
        order_by="(NavigatorTeamHours.weekday, NavigatorTeamHours.opens_at)",
    )
    areas = relationship("NavigatorTeamArea", cascade="all, delete-orphan")

    @property
    def need_codes(self) -> tuple[str, ...]:
        return tuple(code for code in (self.needs or "").split(",") if code)

    @property
    def place_keys(self) -> tuple[str, ...]:
        return tuple(sorted(area.place_key for area in self.areas))


Team = NavigatorTeam


class NavigatorTeamHours(Base):
    """One staffed shift: ``weekday`` 0=Monday; NZ wall-clock times.

    A shift whose ``closes_at`` is not after ``opens_at`` ends the next day
    (20:00–02:00 runs past midnight; 00:00–00:00 is the whole day).
    """

    __tablename__ = "navigator_team_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_navigator_team_hours_weekday"),
    )
    id = Column(Integer, primary_key=True, autoincrement=True)
    team_id = Column(
        ID, ForeignKey("navigator_team.id", ondelete="CASCADE"), nullable=False, index=True
    )
    weekday = Column(Integer, nullable=False)
    opens_at = Column(Time, nullable=False)
    closes_at = Column(Time, nullable=False)


class NavigatorTeamArea(Base):
    """A place the team covers: a town, district or region key of places.yml, or ``nz``."""

    __tablename__ = "navigator_team_area"
    team_id = Column(ID, ForeignKey("navigator_team.id", ondelete="CASCADE"), primary_key=True)
    place_key = Column(String(64), primary_key=True, index=True)


class Navigator(Base):
    __tablename__ = "navigator"
    id = Column(ID, primary_key=True, default=new_id)
    team_id = Column(ID, ForeignKey("navigator_team.id"), nullable=False, index=True)
    organization_id = Column(ID, ForeignKey("organization.id"), nullable=False, index=True)
    display_name = Column(String(64), nullable=False)
    email = Column(String(255), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    api_token_hash = Column(String(64), unique=True)
    active = Column(Boolean, nullable=False, default=True)
    is_sample = Column(Boolean, nullable=False, default=False)
    created_at = Column(UtcDateTime, nullable=False)
    role = Column(String(16), nullable=False, default="navigator", server_default="navigator")

    team = relationship("NavigatorTeam")
    organization = relationship("Organization")

    @property
    def actor(self) -> str:
        return f"navigator:{self.id}"


class HandoffRequest(Base):
    __tablename__ = "handoff_request"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="ck_handoff_request_status"),
        CheckConstraint(
            _in("contact_method", CONTACT_METHODS), name="ck_handoff_request_contact_method"
        ),
        CheckConstraint(
            f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="ck_handoff_request_outcome"
        ),
    )
    id = Column(ID, primary_key=True, default=new_id)
    idempotency_key = Column(String(255), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False, default="new", index=True)
    outcome = Column(String(32))
    need = Column(String(64))
    need_summary = Column(Text)
    place_key = Column(String(64))
    audience = Column(String(64))
    preferred_name = Column(String(64))
    contact_method = Column(String(16), nullable=False)
    contact_detail = Column(String(255))
    good_time = Column(String(100))
    consent_at = Column(UtcDateTime, nullable=False)
    urgent = Column(Boolean, nullable=False, default=False)
    team_id = Column(ID, ForeignKey("navigator_team.id"), nullable=False, index=True)
    claimed_by = Column(ID, ForeignKey("navigator.id"))
    created_at = Column(UtcDateTime, nullable=False, index=True)
    updated_at = Column(UtcDateTime, nullable=False)
    escalated_at = Column(UtcDateTime)
    closed_at = Column(UtcDateTime)  # the transcript a navigator sees ends here
    live_since = Column(UtcDateTime)  # a navigator is chatting live; None: the bot is on
    forgotten_at = Column(UtcDateTime)
    # The key of the request's free text in events (notes, live messages): see
    # bot/handoff/sealed.py. Forgetting sets it to None, which erases that text.
    content_key = Column(String(64))

    team = relationship("NavigatorTeam")
    holder = relationship("Navigator")


class HandoffEvent(Base):
    """One change to a request and who made it; ``detail`` is a JSON object."""

    __tablename__ = "handoff_event"
    __table_args__ = (CheckConstraint(_in("kind", EVENT_KINDS), name="ck_handoff_event_kind"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    request_id = Column(ID, ForeignKey("handoff_request.id"), nullable=False, index=True)
    at = Column(UtcDateTime, nullable=False)
    actor = Column(String(100), nullable=False)
    kind = Column(String(32), nullable=False)
    detail = Column(Text, nullable=False, default="{}")

    request = relationship("HandoffRequest")

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.detail or "{}")


class AppendOnlyError(RuntimeError):
    """Something tried to change or delete a handoff event."""


@event.listens_for(HandoffEvent, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: HandoffEvent) -> None:
    raise AppendOnlyError(f"handoff events are append-only (event {target.id})")


@event.listens_for(HandoffEvent, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: HandoffEvent) -> None:
    raise AppendOnlyError(f"handoff events are append-only (event {target.id})")
