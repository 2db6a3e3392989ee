"""The te reo glossary: data checks, look-up, collisions, term extraction and chat wording."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot.config import ROOT
from bot.directory.places import gazetteer
from bot.reo import spelling_variants
from bot.reo.glossary import (
    GLOSSARY_FILE,
    KINDS,
    Glossary,
    GlossaryError,
    default_glossary,
    extract_term,
)
from bot.reo.normalise import strip_diacritics
from tests.conftest import trained_examples

# Every group of words that fold to one key. A new collision fails here until
# someone has checked that both words and meanings are right and added it.
EXPECTED_COLLISIONS = {
    ("kahu", "kāhu"),
    ("matua", "mātua"),
    ("rūnanga", "Runanga"),
    ("tangata", "tāngata"),
    ("teina", "tēina"),
    ("tipuna", "tīpuna"),
    ("tuakana", "tuākana"),
    ("tupuna", "tūpuna"),
    ("wahine", "wāhine"),
}
PHONE_SCREEN_CHARS = 320
EXPLAIN_TRAINING = ROOT / "data" / "nlu" / "nlu_reo_explain.yml"
HELD_OUT = ROOT / "tests" / "nlu" / "test_nlu.yml"


def _explain_examples(path) -> list[str]:
    return [
        m.get("text")
        for m in load_data(str(path)).intent_examples
        if m.get("intent") == "explain_term"
    ]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return default_glossary()


def _typed_forms(word: str) -> set[str]:
    """The ways a person might type ``word``: variants, upper case, no macrons, doubled vowels."""
    forms = set(spelling_variants(word)) | {word, word.upper(), strip_diacritics(word)}
    return forms | {f.upper() for f in forms} | {f.title() for f in forms}


# --- the data ---------------------------------------------------------------


def test_glossary_is_big_enough_and_names_its_sources(glossary):
    assert len(glossary) >= 200
    assert "Te Aka Māori Dictionary" in glossary.source


def test_default_glossary_is_loaded_once(glossary):
    assert default_glossary() is glossary
    assert Glossary.load(str(GLOSSARY_FILE)).entries == glossary.entries


def test_every_entry_is_well_formed(glossary):
    for entry in glossary.entries:
        assert entry.kind in KINDS
        assert entry.meaning == entry.meaning.strip() and not entry.meaning.endswith(".")
        if entry.note:
            assert entry.note.endswith((".", "?")), entry.word
            assert ". " not in entry.note.rstrip("."), f"{entry.word}: note is one sentence"


def test_every_place_key_is_in_the_gazetteer_and_names_that_place(glossary):
    places = [e for e in glossary.entries if e.place_key]
    assert len(places) >= 10
    for entry in places:
        assert gazetteer().get(entry.place_key) is not None, entry.word
        resolved = gazetteer().resolve(entry.word)
        assert resolved is not None and resolved.key == entry.place_key, entry.word


def test_words_the_bot_relies_on_are_present(glossary):
    for word in (
        "whānau",
        "rangatahi",
        "kaupapa Māori",
        "Te Whare Tapa Whā",
        "kia ora",
        "Oranga Tamariki",
        "Te Tai o Poutini",
        "kahu",
        "kāhu",
    ):
        assert glossary.lookup(word)[0].word == word


# --- look-up ------------------------------------------------------------------


def test_every_spelling_of_every_entry_finds_it(glossary):
    for entry in glossary.entries:
        for typed in _typed_forms(entry.word):
            found = glossary.lookup(typed)
            assert entry in found, f"{typed!r} does not find {entry.word!r}"
        assert glossary.lookup(entry.word)[0] == entry, "the exact spelling comes first"


def test_lookup_ignores_punctuation_spacing_and_a_leading_te(glossary):
    assert [e.word for e in glossary.lookup('  "Whaanau?" ')] == ["whānau"]
    assert [e.word for e in glossary.lookup("te whanganui a tara")] == ["Te Whanganui-a-Tara"]
    assert [e.word for e in glossary.lookup("nau mai haere mai")] == ["nau mai, haere mai"]
    assert [e.word for e in glossary.lookup("Te Manatū Hauora")] == ["Manatū Hauora"]
    assert [e.word for e in glossary.lookup("whare tapa wha")] == ["Te Whare Tapa Whā"]


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "?!", "xyzzy", "what", "a" * 10_000, "\x00\x01\x02", "'; DROP TABLE x; --"],
)
def test_lookup_of_nothing_or_junk_is_empty(glossary, text):
    assert glossary.lookup(text) == []


def test_collisions_are_exactly_the_reviewed_ones(glossary):
    found = {tuple(e.word for e in group) for group in glossary.collisions()}
    assert found == EXPECTED_COLLISIONS


@pytest.mark.parametrize("pair", sorted(EXPECTED_COLLISIONS))
def test_a_colliding_key_returns_both_words_with_their_spellings(glossary, pair):
    for word in pair:
        other = next(w for w in pair if w != word)
        assert [e.word for e in glossary.lookup(word)] == [word, other]
    unmarked = strip_diacritics(pair[0]).lower()
    assert {e.word for e in glossary.lookup(unmarked)} == set(pair)
    reply = glossary.explain(unmarked)
    for word in pair:
        assert f"**{word}**" in reply
    assert len(reply) <= PHONE_SCREEN_CHARS


def test_a_doubled_vowel_prefers_the_macron_spelling(glossary):
    assert [e.word for e in glossary.lookup("kaahu")] == ["kāhu", "kahu"]
    assert [e.word for e in glossary.lookup("waahine")] == ["wāhine", "wahine"]


# --- terms in a message or reply ----------------------------------------------


def test_terms_in_prefers_the_longest_term_and_never_overlaps(glossary):
    text = "Kia ora! Oranga Tamariki and kaupapa Māori services for rangatahi in Māwhera."
    assert [e.word for e in glossary.terms_in(text)] == [
        "kia ora",
        "Oranga Tamariki",
        "kaupapa Māori",
        "rangatahi",
        "Māwhera",
    ]


def test_terms_in_lists_each_term_once_in_order_of_first_use(glossary):
    text = "whānau first, then WHANAU again and whaanau, then kai"
    assert [e.word for e in glossary.terms_in(text)] == ["whānau", "kai"]


def test_terms_in_uses_the_spelling_to_pick_between_colliding_words(glossary):
    assert [e.word for e in glossary.terms_in("a kāhu overhead")] == ["kāhu"]
    assert [e.word for e in glossary.terms_in("a kahu for the tangi")] == ["kahu", "tangi"]
    assert [e.word for e in glossary.terms_in("we live in Runanga")] == ["Runanga"]


def test_terms_in_can_keep_only_some_kinds(glossary):
    text = "Oranga Tamariki can help your tamariki and whānau, ngā mihi"
    assert [e.word for e in glossary.terms_in(text, kinds={"person"})] == ["tamariki", "whānau"]
    assert [e.word for e in glossary.terms_in(text, kinds={"organisation"})] == ["Oranga Tamariki"]


def test_terms_in_handles_english_only_empty_and_huge_text(glossary):
    assert glossary.terms_in("I need help finding a doctor near me") == []
    assert glossary.terms_in("") == []
    assert glossary.terms_in(None) == []
    start = time.perf_counter()
    assert [e.word for e in glossary.terms_in("whānau " + "x" * 200_000)] == ["whānau"]
    assert time.perf_counter() - start < 2


# --- what is the person asking about ------------------------------------------


@pytest.mark.parametrize(
    ("message", "term"),
    [
        ("what does rangatahi mean", "rangatahi"),
        ("whats whanau", "whanau"),
        ("what's kaupapa maori in english", "kaupapa maori"),
        ("meaning of mokopuna", "mokopuna"),
        ("what is te whare tapa wha", "te whare tapa wha"),
        ("rangatahi?", "rangatahi"),
        ("wot does whaanau mean", "whaanau"),
        ("what do you mean by mahi", "mahi"),
        ("What does “whakamā” mean?", "whakamā"),
        ("kia ora, what does kaumātua mean?", "kaumātua"),
        ("whānau means what?", "whānau"),
        ("explain hauora", "hauora"),
        ("can you explain what tikanga means", "tikanga"),
        ("i dont know what a marae is", "marae"),
        ("what's a kuia", "kuia"),
        ("what are tamariki", "tamariki"),
        ("what is the meaning of manaakitanga?", "manaakitanga"),
        ("whats the english for pūtea", "pūtea"),
        ("mokopuna in english?", "mokopuna"),
        ("what does the word 'koha' mean", "koha"),
        ("whats mahi mean", "mahi"),
        ("wat is whakapapa", "whakapapa"),
        ("not sure what Te Whatu Ora is", "Te Whatu Ora"),
        ("define iwi pls", "iwi"),
        ("translate ka kite anō", "ka kite anō"),
        ("he aha te tikanga o te kupu aroha", "aroha"),
        ("KAUPAPA MAORI??", "KAUPAPA MAORI"),
        ("what does hapu mean in english", "hapu"),
        ("sorry whats tangata whaiora", "tangata whaiora"),
        ("wdym by kai", "kai"),
        ("rangatahi meaning", "rangatahi"),
        ("taonga? whats that", "taonga"),
        ("i keep hearing Matariki, what is it", "Matariki"),
        ("what does Te Whanganui-a-Tara mean", "Te Whanganui-a-Tara"),
        ("what do they mean by kāore he raru", "kāore he raru"),
        ("whats the meaning behind rongoā", "rongoā"),
    ],
)
def test_extract_term_finds_the_word_as_typed(message, term):
    assert extract_term(message) == term


@pytest.mark.parametrize(
    "message",
    [
        None,
        "",
        "   ",
        "what does that mean",
        "what is this",
        "is it free?",
        "hello",
        "I need help with housing in Greymouth",
        "what does " + "x " * 400 + "mean",
        "\x00\x01",
    ],
)
def test_extract_term_gives_none_when_no_word_is_asked_about(message):
    assert extract_term(message) is None


@pytest.mark.parametrize("path", [EXPLAIN_TRAINING, HELD_OUT])
def test_every_explain_term_example_names_a_glossary_word(glossary, path):
    examples = _explain_examples(path)
    assert len(examples) >= (60 if path == EXPLAIN_TRAINING else 20)
    for text in examples:
        term = extract_term(text)
        assert term is not None, text
        assert glossary.lookup(term), f"{text!r}: {term!r} is not in the glossary"


def test_held_out_explain_set_is_held_out():
    trained = {text.lower() for _, text in trained_examples()}
    held_out = _explain_examples(HELD_OUT)
    assert not [t for t in held_out if t.lower() in trained]
    train_terms = {
        g.key
        for t in load_data(str(EXPLAIN_TRAINING)).intent_examples
        for g in default_glossary().lookup(extract_term(t.get("text")))
    }
    held_terms = {g.key for t in held_out for g in default_glossary().lookup(extract_term(t))}
    assert not train_terms & held_terms, "the held-out set asks about different words"


# --- chat wording -------------------------------------------------------------


def test_explain_a_known_word(glossary):
    reply = glossary.explain("whaanau")
    assert reply.startswith("**whānau**: extended family")
    assert "wider family" in reply


def test_explain_a_question_phrase_does_not_double_its_punctuation(glossary):
    assert glossary.explain("kei te pehea koe") == "**kei te pēhea koe**: how are you?"


def test_explain_a_collision_shows_both_spellings(glossary):
    reply = glossary.explain("kahu")
    assert reply.startswith("**kahu** (garment, cloak; covering); **kāhu** (swamp harrier")
    assert glossary.explain("kāhu").startswith("**kāhu**")


def test_explain_every_entry_fits_a_phone_screen(glossary):
    for entry in glossary.entries:
        reply = glossary.explain(entry.word)
        assert f"**{entry.word}**" in reply
        assert entry.meaning in reply
        assert len(reply) <= PHONE_SCREEN_CHARS, entry.word


def test_explain_an_unknown_word_says_so_without_guessing(glossary):
    reply = glossary.explain("tūtūā")
    assert "don't know the word “tūtūā” yet" in reply
    assert "**" not in reply
    assert "maoridictionary.co.nz" in reply


@pytest.mark.parametrize(
    "term",
    [
        "<script>alert(1)</script>",
        "**bold** [x](http://evil.example)",
        "x" * 5000,
        "\x00\x01binary\xff",
    ],
)
def test_explain_never_echoes_markup_or_huge_input(glossary, term):
    reply = glossary.explain(term)
    assert "<" not in reply and "**" not in reply and "](" not in reply
    assert "\x00" not in reply
    assert len(reply) <= PHONE_SCREEN_CHARS


@pytest.mark.parametrize("term", [None, "", "  ", "?!?"])
def test_explain_nothing_asks_which_word(glossary, term):
    assert glossary.explain(term) == "Which word would you like me to explain?"


# --- validation of the file ---------------------------------------------------

GOOD = """source: Te Aka Māori Dictionary
entries:
  - {word: whānau, kind: person, meaning: extended family}
