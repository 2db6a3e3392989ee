"""The shape our own policies share: nothing to train, and either one action insisted on
(confidence 1.0) or an abstention that leaves the choice to the other policies."""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class VerdictPolicy(Policy):
    # A "no-user" prediction competes with the RulePolicy's form-loop predictions,
    # which otherwise beat every other kind (see rasa.core.policies.ensemble).
    no_user_prediction = False

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def verdict(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        """The action to insist on next, or None to abstain."""
        raise NotImplementedError

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.verdict(tracker, domain)
        if action is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=self.no_user_prediction)
