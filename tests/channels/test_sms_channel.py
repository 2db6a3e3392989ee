"""The SMS channel's Sanic blueprint, served in-process on loopback.

Rasa's agent is replaced by a small scripted bot that writes real Rasa events
into a real in-memory tracker store (so button replies are looked up the way
they are in production); the database is a migrated SQLite file with the real
directory seed; outbound messages go to the fake gateway over HTTP. The real
Rasa server is exercised in ``tests/e2e/test_sms.py``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic
from sanic.touchup import TouchUp
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bench.procs import free_port
from bot.channels.guard import SAFE_REPLY
from bot.channels.limits import too_long_reply
from bot.channels.models import SmsInbound, SmsOptOut
from bot.channels.sms import replies, state, twiml
from bot.channels.sms.channel import OptedOut, SmsInput
from bot.channels.sms.flood import FloodLimits
from bot.channels.sms.gateway import SendError
from bot.channels.sms.numbers import METADATA_KEY, NumberVault
from bot.channels.sms.render import RESULTS_HINT, segments
from bot.channels.sms.settings import SmsConfig
from bot.db import get_engine, session_scope
from bot.directory.query import get_services, services_for_need
from tests.conftest import Templates
from tests.e2e.fake_gateway import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeGateway, sign

PATH = "/webhooks/sms/webhook"
CHOICES = [
    {"title": "**Apples**", "payload": "/pick_a"},
    {"title": "Bananas", "payload": "/pick_b"},
]
# A search answer as the bot sends it: each reply names its response, as Rasa
# records it with the bot event.
SEARCH = [
    {"text": "Here are services for drugs in Greymouth:", "response": "utter_results_intro"},
    {
        "text": "1. Alcohol Drug Helpline\nAdvice for you or your whānau.\n"
        "Call 0800 787 797 · Text 8681 · https://alcoholdrughelp.org.nz\nOpen 24/7 · Free\n\n"
        "2. Buller Health\nHealth centre in Westport.\nNo checked contact details yet.\n"
        "(details not yet checked: confirm with them first)",
        "response": "utter_services",
    },
    {
        "text": "Say 'more' or 'what's their number?'. Or say 'talk to someone' and a navigator, "
        "a real person, will get in touch.",
        "response": "utter_results_hint",
    },
]
SEARCH_REPLY = (
    "Here are services for drugs in Greymouth:\n"
    "1. Alcohol Drug Helpline 0800 787 797 (24/7, free)\n"
    "2. Buller Health (not yet checked)"
)


@pytest.fixture(scope="module", autouse=True)
def sanic_test_mode():
    """Sanic rewrites some methods at each app start; test mode lets many apps start."""
    previous, Sanic.test_mode = Sanic.test_mode, True
    yield
    Sanic.test_mode = previous


@pytest.fixture(scope="module", autouse=True)
def touched_up_once(sanic_test_mode) -> Iterator[None]:
    """Sanic's rewrite at each app start (``TouchUp.run``: the source of a few request
    methods read, parsed, stripped of the signals no app registered and compiled again)
    is done again only when an app registers other signals: every app here registers
    the same, so the first app's rewrite is the one each would make. Redone for each
    app, it took about a quarter of the module's time."""
    original = TouchUp.__dict__["run"]  # the classmethod itself, put back afterwards
    run = TouchUp.run
    done: set[tuple] = set()

    def once(app: Sanic) -> None:
        signals = (tuple(sorted(r.path for r in app.signal_router.routes)), app.state.verbosity)
        if signals not in done:
            done.clear()
            done.add(signals)
            run(app)

    TouchUp.run = once
    yield
    TouchUp.run = original


@pytest.fixture(scope="module")
def db_url(seeded_sqlite: str) -> str:
    return seeded_sqlite


@pytest.fixture(scope="module")
def gateway():
    fake = FakeGateway()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def config(db_url: str, gateway: FakeGateway) -> SmsConfig:
    gateway.reset()
    return SmsConfig(
        auth_token=AUTH_TOKEN,
        account_sid=ACCOUNT_SID,
        from_number=FROM_NUMBER,
        gateway_url=gateway.url,
        sender_secret="test-sender-secret",
        db_url=db_url,
        gateway_backoff=0.01,
    )


def number() -> str:
    """A fresh NZ mobile number per test, so opt-outs never leak between tests."""
    return "+6421" + str(uuid.uuid4().int)[:7]


