"""Rasa's word and character n-gram counts, for the whole message only."""

from __future__ import annotations

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)

Counts = list[scipy.sparse.spmatrix | None]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """``CountVectorsFeaturizer`` without the counts token by token.

    Rasa's featurizer counts each token on its own (sequence features) and the whole
    message (sentence features). The intent classifier (a logistic regression) reads
    only sentence features and nothing else in the pipeline reads these, so counting
    every token again on every message was work for nothing. The sentence counts are
    Rasa's own, with the same vocabulary and options.
    """

    def _create_features(
        self, attribute: str, all_tokens: list[list[str]]
    ) -> tuple[Counts, Counts]:
        if not self.vectorizers.get(attribute):
            return [None], [None]
        sentences: Counts = []
        for tokens in all_tokens:
            if not tokens or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
                sentences.append(None)
                continue
            counts = self.vectorizers[attribute].transform([" ".join(tokens)])
            counts.sort_indices()
            sentences.append(counts.tocoo())
        return [None] * len(sentences), sentences
