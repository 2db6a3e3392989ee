"""The guaranteed path for crisis answers, and the end of any turn that would loop.

Rasa picks the next action from the policy with the highest confidence, ties
going to the higher priority; loop (form) predictions of the RulePolicy are
"no-user" predictions, which beat every other kind. This policy therefore makes
every verdict a confident no-user prediction with the highest priority, so no
rule, story, form or tracker state can starve it. It has no training data and
looks only at the events since the person's latest message (the *turn*):

1. The crisis check marked the message ``crisis_<category>``: the static
   answer ``utter_crisis_<category>`` (111 and the main line, sent even when the
   action server is down), then ``action_crisis_response`` (the lines from the
   directory; it also pauses a form), then listening. This holds in any state:
   inside a form, during navigator live chat, after a tripped circuit breaker,
   or in a tracker no story covers.
2. Otherwise it ends the turn (``action_listen``) when the turn would go on
   forever: an action that has just run a second time in one turn, the
   fallback having answered (it always ends a turn; a form it hands back to is
   run by Rasa without a prediction), or more actions than any real turn needs.
   Rasa's own circuit breaker stops a turn after ten actions but leaves the
   conversation in a state no rule matches; this stops it cleanly first.

Otherwise it abstains and the other policies decide.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.verdict import VerdictPolicy
from bot.safety.detector import CRISIS_PREFIX

CRISIS_ANSWER_PREFIX = "utter_crisis_"
CRISIS_LINES_ACTION = "action_crisis_response"
# The crisis answer used when a category has no answer of its own in the domain.
GENERAL_CRISIS_ANSWER = "utter_crisis_suicide"
FALLBACK_ACTION = "action_default_fallback"
# The longest real turn: a search with a form and a result is four actions.
MAX_ACTIONS_PER_TURN = 6


def actions_this_turn(tracker: DialogueStateTracker) -> list[str]:
    """The actions run since the person's latest message, oldest first."""
    names: list[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    return names[::-1]


def crisis_category(tracker: DialogueStateTracker) -> str | None:
    """The crisis category the latest message was marked with, if any."""
    if not tracker.latest_message:
        return None
    intent = tracker.latest_message.intent.get("name") or ""
    return intent.removeprefix(CRISIS_PREFIX) if intent.startswith(CRISIS_PREFIX) else None


def next_crisis_action(category: str, done: list[str], domain: Domain) -> str:
    """The next step of the crisis answer, given the actions already run this turn."""
    if not any(name.startswith(CRISIS_ANSWER_PREFIX) for name in done):
        answer = CRISIS_ANSWER_PREFIX + category
        return answer if answer in domain.action_names_or_texts else GENERAL_CRISIS_ANSWER
    if CRISIS_LINES_ACTION not in done:
        return CRISIS_LINES_ACTION
    return ACTION_LISTEN_NAME


def turn_must_end(done: list[str]) -> bool:
    """Whether going on would loop: a repeated action, the fallback, or too many actions."""
    if not done:
        return False
    return FALLBACK_ACTION in done or done[-1] in done[:-1] or len(done) >= MAX_ACTIONS_PER_TURN


def safety_action(tracker: DialogueStateTracker, domain: Domain) -> str | None:
    """The action this policy insists on next, or None to let the others decide."""
    done = actions_this_turn(tracker)
    category = crisis_category(tracker)
    if category is not None:
        return next_crisis_action(category, done, domain)
    return ACTION_LISTEN_NAME if turn_must_end(done) else None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class SafetyPolicy(VerdictPolicy):
    no_user_prediction = True

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 8}

    def verdict(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        return safety_action(tracker, domain)