@dataclass
class ScriptedBot:
    """Stands in for Rasa: records each message and answers from a script."""

    store: InMemoryTrackerStore = field(
        default_factory=lambda: InMemoryTrackerStore(Domain.empty())
    )
    received: list[UserMessage] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # output channel names, for variants
    fail: bool = False

    def answer(self, text: str) -> list[dict[str, Any]]:
        if text == "buttons":
            return [{"text": "Which *fruit*?", "buttons": CHOICES}]
        if text.startswith("/pick_"):
            return [{"text": f"You picked {text[-1].upper()}."}]
        if text == "markup":
            return [{"text": '<Response> & "quotes" </Message> \x00 [link](https://x.nz/a_b)'}]
        if text == "long":
            return [{"text": "A sentence that goes on for a while. " * 60}]
        if text == "search":
            return SEARCH
        return [{"text": "Kia ora! Call [1737](https://1737.org.nz)."}]

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        self.channels.append(message.output_channel.name())
        if self.fail:
            raise RuntimeError("the model is not loaded")
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(
            UserUttered(
                message.text, input_channel=message.input_channel, metadata=message.metadata
            )
        )
        for reply in self.answer(message.text or ""):
            metadata = {"utter_action": reply["response"]} if "response" in reply else {}
            data = {"buttons": reply.get("buttons")}
            tracker.update(BotUttered(reply["text"], data=data, metadata=metadata))
            sent = {k: v for k, v in reply.items() if k != "response"}
            await message.output_channel.send_response(message.sender_id, sent)
        await self.store.save(tracker)

    @property
    def texts(self) -> list[str | None]:
        return [m.text for m in self.received]


