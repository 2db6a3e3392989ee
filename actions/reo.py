"""Te reo: explaining words from the glossary, and greetings that mirror the person's."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.reo.glossary import default_glossary, extract_term
from bot.reo.greetings import farewell_for, greeting_for


def _last_bot_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return str(event["text"])
    return ""


class ActionExplainTerm(Action):
    """Answers "what does X mean" from the glossary.

    With no word in the question ("what does that mean?") it explains the
    first te reo word of the bot's last reply; it never guesses a meaning.
    """

    def name(self) -> str:
        return "action_explain_term"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        glossary = default_glossary()
        term = extract_term(tracker.latest_message.get("text"))
        if term is None:
            used = glossary.terms_in(_last_bot_text(tracker))
            if not used:
                dispatcher.utter_message(response="utter_ask_which_word")
                return []
            term = used[0].word
        dispatcher.utter_message(response="utter_explain_term", explanation=glossary.explain(term))
        return []


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        greeting = greeting_for(tracker.latest_message.get("text") or "")
        dispatcher.utter_message(response="utter_greet", greeting=greeting)
        return []


class ActionGoodbye(Action):
    def name(self) -> str:
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        farewell = farewell_for(tracker.latest_message.get("text") or "")
        dispatcher.utter_message(response="utter_goodbye", farewell=farewell)
        return []
