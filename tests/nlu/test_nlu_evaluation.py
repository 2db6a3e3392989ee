"""Held-out NLU evaluation: the test sets here were written separately and never trained on."""

from __future__ import annotations

from pathlib import Path

from bot.evaluation import evaluate as run_evaluation
from bot.evaluation import load_examples
from tests.figures import record

HERE = Path(__file__).parent
TRAINING = Path(__file__).parents[2] / "data" / "nlu"


def test_test_sets_are_held_out_from_training():
    from rasa.shared.nlu.training_data.loading import load_data

    trained = {m.get("text").lower() for m in load_data(str(TRAINING)).intent_examples}
    for name in ("test_nlu.yml", "test_nlu_reo.yml"):
        overlap = [e.text for e in load_examples(HERE / name) if e.text.lower() in trained]
        assert not overlap, f"{name} repeats training examples: {overlap}"


def test_english_test_set(agent):
    examples = load_examples(HERE / "test_nlu.yml")
    per_intent = {}
    for e in examples:
        per_intent[e.intent] = per_intent.get(e.intent, 0) + 1
    assert min(per_intent.values()) >= 10
    report = run_evaluation(agent, examples, "NLU held-out (English)")
    record(report.line())
    assert report.intent_macro_f1 >= 0.90
    assert report.entity_f1 >= 0.85
