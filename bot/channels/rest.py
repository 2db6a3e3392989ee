"""Rasa's REST channel with its input checked first.

Stock ``RestInput`` answers a body that is not a JSON object, or a message
that is not text, with a 500 and a traceback that quotes the message. This
channel (still named ``rest``, at ``/webhooks/rest/webhook``) answers those
with a clear 400 (as it does a message with control characters, ``bot.text``),
a body over 64 KB with 413, and a message over the length limit with a short
bot reply, without passing anything on to the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

# Rasa imports this module at start-up, which applies bot/rasa_speedups.py and
# bot/turn_queue.py (issue 11).
from bot import rasa_speedups, turn_queue  # noqa: F401
from bot.channels.guard import guarded
from bot.channels.limits import MAX_MESSAGE_CHARS, too_long_reply
from bot.text import has_controls

MAX_BODY_BYTES = 64 * 1024
SENDER = re.compile(r"[\w.:@+-]{1,128}")


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def refusal(body: bytes, limit: int = MAX_MESSAGE_CHARS) -> HTTPResponse | None:
    """The response that refuses this webhook body, or None when Rasa may have it."""
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"The request body is over {MAX_BODY_BYTES // 1024} KB.")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error(400, 'Send JSON: {"sender": "...", "message": "..."}')
    if not isinstance(payload, dict):
        return _error(400, "Send a JSON object.")
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not SENDER.fullmatch(sender):
        return _error(400, "'sender' must be 1 to 128 letters, digits or . : @ + - _")
    if not isinstance(message, str) or not message.strip():
        return _error(400, "'message' must be non-empty text.")
    if has_controls(message):
        return _error(400, "'message' must not contain control characters.")
    if "metadata" in payload and not isinstance(payload["metadata"], dict):
        return _error(400, "'metadata' must be a JSON object.")
    if len(message) > limit:
        return response.json([{"recipient_id": sender, "text": too_long_reply(limit)}])
    return None


class RestChannel(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(guarded(on_new_message))

        @webhook.middleware("request")
        async def refuse_bad_input(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            return refusal(request.body or b"")

        return webhook
