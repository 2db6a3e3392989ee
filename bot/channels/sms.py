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
5. Flood limits (``sms_flood``): a number over its limit, or any number while
   the service is over its overall limit, is told once (``TOO_FAST`` or
   ``BUSY``) and then gets an empty answer until the window has passed.
   STOP and START above, and a message the crisis patterns flag, are never limited.
6. HELP/INFO explain the service with crisis lines read from the directory.
7. A reply "1", "2", ... becomes the payload of that button, looked up in the
   tracker (the buttons shown since the person last wrote), never in memory.
8. The message goes to Rasa and the bot's messages come back as TwiML, in
   their SMS form (``sms_render``): search results one line each, details
   shortened, the results hint once per conversation.

Rasa's conversation id is ``sms-`` + an HMAC of the number (key
``SMS_SENDER_SECRET``, else the auth token), so the tracker is not keyed by
the number. Later messages (a navigator's reply through
``/conversations/{id}/execute?output_channel=latest``) need the number back:
each user message carries it in its metadata encrypted (Fernet, key derived
from the same secret), and ``SmsOutput`` decrypts the latest one. Changing the
secret starts new conversations and makes old ones unreachable by SMS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from cryptography.fernet import Fernet, InvalidToken
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot import clock
from bot.channels import sms_render
from bot.channels.guard import guarded
from bot.channels.limits import too_long_reply
from bot.channels.models import SmsInbound, SmsOptOut
from bot.channels.sms_flood import OVERALL, FloodGate, FloodLimits
from bot.channels.sms_gateway import DEFAULT_BASE_URL, Gateway, SendError
from bot.channels.twilio_signature import is_valid
from bot.config import database_url
from bot.db import session_scope
from bot.directory.present import cost_line
from bot.directory.query import ServiceView, get_services
from bot.phone import mask, normalise_e164
from bot.safety.detector import patterns
from bot.safety.lines import crisis_line_ids
from bot.text import strip_controls

logger = logging.getLogger(__name__)

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# "yes" is an everyday answer; it only opts back in when the number is opted out.
START_WHILE_OPTED_OUT = frozenset({"YES"})

# Directory services named in the HELP answer (all in the "crisis" need).
HELP_SERVICES = crisis_line_ids()

METADATA_KEY = "sms_from"
SENDER_PREFIX = "sms-"
_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")

STOPPED = (
    "You've been unsubscribed from Āwhina texts and won't get any more. Reply START to resubscribe."
)
STARTED = (
    "You're subscribed to Āwhina texts again. Tell me what's going on, "
    "or reply HELP for help or STOP to stop."
)
# HELP, with the crisis lines after it, fits two segments (UCS-2: 134 characters).
HELP_INTRO = "Āwhina, a chatbot, finds support services: text what's going on. STOP to stop."
EMPTY = "Sorry, I can only read text. Please type your question."
# Told once a window to a number over the flood limits (sms_flood).
TOO_FAST = (
    "You're sending messages faster than I can answer. Please wait a minute and try again; "
    "in an emergency call 111."
)
BUSY = (
    "I'm getting more messages than I can answer right now. Please try again in a minute; "
    "in an emergency call 111."
)


class OptedOut(SendError):
    """The number texted STOP: nothing may be sent to it until it texts START."""


@dataclass(frozen=True)
class SmsConfig:
    """The channel's settings; ``from_mapping`` reads credentials.yml values, then the env."""

    auth_token: str = ""
    account_sid: str = ""
    from_number: str = ""
    public_url: str = ""
    gateway_url: str = DEFAULT_BASE_URL
    max_chars: int = sms_render.LIMIT
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
        limit = max_chars if max_chars is not None else sms_render.LIMIT
        if not 1 <= limit <= sms_render.LIMIT:
            raise ValueError(f"max_chars must be between 1 and {sms_render.LIMIT}")
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


# What the channel keeps in the database; synchronous, run in a worker thread.


def record_inbound(db_url: str, message_sid: str) -> bool:
    """Record a MessageSid; False if it was already recorded (a repeated webhook)."""
    try:
        with session_scope(db_url) as session:
            session.add(SmsInbound(message_sid=message_sid, received_at=clock.now()))
    except IntegrityError:
        return False
    return True


