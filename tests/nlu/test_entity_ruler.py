"""The entity ruler built from the directory data, as the NLU pipeline runs it."""

from __future__ import annotations

import pytest
import spacy

from bot.nlu.components import DirectoryEntityExtractor
from bot.nlu.spacy_pipeline import build_patterns


@pytest.fixture(scope="module")
def nlp():
    pipeline = spacy.blank("en")
    ruler = pipeline.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(build_patterns(pipeline))
    return pipeline


def entities(nlp, text: str) -> set[tuple[str, str]]:
    return {(e["entity"], e["value"]) for e in DirectoryEntityExtractor.extract(nlp(text))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my boy is on P again", {("need", "drugs_alcohol")}),
        ("she's been on the gear for months", {("need", "drugs_alcohol")}),
        ("where can i get kai in mawhera", {("need", "money_food"), ("place", "greymouth")}),
        ("need a lawyer in hokitika", {("need", "legal"), ("place", "hokitika")}),
        ("help with HOUSING", {("need", "housing")}),
        ("my nephew just got patched", {("need", "youth_gangs")}),
        ("any mahi going for rangatahi", {("need", "education_work"), ("audience", "rangatahi")}),
        ("somewhere kaupapa māori on the coast", {("need", "cultural"), ("place", "west-coast")}),
        ("kaupapa maori", {("need", "cultural")}),
    ],
)
def test_need_words_are_found_with_the_other_entities(nlp, text, expected):
    assert entities(nlp, text) == expected


@pytest.mark.parametrize("text", ["p", "mind your p's and q's", "the app is slow", "hello there"])
def test_text_without_need_words_has_no_need(nlp, text):
    assert not {e for e in entities(nlp, text) if e[0] == "need"}
