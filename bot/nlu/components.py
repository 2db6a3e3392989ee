"""Custom Rasa 3.6 graph components.

``CrisisDetector`` is the safety check on every message (see its docstring).

``ReoFolder`` makes featurisation see folded forms (``whānau`` = ``whanau`` =
``whaanau``) by setting each token's lemma, which ``CountVectorsFeaturizer``
uses by default; training and prediction therefore see the same keys while the
message text stays as the person wrote it.

``DirectoryEntityExtractor`` turns the entity ruler's matches into entities
whose value is the canonical directory key (``Māwhera`` → ``greymouth``).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import bot.nlu.reo_norm  # noqa: F401  (registers the spaCy component the pipeline names)
from bot.reo import fold
from bot.safety.detector import CRISIS_PREFIX, crisis_in, patterns

ORDINAL_PREFIXES = ("number", "no.", "#", "option")


class _Stateless(GraphComponent):
    """A component built from its config alone (nothing trained, nothing stored)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ReoFolder(_Stateless):
    """Sets every token's lemma to its folded key, for the featurisers that follow."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyTokenizer]

    def _fold_tokens(self, message: Message) -> None:
        for attribute, tokens_name in TOKENS_NAMES.items():
            if attribute != TEXT:
                continue
            for token in message.get(tokens_name) or []:
                token.lemma = fold(token.text)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._fold_tokens(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._fold_tokens(message)
        return training_data


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=False,
    model_from="SpacyNLP",
)
class DirectoryEntityExtractor(_Stateless, EntityExtractorMixin):
    """Entities from the spaCy entity ruler, valued with canonical directory keys."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def extract(doc: Any) -> list[dict[str, Any]]:
        entities = []
        for ent in doc.ents:
            span = ent
            if ent.label_ == "ordinal" and ent[0].lower_ in ORDINAL_PREFIXES and len(ent) > 1:
                span = ent[1:]
            entities.append(
                {
                    "entity": ent.label_,
                    "value": ent.ent_id_ or ent.text,
                    "start": span.start_char,
                    "end": span.end_char,
                    "confidence_entity": 1.0,
                }
            )
        return entities

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT]) or model.model(message.get(TEXT) or "")
            extracted = self.add_extractor_name(self.extract(doc))
            message.set(ENTITIES, message.get(ENTITIES, []) + extracted, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisDetector(_Stateless):
    """The crisis check on every message, after the intent classifier and fallback.

    A message that matches the crisis patterns, or that the model classifies as
    a crisis with enough confidence (see ``_model_crisis``), leaves NLU with the
    ``crisis_<category>`` intent at confidence 1.0, so the crisis rules fire
    whatever else was going on (a form in progress included). A crisis guess of
    the classifier that is below the threshold, without the signs its category
    needs ("we have 2 little kids" is no child in danger), or in a message that
    only talks *about* crisis ("an assignment on suicide prevention"), gives way
    to the best other intent: false alarms teach people to ignore the crisis
    answer.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"nlu_threshold": 0.5, "fallback_threshold": 0.2}

    def _model_crisis(self, message: Message) -> str | None:
        """The model's likeliest crisis category, if its crisis intents together have
        enough confidence and the message shows the signs that category needs.

        The crisis intents are summed because they share their words (psychosis,
        threat and violence; suicide and overdose): a message can be clearly a
        crisis while no single kind is sure. Every crisis answer carries 111 and
        1737, so an uncertain kind still gets the general lines.
        """
        ranking = message.get(INTENT_RANKING_KEY) or []
        crisis = [r for r in ranking if (r.get("name") or "").startswith(CRISIS_PREFIX)]
        if sum(r.get("confidence") or 0 for r in crisis) < self.config["nlu_threshold"]:
            return None
        top = max(crisis, key=lambda r: r.get("confidence") or 0)
        category = top["name"].removeprefix(CRISIS_PREFIX)
        return category if patterns().model_may_say(category, message.get(TEXT) or "") else None

    def _best_other_intent(self, message: Message) -> dict[str, Any]:
        ranking = message.get(INTENT_RANKING_KEY) or []
        others = [
            r
            for r in ranking
            if r.get("name") != "nlu_fallback"
            and not (r.get("name") or "").startswith(CRISIS_PREFIX)
        ]
        best = max(others, key=lambda r: r.get("confidence") or 0, default=None)
        if best is None or (best.get("confidence") or 0) < self.config["fallback_threshold"]:
            return {"name": "nlu_fallback", "confidence": 1.0 - self.config["fallback_threshold"]}
        return {"name": best["name"], "confidence": best.get("confidence")}

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            category = crisis_in(text)
            if category is None and not patterns().in_safe_context(text):
                category = self._model_crisis(message)
            if category is not None:
                intent = {"name": f"{CRISIS_PREFIX}{category}", "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
            elif ((message.get(INTENT) or {}).get("name") or "").startswith(CRISIS_PREFIX):
                message.set(INTENT, self._best_other_intent(message), add_to_output=True)
        return messages