@dataclass
class Harness:
    base: str
    channel: SmsInput
    bot: ScriptedBot
    session: aiohttp.ClientSession

    async def post(
        self,
        form: dict[str, str],
        *,
        token: str = AUTH_TOKEN,
        signed_url: str | None = None,
        signature: str | None = "compute",
        url: str | None = None,
    ) -> tuple[int, str]:
        target = url or self.base + PATH
        headers = {}
        if signature == "compute":
            headers["X-Twilio-Signature"] = sign(token, signed_url or target, form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        async with self.session.post(target, data=form, headers=headers) as response:
            return response.status, await response.text()

    async def text(self, sender: str, body: str, sid: str | None = None) -> list[str]:
        status, xml = await self.post(
            {"From": sender, "To": FROM_NUMBER, "Body": body, "MessageSid": sid or new_sid()}
        )
        assert status == 200, xml
        return messages(xml)


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def messages(xml: str) -> list[str]:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


@dataclass
class FakeClock:
    """A monotonic clock that moves only when told: flood windows without sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serving(
    config: SmsConfig, bot: ScriptedBot | None = None, clock: FakeClock | None = None
) -> AsyncIterator[Harness]:
    bot = bot or ScriptedBot()
    channel = SmsInput(config, clock or FakeClock())
    app = Sanic(f"sms_test_{uuid.uuid4().hex}", configure_logging=False)
    app.ctx.agent = SimpleNamespace(tracker_store=bot.store)
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/sms")
    port = free_port()
    server = await app.create_server(
        "127.0.0.1", port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Harness(f"http://127.0.0.1:{port}", channel, bot, session)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


def run(config: SmsConfig, scenario: Callable[[Harness], Awaitable[None]], **kw: Any) -> None:
    async def main() -> None:
        async with serving(config, **kw) as harness:
            await scenario(harness)

    asyncio.run(main())


def inbound_count(db_url: str) -> int:
    with session_scope(db_url) as session:
        return len(session.execute(select(SmsInbound.message_sid)).all())


def opt_out_row(db_url: str, e164: str) -> SmsOptOut | None:
    with session_scope(db_url) as session:
        return session.get(SmsOptOut, e164)


# Health and signature


def test_health(config):
    async def scenario(h: Harness) -> None:
        async with h.session.get(h.base + "/webhooks/sms/") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}

    run(config, scenario)


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong token", "other url", "tampered body", "garbage", "empty"],
)
def test_bad_signature_is_refused_with_no_side_effects(config, db_url, how):
    sender = number()
    form = {"From": sender, "To": FROM_NUMBER, "Body": "kia ora", "MessageSid": new_sid()}

    async def scenario(h: Harness) -> None:
        before = inbound_count(db_url)
        if how == "missing":
            status, _ = await h.post(form, signature=None)
        elif how == "wrong token":
            status, _ = await h.post(form, token="not-the-token")
        elif how == "other url":
            status, _ = await h.post(form, signed_url="https://elsewhere.example/webhooks/sms")
        elif how == "tampered body":
            signature = sign(AUTH_TOKEN, h.base + PATH, form)
            status, _ = await h.post({**form, "Body": "STOP"}, signature=signature)
        elif how == "garbage":
            status, _ = await h.post(form, signature="'; DROP TABLE sms_inbound; --\u0101")
        else:
            status, _ = await h.post(form, signature="")
        assert status == 403
        assert inbound_count(db_url) == before
        assert h.bot.received == []
        assert list(await h.bot.store.keys()) == []
        assert opt_out_row(db_url, sender) is None

    run(config, scenario)


@pytest.mark.parametrize("kind", ["json", "not utf-8", "multipart"])
def test_a_body_that_is_not_a_utf8_form_is_refused(config, db_url, kind):
    fields = {"From": number(), "Body": "hi", "MessageSid": new_sid()}

    async def scenario(h: Harness) -> None:
        before = inbound_count(db_url)
        headers = {"X-Twilio-Signature": sign(AUTH_TOKEN, h.base + PATH, fields)}
        if kind == "json":
            request = h.session.post(h.base + PATH, json=fields, headers=headers)
        elif kind == "not utf-8":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = b"From=%2B64211234567&Body=\xff\xfe&MessageSid=SM1"
            request = h.session.post(h.base + PATH, data=body, headers=headers)
        else:
            data = aiohttp.FormData(fields)
            data.add_field("file", b"x", filename="x.bin")
            request = h.session.post(h.base + PATH, data=data, headers=headers)
        async with request as response:
            assert response.status == 403
        assert inbound_count(db_url) == before
        assert h.bot.received == []

    run(config, scenario)


def test_tiny_max_chars_still_splits_fixed_answers(config):
    async def scenario(h: Harness) -> None:
        parts = await h.text(number(), "STOP")
        assert len(parts) > 1 and all(len(p) <= 40 for p in parts)
        assert " ".join(parts) == replies.STOPPED

    run(replace(config, max_chars=40), scenario)


def test_no_auth_token_refuses_everything(config, db_url):
    form = {"From": number(), "Body": "hi", "MessageSid": new_sid()}

    async def scenario(h: Harness) -> None:
        status, _ = await h.post(form, token="")
        assert status == 403
        assert h.bot.received == []

    run(replace(config, auth_token=""), scenario)


def test_public_url_is_what_gets_signed(config):
    public = "https://sms.awhina.example/webhooks/sms/webhook"
    form = {"From": number(), "Body": "hi", "MessageSid": new_sid()}

    async def scenario(h: Harness) -> None:
        status, _ = await h.post(form)  # signed for the loopback URL: not what is configured
        assert status == 403
        status, xml = await h.post(form, signed_url=public)
        assert status == 200
        assert messages(xml)

    run(replace(config, public_url=public), scenario)


def test_signature_covers_the_query_string_and_default_port(config):
    form = {"From": number(), "Body": "hi", "MessageSid": new_sid()}

    async def scenario(h: Harness) -> None:
        url = h.base + PATH + "?channel=a&b=2"
        status, _ = await h.post(form, url=url, signed_url=h.base + PATH)
        assert status == 403
        status, _ = await h.post(form, url=url)
        assert status == 200

    run(config, scenario)


@pytest.mark.parametrize(
    "form",
    [
        {"Body": "hi", "MessageSid": "SM1"},
        {"From": "not a number", "Body": "hi", "MessageSid": "SM2"},
        {"From": "+6421", "Body": "hi", "MessageSid": "SM3"},
        {"From": "+64211234567", "Body": "hi"},
        {"From": "+64211234567", "Body": "hi", "MessageSid": "SM4'; DROP TABLE sms_inbound;--"},
        {"From": "+64211234567", "Body": "hi", "MessageSid": "S" * 65},
        {},
    ],
)
def test_malformed_webhook_is_a_400_with_no_side_effects(config, db_url, form):
    async def scenario(h: Harness) -> None:
        before = inbound_count(db_url)
        status, text = await h.post(form)
        assert status == 400, text
        assert inbound_count(db_url) == before
        assert h.bot.received == []

    run(config, scenario)


# Normal messages


def test_message_reaches_the_bot_under_a_hashed_id_and_reply_is_twiml(config, db_url, caplog):
    sender = number()

    async def scenario(h: Harness) -> None:
        caplog.set_level(logging.DEBUG, logger="bot")
        sid = new_sid()
        status, xml = await h.post(
            {"From": sender, "To": FROM_NUMBER, "Body": "  my son is on meth  ", "MessageSid": sid}
        )
        assert status == 200
        assert messages(xml) == ["Kia ora! Call 1737: https://1737.org.nz."]
        [message] = h.bot.received
        assert message.text == "my son is on meth"
        assert message.input_channel == "sms"
        assert message.sender_id.startswith("sms-")
        digits = sender.lstrip("+")
        assert digits not in message.sender_id
        assert message.sender_id == NumberVault(b"test-sender-secret").sender_id(sender)
        token = message.metadata[METADATA_KEY]
        assert digits not in token
        assert h.channel.vault.open(token) == sender
        with session_scope(db_url) as session:
            assert session.get(SmsInbound, sid) is not None
        logged = caplog.text
        assert sender not in logged and digits[-7:] not in logged
        assert "meth" not in logged
        assert "*" + sender[-3:] in logged

    run(config, scenario)


@pytest.fixture
def no_opt_out_table(tmp_path, templates: Templates) -> Iterator[str]:
    """A migrated database whose opt-out table is gone: every read of it fails."""
    url = templates.empty(tmp_path / "broken.db")
    with session_scope(url) as session:
        session.execute(text("DROP TABLE sms_opt_out"))
    yield url
    get_engine(url).dispose()


def postgres_duplicate_key(sender: str) -> IntegrityError:
    """The error PostgreSQL raises for a second insert of a number: its text names the key."""
    detail = f"Key (phone_e164)=({sender}) already exists."
    return IntegrityError("INSERT INTO sms_opt_out ...", None, Exception(detail))


@pytest.mark.parametrize("stage", ["before answering", "while answering"])
def test_a_database_failure_never_logs_the_number(
    config, no_opt_out_table, caplog, monkeypatch, stage
):
    """Before answering, the failing statement's parameters hold the number; while
    answering (storing a STOP), the database's own message does. Logged by type only."""
    sender = number()
    if stage == "while answering":

        def fails(*_args: Any) -> None:
            raise postgres_duplicate_key(sender)

        monkeypatch.setattr(state, "is_opted_out", lambda *_: False)
        monkeypatch.setattr(state, "set_opted_out", fails)

    async def scenario(h: Harness) -> None:
        caplog.set_level(logging.DEBUG)
        status, _ = await h.post(
            {"From": sender, "To": FROM_NUMBER, "Body": "STOP", "MessageSid": new_sid()}
        )
        assert status == 503

    run(replace(config, db_url=no_opt_out_table), scenario)
    assert ("OperationalError" if stage == "before answering" else "IntegrityError") in caplog.text
    assert sender not in caplog.text and sender[-7:] not in caplog.text


def test_database_errors_do_not_carry_the_statements_parameters(no_opt_out_table):
    """``hide_parameters`` (bot/db.py): a logged or re-raised error has the SQL, not the values."""
    sender = number()
    with pytest.raises(OperationalError) as failed:
        state.is_opted_out(no_opt_out_table, sender)
    assert "sms_opt_out" in str(failed.value)
    assert sender not in str(failed.value)


def test_same_number_same_conversation_other_secret_other_conversation(config):
    sender = number()
    a = NumberVault(b"one").sender_id(sender)
    assert a == NumberVault(b"one").sender_id(sender)
    assert a != NumberVault(b"two").sender_id(sender)
    assert a != NumberVault(b"one").sender_id(number())
    assert NumberVault(b"two").open(NumberVault(b"one").seal(sender)) is None


def test_repeated_message_sid_is_processed_once(config, db_url):
    sender = number()

    async def scenario(h: Harness) -> None:
        sid = new_sid()
        first = await h.text(sender, "hello", sid)
        again = await h.text(sender, "hello", sid)
        assert first and again == []
        assert h.bot.texts == ["hello"]
        with session_scope(db_url) as session:
            assert session.get(SmsInbound, sid) is not None

    run(config, scenario)


def test_concurrent_repeats_are_processed_once(config):
    sender = number()

    async def scenario(h: Harness) -> None:
        sid = new_sid()
        replies = await asyncio.gather(*(h.text(sender, "hello", sid) for _ in range(5)))
        assert sorted(len(r) for r in replies) == [0, 0, 0, 0, 1]
        assert h.bot.texts == ["hello"]

    run(config, scenario)


def test_reply_is_escaped_xml(config):
    async def scenario(h: Harness) -> None:
        [reply] = await h.text(number(), "markup")
        assert reply == '<Response> & "quotes" </Message>  link: https://x.nz/a_b'

    run(config, scenario)


def test_long_reply_is_split_within_the_limit(config):
    async def scenario(h: Harness) -> None:
        parts = await h.text(number(), "long")
        assert len(parts) == 2
        assert all(len(p) <= 1600 and p.endswith("while.") for p in parts)

    run(config, scenario)


def test_injection_and_binary_bodies_reach_the_bot_as_text(config):
    async def scenario(h: Harness) -> None:
        await h.text(number(), "'; DROP TABLE events; -- <script>\x00\x07</script>")
        assert h.bot.texts == ["'; DROP TABLE events; -- <script></script>"]

    run(config, scenario)


def test_too_long_body_gets_a_short_reply_and_is_not_passed_on(config):
    async def scenario(h: Harness) -> None:
        [reply] = await h.text(number(), "x" * 1601)
        assert "too long" in reply and "1,600" in reply
        assert h.bot.received == []
        assert len(await h.text(number(), "y" * 1600)) == 1
        assert h.bot.texts == ["y" * 1600]

    run(config, scenario)


@pytest.mark.parametrize("body", ["", "   ", "\x00\x01"])
def test_empty_body_gets_a_short_reply(config, body):
    async def scenario(h: Harness) -> None:
        assert await h.text(number(), body) == [replies.EMPTY]
        assert h.bot.received == []

    run(config, scenario)


def test_a_stop_that_cannot_be_stored_is_retried_not_lost(config, db_url, monkeypatch):
    sender = number()
    sid = new_sid()

    def broken(*_args: Any) -> None:
        raise OperationalError("UPDATE", {}, Exception("disk I/O error"))

    async def scenario(h: Harness) -> None:
        data = {"From": sender, "To": FROM_NUMBER, "Body": "STOP", "MessageSid": sid}
        with monkeypatch.context() as patch:
            patch.setattr(state, "set_opted_out", broken)
            status, _ = await h.post(data)
        assert status == 503
        assert opt_out_row(db_url, sender) is None
        with session_scope(db_url) as session:
            assert session.get(SmsInbound, sid) is None
        # The gateway retries the same webhook: now it is honoured.
        assert await h.text(sender, "STOP", sid) == [replies.STOPPED]
        assert opt_out_row(db_url, sender).opted_out

    run(config, scenario)


def test_bot_failure_gets_an_apology(config):
    async def scenario(h: Harness) -> None:
        assert await h.text(number(), "hello") == [SAFE_REPLY]

    run(config, scenario, bot=ScriptedBot(fail=True))


# Buttons


def test_buttons_are_numbered_and_a_number_picks_the_payload(config):
    sender = number()

    async def scenario(h: Harness) -> None:
        [reply] = await h.text(sender, "buttons")
        assert reply == "Which fruit?\nReply 1 for Apples or 2 for Bananas."
        assert await h.text(sender, " 2. ") == ["You picked B."]
        assert h.bot.texts[-1] == "/pick_b"
        # The turn after a choice has no buttons: a number is just text.
        await h.text(sender, "1")
        assert h.bot.texts[-1] == "1"

    run(config, scenario)


@pytest.mark.parametrize("reply", ["3", "0", "12", "#9", "1 2", "one"])
def test_a_number_that_is_not_a_button_is_passed_as_text(config, reply):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "buttons")
        await h.text(sender, reply)
        assert h.bot.texts[-1] == reply

    run(config, scenario)


