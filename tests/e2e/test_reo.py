"""End to end: te reo words explained from the glossary, greetings mirrored, te reo places."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("question", "spelling"),
    [
        ("what does rangatahi mean", "**rangatahi**"),
        ("whats whanau", "**whānau**"),
        ("what's WHAANAU in english", "**whānau**"),
        ("what does kaupapa maori mean", "**kaupapa Māori**"),
    ],
)
def test_words_are_explained_from_the_glossary_with_the_right_spelling(stack, question, spelling):
    assert spelling in stack.texts(uuid.uuid4().hex, question)


def test_an_unknown_word_is_not_guessed(stack):
    text = stack.texts(uuid.uuid4().hex, "what does flibbertigibbet mean")
    assert "don't know" in text


def test_kia_ora_is_answered_with_kia_ora(stack):
    assert stack.texts(uuid.uuid4().hex, "kia ora").startswith("Kia ora")


def test_te_reo_and_english_place_names_find_the_same_services(stack):
    english = stack.texts(uuid.uuid4().hex, "my son is on meth, we live in Westport")
    reo = stack.texts(uuid.uuid4().hex, "my son is on meth, we live in Kawatiri")
    assert english.split("\n", 1)[1] == reo.split("\n", 1)[1]
