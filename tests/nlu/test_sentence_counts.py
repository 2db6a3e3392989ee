"""SentenceCountVectorsFeaturizer: Rasa's sentence counts, without the token counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse

from bot.nlu.sentence_counts import SentenceCountVectorsFeaturizer, one_row

TRAINING = ("kia ora", "i need help with housing in greymouth", "whānau support in hokitika")
MESSAGES = ("help with housing in westport", "kia ora whānau", "zzz", "housing housing kia ora ora")


def _messages(texts: tuple[str, ...]) -> list[Message]:
    messages = [Message(data={TEXT: text, "intent": "x"}) for text in texts]
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process(messages)
    return messages


def _trained(cls: Any, config: dict[str, Any], tmp_path: Path) -> Any:
    (tmp_path / cls.__name__).mkdir()
    storage = LocalModelStorage(tmp_path / cls.__name__)
    context = ExecutionContext(GraphSchema({}), "test")
    featurizer = cls.create(
        {**cls.get_default_config(), **config}, storage, Resource("counts"), context
    )
    featurizer.train(TrainingData(_messages(TRAINING)))
    return featurizer


def _features(message: Message, kind: str) -> list[Any]:
    return [f.features for f in message.features if f.type == kind and f.attribute == TEXT]


CONFIGS = pytest.mark.parametrize(
    "config",
    [{}, {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5}, {"lowercase": False}],
    ids=["words", "chars", "cased"],
)


@CONFIGS
def test_the_sentence_counts_are_rasas_and_there_are_no_token_counts(
    config: dict[str, Any], tmp_path: Path
) -> None:
    ours = _trained(SentenceCountVectorsFeaturizer, config, tmp_path)
    rasas = _trained(CountVectorsFeaturizer, config, tmp_path)
    for text in MESSAGES:
        [mine], [theirs] = ours.process(_messages((text,))), rasas.process(_messages((text,)))
        assert _features(mine, FEATURE_TYPE_SEQUENCE) == []
        assert len(_features(theirs, FEATURE_TYPE_SEQUENCE)) == 1
        [counted], [expected] = (
            _features(mine, FEATURE_TYPE_SENTENCE),
            _features(theirs, FEATURE_TYPE_SENTENCE),
        )
        assert counted.shape == expected.shape and counted.dtype == expected.dtype
        assert np.array_equal(counted.toarray(), expected.toarray())
    assert _features(ours.process(_messages(("housing",)))[0], FEATURE_TYPE_SENTENCE)[0].nnz


@CONFIGS
@pytest.mark.parametrize("binary", [False, True])
def test_one_message_s_counts_are_the_matrix_scikit_learn_gives(
    config: dict[str, Any], binary: bool, tmp_path: Path
) -> None:
    """To the dtype of every array: the counts are made without scikit-learn's transform."""
    ours = _trained(SentenceCountVectorsFeaturizer, config, tmp_path)
    vectorizer = ours.vectorizers[TEXT]
    vectorizer.binary = binary
    for text in (*MESSAGES, *TRAINING, ""):
        counted = ours.counts(TEXT, text)
        expected = vectorizer.transform([text]).tocoo()
        assert counted.shape == expected.shape
        for part in ("row", "col", "data"):
            mine, theirs = getattr(counted, part), getattr(expected, part)
            assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), (text, part)


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
@pytest.mark.parametrize("columns", [[], [0], [3, 7, 19]])
def test_a_row_is_the_matrix_scipy_makes(dtype: Any, columns: list[int]) -> None:
    """Every attribute, of the same type and dtype, and the same operations' results."""
    cols = np.array(columns, dtype=np.int32)
    values = np.arange(1, len(cols) + 1, dtype=dtype)
    made = one_row(values, cols, 20)
    expected = sparse.coo_matrix(
        (values, (np.zeros(len(cols), dtype=np.int32), cols)), shape=(1, 20)
    )
    assert type(made) is type(expected)
    assert vars(made).keys() == vars(expected).keys()
    for name, theirs in vars(expected).items():
        mine = getattr(made, name)
        assert type(mine) is type(theirs), name
        if isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), name
        else:
            assert mine == theirs, name
    assert np.array_equal(made.toarray(), expected.toarray())
    assert (made.tocsr() != expected.tocsr()).nnz == 0
    assert sparse.hstack([made, expected]).shape == (1, 40)