def test_button_numbers_belong_to_the_number_that_saw_them(config):
    alice, bob = number(), number()

    async def scenario(h: Harness) -> None:
        await h.text(alice, "buttons")
        await h.text(bob, "1")
        assert h.bot.texts[-1] == "1"
        await h.text(alice, "1")
        assert h.bot.texts[-1] == "/pick_a"

    run(config, scenario)


# Keywords


@pytest.mark.parametrize(
    "word", ["STOP", " stop ", "StopAll", "UNSUBSCRIBE.", "cancel", "End!", "quit"]
)
def test_stop_opts_out_at_once(config, db_url, gateway, word):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        assert await h.text(sender, word) == [replies.STOPPED]
        row = opt_out_row(db_url, sender)
        assert row is not None and row.opted_out
        # Nothing reaches the bot and nothing is sent, whatever they send.
        for body in ["hello again", "HELP", "buttons", "STOP", "1"]:
            assert await h.text(sender, body) == []
        assert h.bot.texts == ["hello"]
        with pytest.raises(OptedOut):
            await h.channel.get_output_channel().send_response(
                h.channel.vault.sender_id(sender), {"text": "A navigator here."}
            )
        assert gateway.sent == [] and gateway.requests == 0

    run(config, scenario)


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_opts_back_in(config, db_url, word):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "stop")
        assert await h.text(sender, word) == [replies.STARTED]
        row = opt_out_row(db_url, sender)
        assert row is not None and not row.opted_out
        assert await h.text(sender, "hello")
        assert h.bot.texts == ["hello"]

    run(config, scenario)


