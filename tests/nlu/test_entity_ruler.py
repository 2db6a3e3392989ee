"""The entity ruler built from the directory data, as the NLU pipeline runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
import yaml

from bot.config import ROOT
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.nlu.components import DirectoryEntityExtractor
from bot.nlu.spacy_pipeline import ORDINALS, build_patterns, pipeline


@pytest.fixture(scope="module")
def nlp():
    return pipeline()


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


def _training_texts() -> list[str]:
    texts = []
    for path in sorted(Path(ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in str(block.get("examples", "")).splitlines():
                texts.append(line.removeprefix("- ").replace("[", "").split("](")[0])
    return texts


def _words() -> list[str]:
    taxonomy = taxonomies()
    groups = [*taxonomy.needs.values(), *taxonomy.audiences.values()]
    return [w for group in groups for w in group.words] + list(ORDINALS)


def test_phrase_patterns_find_what_token_patterns_found(nlp):
    """Every phrase pattern (matched on lower-case text) written as the token pattern it
    stands for: the same entities, at the same places, in every NLU training example, in
    sentences naming every place and using every need, audience and ordinal word in upper,
    title and lower case."""
    reference = spacy.blank("en")
    tokens = reference.add_pipe("entity_ruler", config={"overwrite_ents": True})
    tokens.add_patterns(
        [
            {**p, "pattern": [{"LOWER": t.lower_} for t in reference.make_doc(p["pattern"])]}
            if isinstance(p["pattern"], str)
            else p
            for p in build_patterns(reference)
        ]
    )
    names = [n for place in gazetteer().places.values() for n in place.names]
    texts = (
        _training_texts()
        + [f"{form} help in {name}" for name in names for form in ("we need", "WE NEED")]
        + [f"kai in {name.upper()} and {name.title()}" for name in names]
        + [f"the {w.upper()} one, {w.title()} or {w} please" for w in _words()]
    )
    assert len(texts) > 2000
    for text in texts:
        ours = [(e.start, e.end, e.label_, e.ent_id_) for e in nlp(text).ents]
        theirs = [(e.start, e.end, e.label_, e.ent_id_) for e in reference(text).ents]
        assert ours == theirs, text
