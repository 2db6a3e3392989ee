"""Sign-in limits, kept in the database so every inbox process and restart shares them.

An attempt is counted *before* its password is checked, in one transaction
that either counts it under every limit or under none (then it is refused
unchecked). Each count moves by compare-and-set (``UPDATE … WHERE failures =
:seen``), so thirty parallel guesses cannot all pass one check: on SQLite and
PostgreSQL alike at most ``limit`` of them reach the password. A sign-in that
works takes its attempt back.

Three limits, so that guessing is slow but nobody can lock a navigator out
for good:

* **address and account**: ``limit`` free tries, then a wait that doubles with
  every further failure (one window, two, four, … up to a day). Only someone at
  that address loses anything by it.
* **address**, any account (password spraying): ``4 × limit`` free tries, then
  the same doubling wait. A sign-in that works does not clear it.
* **account**, any address (guessing spread over many addresses): ``4 × limit``
  free tries, then a wait of at most one window. It does not apply at an
  address this navigator has signed in from in the last 90 days, so attackers
  elsewhere can at worst make them wait a window at a new address.

Counts are forgotten a day after the last attempt. Keys are SHA-256 hashes, so
the table lists no email address or IP address in clear.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Integer, String, case, delete, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import Base, UtcDateTime

FORGET_AFTER = timedelta(days=1)
KNOWN_FOR = timedelta(days=90)
MAX_WAIT = timedelta(days=1)
SPREAD_FACTOR = 4  # the address-only and account-only limits, in units of the pair limit


class SignInLimit(Base):
    """One limit's count: ``failures`` includes attempts still being checked."""

    __tablename__ = "sign_in_limit"
    key = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False)
    blocked_until = Column(UtcDateTime)
    last_at = Column(UtcDateTime, nullable=False, index=True)
    # For an address-and-account key: when that navigator last signed in from there.
    signed_in_at = Column(UtcDateTime)


@dataclass(frozen=True)
class Limit:
    key: str
    free: int  # failures allowed before the first wait
    window: timedelta  # the first wait, doubled with every further failure
    longest: timedelta  # the wait never grows beyond this

    def wait_after(self, failures: int) -> timedelta | None:
        if failures < self.free:
            return None
        doublings = min(failures - self.free, 20)
        return min(self.window * 2**doublings, self.longest)


@dataclass(frozen=True)
class Limits:
    free: int
    window: timedelta

    def for_attempt(self, email: str, address: str) -> tuple[Limit, Limit, Limit]:
        """The address-and-account, address and account limits of one sign-in."""
        email = email.strip().lower()
        spread = self.free * SPREAD_FACTOR
        return (
            Limit(_key("pair", address, email), self.free, self.window, MAX_WAIT),
            Limit(_key("address", address), spread, self.window, MAX_WAIT),
            Limit(_key("account", email), spread, self.window, self.window),
        )


class Refused(Exception):
    """Too many recent failures: nothing was counted or checked."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait


def _key(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()  # unambiguous, unlike a join


def _insert_new(session: Session, key: str, now: datetime) -> None:
    """A zero count for ``key``, unless another attempt made it first."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(SignInLimit)
        .values(key=key, failures=0, last_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _count(session: Session, limit: Limit, now: datetime) -> None:
    """Counts one attempt under ``limit`` (compare-and-set), or raises Refused."""
    while True:
        row = session.execute(
            select(SignInLimit.failures, SignInLimit.blocked_until, SignInLimit.last_at).where(
                SignInLimit.key == limit.key
            )
        ).first()
        if row is None:
            _insert_new(session, limit.key, now)
            continue
        failures, blocked_until, last_at = row
        if blocked_until is not None and blocked_until > now:
            raise Refused(blocked_until - now)
        counted = 1 if now - last_at > FORGET_AFTER else failures + 1
        wait = limit.wait_after(counted)
        moved = session.execute(
            update(SignInLimit)
            .where(
                SignInLimit.key == limit.key,
                SignInLimit.failures == failures,
                SignInLimit.last_at == last_at,
            )
            .values(
                failures=counted,
                blocked_until=now + wait if wait is not None else None,
                last_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            return


def _known(session: Session, pair: Limit, now: datetime) -> bool:
    signed_in_at = session.execute(
        select(SignInLimit.signed_in_at).where(SignInLimit.key == pair.key)
    ).scalar_one_or_none()
    return signed_in_at is not None and now - signed_in_at <= KNOWN_FOR


def attempt(session: Session, limits: tuple[Limit, Limit, Limit], now: datetime) -> list[Limit]:
    """Counts a sign-in attempt under its limits before the password is checked, and
    returns those it was counted under (the account's is skipped at a known address).

    Raises Refused (and the caller's transaction rolls back, counting nothing)
    when any limit is waiting. Old counts are removed on the way.
    """
    session.execute(
        delete(SignInLimit)
        .where(
            SignInLimit.last_at < now - FORGET_AFTER,
            or_(SignInLimit.blocked_until.is_(None), SignInLimit.blocked_until < now),
            or_(
                SignInLimit.signed_in_at.is_(None),
                SignInLimit.signed_in_at < now - KNOWN_FOR,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    pair, address, account = limits
    counted = [pair, address] if _known(session, pair, now) else [pair, address, account]
    for limit in counted:
        _count(session, limit, now)
    return counted


def succeeded(session: Session, counted: list[Limit], now: datetime) -> None:
    """A sign-in worked. At its address the navigator starts afresh and is known from
    now on; the address's and the account's counts only lose this attempt, so a
    sign-in of one's own does not buy more guesses elsewhere."""
    pair, *others = counted
    session.execute(
        update(SignInLimit)
        .where(SignInLimit.key == pair.key)
        .values(failures=0, blocked_until=None, signed_in_at=now)
        .execution_options(synchronize_session=False)
    )
    for limit in others:
        session.execute(
            update(SignInLimit)
            .where(SignInLimit.key == limit.key, SignInLimit.failures > 0)
            .values(
                failures=SignInLimit.failures - 1,
                blocked_until=case(
                    (SignInLimit.failures - 1 < limit.free, null()),
                    else_=SignInLimit.blocked_until,
                ),
            )
            .execution_options(synchronize_session=False)
        )