def test_yes_is_an_ordinary_answer_when_not_opted_out(config, db_url):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "yes")
        assert h.bot.texts == ["yes"]
        assert opt_out_row(db_url, sender) is None

    run(config, scenario)


@pytest.mark.parametrize("word", ["HELP", "info", " Help. "])
def test_help_explains_and_gives_crisis_lines_from_the_directory(config, db_url, word):
    async def scenario(h: Harness) -> None:
        [reply] = await h.text(number(), word)
        assert h.bot.received == []
        lines = reply.split("\n")
        assert len(lines) == 2
        assert "STOP" in lines[0] and "Āwhina" in lines[0]
        with session_scope(db_url) as session:
            views = get_services(session, list(replies.HELP_SERVICES))
            crisis = {v.id for v in services_for_need(session, "crisis")}
        assert {v.id for v in views} == set(replies.HELP_SERVICES) <= crisis
        for view in views:
            for phone in view.phones:
                assert phone.number in lines[1]
        assert lines[1] == "Urgent (24/7, free): call 111; call or text 1737."
        assert segments(reply) <= 2

    run(config, scenario)


def test_help_says_the_facts_the_lines_do_not_share(db_url):
    """Facts every line has lead ("Urgent (24/7, free): ..."); the others follow a line."""
    text = replies.help_text(db_url, ["emergency-111", "crimestoppers"])
    assert text.endswith("\nUrgent (24/7): call 111 (free); call 0800 555 111.")
    assert replies.help_text(db_url, ["no-such-service"]) == replies.HELP_INTRO


