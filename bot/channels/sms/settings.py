"""The SMS channel's settings: credentials.yml values first, then the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.sms import render
from bot.channels.sms.flood import FloodLimits
from bot.channels.sms.gateway import DEFAULT_BASE_URL
from bot.channels.sms.replies import HELP_SERVICES
from bot.config import database_url
from bot.phone import normalise_e164


@dataclass(frozen=True)
class SmsConfig:
    """The channel's settings; ``from_mapping`` reads credentials.yml values, then the env."""

    auth_token: str = ""
    account_sid: str = ""
    from_number: str = ""
    public_url: str = ""
    gateway_url: str = DEFAULT_BASE_URL
    max_chars: int = render.LIMIT
    sender_secret: str = ""
    db_url: str | None = None
    help_services: tuple[str, ...] = HELP_SERVICES
    gateway_attempts: int = 4
    gateway_backoff: float = 0.5
    flood: FloodLimits = FloodLimits()

    ENV = {
        "auth_token": "TWILIO_AUTH_TOKEN",
        "account_sid": "TWILIO_ACCOUNT_SID",
        "from_number": "SMS_FROM_NUMBER",
        "public_url": "SMS_PUBLIC_URL",
        "gateway_url": "SMS_GATEWAY_URL",
        "max_chars": "SMS_MAX_CHARS",
        "sender_secret": "SMS_SENDER_SECRET",
        "limit_per_number": "SMS_LIMIT_PER_NUMBER",
        "limit_overall": "SMS_LIMIT_OVERALL",
        "limit_window_seconds": "SMS_LIMIT_WINDOW_SECONDS",
    }
    # Flood limit settings, as FloodLimits fields.
    FLOOD = {
        "limit_per_number": "per_number",
        "limit_overall": "overall",
        "limit_window_seconds": "window",
    }

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SmsConfig:
        values = dict(values or {})
        unknown = set(values) - set(cls.ENV) - {"help_services"}
        if unknown:
            raise ValueError(f"unknown sms channel settings: {sorted(unknown)}")

        def get(key: str) -> str:
            value = values.get(key)
            if value is None or str(value).strip() == "":
                value = os.environ.get(cls.ENV[key], "")
            return str(value).strip()

        def number(key: str) -> int | None:
            value = get(key)
            if value and not value.isdigit():
                raise ValueError(f"{key} must be a number, not {value!r}")
            return int(value) if value else None

        max_chars = number("max_chars")
        limit = max_chars if max_chars is not None else render.LIMIT
        if not 1 <= limit <= render.LIMIT:
            raise ValueError(f"max_chars must be between 1 and {render.LIMIT}")
        flood = {field: number(key) for key, field in cls.FLOOD.items()}
        help_services = values.get("help_services") or HELP_SERVICES
        if isinstance(help_services, str):
            help_services = [s.strip() for s in help_services.split(",") if s.strip()]
        return cls(
            auth_token=get("auth_token"),
            account_sid=get("account_sid"),
            from_number=normalise_e164(get("from_number")) or get("from_number"),
            public_url=get("public_url"),
            gateway_url=get("gateway_url") or DEFAULT_BASE_URL,
            max_chars=limit,
            sender_secret=get("sender_secret"),
            help_services=tuple(help_services),
            flood=FloodLimits(**{k: v for k, v in flood.items() if v is not None}),
        )

    @property
    def secret(self) -> bytes:
        return (self.sender_secret or self.auth_token).encode()

    def database(self) -> str:
        return self.db_url or database_url()
