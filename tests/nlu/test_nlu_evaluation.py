"""Held-out NLU evaluation: the test sets here were written separately and never trained on."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.evaluation import evaluate as run_evaluation
from bot.evaluation import load_examples
from tests.conftest import trained_examples
from tests.figures import record

HERE = Path(__file__).parent
HELD_OUT_SETS = (
    "test_nlu.yml",
    "test_nlu_reo.yml",
    "test_nlu_sms.yml",
    "test_nlu_reo_sentences.yml",
)
# How people really write (item 7): SMS shorthand and whole te reo sentences. Lower
# than the English target: these sets are small and deliberately hard.
HOW_PEOPLE_WRITE_TARGET = 0.85


def test_test_sets_are_held_out_from_training():
    trained = {text.lower() for _, text in trained_examples()}
    for name in HELD_OUT_SETS:
        overlap = [e.text for e in load_examples(HERE / name) if e.text.lower() in trained]
        assert not overlap, f"{name} repeats training examples: {overlap}"


def test_english_test_set(english):
    examples = load_examples(HERE / "test_nlu.yml")
    per_intent = {}
    for e in examples:
        per_intent[e.intent] = per_intent.get(e.intent, 0) + 1
    assert min(per_intent.values()) >= 10
    report = english
    record(report.line())
    assert report.intent_macro_f1 >= 0.90
    assert report.entity_f1 >= 0.85


MACRON_TO_DOUBLE = str.maketrans(
    {
        "ā": "aa",
        "ē": "ee",
        "ī": "ii",
        "ō": "oo",
        "ū": "uu",
        "Ā": "AA",
        "Ē": "EE",
        "Ī": "II",
        "Ō": "OO",
        "Ū": "UU",
    }
)


def strip_macrons(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def double_vowels(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(MACRON_TO_DOUBLE)


@pytest.fixture(scope="module")
def english(agent):
    return run_evaluation(agent, load_examples(HERE / "test_nlu.yml"), "NLU held-out (English)")


@pytest.fixture(scope="module")
def reo(agent):
    return run_evaluation(
        agent, load_examples(HERE / "test_nlu_reo.yml"), "NLU held-out (code-switched te reo)"
    )


def test_code_switched_test_set_is_within_two_points_of_english(reo, english):
    assert reo.n >= 100
    record(reo.line())
    assert reo.intent_macro_f1 >= english.intent_macro_f1 - 0.02
    assert reo.entity_f1 >= 0.85


@pytest.mark.parametrize(
    ("name", "transform"),
    [("macrons stripped", strip_macrons), ("long vowels doubled", double_vowels)],
)
@pytest.mark.parametrize("test_set", ["test_nlu.yml", "test_nlu_reo.yml"])
def test_spelling_of_long_vowels_does_not_change_understanding(
    agent, english, reo, test_set, name, transform
):
    baseline = english if test_set == "test_nlu.yml" else reo
    report = run_evaluation(
        agent, load_examples(HERE / test_set), f"{baseline.name}, {name}", transform
    )
    record(report.line())
    assert report.intent_macro_f1 >= baseline.intent_macro_f1 - 0.01


@pytest.mark.parametrize(
    ("test_set", "name", "minimum"),
    [
        ("test_nlu_sms.yml", "NLU held-out (SMS shorthand and typos)", 60),
        ("test_nlu_reo_sentences.yml", "NLU held-out (te reo sentences)", 40),
    ],
)
def test_how_people_really_write(agent, test_set, name, minimum):
    """Shorthand, typos and whole te reo sentences are understood, not only tidy English."""
    examples = load_examples(HERE / test_set)
    assert len(examples) >= minimum
    report = run_evaluation(agent, examples, name)
    record(report.line())
    misread = "\n".join(f"  {gold} -> {pred}: {text}" for text, gold, pred in report.errors)
    assert report.intent_macro_f1 >= HOW_PEOPLE_WRITE_TARGET, misread
