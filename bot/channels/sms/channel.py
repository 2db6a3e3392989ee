"""The SMS channel: Twilio-format webhooks in, TwiML replies out, later messages via REST.

Registered in ``credentials.yml`` as ``bot.channels.sms.SmsInput``; the
gateway posts to ``/webhooks/sms/webhook``. For every webhook, in order:

1. The ``X-Twilio-Signature`` is checked (403 and nothing else happens when it
   is missing or wrong, or when no auth token is configured).
2. ``From`` and ``MessageSid`` are checked (400 when malformed).
3. The ``MessageSid`` is recorded (table ``sms_inbound``); a repeat gets an
   empty TwiML answer and nothing else happens.
4. STOP and its variants opt the number out (table ``sms_opt_out``) with a
   one-line confirmation; START/UNSTOP (and YES while opted out) opt back in.
   An opted-out number gets no answer and nothing reaches Rasa.
5. Flood limits (``flood``): a number over its limit, or any number while
   the service is over its overall limit, is told once (``TOO_FAST`` or
   ``BUSY``) and then gets an empty answer until the window has passed.
   STOP and START above, and a message the crisis patterns flag, are never limited.
6. HELP/INFO explain the service with crisis lines read from the directory.
7. A reply "1", "2", ... becomes the payload of that button, looked up in the
   tracker (the buttons shown since the person last wrote), never in memory.
8. The message goes to Rasa and the bot's messages come back as TwiML, in
   their SMS form (``render``): search results one line each, details
   shortened, the results hint once per conversation.

The conversation id is an HMAC of the number, and the number travels encrypted
in the message metadata (``numbers``). Database errors are logged by their type
only: their text can carry a phone number.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.guard import guarded
from bot.channels.limits import too_long_reply
from bot.channels.sms import render, replies, state, twiml
from bot.channels.sms.flood import OVERALL, FloodGate
from bot.channels.sms.gateway import Gateway, SendError
from bot.channels.sms.numbers import METADATA_KEY, NumberVault
from bot.channels.sms.settings import SmsConfig
from bot.channels.twilio_signature import is_valid
from bot.phone import mask, normalise_e164
from bot.safety.detector import patterns
from bot.text import strip_controls

logger = logging.getLogger(__name__)

_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class OptedOut(SendError):
    """The number texted STOP: nothing may be sent to it until it texts START."""


class SmsCollector(CollectingOutputChannel):
    """Collects a turn's messages for the TwiML answer, under the channel's name, so
    a response's ``channel: sms`` variant in the domain is the one chosen."""

    @classmethod
    def name(cls) -> str:
        return SmsInput.name()


class SmsOutput(OutputChannel):
    """Sends messages outside a webhook (navigator replies) through the gateway."""

    @classmethod
    def name(cls) -> str:
        return SmsInput.name()

    def __init__(self, channel: SmsInput) -> None:
        self.channel = channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """One bot message, rendered as a whole so its buttons and text stay together."""
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("text") and not message.get("text"):
            message = {**message, "text": custom["text"]}
        await self.channel.send_later(recipient_id, [message])

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.channel.send_later(recipient_id, [{"text": text}])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.channel.send_later(recipient_id, [{"text": text, "buttons": buttons}])

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.channel.send_later(recipient_id, [{"image": image}])


