"""Builds the spaCy pipeline Rasa loads (``SpacyNLP`` with ``model: <path>``).

No pretrained spaCy model can be downloaded here, so the pipeline is a blank
English tokenizer plus an entity ruler whose patterns come from the directory
data: places (with te reo names and every common spelling), audience words,
need words and ordinals ("the second one"). Each pattern's ``id`` is the
canonical value the bot uses (a place key, an audience code, a need code, an ordinal number).

A place name matches with or without macrons on any vowel ("Whangārei" and
"Whangarei" for the gazetteer's "Whangarei"), as the gazetteer's ``resolve``
folds it, and belongs to the place it resolves to, so the two agree.

Words matched in any case (needs, audiences, ordinals) are phrase patterns: a
phrase matcher on the lower-case text does one lookup a token, whatever the
number of patterns, where a token pattern is tried on every token, one by one.
Place names stay token patterns, each token a set of spellings, as a place's
spellings with or without macrons on any vowel would be some 11,000 phrases
(70 MB more in the server, bench/results/session9-a.md); so are the few words
that must match their exact case ("P") or a token's shape ("number 2").
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.language import Language

from bot.config import ROOT
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.reo import fold, spelling_variants

PIPELINE_DIR = ROOT / "models" / "spacy-awhina"

ORDINALS = {
    "first": "1",
    "1st": "1",
    "second": "2",
    "2nd": "2",
    "third": "3",
    "3rd": "3",
    "fourth": "4",
    "4th": "4",
    "fifth": "5",
    "5th": "5",
    "last": "last",
}


# Phrase patterns (strings) are matched on this token attribute: case-insensitively.
PHRASE_ATTR = "LOWER"

_MACRONS = dict(zip("aeiou", "āēīōū", strict=True))


def _spellings(word: str) -> list[str]:
    """The lower-case ways of typing a word's letters, each vowel with or without a macron
    (a set the matcher looks up, which is much faster than a regular expression)."""
    spellings = {""}
    for c in fold(word):
        forms = (c, _MACRONS[c]) if c in _MACRONS else (c,)
        spellings = {s + form for s in spellings for form in forms}
    return sorted(spellings | spelling_variants(word))


def _folded_pattern(nlp: Language, name: str) -> list[dict[str, dict[str, list[str]]]]:
    """Token patterns matching ``name`` in any case, with or without macrons."""
    return [{"LOWER": {"IN": _spellings(token.text)}} for token in nlp.make_doc(name)]


def build_patterns(nlp: Language) -> list[dict]:
    patterns: list[dict] = []

    def add(label: str, value: str, name: str, exact: bool = False) -> None:
        if exact:
            pattern = [{"ORTH": t.text} for t in nlp.make_doc(name)]
            patterns.append({"label": label, "pattern": pattern, "id": value})
        else:
            for variant in spelling_variants(name):
                patterns.append({"label": label, "pattern": variant, "id": value})

    places = gazetteer()
    for place in places.places.values():
        for name in place.names:
            if places.resolve(name) is place:
                patterns.append(
                    {"label": "place", "pattern": _folded_pattern(nlp, name), "id": place.key}
                )
        for name in place.exact_case:
            add("place", place.key, name, exact=True)
    for audience in taxonomies().audiences.values():
        for word in audience.words:
            add("audience", audience.code, word)
    for need in taxonomies().needs.values():
        for word in need.words:
            add("need", need.code, word)
        for word in need.exact:
            add("need", need.code, word, exact=True)
    for word, number in ORDINALS.items():
        add("ordinal", number, word)
    for prefix in ("number", "no.", "#", "option"):
        for number in "12345":
            pattern = [{"LOWER": prefix}, {"ORTH": number}]
            patterns.append({"label": "ordinal", "pattern": pattern, "id": number})
    return patterns


def pipeline() -> Language:
    """A blank English tokenizer and the entity ruler with the directory's patterns."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(
        "entity_ruler", config={"overwrite_ents": True, "phrase_matcher_attr": PHRASE_ATTR}
    )
    ruler.add_patterns(build_patterns(nlp))
    return nlp


def build(path: Path = PIPELINE_DIR) -> Path:
    nlp = pipeline()
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else PIPELINE_DIR))
