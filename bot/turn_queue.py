"""Turns taken in the order their messages arrived, a few at a time (issue 11).

Rasa's server handles every message it receives at once, interleaved on its one
event loop: each turn runs in steps (the NLU parse, then a prediction and an
action server call per action), and at every step it waits behind the steps of
every other turn in progress. A turn of four actions (a service search) therefore
waits four times as long as a turn of one, and under load the slowest tenth of
answers are those turns: with 20 conversations at once, a search took 790 ms
where other turns took 260-420 ms (bench/results/turn-queue.md).

``TurnQueue`` lets ``size`` turns be in progress at once and queues the others
in arrival order: a turn, once started, runs with few others, and each message
waits about as long as the others ahead of it take. The server does the same
work, so throughput is unchanged, but the long turns no longer pay for every
other conversation's steps again and again. ``size`` is more than one so that
the server has a turn to work on while another waits for the action server.

Two kinds of message go ahead of the queue:

- a message in which the crisis patterns see danger, at once;
- a message that has waited ``max_wait_s``, over the limit, and a
  warning is logged (for the 1st, 10th, 100th... such message, so that an
  overload does not flood the log). A turn stuck on a slow action server holds
  its place in the queue, and this keeps such a stall from holding up every
  conversation.

``Agent.handle_message`` is patched to take its turn after the conversation's
own lock (so a second message of the same conversation does not hold a place
while it waits for the first) and to hand it back when the turn ends, however
it ends. Rasa imports this module at start-up through ``bot.channels.rest``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from bot.config import env_int
from bot.safety.detector import crisis_in

log = logging.getLogger(__name__)

# Turns in progress at once in one Rasa server (``RASA_TURNS_AT_ONCE``).
TURNS_AT_ONCE = 2
# Longest a message waits for its turn before it goes ahead anyway.
MAX_WAIT_S = 5.0


class TurnQueue:
    """At most ``size`` turns at once; the others wait in arrival order."""

    def __init__(self, size: int, max_wait_s: float) -> None:
        if size < 1:
            raise ValueError("a turn queue needs room for at least one turn")
        self.size = size
        self.max_wait_s = max_wait_s
        self.running = 0
        self.went_ahead = 0  # messages that waited max_wait_s
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def turn(self, urgent: bool = False) -> AsyncIterator[None]:
        """Hold one of the places for the body's duration; ``urgent`` never waits."""
        if urgent or (self.running < self.size and not self._waiting):
            self.running += 1
        else:
            await self._queue()
        try:
            yield
        finally:
            self.running -= 1
            self._admit()

    async def _queue(self) -> None:
        """Wait for a place: ``_admit`` or ``_go_ahead`` counts it in ``running``."""
        loop = asyncio.get_running_loop()
        admitted: asyncio.Future[None] = loop.create_future()
        self._waiting.append(admitted)
        overdue = loop.call_later(self.max_wait_s, self._go_ahead, admitted)
        try:
            await admitted
        except asyncio.CancelledError:
            if admitted.cancelled():
                with suppress(ValueError):
                    self._waiting.remove(admitted)
            else:  # cancelled just as its place came: the place goes to the next
                self.running -= 1
                self._admit()
            raise
        finally:
            overdue.cancel()

    def _go_ahead(self, admitted: asyncio.Future[None]) -> None:
        """A message has waited ``max_wait_s``: it goes ahead over the limit."""
        if admitted.done():
            return
        self._waiting.remove(admitted)
        self.running += 1
        self.went_ahead += 1
        admitted.set_result(None)
        if _power_of_ten(self.went_ahead):
            log.warning(
                "%d messages so far waited %.0f s for their turn and went ahead "
                "(%d turns in progress): the server is overloaded or stalled",
                self.went_ahead,
                self.max_wait_s,
                self.running,
            )

    def _admit(self) -> None:
        """Hand free places to the longest-waiting messages."""
        while self._waiting and self.running < self.size:
            admitted = self._waiting.popleft()
            if not admitted.done():
                self.running += 1
                admitted.set_result(None)


def _power_of_ten(n: int) -> bool:
    return str(n).rstrip("0") == "1"


TURNS = TurnQueue(env_int("RASA_TURNS_AT_ONCE", TURNS_AT_ONCE), MAX_WAIT_S)


async def handle_message(self: Agent, message: UserMessage) -> list[dict[str, Any]] | None:
    """Rasa's ``Agent.handle_message``, with the turn taken from ``TURNS``."""
    if not self.is_ready():
        log.info("Ignoring message as there is no agent to handle it.")
        return None
    urgent = bool(crisis_in(message.text or ""))
    async with self.lock_store.lock(message.sender_id), TURNS.turn(urgent=urgent):
        return await self.processor.handle_message(message)  # type: ignore[union-attr]


Agent.handle_message = handle_message
