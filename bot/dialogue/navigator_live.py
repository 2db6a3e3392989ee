"""Keeps the bot quiet while a navigator is chatting with the person, except in a crisis.

The navigators' inbox sets the slot ``navigator_live`` when a navigator joins
and clears it on hand-back. Rasa's own ``pause`` event would silence the bot
completely, crisis answers included; this policy instead predicts
``action_listen`` after every message of the person, with a priority above
the rules, unless the crisis check marked the message as a crisis, which the
crisis rules then answer at once as always.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue import NAVIGATOR_LIVE_SLOT
from bot.safety.detector import CRISIS_PREFIX


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class NavigatorLivePolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        intent = tracker.latest_message.intent.get("name") or "" if tracker.latest_message else ""
        if (
            tracker.get_slot(NAVIGATOR_LIVE_SLOT)
            and tracker.latest_action_name == ACTION_LISTEN_NAME
            and not intent.startswith(CRISIS_PREFIX)
        ):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)
