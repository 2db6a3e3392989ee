"""While a navigator chats live the bot stays quiet, except for a crisis and "delete my data"."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.navigator_live import NavigatorLivePolicy


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> NavigatorLivePolicy:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), "test")
    config = NavigatorLivePolicy.get_default_config()
    return NavigatorLivePolicy(config, storage, Resource("live"), context)


def _verdict(policy: NavigatorLivePolicy, intent: str, live: bool) -> str | None:
    tracker = DialogueStateTracker.from_events(
        "s",
        [
            ActionExecuted(ACTION_LISTEN_NAME),
            SlotSet("navigator_live", live),
            UserUttered("…", {"name": intent, "confidence": 1.0}),
        ],
    )
    return policy.verdict(tracker, Domain.empty())


@pytest.mark.parametrize(
    ("intent", "live", "expected"),
    [
        ("greet", True, ACTION_LISTEN_NAME),  # the navigator answers, not the bot
        ("greet", False, None),
        ("crisis_suicide", True, None),  # the crisis rules answer at once
        ("forget_me", True, None),  # "delete my data" is honoured mid-chat
    ],
)
def test_what_the_bot_answers_during_a_live_chat(policy, intent, live, expected):
    assert _verdict(policy, intent, live) == expected