@pytest.mark.parametrize(
    "reply",
    [
        replies.STOPPED,
        replies.STARTED,
        replies.EMPTY,
        replies.TOO_FAST,
        replies.BUSY,
        too_long_reply(1600),
    ],
)
def test_fixed_replies_fit_two_segments(reply):
    assert segments(reply) <= 2
    if reply in (replies.TOO_FAST, replies.BUSY):
        assert segments(reply) == 1 and "111" in reply


# SMS forms of the bot's answers


def test_a_search_answer_is_compact_and_the_hint_comes_once(config):
    sender = number()

    async def scenario(h: Harness) -> None:
        [first] = await h.text(sender, "search")
        assert first == f"{SEARCH_REPLY}\n{RESULTS_HINT}"
        assert segments(first) <= 4
        [again] = await h.text(sender, "search")
        assert again == SEARCH_REPLY
        # Another number is another conversation: it gets the hint too.
        assert (await h.text(number(), "search"))[0].endswith(RESULTS_HINT)
        # Rasa chooses responses for the channel by its name: "sms" variants apply.
        assert set(h.bot.channels) == {"sms"}

    run(config, scenario)


# Flood limits


def test_a_number_over_its_limit_is_told_once_then_not_answered(config, db_url, caplog):
    sender = number()
    clock = FakeClock()

    async def scenario(h: Harness) -> None:
        caplog.set_level(logging.INFO, logger="bot")
        for i in range(3):
            assert await h.text(sender, f"hello {i}")
            clock.now += 1
        assert await h.text(sender, "hello again") == [replies.TOO_FAST]
        assert await h.text(sender, "are you there") == []
        assert await h.text(sender, "HELP") == []
        assert len(h.bot.received) == 3
        # Others are answered meanwhile.
        assert await h.text(number(), "kia ora")
        assert h.bot.texts[-1] == "kia ora"
        # Sliding: the first message leaves the window, so one more is answered...
        clock.now = 1000 + 60
        assert await h.text(sender, "once more")
        assert await h.text(sender, "and again") == []  # ...and it has been told already.
        # A window after it was told, the first two have left too: over again, told again.
        clock.now = 1003 + 60
        assert await h.text(sender, "x") and await h.text(sender, "y")
        assert await h.text(sender, "z") == [replies.TOO_FAST]
        assert h.bot.texts[-3:] == ["once more", "x", "y"]
        digits = sender.lstrip("+")
        assert digits not in caplog.text and digits[-7:] not in caplog.text
        assert "*" + sender[-3:] in caplog.text and "per-number flood limit" in caplog.text
        with session_scope(db_url) as session:
            assert opt_out_row(db_url, sender) is None
            assert session.query(SmsInbound).count() >= 9  # every message was recorded once

    run(replace(config, flood=FloodLimits(per_number=3, overall=100)), scenario, clock=clock)