def forget_inbound(db_url: str, message_sid: str) -> None:
    """Best effort: un-record a MessageSid whose processing failed, so a retry is processed."""
    try:
        with session_scope(db_url) as session:
            row = session.get(SmsInbound, message_sid)
            if row is not None:
                session.delete(row)
    except SQLAlchemyError:
        logger.exception("sms: could not forget MessageSid %s", message_sid)


def is_opted_out(db_url: str, e164: str) -> bool:
    with session_scope(db_url) as session:
        row = session.get(SmsOptOut, e164)
        return bool(row and row.opted_out)


def set_opted_out(db_url: str, e164: str, opted_out: bool) -> None:
    for _ in range(2):  # a concurrent first insert for the same number: update it instead
        try:
            with session_scope(db_url) as session:
                row = session.get(SmsOptOut, e164)
                now = clock.now()
                if row is None:
                    session.add(SmsOptOut(phone_e164=e164, opted_out=opted_out, changed_at=now))
                else:
                    row.opted_out, row.changed_at = opted_out, now
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not record the opt-out state")


def _help_facts(view: ServiceView) -> list[str]:
    return [f.lower() for f in ("24/7" if view.is_24_7 else None, cost_line(view)) if f]


def _help_line(view: ServiceView, said: Sequence[str]) -> str:
    """``"call or text 1737"``, with the facts not ``said`` already; the name only
    for a service without a number."""
    kinds: dict[str, list[str]] = {}
    for phone in view.phones:
        kinds.setdefault(phone.number, []).append("text" if phone.type == "text" else "call")
    how = "; ".join(
        f"{' or '.join(dict.fromkeys(sorted(verbs)))} {number}" for number, verbs in kinds.items()
    )
    facts = ", ".join(f for f in _help_facts(view) if f not in said)
    line = how or view.name
    return f"{line} ({facts})" if facts else line


def help_text(db_url: str, service_ids: Sequence[str]) -> str:
    """Two lines: what Āwhina is, then the crisis lines as the directory has them,
    e.g. "Urgent (24/7, free): call 111; call or text 1737." (facts they all share first)."""
    with session_scope(db_url) as session:
        views = get_services(session, list(service_ids))
    if not views:
        logger.error("sms HELP: none of the services %s is in the directory", list(service_ids))
        return HELP_INTRO
    shared = [f for f in _help_facts(views[0]) if all(f in _help_facts(v) for v in views)]
    head = f"Urgent ({', '.join(shared)})" if shared else "Urgent"
    return f"{HELP_INTRO}\n{head}: " + "; ".join(_help_line(v, shared) for v in views) + "."


def twiml(parts: Sequence[str]) -> str:
    """A TwiML document with one ``<Message>`` per part (none: an empty ``<Response/>``)."""
    body = "".join(f"<Message>{escape(_xml_safe(p))}</Message>" for p in parts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def _xml_safe(text: str) -> str:
    """Characters XML 1.0 cannot carry removed."""
    return re.sub("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", text)


def _twiml_response(parts: Sequence[str] = ()) -> HTTPResponse:
    return response.text(twiml(parts), content_type="text/xml; charset=utf-8")


def keyword(body: str) -> str:
    """The body as a keyword candidate: trimmed, upper case, without trailing . or !"""
    return body.strip().rstrip(".!").strip().upper()


def _form(request: Request) -> dict[str, list[str]]:
    """The urlencoded form with empty values kept (an empty ``Body`` is signed too).

    Sanic's ``request.form`` drops empty values, which would break signatures.
    Anything else (another content type, bytes that are not UTF-8) is an empty form.
    """
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        return parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}


