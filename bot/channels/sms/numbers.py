"""Phone numbers kept out of conversation ids: an HMAC for the id, Fernet for the metadata.

Rasa's conversation id is ``sms-`` + an HMAC of the number (key
``SMS_SENDER_SECRET``, else the auth token), so the tracker is not keyed by the
number. Later messages (a navigator's reply) need the number back: each user
message carries it in its metadata encrypted (Fernet, key derived from the same
secret). Changing the secret starts new conversations and makes old ones
unreachable by SMS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

METADATA_KEY = "sms_from"
SENDER_PREFIX = "sms-"


@dataclass
class NumberVault:
    """Sender ids and the encrypted number kept in message metadata."""

    secret: bytes
    _fernet: Fernet | None = field(default=None, init=False, repr=False)

    def sender_id(self, e164: str) -> str:
        digest = hmac.new(self.secret, b"sender:" + e164.encode(), hashlib.sha256).hexdigest()
        return SENDER_PREFIX + digest[:32]

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:
            key = hmac.new(self.secret, b"number-key", hashlib.sha256).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(key))
        return self._fernet

    def seal(self, e164: str) -> str:
        return self.fernet.encrypt(e164.encode()).decode()

    def open(self, token: str) -> str | None:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def number_in(self, events: Iterable[Mapping[str, Any]]) -> str | None:
        """The number of the latest user message that carries one."""
        for event in reversed(list(events)):
            if event.get("event") != "user":
                continue
            token = (event.get("metadata") or {}).get(METADATA_KEY)
            if isinstance(token, str):
                number = self.open(token)
                if number:
                    return number
        return None