class SmsInput(InputChannel):
    """Twilio-compatible SMS webhook with signature checks, dedupe and opt-out."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SmsInput:
        return cls(SmsConfig.from_mapping(credentials))

    def __init__(self, config: SmsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: the monotonic clock the flood limits count with (tests pass their own)."""
        self.config = config
        self.vault = NumberVault(config.secret)
        self.flood = FloodGate(config.flood, clock)
        self.gateway = Gateway(
            config.account_sid,
            config.auth_token,
            config.gateway_url,
            attempts=config.gateway_attempts,
            backoff=config.gateway_backoff,
        )
        self._app: Any = None
        if not config.auth_token:
            logger.warning("sms channel: no auth token set, every webhook will be refused (403)")

    # Rasa hooks

    def get_output_channel(self) -> OutputChannel:
        return SmsOutput(self)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        sender = normalise_e164(twiml.field(twiml.form(request), "From"))
        return {METADATA_KEY: self.vault.seal(sender)} if sender else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms = Blueprint(f"sms_webhook_{id(self)}", __name__)
        on_new_message = guarded(on_new_message)

        @sms.listener("before_server_start")
        async def keep_app(app: Any, _loop: Any) -> None:
            self._app = app

        @sms.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            self._app = request.app
            return await self.handle(request, on_new_message)

        return sms

    # The webhook

    def signed_url(self, request: Request) -> str:
        return self.config.public_url or request.url

    async def handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        form = twiml.form(request)
        signature = request.headers.get("X-Twilio-Signature")
        if not is_valid(self.config.auth_token, self.signed_url(request), form, signature):
            logger.warning("sms webhook refused: %s signature", "bad" if signature else "no")
            return response.text("Forbidden: invalid or missing X-Twilio-Signature", status=403)

        sender = normalise_e164(twiml.field(form, "From"))
        message_sid = (twiml.field(form, "MessageSid") or "").strip()
        body = twiml.field(form, "Body") or ""
        if sender is None or not _SID.fullmatch(message_sid):
            logger.warning("sms webhook rejected: malformed From or MessageSid")
            return response.text("Bad request: From and MessageSid are required", status=400)

        db_url = self.config.database()
        try:
            if not await asyncio.to_thread(state.record_inbound, db_url, message_sid):
                logger.info("sms %s from %s already processed", message_sid, mask(sender))
                return twiml.answer()
            opted_out = await asyncio.to_thread(state.is_opted_out, db_url, sender)
        except SQLAlchemyError as error:
            logger.error("sms webhook: database unavailable: %s", type(error).__name__)
            return response.text("Service unavailable", status=503)
        logger.info("sms %s from %s", message_sid, mask(sender))
        try:
            return await self._answer(request, on_new_message, sender, body, opted_out)
        except SQLAlchemyError as error:
            # Forget the MessageSid so the gateway's retry is processed: a STOP must not be lost.
            logger.error(
                "sms webhook: database failed while answering %s: %s",
                message_sid,
                type(error).__name__,
            )
            await asyncio.to_thread(state.forget_inbound, db_url, message_sid)
            return response.text("Service unavailable", status=503)

    async def _answer(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str,
        body: str,
        opted_out: bool,
    ) -> HTTPResponse:
        """STOP and START (never limited), the flood limits, HELP and the other
        checks, then the assistant; the MessageSid is already recorded."""
        db_url = self.config.database()
        word = replies.keyword(body)
        sender_id = self.vault.sender_id(sender)
        if word in replies.STOP_WORDS:
            if opted_out:
                return twiml.answer()
            await asyncio.to_thread(state.set_opted_out, db_url, sender, True)
            logger.info("sms %s opted out", mask(sender))
            return self._reply(replies.STOPPED)
        if word in replies.START_WORDS or (opted_out and word in replies.START_WHILE_OPTED_OUT):
            await asyncio.to_thread(state.set_opted_out, db_url, sender, False)
            logger.info("sms %s opted in", mask(sender))
            return self._reply(replies.STARTED)
        if opted_out:
            logger.info("sms from opted-out %s ignored", mask(sender))
            return twiml.answer()
        # A message showing danger is always answered: the limits protect the bill,
        # never at the cost of a crisis answer.
        limited = None if patterns().detect(body) else self.flood.admit(sender_id)
        if limited and not limited.notify:
            logger.info("sms from %s not answered: %s flood limit", mask(sender), limited.limit)
            return twiml.answer()
        if limited:
            logger.warning("sms from %s told to wait: %s flood limit", mask(sender), limited.limit)
            return self._reply(replies.BUSY if limited.limit == OVERALL else replies.TOO_FAST)
        if word in replies.HELP_WORDS:
            return self._reply(
                await asyncio.to_thread(replies.help_text, db_url, self.config.help_services)
            )
        if len(body) > self.config.max_chars:
            return self._reply(too_long_reply(self.config.max_chars))
        text = strip_controls(body).strip()
        if not text:
            return self._reply(replies.EMPTY)

        payload = await self._button_payload(request.app, sender_id, text)
        collector = SmsCollector()
        await on_new_message(
            UserMessage(
                payload or text,
                collector,
                sender_id,
                input_channel=self.name(),
                metadata=self.get_metadata(request),
            )
        )
        try:
            events = await self._events(request.app, sender_id)
        except SQLAlchemyError as error:  # not a 503: the gateway's retry would be a second turn
            logger.error(
                "sms: could not read the conversation back (%s); hint left as it is",
                type(error).__name__,
            )
            events = []
        messages = render.once_per_conversation(collector.messages, events)
        return twiml.answer(render.render(messages, 1, self.config.max_chars))

    def _reply(self, text: str) -> HTTPResponse:
        """A fixed answer as TwiML, split like any other if ``max_chars`` is small."""
        return twiml.answer(render.split(text, self.config.max_chars))

    async def _button_payload(self, app: Any, sender_id: str, text: str) -> str | None:
        if not re.fullmatch(r"#?\s*\d{1,3}\s*[.)]?", text):
            return None
        buttons = render.buttons_in_turn(await self._events(app, sender_id))
        return render.chosen_payload(text, buttons)

    @staticmethod
    async def _events(app: Any, sender_id: str) -> list[dict[str, Any]]:
        """The conversation's tracker events as dicts (none for a new conversation)."""
        tracker = await app.ctx.agent.tracker_store.retrieve(sender_id)
        return [e.as_dict() for e in tracker.events] if tracker else []

    # Messages outside a webhook

    async def send_later(self, recipient_id: str, messages: list[dict[str, Any]]) -> None:
        """Render bot messages for a conversation and send them through the gateway.

        Raises ``SendError`` whenever the message is not delivered (no number
        for the conversation, the number opted out, the gateway refused or
        could not be reached), so the caller, e.g. Rasa's execute endpoint
        used by the navigators, fails visibly and the undelivered message is
        not logged in the conversation.
        """
        if self._app is None:
            raise SendError("sms channel is not attached to a running server")
        events = await self._events(self._app, recipient_id)
        number = self.vault.number_in(events)
        if number is None:
            logger.warning("sms: no number for conversation %s, not sent", recipient_id)
            raise SendError("no SMS number is known for this conversation")
        db_url = self.config.database()
        if await asyncio.to_thread(state.is_opted_out, db_url, number):
            logger.info("sms to opted-out %s not sent", mask(number))
            raise OptedOut("the person opted out of texts (STOP)")
        if not (self.config.from_number and self.config.account_sid and self.config.auth_token):
            raise SendError("sms channel needs from_number, account_sid and auth_token to send")
        first = len(render.buttons_in_turn(events)) + 1
        for part in render.render(messages, first, self.config.max_chars):
            await self.gateway.send(number, self.config.from_number, part)
