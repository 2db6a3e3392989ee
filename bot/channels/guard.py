"""The last line of defence for every turn, on every channel (REST, widget, SMS).

Each channel hands the person's message to Rasa through ``guarded(on_new_message)``.
Whatever happens inside Rasa (an exception, a dialogue state no rule covers, a
policy gone quiet), the person gets:

- at least one reply: a turn that produced nothing gets ``SAFE_REPLY`` (111 and
  1737), and the server logs that it happened, without the text (except while a
  navigator chats live with the person, when the bot is quiet on purpose);
- the crisis answer when the crisis patterns see danger and no reply of the turn
  carried 111;
- at most ``MAX_MESSAGES_PER_TURN`` messages as delivered, none of them repeated.

Each of these is logged as a warning naming a hash of the conversation id: in a
healthy system they never fire, and the conversation fuzzer checks that.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Sanic
from sanic.exceptions import SanicException

from bot.dialogue import NAVIGATOR_LIVE_SLOT
from bot.safety.detector import crisis_in

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_TURN = 6
EMERGENCY_NUMBER = "111"
# Sent when a turn produced no reply, or a crisis went unanswered. Its numbers
# are checked against the directory by tests/test_domain_facts.py.
SAFE_REPLY = (
    "Sorry, something went wrong on my side. If you or someone else is in danger right "
    "now, call 111. You can call or text 1737 any time, free, to talk with a trained "
    "counsellor. Please try your message again."
)
# The marker in the log lines, so tests and operators can find them.
LOG_MARKER = "turn guard"


def conversation_ref(sender_id: str) -> str:
    """A short, stable stand-in for a conversation id in logs (which may hold a number)."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:12]


def delivered_parts(message: dict[str, Any]) -> int:
    """How many messages one response becomes: Rasa's channels send each paragraph
    of a text (split at blank lines) as a message of its own."""
    text = message.get("text")
    return len(text.strip().split("\n\n")) if isinstance(text, str) and text.strip() else 1


class TurnGuard(OutputChannel):
    """Wraps a channel's output for one turn: counts, drops repeats, stops at the limit."""

    def __init__(self, inner: OutputChannel, sender_id: str) -> None:
        self.inner = inner
        self.ref = conversation_ref(sender_id)
        self.sent: list[dict[str, Any]] = []
        self.delivered = 0  # messages the person sees: Rasa splits a text at blank lines

    def name(self) -> str:  # type: ignore[override]
        """The wrapped channel's name: responses may have variants per channel."""
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        kept = dict(message)
        if kept in self.sent:
            log.warning("%s: dropped a repeated message (conversation %s)", LOG_MARKER, self.ref)
            return
        parts = delivered_parts(kept)
        if self.delivered + parts > MAX_MESSAGES_PER_TURN:
            log.warning(
                "%s: dropped a message over the limit of %d (conversation %s)",
                LOG_MARKER,
                MAX_MESSAGES_PER_TURN,
                self.ref,
            )
            return
        self.sent.append(kept)
        self.delivered += parts
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})

    def carried(self, needle: str) -> bool:
        return any(needle in json.dumps(m, ensure_ascii=False) for m in self.sent)


def _agent() -> Any | None:
    """The Rasa agent of this server (channels run inside Rasa's one Sanic app)."""
    try:
        return Sanic.get_app().ctx.agent
    except (SanicException, AttributeError):
        return None


async def navigator_is_live(sender_id: str) -> bool:
    """Whether a navigator is chatting live, when the bot stays quiet on purpose
    (``NavigatorLivePolicy``): a silent turn then needs no safe reply."""
    agent = _agent()
    if agent is None:
        return False
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:  # a store that cannot answer must not stop the safe reply
        log.exception("%s: could not read the conversation", LOG_MARKER)
        return False
    return bool(tracker and tracker.get_slot(NAVIGATOR_LIVE_SLOT))


def guarded(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    """``on_new_message`` with the guarantees of this module around each turn."""

    async def handle(message: UserMessage) -> None:
        guard = TurnGuard(message.output_channel, message.sender_id or "")
        message.output_channel = guard
        try:
            await on_new_message(message)
        except Exception as exc:
            # The traceback may quote the message, so it is only logged at DEBUG.
            log.error(
                "%s: the turn failed with %s (conversation %s)",
                LOG_MARKER,
                type(exc).__name__,
                guard.ref,
            )
            log.debug("turn failure", exc_info=True)
        if not guard.sent and not await navigator_is_live(message.sender_id or ""):
            log.warning("%s: a turn produced no reply (conversation %s)", LOG_MARKER, guard.ref)
            await guard.send_text_message(message.sender_id, SAFE_REPLY)
        elif crisis_in(message.text or "") and not guard.carried(EMERGENCY_NUMBER):
            log.warning("%s: a crisis went unanswered (conversation %s)", LOG_MARKER, guard.ref)
            await guard.inner.send_text_message(message.sender_id, SAFE_REPLY)

    return handle
