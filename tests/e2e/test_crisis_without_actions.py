"""The crisis answer never waits on the action server or the database."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import start_actions, wait_for

pytestmark = pytest.mark.e2e


def test_crisis_answer_comes_when_the_action_server_is_down(stack):
    actions = [p for p in stack.procs if p.args[2:4] == ["bot", "actions"]][0]
    actions.terminate()
    actions.wait(timeout=20)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{stack.actions_port}/health", timeout=2)
    try:
        for message, expected in [
            ("i want to end my life", "1737"),
            ("he's got a knife and he's coming for me", "111"),
            ("my mate took a heap of pills and won't wake up", "111"),
            ("the kids next door are being beaten", "0508 326 459"),
            ("can't talk, he'll hear me if i ring anyone", "text 234"),
            ("ambulance is on its way, what do i do till it gets here", "recovery position"),
            ("he's been up for 5 days on the pipe and seeing bugs everywhere", "0800 787 797"),
            ("the guys my son owes are parked outside the house right now", "105"),
        ]:
            text = stack.texts(uuid.uuid4().hex, message)
            assert "111" in text and expected in text, text
    finally:
        stack.procs.remove(actions)
        restarted = start_actions(stack.env, stack.actions_port, stack.workdir / "stack.log")
        stack.procs.append(restarted)
        wait_for(f"http://127.0.0.1:{stack.actions_port}/health", 90, [restarted])
