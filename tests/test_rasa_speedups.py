"""bot/rasa_speedups.py: the check of action server responses accepts what Rasa accepts,
refuses what Rasa refuses with Rasa's very error, and builds its validator once; the SQL
tracker store keeps its SQLite connection open and still commits every save."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from bot import rasa_speedups
from bot.config import ROOT

VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    # What action_search_services sends back: slots, a follow-up and a reply with buttons.
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "need", "value": "drugs_alcohol"},
            {"event": "slot", "name": "shown_services", "value": ["a", "b"]},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
            {"event": "bot", "text": "Here are some options", "data": {}},
        ],
        "responses": [
            {"text": "Here are two services in Greymouth:", "buttons": []},
            {"response": "utter_ask_more", "buttons": [{"title": "More", "payload": "/more"}]},
        ],
    },
]
INVALID: list[Any] = [
    [],  # not an object
    {"events": {"event": "slot"}},  # events not a list
    {"events": [{"name": "need", "value": 1}]},  # an event without its type
    {"events": [{"event": "no_such_event"}]},  # a type Rasa does not know
    {"events": [{"event": "slot", "name": "need"}]},  # a slot without a value
    {"events": [{"event": "slot", "name": 3, "value": 1}]},  # a slot name that is no string
    {"events": [{"event": "user", "text": 42}]},
    {"responses": "hello"},  # responses not a list
    {"responses": ["hello"]},  # a response that is no object
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_search_services", None)


def test_importing_the_rest_channel_applies_both() -> None:
    """Rasa loads bot.channels.rest at start-up (credentials.yml); that is what patches."""
    code = (
        "import bot.channels.rest\n"
        "from rasa.core import tracker_store\n"
        "from rasa.core.actions.action import RemoteAction\n"
        "print(RemoteAction._validate_action_result.__module__)\n"
        "print(tracker_store.create_engine_kwargs.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["bot.rasa_speedups", "bot.rasa_speedups"]


def test_the_kept_functions_are_rasas_own() -> None:
    original = rasa_speedups.rasa_validate_action_result
    assert original.__module__ == "rasa.core.actions.action"
    assert original.__qualname__ == "RemoteAction._validate_action_result"
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert rasa_speedups.rasa_create_engine_kwargs.__module__ == "rasa.core.tracker_store"


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(action: RemoteAction, result: dict[str, Any]) -> None:
    assert action._validate_action_result(result) is True
    assert rasa_speedups.rasa_validate_action_result(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_error(action: RemoteAction, result: Any) -> None:
    with pytest.raises(ValidationError) as ours:
        action._validate_action_result(result)
    with pytest.raises(ValidationError) as rasas:
        rasa_speedups.rasa_validate_action_result(action, result)
    assert type(ours.value) is type(rasas.value)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message
    assert str(ours.value) == str(rasas.value)
    assert list(ours.value.path) == list(rasas.value.path)
    assert ours.value.validator == rasas.value.validator


def test_the_validator_is_built_once(action: RemoteAction, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []
    real_validator_for = rasa_speedups.validator_for

    def counting_validator_for(schema: dict[str, Any]) -> Any:
        built.append(schema)
        return real_validator_for(schema)

    rasa_speedups.validator.cache_clear()
    monkeypatch.setattr(rasa_speedups, "validator_for", counting_validator_for)
    try:
        for _ in range(3):
            for result in VALID:
                assert action._validate_action_result(result)
        assert len(built) == 1
        assert built[0] == RemoteAction.action_response_format_spec()
    finally:
        rasa_speedups.validator.cache_clear()


def test_an_sqlite_file_gets_a_pool_and_nothing_else_changes() -> None:
    kwargs = rasa_speedups.create_engine_kwargs("sqlite:///var/awhina.db")
    assert kwargs["poolclass"] is QueuePool
    assert kwargs["connect_args"] == {"check_same_thread": False}
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql://user:pw@127.0.0.1/awhina"):
        assert rasa_speedups.create_engine_kwargs(url) == (
            rasa_speedups.rasa_create_engine_kwargs(url)
        )


@pytest.mark.asyncio
async def test_the_tracker_store_reuses_one_connection(tmp_path: Path) -> None:
    """Rasa's SQL tracker store on an SQLite file opens it once for many reads and saves,
    and each save is committed: another connection sees every event."""
    domain = Domain.from_dict({"intents": ["greet"], "slots": {}, "responses": {}})
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert isinstance(store.engine.pool, QueuePool)
    connects: list[object] = []
    event.listen(store.engine, "connect", lambda connection, record: connects.append(record))
    for turn in range(10):
        tracker = await store.get_or_create_tracker("person", append_action_listen=False)
        tracker.update(UserUttered(f"message {turn}", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
    assert len(connects) <= 1
    with sqlite3.connect(tmp_path / "tracker.db") as other:
        (count,) = other.execute("SELECT count(*) FROM events WHERE type_name = 'user'").fetchone()
    assert count == 10
    assert len((await store.retrieve("person")).events) == 20