def test_stop_and_start_always_work_when_limited(config, db_url):
    sender = number()

    async def scenario(h: Harness) -> None:
        for i in range(2):
            await h.text(sender, f"hello {i}")
        assert await h.text(sender, "hello") == [replies.TOO_FAST]
        assert await h.text(sender, "hello") == []
        assert await h.text(sender, "STOP") == [replies.STOPPED]
        assert opt_out_row(db_url, sender).opted_out
        assert await h.text(sender, "hello") == []  # opted out: silent, limited or not
        assert await h.text(sender, "START") == [replies.STARTED]
        assert not opt_out_row(db_url, sender).opted_out
        assert await h.text(sender, "hello") == []  # still limited, and told already
        assert await h.text(sender, "stop") == [replies.STOPPED]
        assert await h.text(sender, "yes") == [replies.STARTED]
        assert len(h.bot.received) == 2

    run(replace(config, flood=FloodLimits(per_number=2, overall=100)), scenario)


def test_a_crisis_message_is_answered_even_when_limited(config):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        assert await h.text(sender, "hello") == [replies.TOO_FAST]
        assert await h.text(sender, "hello") == []
        assert await h.text(sender, "i want to kill myself tonight")
        assert h.bot.texts[-1] == "i want to kill myself tonight"

    run(replace(config, flood=FloodLimits(per_number=1, overall=100)), scenario)


def test_the_overall_limit_holds_for_everyone(config):
    clock = FakeClock()
    senders = [number() for _ in range(5)]

    async def scenario(h: Harness) -> None:
        for sender in senders[:3]:
            assert await h.text(sender, "hello")
        assert await h.text(senders[3], "hello") == [replies.BUSY]
        assert await h.text(senders[3], "hello") == []
        assert await h.text(senders[4], "hello") == [replies.BUSY]  # each number is told once
        assert await h.text(senders[0], "STOP") == [replies.STOPPED]
        assert len(h.bot.received) == 3
        clock.now += 60
        assert await h.text(senders[3], "hello")
        assert len(h.bot.received) == 4

    run(replace(config, flood=FloodLimits(per_number=10, overall=3)), scenario, clock=clock)


def test_repeats_and_bad_signatures_do_not_count(config):
    sender = number()

    async def scenario(h: Harness) -> None:
        form = {"From": sender, "To": FROM_NUMBER, "Body": "hi", "MessageSid": new_sid()}
        for _ in range(5):
            status, _ = await h.post(form, token="not-the-token")
            assert status == 403
        sid = new_sid()
        assert await h.text(sender, "hello", sid)
        for _ in range(3):
            assert await h.text(sender, "hello", sid) == []  # a gateway retry: processed once
        assert await h.text(sender, "hello again")

    run(replace(config, flood=FloodLimits(per_number=2, overall=2)), scenario)


# Messages sent later (navigator replies)


def test_push_goes_through_the_gateway_to_the_number(config, gateway):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        out = h.channel.get_output_channel()
        await out.send_response(
            h.channel.vault.sender_id(sender), {"text": "Kia ora, **Mere** from the team here."}
        )
        [sent] = gateway.sent
        assert (sent.to, sent.from_, sent.body) == (
            sender,
            FROM_NUMBER,
            "Kia ora, Mere from the team here.",
        )

    run(config, scenario)


def test_pushed_buttons_continue_the_numbering_of_the_turn(config, gateway):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "buttons")
        sender_id = h.channel.vault.sender_id(sender)
        await h.channel.get_output_channel().send_response(
            sender_id, {"text": "Or:", "buttons": [{"title": "Cherries", "payload": "/pick_c"}]}
        )
        assert gateway.sent[-1].body == "Or:\nReply 3 for Cherries."
        tracker = await h.bot.store.retrieve(sender_id)
        tracker.update(BotUttered("Or:", data={"buttons": [{"title": "C", "payload": "/pick_c"}]}))
        await h.bot.store.save(tracker)
        await h.text(sender, "3")
        assert h.bot.texts[-1] == "/pick_c"

    run(config, scenario)


