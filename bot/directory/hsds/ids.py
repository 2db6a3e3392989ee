"""HSDS ids are UUIDs; ours are readable slugs (``healthline``, ``need:crisis``).

A slug's HSDS id is a UUIDv5 over a fixed namespace and the table and slug, so it
never changes: links and slots keep working, and a partner's copy keeps its ids
from one export to the next. Records imported with UUIDs keep them as they are.
"""

from __future__ import annotations

import uuid

# Fixed once for Āwhina: changing it would change every exported id.
NAMESPACE = uuid.UUID("5b0c7d4e-2f5a-4a57-9d0e-6a7e1c3f8a21")


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def hsds_id(table: str, our_id: str | int) -> str:
    """The HSDS id of our record ``our_id`` in ``table``: itself when it is a UUID."""
    text = str(our_id)
    return text.lower() if is_uuid(text) else str(uuid.uuid5(NAMESPACE, f"{table}:{text}"))
