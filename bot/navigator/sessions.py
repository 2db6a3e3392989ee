"""Inbox sign-in sessions, kept in the database so every inbox replica and restart shares them.

The cookie holds only a random token; the table holds its SHA-256, so the table
alone signs nobody in, and signing out really ends the session. Idle and absolute
lifetimes are checked on every request, and an expired row is deleted when it is
met and whenever a session is created. A session's one-time messages ("Saved.")
live in its row too, so the page after a redirect shows them whichever replica
serves it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, String, Text, delete, or_, update
from sqlalchemy.orm import Session

from bot.db import Base, UtcDateTime

MAX_TOKEN_CHARS = 100


class InboxSessionRow(Base):
    __tablename__ = "inbox_session"
    key = Column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    navigator_id = Column(
        String(64), ForeignKey("navigator.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf = Column(String(64), nullable=False)
    created = Column(UtcDateTime, nullable=False)
    last_seen = Column(UtcDateTime, nullable=False, index=True)
    flashes = Column(Text, nullable=False, default="[]")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class InboxSession:
    """One request's view of a session (its messages are written back by
    :meth:`SessionStore.save_flashes`)."""

    key: str
    navigator_id: str
    csrf: str
    created: datetime
    last_seen: datetime
    flashes: list[tuple[str, str]] = field(default_factory=list)
    flashes_changed: bool = False

    def flash(self, kind: str, message: str) -> None:
        """A message shown once on the next page ('ok' or 'error')."""
        self.flashes.append((kind, message))
        self.flashes_changed = True

    def pop_flashes(self) -> list[tuple[str, str]]:
        flashes, self.flashes = self.flashes, []
        self.flashes_changed = self.flashes_changed or bool(flashes)
        return flashes


class SessionStore:
    """Sessions' lifetimes and their unit-of-work functions (each takes the ORM session
    first, for ``bot.navigator.store.run``)."""

    def __init__(self, idle: timedelta, absolute: timedelta) -> None:
        self._idle = idle
        self._absolute = absolute

    def _expired(self, now: datetime):
        return or_(
            InboxSessionRow.last_seen < now - self._idle,
            InboxSessionRow.created < now - self._absolute,
        )

    def create(self, db: Session, navigator_id: str, now: datetime) -> tuple[str, InboxSession]:
        """A new session for a navigator who has just signed in; returns the cookie's token."""
        db.execute(delete(InboxSessionRow).where(self._expired(now)))
        token = secrets.token_urlsafe(32)
        row = InboxSessionRow(
            key=_digest(token),
            navigator_id=navigator_id,
            csrf=secrets.token_urlsafe(32),
            created=now,
            last_seen=now,
            flashes="[]",
        )
        db.add(row)
        db.flush()
        return token, _view(row)

    def _live_row(self, db: Session, token: str | None, now: datetime) -> InboxSessionRow | None:
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        row = db.get(InboxSessionRow, _digest(token))
        if row is None:
            return None
        if now - row.last_seen > self._idle or now - row.created > self._absolute:
            db.delete(row)
            return None
        return row

    def get(self, db: Session, token: str | None, now: datetime) -> InboxSession | None:
        """The live session for a cookie value; using it restarts the idle clock."""
        row = self._live_row(db, token, now)
        if row is None:
            return None
        row.last_seen = now
        return _view(row)

    def alive(self, db: Session, token: str | None, now: datetime) -> bool:
        """Whether the session is still valid, without restarting its idle clock.

        Live streams check this: an open page alone must not keep a session alive.
        """
        return self._live_row(db, token, now) is not None

    def save_flashes(self, db: Session, session: InboxSession) -> None:
        db.execute(
            update(InboxSessionRow)
            .where(InboxSessionRow.key == session.key)
            .values(flashes=json.dumps(session.flashes))
        )

    def delete(self, db: Session, token: str | None) -> None:
        if token and len(token) <= MAX_TOKEN_CHARS:
            db.execute(delete(InboxSessionRow).where(InboxSessionRow.key == _digest(token)))


def _view(row: InboxSessionRow) -> InboxSession:
    return InboxSession(
        key=row.key,
        navigator_id=row.navigator_id,
        csrf=row.csrf,
        created=row.created,
        last_seen=row.last_seen,
        flashes=[(kind, message) for kind, message in json.loads(row.flashes)],
    )