def test_push_retries_server_errors_and_dropped_connections(config, gateway):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        gateway.fail_next(503, 0, 500)
        await h.channel.get_output_channel().send_response(
            h.channel.vault.sender_id(sender), {"text": "Still there?"}
        )
        assert gateway.requests == 4
        assert [s.body for s in gateway.sent] == ["Still there?"]

    run(config, scenario)


@pytest.mark.parametrize("status", [400, 401, 404])
def test_push_does_not_retry_client_errors(config, gateway, status):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        gateway.fail_next(status)
        with pytest.raises(SendError) as error:
            await h.channel.get_output_channel().send_response(
                h.channel.vault.sender_id(sender), {"text": "Hello?"}
            )
        assert error.value.status == status
        assert gateway.requests == 1 and gateway.sent == []

    run(config, scenario)


def test_push_gives_up_after_the_last_attempt(config, gateway):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        gateway.fail_next(503, 503, 503, 503)
        with pytest.raises(SendError):
            await h.channel.get_output_channel().send_response(
                h.channel.vault.sender_id(sender), {"text": "Hello?"}
            )
        assert gateway.requests == 4 and gateway.sent == []

    run(config, scenario)


def test_push_to_an_unknown_conversation_sends_nothing(config, gateway):
    async def scenario(h: Harness) -> None:
        out = h.channel.get_output_channel()
        for unknown in ["sms-" + "0" * 32, "not-an-sms-conversation", "x'; DROP TABLE events"]:
            with pytest.raises(SendError):
                await out.send_response(unknown, {"text": "Hello?"})
        assert gateway.requests == 0

    run(config, scenario)


def test_push_is_refused_when_no_sender_number_is_configured(config, gateway):
    sender = number()

    async def scenario(h: Harness) -> None:
        await h.text(sender, "hello")
        with pytest.raises(SendError):
            await h.channel.get_output_channel().send_response(
                h.channel.vault.sender_id(sender), {"text": "Hello?"}
            )
        assert gateway.requests == 0

    run(replace(config, from_number=""), scenario)


# Configuration


def test_from_credentials_reads_values_then_environment(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "env-token")
    monkeypatch.setenv("SMS_GATEWAY_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("SMS_SENDER_SECRET", raising=False)
    channel = SmsInput.from_credentials(
        {"account_sid": "AC1", "from_number": "021 555 0123", "max_chars": "800", "auth_token": ""}
    )
    assert channel.name() == "sms"
    assert channel.config.auth_token == "env-token"
    assert channel.config.account_sid == "AC1"
    assert channel.config.from_number == "+64215550123"
    assert channel.config.gateway_url == "http://127.0.0.1:9"
    assert channel.config.max_chars == 800
    assert channel.config.secret == b"env-token"
    monkeypatch.setenv("SMS_SENDER_SECRET", "separate")
    assert SmsInput.from_credentials({}).config.secret == b"separate"


def test_flood_limits_default_and_come_from_the_environment(monkeypatch):
    for name in ("SMS_LIMIT_PER_NUMBER", "SMS_LIMIT_OVERALL", "SMS_LIMIT_WINDOW_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert SmsConfig.from_mapping({}).flood == FloodLimits(20, 300, 60)
    monkeypatch.setenv("SMS_LIMIT_PER_NUMBER", "5")
    monkeypatch.setenv("SMS_LIMIT_WINDOW_SECONDS", "120")
    config = SmsConfig.from_mapping({"limit_overall": "50"})
    assert config.flood == FloodLimits(per_number=5, overall=50, window=120)


@pytest.mark.parametrize(
    "credentials",
    [
        {"max_chars": "0"},
        {"max_chars": "5000"},
        {"max_chars": "lots"},
        {"auth_tokn": "typo"},
        {"limit_per_number": "0"},
        {"limit_overall": "-1"},
        {"limit_window_seconds": "a minute"},
    ],
)
def test_bad_credentials_are_rejected(credentials):
    with pytest.raises(ValueError):
        SmsConfig.from_mapping(credentials)


def test_twiml_document():
    assert twiml.document([]) == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    doc = twiml.document(["a < b & c", "ā\x0b"])
    assert messages(doc) == ["a < b & c", "ā"]
