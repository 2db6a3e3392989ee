"""Erasable free text in an append-only log: each request's own key (AES-256-GCM).

``handoff_event`` is append-only, so the audit trail of who did what and when
can't be rewritten. The free text a navigator writes (notes, live messages) is
stored sealed with the request's ``content_key``; forgetting the person (or
retention) sets the key to NULL, after which that text can't be read by anyone,
while the events themselves stay. The key sits beside the text on purpose: this
is about making erasure possible, not about hiding text from the database's
administrators, who already see everything else.

Each sealed text is bound to its request (the request id is the associated
data), so text copied to another request's event does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def new_key() -> str:
    """A fresh 256-bit key, as the 44 characters stored in ``content_key``."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def seal(key: str, request_id: str, text: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    box = AESGCM(base64.urlsafe_b64decode(key)).encrypt(
        nonce, text.encode("utf-8"), request_id.encode("utf-8")
    )
    return base64.urlsafe_b64encode(nonce + box).decode("ascii")


def unseal(key: str | None, request_id: str, token: str) -> str | None:
    """The text, or None once the key is destroyed (or the token is not this request's)."""
    if key is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token)
        plain = AESGCM(base64.urlsafe_b64decode(key)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], request_id.encode("utf-8")
        )
    except (InvalidTag, ValueError):
        return None
    return plain.decode("utf-8")
