"""Builds the spaCy pipeline Rasa loads (``SpacyNLP`` with ``model: <path>``).

No pretrained spaCy model can be downloaded here, so the pipeline is a blank
English tokenizer plus an entity ruler whose patterns come from the directory
data: places (with te reo names and every common spelling), audience words,
need words and ordinals ("the second one"). Each pattern's ``id`` is the
canonical value the bot uses (a place key, an audience code, a need code, an ordinal number).

A place name matches with or without macrons on any vowel ("Whangārei" and
"Whangarei" for the gazetteer's "Whangarei"), as the gazetteer's ``resolve``
folds it, and belongs to the place it resolves to, so the two agree.

Every pattern that matches in any case is a phrase, matched on each token's norm
(its lower-case text without macrons, set by ``bot.nlu.reo_norm`` before the
ruler): a phrase matcher does one lookup a token, whatever the number of patterns,
where a token pattern is tried on every token, one by one. A place name's phrases
are its tokens' spellings without macrons (its folded form, and as written or with
doubled vowels): a few per name, where spelling out every vowel with or without a
macron would be some 11,000 phrases (70 MB more in the server,
bench/results/session9-a.md). The few words that must match their exact case ("P")
or a token's shape ("number 2") stay token patterns.
"""

from __future__ import annotations

import sys
from itertools import product
from pathlib import Path

import spacy
from spacy.language import Language

from bot.config import ROOT
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.nlu.reo_norm import NAME as NORM_COMPONENT
from bot.nlu.reo_norm import norm
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


# Phrase patterns (strings) are matched on this token attribute, set by bot.nlu.reo_norm.
PHRASE_ATTR = "NORM"


def _norms(word: str) -> list[str]:
    """The norms of the ways a word is typed: folded, or as written or with doubled vowels
    instead of macrons (each with or without macrons, which the norm drops)."""
    return sorted({fold(word)} | {norm(variant) for variant in spelling_variants(word)})


def _place_phrases(nlp: Language, name: str) -> list[str]:
    """Phrases matching ``name`` in any case, with or without macrons: each token in
    each of its spellings."""
    tokens = nlp.make_doc(name)
    spellings = [[n + token.whitespace_ for n in _norms(token.text)] for token in tokens]
    return ["".join(words) for words in product(*spellings)]


def build_patterns(nlp: Language) -> list[dict]:
    patterns: list[dict] = []

    def add(label: str, value: str, name: str, exact: bool = False) -> None:
        if exact:
            pattern = [{"ORTH": t.text} for t in nlp.make_doc(name)]
            patterns.append({"label": label, "pattern": pattern, "id": value})
        else:
            for variant in sorted({norm(v) for v in spelling_variants(name)}):
                patterns.append({"label": label, "pattern": variant, "id": value})

    places = gazetteer()
    for place in places.places.values():
        for name in place.names:
            if places.resolve(name) is place:
                for phrase in _place_phrases(nlp, name):
                    patterns.append({"label": "place", "pattern": phrase, "id": place.key})
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
    """A blank English tokenizer, the norms, and the entity ruler with the directory's
    patterns."""
    nlp = spacy.blank("en")
    nlp.add_pipe(NORM_COMPONENT)
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
