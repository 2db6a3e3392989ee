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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("need help with meth in Dunedin", {("need", "drugs_alcohol"), ("place", "dunedin-city")}),
        ("whānau support in Whangārei", {("audience", "whanau"), ("place", "whangarei-district")}),
        ("whanau support in Whangarei", {("audience", "whanau"), ("place", "whangarei-district")}),
        ("anything in taupō", {("place", "taupo-district")}),
        ("we live on the Chatham Islands", {("place", "chatham-islands-territory")}),
        ("in Auckland", {("place", "auckland")}),
    ],
)
def test_places_beyond_the_coast_are_found_with_or_without_macrons(nlp, text, expected):
    assert entities(nlp, text) == expected


def test_a_name_is_only_its_own_places():
    # "Auckland" is the region's; the district of the same name gives no second pattern.
    pipeline = spacy.blank("en")
    ids = {p["id"] for p in build_patterns(pipeline) if p["label"] == "place"}
    assert "auckland" in ids
    assert "auckland-ta" not in ids
