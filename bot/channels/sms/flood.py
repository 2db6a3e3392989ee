"""Flood limits for the SMS webhook: per number and overall, in sliding windows.

Every text Āwhina answers is paid for, and every message takes a turn of the
one Rasa server, so one phone (or a gateway stuck re-sending) must not run up
the bill or starve everyone else. The channel asks ``FloodGate.admit`` before
answering a signed, well-formed message from a number that has not opted out;
STOP and START are never limited (opting out must always work).

A number over its limit, or any number while the whole service is over its
limit, is told once (``Limited.notify``) and then gets silence until a window
has passed since it was told.

The counts live in this process: one server only. Several replicas behind a
load balancer each allow the full limits; they would need a shared store
(e.g. Redis) instead. Numbers are never kept here: the channel passes the
conversation id (an HMAC of the number).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

PER_NUMBER = "per-number"
OVERALL = "overall"


@dataclass(frozen=True)
class FloodLimits:
    """How many messages are answered in any ``window`` seconds.

    Twenty a minute lets a person answer the handoff form as fast as they type
    ("yep", "me", "send it") and still stops a runaway gateway retry in seconds.
    """

    per_number: int = 20
    overall: int = 300
    window: int = 60

    def __post_init__(self) -> None:
        if min(self.per_number, self.overall, self.window) < 1:
            raise ValueError("flood limits and their window must be at least 1")


@dataclass(frozen=True)
class Limited:
    """Why a message is not answered, and whether to tell the sender (once a window)."""

    limit: str  # PER_NUMBER or OVERALL
    notify: bool


@dataclass
class FloodGate:
    """Sliding-window counts of answered messages, overall and per sender.

    ``clock`` is a monotonic clock in seconds (``time.monotonic``; tests pass
    their own). Memory is bounded by the overall limit (answered messages)
    plus the senders told within the last window.
    """

    limits: FloodLimits = field(default_factory=FloodLimits)
    clock: Callable[[], float] = time.monotonic
    _answered: deque[tuple[float, str]] = field(default_factory=deque, init=False)
    _by_sender: dict[str, deque[float]] = field(default_factory=dict, init=False)
    _told: OrderedDict[str, float] = field(default_factory=OrderedDict, init=False)

    def admit(self, sender: str) -> Limited | None:
        """None if the message may be answered (and it is counted), else why not."""
        now = self.clock()
        self._expire(now - self.limits.window)
        if len(self._by_sender.get(sender, ())) >= self.limits.per_number:
            limit = PER_NUMBER
        elif len(self._answered) >= self.limits.overall:
            limit = OVERALL
        else:
            self._answered.append((now, sender))
            self._by_sender.setdefault(sender, deque()).append(now)
            return None
        notify = sender not in self._told
        if notify:
            self._told[sender] = now
        return Limited(limit, notify)

    def _expire(self, cutoff: float) -> None:
        while self._answered and self._answered[0][0] <= cutoff:
            _, sender = self._answered.popleft()
            times = self._by_sender[sender]
            times.popleft()
            if not times:
                del self._by_sender[sender]
        while self._told and next(iter(self._told.values())) <= cutoff:
            self._told.popitem(last=False)
