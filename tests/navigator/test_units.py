"""Small pieces of the inbox on their own: labels, limits, time display, settings, Rasa parsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.__main__ import parser
from bot.handoff.models import OUTCOMES, STATUSES
from bot.navigator import ops
from bot.navigator.main import nz_time
from bot.navigator.rasa_client import _error_message, _said_something_after, _turns
from bot.navigator.settings import Settings

T0 = datetime(2026, 3, 2, 1, 5, tzinfo=timezone.utc)


def test_every_status_and_outcome_has_a_label():
    assert set(ops.STATUS_LABELS) == set(STATUSES)
    assert set(ops.OUTCOME_LABELS) == set(OUTCOMES)


def test_nz_time_reads_as_new_zealand_local_time():
    assert nz_time(T0) == "Mon 2 Mar, 2:05 pm"  # NZDT is UTC+13
    assert nz_time(None) == ""


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("INBOX_IDLE_MINUTES", "30")
    monkeypatch.setenv("INBOX_SECURE_COOKIES", "1")
    monkeypatch.setenv("HANDOFF_UNCLAIMED_MINUTES", "45")
    monkeypatch.setenv("RASA_TOKEN", "t")
    settings = Settings.from_env()
    assert settings.idle_timeout == timedelta(minutes=30)
    assert settings.secure_cookies is True
    assert settings.unclaimed_minutes == 45
    assert settings.rasa_token == "t"
    monkeypatch.delenv("INBOX_SECURE_COOKIES")
    assert Settings.from_env().secure_cookies is None


def test_inbox_command_defaults_to_loopback_8001(monkeypatch):
    monkeypatch.delenv("INBOX_PORT", raising=False)
    args = parser().parse_args(["inbox"])
    assert (args.host, args.port) == ("127.0.0.1", 8001)
    assert parser().parse_args(["inbox", "--port", "9001"]).port == 9001


def test_turns_keep_only_what_people_and_the_bot_said():
    events = [
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "help",
            "timestamp": 10.0,
            "parse_data": {"intent": {"name": "crisis_overdose"}},
        },
        {"event": "bot", "text": None, "timestamp": 11.0},
        {"event": "bot", "text": "Call 111", "timestamp": 12.0},
        "garbage",
        {"event": "user", "text": 5},
    ]
    turns = _turns(events)
    assert [(t.actor, t.text, t.crisis) for t in turns] == [
        ("user", "help", True),
        ("bot", "Call 111", False),
    ]


def test_an_action_that_said_nothing_is_detected():
    ran = [{"event": "action", "name": "a"}, {"event": "bot", "text": "hi"}]
    assert _said_something_after(ran, "a")
    assert not _said_something_after([*ran, {"event": "action", "name": "a"}], "a")
    assert not _said_something_after(ran, "b")


def test_rasa_error_messages_are_short_and_plain():
    assert _error_message(500, '{"message": "Cannot access action"}') == (
        "Rasa answered 500: Cannot access action"
    )
    assert _error_message(502, "<html>") == "Rasa answered 502."
    assert len(_error_message(500, '{"message": "' + "x" * 5000 + '"}')) < 400
