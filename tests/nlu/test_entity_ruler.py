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
from bot.reo import fold, spelling_variants


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


_MACRONS = dict(zip("aeiou", "āēīōū", strict=True))


def _spellings(word: str) -> list[str]:
    """The lower-case spellings a name's token matched as a token pattern: each vowel of
    its folded form with or without a macron, and its spelling variants."""
    spellings = {""}
    for c in fold(word):
        forms = (c, _MACRONS[c]) if c in _MACRONS else (c,)
        spellings = {s + form for s in spellings for form in forms}
    return sorted(spellings | spelling_variants(word))


def _token_patterns(nlp) -> list[dict]:
    """The patterns as token patterns tried one by one on every token, as the ruler had
    them before its phrases matched on norms: words in any case (``LOWER``), place names
    as sets of spellings, exact words (``ORTH``) and the ordinal prefixes as they are."""
    patterns = []

    def add(label: str, value: str, word: str) -> None:
        for variant in spelling_variants(word):
            pattern = [{"LOWER": t.lower_} for t in nlp.make_doc(variant)]
            patterns.append({"label": label, "pattern": pattern, "id": value})

    places = gazetteer()
    for place in places.places.values():
        for name in place.names:
            if places.resolve(name) is place:
                pattern = [{"LOWER": {"IN": _spellings(t.text)}} for t in nlp.make_doc(name)]
                patterns.append({"label": "place", "pattern": pattern, "id": place.key})
    for group, label in (
        (taxonomies().audiences.values(), "audience"),
        (taxonomies().needs.values(), "need"),
    ):
        for item in group:
            for word in item.words:
                add(label, item.code, word)
    for word, number in ORDINALS.items():
        add("ordinal", number, word)
    exact = [p for p in build_patterns(nlp) if not isinstance(p["pattern"], str)]
    assert {p["label"] for p in exact} == {"place", "need", "ordinal"}
    return patterns + exact


def _macron_spellings(name: str) -> list[str]:
    """A name as people type it with macrons: every vowel with one, and its spelling
    variants (the name as written, with doubled vowels)."""
    every = fold(name).translate(str.maketrans(_MACRONS))
    return sorted({every} | spelling_variants(name))


def test_phrase_patterns_find_what_token_patterns_found(nlp):
    """The ruler's phrases, matched on norms, find what the token patterns they replace
    found (``_token_patterns``): the same entities, at the same places, in every NLU
    training example, in sentences naming every place in upper, title and lower case and
    with macrons, and using every need, audience and ordinal word in three cases."""
    reference = spacy.blank("en")
    tokens = reference.add_pipe("entity_ruler", config={"overwrite_ents": True})
    tokens.add_patterns(_token_patterns(reference))
    names = [n for place in gazetteer().places.values() for n in place.names]
    texts = (
        _training_texts()
        + [f"{form} help in {name}" for name in names for form in ("we need", "WE NEED")]
        + [f"kai in {name.upper()} and {name.title()}" for name in names]
        + [f"whare in {spelling}" for name in names for spelling in _macron_spellings(name)]
        + [f"the {w.upper()} one, {w.title()} or {w} please" for w in _words()]
    )
    assert len(texts) > 3000
    for text in texts:
        ours = [(e.start, e.end, e.label_, e.ent_id_) for e in nlp(text).ents]
        theirs = [(e.start, e.end, e.label_, e.ent_id_) for e in reference(text).ents]
        assert ours == theirs, text


def test_only_exact_words_are_token_patterns(nlp):
    """Token patterns are tried one by one on every token: only words matched in their exact
    case or shape are, and none holds a set of spellings."""
    token_patterns = [
        p for p in nlp.get_pipe("entity_ruler").patterns if not isinstance(p["pattern"], str)
    ]
    assert 0 < len(token_patterns) < 100
    for pattern in token_patterns:
        for token in pattern["pattern"]:
            assert set(token) <= {"ORTH", "LOWER"}, pattern
            assert all(isinstance(value, str) for value in token.values()), pattern