"""


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "glossary.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_small_valid_file_loads(tmp_path):
    glossary = Glossary.load(_write(tmp_path, GOOD))
    assert [e.word for e in glossary.entries] == ["whānau"]
    assert glossary.source == "Te Aka Māori Dictionary"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("  - {word: kai, kind: everyday}", "entry 2 ('kai'): missing field `meaning`"),
        ("  - {kind: everyday, meaning: food}", "entry 2: missing field `word`"),
        ("  - {word: kai, kind: food, meaning: food}", "entry 2 ('kai'): unknown kind 'food'"),
        ("  - {word: Whānau, kind: person, meaning: family}", "entry 2 ('Whānau') repeats entry 1"),
        (
            "  - {word: kai, kind: everyday, meaning: food, colour: red}",
            "entry 2 ('kai'): unknown field(s) colour",
        ),
        (
            "  - {word: kai, kind: everyday, meaning: food, place_key: greymouth}",
            "entry 2 ('kai'): `place_key` is only for kind `place`",
        ),
        (
            "  - {word: '!!', kind: everyday, meaning: bangs}",
            "entry 2 ('!!'): `word` has no letters",
        ),
        (
            "  - {word: kai, kind: everyday, meaning: ''}",
            "entry 2 ('kai'): missing field `meaning`",
        ),
        ("  - {word: kai, kind: everyday, meaning: [food]}", "entry 2 ('kai'): missing field"),
        ("  - just a string", "entry 2: must be a mapping"),
    ],
)
def test_a_bad_entry_is_rejected_naming_it(tmp_path, entries, message):
    path = _write(tmp_path, GOOD + entries + "\n")
    with pytest.raises(GlossaryError) as error:
        Glossary.load(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("entries: []\n", "needs exactly two keys"),
        ("source: x\nentries: []\n", "`entries` must be a non-empty list"),
        ("source: ''\nentries: [{word: a, kind: person, meaning: b}]\n", "`source` must name"),
        ("source: x\nentries: {word: a}\nextra: 1\n", "needs exactly two keys"),
        ("source: [unclosed\n", "not valid YAML"),
        ("- a list\n", "needs exactly two keys"),
        (b"\xff\xfe\x00binary", "cannot read the glossary"),
    ],
)
def test_a_malformed_file_is_rejected(tmp_path, text, message):
    with pytest.raises(GlossaryError, match=message.replace("`", ".")):
        Glossary.load(_write(tmp_path, text))


def test_a_missing_file_is_rejected(tmp_path):
    with pytest.raises(GlossaryError, match="cannot read the glossary"):
        Glossary.load(tmp_path / "absent.yml")
