"""Navigator accounts: scrypt password hashes, sign-in, and API tokens stored only as hashes.

Stored password format: ``scrypt$n$r$p$salt_b64$hash_b64`` (``hashlib.scrypt``,
a random 16-byte salt per navigator). The cost is N=2^17, r=8, p=1 (128 MiB and
about half a second a hash); a hash stored at a lower cost is replaced on the
navigator's next successful sign-in. Sign-in takes the same time whether or
not the email exists, and compares digests in constant time. An API token is
shown once; only its SHA-256 is kept, so a copy of the database cannot be used
to call the API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import threading
from functools import cache
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import clock
from bot.handoff import HandoffError
from bot.handoff.models import ROLES, Navigator, NavigatorTeam, new_id
from bot.phone import is_email
from bot.text import has_controls

log = logging.getLogger(__name__)


class Cost(NamedTuple):
    n: int
    r: int
    p: int


PRODUCTION_COST = Cost(n=2**17, r=8, p=1)
# Tests only: a cheaper N (a power of two, at least 2^10), read on every hash like
# AWHINA_FROZEN_TIME, so servers the tests start see it too. Unset in production.
TEST_COST_ENV = "AWHINA_TEST_SCRYPT_N"
MIN_TEST_N = 2**10
SALT_BYTES, DIGEST_BYTES = 16, 32
# Above this a stored hash is not ours (and would cost too much memory to check).
MAX_SCRYPT_N = 2**20
# scrypt needs 128 * N * r bytes: 128 MiB at the production cost. OpenSSL refuses
# more than maxmem (32 MiB by default), and at most two hashes run at once, so a burst
# of sign-ins cannot take the server's memory.
MAX_MEMORY = 256 * 1024**2
_HASHING = threading.BoundedSemaphore(2)
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
MAX_TOKEN = 128


class AccountError(HandoffError):
    """An account cannot be created or changed as asked; the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def cost() -> Cost:
    """The cost new hashes get: production's, unless a test set a cheaper N."""
    value = os.environ.get(TEST_COST_ENV, "").strip()
    if not value:
        return PRODUCTION_COST
    n = int(value)
    if not (MIN_TEST_N <= n <= PRODUCTION_COST.n) or n & (n - 1):
        raise ValueError(f"{TEST_COST_ENV} is a power of two from 2^10 to 2^17")
    return PRODUCTION_COST._replace(n=n)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    with _HASHING:
        return hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=MAX_MEMORY
        )


def hash_password(password: str, at: Cost | None = None) -> str:
    """A new hash at cost ``at`` (by default the cost new hashes get)."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
        raise AccountError(f"a password is 1 to {MAX_PASSWORD} characters")
    n, r, p = at or cost()
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, DIGEST_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


@cache
def _dummy_hash(at: Cost) -> str:
    """Checked when the email is unknown, so a wrong email costs as much as a wrong password."""
    return hash_password(secrets.token_urlsafe(16), at)


def _parse(stored: str) -> tuple[Cost, bytes, bytes] | None:
    """The cost, salt and digest of a stored hash; None unless it is one of ours."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        at = Cost(int(n), int(r), int(p))
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
    except (AttributeError, ValueError, binascii.Error):
        return None
    if scheme != "scrypt" or not (1 < at.n <= MAX_SCRYPT_N) or at.n & (at.n - 1):
        return None
    if not (0 < at.r <= 32 and 0 < at.p <= 16 and salt and expected):
        return None
    return at, salt, expected


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for anything malformed."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    at, salt, expected = parsed
    usable = isinstance(password, str) and len(password) <= MAX_PASSWORD
    try:
        # An unusable password still costs one hash, so it cannot be told apart by timing.
        actual = _scrypt(password if usable else "", salt, *at, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected) and usable


def needs_rehash(stored: str) -> bool:
    """Whether a (verified) hash is weaker than the cost new hashes get."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    at, current = parsed[0], cost()
    return at.n < current.n or (at.r, at.p) != (current.r, current.p)


def normalise_email(email: str) -> str:
    return email.strip().lower() if isinstance(email, str) else ""


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise AccountError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def create_navigator(
    session: Session,
    email: str,
    display_name: str,
    team_id: str,
    password: str,
    *,
    is_sample: bool = False,
    role: str = "navigator",
) -> Navigator:
    """A new active navigator in ``team_id``'s organisation (``role``: see ``ROLES``)."""
    if role not in ROLES:
        raise AccountError(f"a role is one of: {', '.join(ROLES)}")
    email = normalise_email(email)
    if not is_email(email):
        raise AccountError("that is not a valid email address")
    name = display_name.strip() if isinstance(display_name, str) else ""
    if not name or len(name) > 64 or has_controls(name, one_line=True):
        raise AccountError("a display name is 1 to 64 characters on one line")
    team = session.get(NavigatorTeam, team_id) if isinstance(team_id, str) else None
    if team is None:
        raise AccountError(f"unknown team {team_id!r}")
    _check_password(password)
    if session.execute(select(Navigator.id).where(Navigator.email == email)).first():
        raise AccountError("a navigator with that email already exists")
    navigator = Navigator(
        id=new_id(),
        team_id=team.id,
        organization_id=team.organization_id,
        display_name=name,
        email=email,
        password_hash=hash_password(password),
        active=True,
        is_sample=is_sample,
        created_at=clock.now(),
        role=role,
    )
    session.add(navigator)
    session.flush()
    log.info("navigator %s created in team %s", navigator.id, team.id)
    return navigator


def set_password(session: Session, navigator: Navigator, password: str) -> None:
    _check_password(password)
    navigator.password_hash = hash_password(password)
    session.flush()


def find_by_email(session: Session, email: str) -> Navigator | None:
    return session.execute(
        select(Navigator).where(Navigator.email == normalise_email(email))
    ).scalar_one_or_none()


def authenticate(session: Session, email: str, password: str) -> Navigator | None:
    """The active navigator with this email and password, else None (in the same time).

    A hash stored at a lower cost is replaced now, while the password is known.
    """
    navigator = find_by_email(session, email) if isinstance(email, str) else None
    if navigator is None:
        verify_password(password, _dummy_hash(cost()))
        return None
    if not verify_password(password, navigator.password_hash) or not navigator.active:
        return None
    if needs_rehash(navigator.password_hash):
        navigator.password_hash = hash_password(password)
        session.flush()
        log.info("password hash of navigator %s upgraded", navigator.id)
    return navigator


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(session: Session, navigator: Navigator) -> str:
    """A new API token for ``navigator`` (replacing any old one); the raw token is returned once."""
    if not navigator.active:
        raise AccountError("this navigator account is not active")
    token = secrets.token_urlsafe(32)
    navigator.api_token_hash = _token_hash(token)
    session.flush()
    return token


def navigator_for_token(session: Session, token: str) -> Navigator | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    try:
        digest = _token_hash(token)
    except UnicodeEncodeError:
        return None
    return session.execute(
        select(Navigator).where(Navigator.api_token_hash == digest, Navigator.active.is_(True))
    ).scalar_one_or_none()


def get_navigator(session: Session, navigator_id: str) -> Navigator | None:
    """The active navigator with this id (for a signed-in session), else None."""
    if not isinstance(navigator_id, str) or len(navigator_id) > 64:
        return None
    navigator = session.get(Navigator, navigator_id)
    return navigator if navigator is not None and navigator.active else None
