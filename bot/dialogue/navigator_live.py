"""Keeps the bot quiet while a navigator is chatting with the person, except in a crisis.

The navigators' inbox sets the slot ``navigator_live`` when a navigator joins
and clears it on hand-back. Rasa's own ``pause`` event would silence the bot
completely, crisis answers included; this policy instead predicts
``action_listen`` after every message of the person, with a priority above
the rules, unless the crisis check marked the message as a crisis, which the
crisis rules then answer at once as always, or unless the person asks to be
forgotten: "delete my data" is honoured even mid-chat (the navigator is told).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue import NAVIGATOR_LIVE_SLOT
from bot.dialogue.verdict import VerdictPolicy
from bot.safety.detector import CRISIS_PREFIX

# Intents the bot answers even while a navigator chats live.
ALWAYS_ANSWERED = ("forget_me",)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class NavigatorLivePolicy(VerdictPolicy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7}

    def verdict(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        intent = tracker.latest_message.intent.get("name") or "" if tracker.latest_message else ""
        live = tracker.get_slot(NAVIGATOR_LIVE_SLOT)
        if (
            live
            and tracker.latest_action_name == ACTION_LISTEN_NAME
            and not intent.startswith(CRISIS_PREFIX)
            and intent not in ALWAYS_ANSWERED
        ):
            return ACTION_LISTEN_NAME
        return None