def _first(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


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
        sender = normalise_e164(_first(_form(request), "From"))
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
        form = _form(request)
        signature = request.headers.get("X-Twilio-Signature")
        if not is_valid(self.config.auth_token, self.signed_url(request), form, signature):
            logger.warning("sms webhook refused: %s signature", "bad" if signature else "no")
            return response.text("Forbidden: invalid or missing X-Twilio-Signature", status=403)

        sender = normalise_e164(_first(form, "From"))
        message_sid = (_first(form, "MessageSid") or "").strip()
        body = _first(form, "Body") or ""
        if sender is None or not _SID.fullmatch(message_sid):
            logger.warning("sms webhook rejected: malformed From or MessageSid")
            return response.text("Bad request: From and MessageSid are required", status=400)

        db_url = self.config.database()
        try:
            if not await asyncio.to_thread(record_inbound, db_url, message_sid):
                logger.info("sms %s from %s already processed", message_sid, mask(sender))
                return _twiml_response()
            opted_out = await asyncio.to_thread(is_opted_out, db_url, sender)
        except SQLAlchemyError:
            logger.exception("sms webhook: database unavailable")
            return response.text("Service unavailable", status=503)
        logger.info("sms %s from %s", message_sid, mask(sender))
        try:
            return await self._answer(request, on_new_message, sender, body, opted_out)
        except SQLAlchemyError:
            # Forget the MessageSid so the gateway's retry is processed: a STOP must not be lost.
            logger.exception("sms webhook: database failed while answering %s", message_sid)
            await asyncio.to_thread(forget_inbound, db_url, message_sid)
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
        word = keyword(body)
        sender_id = self.vault.sender_id(sender)
        if word in STOP_WORDS:
            if opted_out:
                return _twiml_response()
            await asyncio.to_thread(set_opted_out, db_url, sender, True)
            logger.info("sms %s opted out", mask(sender))
            return self._reply(STOPPED)
        if word in START_WORDS or (opted_out and word in START_WHILE_OPTED_OUT):
            await asyncio.to_thread(set_opted_out, db_url, sender, False)
            logger.info("sms %s opted in", mask(sender))
            return self._reply(STARTED)
        if opted_out:
            logger.info("sms from opted-out %s ignored", mask(sender))
            return _twiml_response()
        # A message showing danger is always answered: the limits protect the bill,
        # never at the cost of a crisis answer.
        limited = None if patterns().detect(body) else self.flood.admit(sender_id)
        if limited and not limited.notify:
            logger.info("sms from %s not answered: %s flood limit", mask(sender), limited.limit)
            return _twiml_response()
        if limited:
            logger.warning("sms from %s told to wait: %s flood limit", mask(sender), limited.limit)
            return self._reply(BUSY if limited.limit == OVERALL else TOO_FAST)
        if word in HELP_WORDS:
            return self._reply(
                await asyncio.to_thread(help_text, db_url, self.config.help_services)
            )
        if len(body) > self.config.max_chars:
            return self._reply(too_long_reply(self.config.max_chars))
        text = strip_controls(body).strip()
        if not text:
            return self._reply(EMPTY)

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
        except SQLAlchemyError:  # not a 503: the gateway's retry would be a second turn
            logger.exception("sms: could not read the conversation back; hint left as it is")
            events = []
        messages = sms_render.once_per_conversation(collector.messages, events)
        return _twiml_response(sms_render.render(messages, 1, self.config.max_chars))

    def _reply(self, text: str) -> HTTPResponse:
        """A fixed answer as TwiML, split like any other if ``max_chars`` is small."""
        return _twiml_response(sms_render.split(text, self.config.max_chars))

    async def _button_payload(self, app: Any, sender_id: str, text: str) -> str | None:
        if not re.fullmatch(r"#?\s*\d{1,3}\s*[.)]?", text):
            return None
        buttons = sms_render.buttons_in_turn(await self._events(app, sender_id))
        return sms_render.chosen_payload(text, buttons)

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
        if await asyncio.to_thread(is_opted_out, db_url, number):
            logger.info("sms to opted-out %s not sent", mask(number))
            raise OptedOut("the person opted out of texts (STOP)")
        if not (self.config.from_number and self.config.account_sid and self.config.auth_token):
            raise SendError("sms channel needs from_number, account_sid and auth_token to send")
        first = len(sms_render.buttons_in_turn(events)) + 1
        for part in sms_render.render(messages, first, self.config.max_chars):
            await self.gateway.send(number, self.config.from_number, part)
