"""Rasa's word and character n-gram counts, for the whole message only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)

Counts = list[scipy.sparse.spmatrix | None]

# What SciPy gives every matrix it makes (how many entries its repr shows).
_MAXPRINT = scipy.sparse.coo_matrix((1, 1)).maxprint


def one_row(values: np.ndarray, columns: np.ndarray, width: int) -> scipy.sparse.coo_matrix:
    """``coo_matrix((values, (zeros, columns)), shape=(1, width))``, made without the checks
    SciPy runs on what it is given (a third of counting a message's n-grams): ``columns``
    are ``int32``, sorted, each once and under ``width``. The same attributes as SciPy's,
    of the same types (tests/nlu/test_sentence_counts.py)."""
    matrix = scipy.sparse.coo_matrix.__new__(scipy.sparse.coo_matrix)
    matrix.__dict__.update(
        _shape=(1, width),
        maxprint=_MAXPRINT,
        row=np.zeros(len(columns), dtype=np.int32),
        col=columns,
        data=values,
        has_canonical_format=False,
    )
    return matrix


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """``CountVectorsFeaturizer`` without the counts token by token.

    Rasa's featurizer counts each token on its own (sequence features) and the whole
    message (sentence features). The intent classifier (a logistic regression) reads
    only sentence features and nothing else in the pipeline reads these, so counting
    every token again on every message was work for nothing. The sentence counts are
    Rasa's own, with the same vocabulary and options.

    The counts of one message are made directly, with the vectorizer's own analyzer
    and vocabulary: scikit-learn's ``transform`` (built for many documents at once,
    checking its input and building a compressed matrix that is then converted)
    cost several times the counting itself on every message. ``counts`` gives the
    very matrix ``transform(...).tocoo()`` gives, to the dtype.
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
            sentences.append(self.counts(attribute, " ".join(tokens)))
        return [None] * len(sentences), sentences

    def counts(self, attribute: str, text: str) -> scipy.sparse.coo_matrix:
        """The n-gram counts of ``text`` as a one-row matrix, columns in vocabulary order."""
        vectorizer = self.vectorizers[attribute]
        vocabulary = vectorizer.vocabulary_
        found = Counter(
            i for i in map(vocabulary.get, self._analyzer(attribute)(text)) if i is not None
        )
        columns = np.array(sorted(found), dtype=np.int32)
        values = np.ones(len(columns)) if vectorizer.binary else [found[c] for c in columns]
        return one_row(np.asarray(values, dtype=vectorizer.dtype), columns, len(vocabulary))

    def _analyzer(self, attribute: str) -> Callable[[str], list[str]]:
        """The attribute's vectorizer's analyzer, built once per vectorizer."""
        vectorizer = self.vectorizers[attribute]
        built = self.__dict__.setdefault("_analyzers", {})
        if attribute not in built or built[attribute][0] is not vectorizer:
            built[attribute] = (vectorizer, vectorizer.build_analyzer())
        return built[attribute][1]
