"""The one place Āwhina reads the wall clock.

Code that depends on the time (opening hours, escalation, retention, greetings)
takes ``now`` or ``at`` as a parameter; only the outermost layer (commands,
servers, actions) calls :func:`now`, and defaults come from it.

``AWHINA_FROZEN_TIME``, an ISO-8601 datetime with a UTC offset such as
``2026-11-28T22:05:00+13:00``, freezes the clock at that instant. It is read on
every call, so tests can set it and every server they start as a subprocess
sees the same time. Unset or empty, the real clock runs.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

FROZEN_TIME = "AWHINA_FROZEN_TIME"


class ClockError(ValueError):
    """``AWHINA_FROZEN_TIME`` is set but is not an ISO-8601 datetime with an offset."""


def frozen() -> datetime | None:
    """The instant ``AWHINA_FROZEN_TIME`` freezes the clock at, in UTC; None when unset."""
    value = os.environ.get(FROZEN_TIME, "").strip()
    if not value:
        return None
    problem = f"{FROZEN_TIME}={value!r} is not an ISO-8601 datetime with a UTC offset"
    example = "e.g. 2026-11-28T22:05:00+13:00"
    try:
        # Python 3.10's fromisoformat does not read a trailing "Z".
        at = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise ClockError(f"{problem}, {example}") from None
    if at.utcoffset() is None:
        raise ClockError(f"{problem} (it has no offset), {example}")
    return at.astimezone(timezone.utc)


def now() -> datetime:
    """The current instant, timezone-aware in UTC (frozen when ``AWHINA_FROZEN_TIME`` is set)."""
    return frozen() or datetime.now(timezone.utc)
