"""The SafetyPolicy: crisis answers in any dialogue state, and no turn that loops.

The trackers here are the states that went wrong in real conversations: the
fallback answering ten times in one turn until Rasa's circuit breaker tripped,
then a crisis message in that broken state.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import ROOT
from bot.dialogue.safety_policy import MAX_ACTIONS_PER_TURN, SafetyPolicy


@lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> SafetyPolicy:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), "test")
    return SafetyPolicy(SafetyPolicy.get_default_config(), storage, Resource("safety"), context)


def user(intent: str, text: str = "…") -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def act(name: str) -> ActionExecuted:
    return ActionExecuted(name)


def tracker(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("s", [act(ACTION_LISTEN_NAME), *events])


def predicted(policy: SafetyPolicy, t: DialogueStateTracker) -> str | None:
    prediction = policy.predict_action_probabilities(t, domain())
    if prediction.max_confidence == 0:
        return None
    assert prediction.is_no_user_prediction  # so a form's loop prediction cannot beat it
    return domain().action_names_or_texts[prediction.max_confidence_index]


def crisis_turn(policy: SafetyPolicy, *before: Event, intent: str = "crisis_suicide") -> list[str]:
    """The actions the policy drives after a crisis message, in the state ``before``."""
    events: list[Event] = [*before, user(intent)]
    steps: list[str] = []
    while True:
        action = predicted(policy, tracker(*events))
        assert action is not None
        steps.append(action)
        if action == ACTION_LISTEN_NAME or len(steps) > 5:
            return steps
        events.append(act(action))


TRIPPED = [user("nlu_fallback"), *[act("action_default_fallback")] * 10]


def test_crisis_after_a_tripped_circuit_breaker_is_answered(policy):
    assert crisis_turn(policy, *TRIPPED) == [
        "utter_crisis_suicide",
        "action_crisis_response",
        ACTION_LISTEN_NAME,
    ]


@pytest.mark.parametrize("form", ["handoff_form", "service_search_form"])
def test_crisis_inside_a_form_is_answered(policy, form):
    before = [user("request_human"), act(form), ActiveLoop(form), SlotSet("requested_slot", "x")]
    steps = crisis_turn(policy, *before, act(ACTION_LISTEN_NAME), intent="crisis_overdose")
    assert steps[:2] == ["utter_crisis_overdose", "action_crisis_response"]


def test_crisis_during_navigator_live_chat_is_answered(policy):
    steps = crisis_turn(policy, SlotSet("navigator_live", True), intent="crisis_violence")
    assert steps[0] == "utter_crisis_violence"


def test_a_category_without_its_own_answer_gets_the_general_one(policy):
    assert crisis_turn(policy, intent="crisis_unheard_of")[0] == "utter_crisis_suicide"


def test_the_crisis_lines_come_once_even_if_the_static_answer_ran(policy):
    t = tracker(user("crisis_suicide"), act("utter_crisis_suicide"))
    assert predicted(policy, t) == "action_crisis_response"


def test_fallback_ends_the_turn(policy):
    t = tracker(user("nlu_fallback"), act("action_default_fallback"))
    assert predicted(policy, t) == ACTION_LISTEN_NAME


def test_an_action_repeated_in_one_turn_ends_it(policy):
    t = tracker(user("ask_more"), act("action_show_more"), act("utter_default"))
    assert predicted(policy, t) is None
    t = tracker(user("ask_more"), act("action_show_more"), act("action_show_more"))
    assert predicted(policy, t) == ACTION_LISTEN_NAME


def test_too_many_actions_end_the_turn(policy):
    names = [f"utter_{i}" for i in range(MAX_ACTIONS_PER_TURN)]
    t = tracker(user("greet"), *map(act, names))
    assert predicted(policy, t) == ACTION_LISTEN_NAME
    t = tracker(user("greet"), *map(act, names[:-1]))
    assert predicted(policy, t) is None


def test_ordinary_turns_are_left_to_the_other_policies(policy):
    assert predicted(policy, tracker(user("greet"))) is None
    assert predicted(policy, tracker(user("need_housing"), act("service_search_form"))) is None


def test_its_verdict_beats_a_forms_loop_prediction(policy):
    """The RulePolicy's loop predictions are no-user predictions, which beat all others."""
    t = tracker(act("handoff_form"), ActiveLoop("handoff_form"), user("crisis_suicide"))
    size = len(domain().action_names_or_texts)
    loop = np.zeros(size)
    loop[domain().index_for_action("handoff_form")] = 1.0
    rule = PolicyPrediction(list(loop), "RulePolicy", policy_priority=6, is_no_user_prediction=True)
    ours = policy.predict_action_probabilities(t, domain())
    best = DefaultPolicyPredictionEnsemble._pick_best_policy([rule, ours])
    assert domain().action_names_or_texts[best.max_confidence_index] == "utter_crisis_suicide"
