"""Settings of the navigators' inbox, read from the environment.

Every limit that matters for security (session lifetimes, login attempts, body
size) is here so a deployment can tune it and a test can shorten it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network

from bot.clock import now as clock_now
from bot.config import database_url, env_int, rasa_url

DEFAULT_PORT = 8001


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def trusted_proxies(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``INBOX_TRUSTED_PROXIES``: addresses or networks, comma-separated ("127.0.0.1,
    10.0.0.0/8"). Empty (the default): the inbox faces the clients itself."""
    return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str
    rasa_url: str
    rasa_token: str | None
    # None: Secure cookies only when the request came over https.
    secure_cookies: bool | None = None
    idle_timeout: timedelta = timedelta(hours=8)
    absolute_timeout: timedelta = timedelta(hours=12)
    max_body_bytes: int = 64 * 1024
    login_max_failures: int = 5
    login_window: timedelta = timedelta(minutes=15)
    # Proxies whose X-Forwarded-For is believed (the sign-in limits count by address).
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    escalate_every_seconds: float = 60.0  # the escalation worker's round (0 means 60)
    unclaimed_minutes: int = 30
    live_poll_seconds: float = 2.0
    transcript_poll_seconds: float = 2.0
    keepalive_seconds: float = 15.0
    rasa_timeout_seconds: float = 10.0
    clock: Callable[[], datetime] = field(default=clock_now, compare=False)

    @classmethod
    def from_env(cls) -> Settings:
        secure = os.environ.get("INBOX_SECURE_COOKIES")
        return cls(
            database_url=database_url(),
            rasa_url=rasa_url(),
            rasa_token=os.environ.get("RASA_TOKEN") or None,
            secure_cookies=(secure == "1") if secure else None,
            idle_timeout=timedelta(minutes=env_int("INBOX_IDLE_MINUTES", 8 * 60)),
            absolute_timeout=timedelta(hours=env_int("INBOX_SESSION_HOURS", 12)),
            login_max_failures=env_int("INBOX_LOGIN_MAX_FAILURES", 5),
            login_window=timedelta(minutes=env_int("INBOX_LOGIN_WINDOW_MINUTES", 15)),
            trusted_proxies=trusted_proxies(os.environ.get("INBOX_TRUSTED_PROXIES", "")),
            escalate_every_seconds=_env_float("INBOX_ESCALATE_SECONDS", 60.0),
            unclaimed_minutes=env_int("HANDOFF_UNCLAIMED_MINUTES", 30),
            live_poll_seconds=_env_float("INBOX_POLL_SECONDS", 2.0),
            transcript_poll_seconds=_env_float("INBOX_TRANSCRIPT_POLL_SECONDS", 2.0),
        )
