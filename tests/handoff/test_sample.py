"""Sample teams are never taken for a real service: what the person is told, and start-up."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionSubmitHandoff
from bot.__main__ import main
from bot.db import get_engine, session_scope
from bot.directory import present
from bot.handoff import outbox
from bot.handoff.routing import SAMPLE_ONLY, load_teams, warn_if_sample_only
from bot.replies import all_responses
from bot.safety.lines import crisis_lines
from tests.handoff.conftest import confirmed_tracker
from tests.handoff.test_outbox import UNREACHABLE

REAL_TEAMS = "teams:\n  - {id: n, name: N, organization: lifeline, level: national, areas: [nz]}\n"


def _submit(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict]:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(outbox, "OUTBOX_DIR", tmp_path)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitHandoff().run(dispatcher, confirmed_tracker("conv-sample"), {}))
    return dispatcher.messages


def _response(name: str, **values: str) -> str:
    [variant] = all_responses()[name]
    return variant["text"].format(**values)


def test_a_request_to_a_sample_team_is_told_it_is_a_demonstration(url, monkeypatch, tmp_path):
    [message] = _submit(url, monkeypatch, tmp_path)
    assert message["response"] == "utter_handoff_sent_sample"
    said = _response(
        "utter_handoff_sent_sample", organisation=message["organisation"], contact="phone call"
    )
    assert "Sample P navigation service (not a real service)" in said
    assert "This is a demonstration: no real navigator will see it" in said
    assert "call or text 1737" in said and "111" in said


def test_a_request_to_a_real_team_says_who_has_it(seeded_url, monkeypatch, tmp_path):
    path = tmp_path / "teams.yml"
    path.write_text(REAL_TEAMS, encoding="utf-8")
    with session_scope(seeded_url) as session:
        load_teams(session, path)
    messages = _submit(seeded_url, monkeypatch, tmp_path)
    assert [m["response"] for m in messages] == ["utter_handoff_sent", "utter_handoff_if_urgent"]
    assert messages[0]["organisation"] == "Lifeline Aotearoa"
    with session_scope(seeded_url) as session:
        general = "\n".join(present.contact_answer(v) for v in crisis_lines(session))
    assert messages[1]["lines"] == general and "111" in general and "1737" in general


def test_servers_say_at_start_up_when_every_team_is_a_sample(url, monkeypatch, caplog):
    log = logging.getLogger("test-start-up")
    monkeypatch.setenv("DATABASE_URL", url)
    with caplog.at_level(logging.WARNING):
        warn_if_sample_only(log)
    assert caplog.messages == [SAMPLE_ONLY]


def test_start_up_goes_on_when_the_teams_cannot_be_read(monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    with caplog.at_level(logging.WARNING):
        warn_if_sample_only(logging.getLogger("test-start-up"))
    assert caplog.messages == ["Could not read the navigator teams: OperationalError"]


def test_navigator_demo_says_the_teams_are_samples(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        assert main(["directory", "load", "--quiet"]) == 0
        capsys.readouterr()
        assert main(["navigator", "demo"]) == 0
        out = capsys.readouterr().out
    finally:
        get_engine(url).dispose()
    assert out.startswith(SAMPLE_ONLY)
    assert "Sample team – Grey (not a real service)" in out
