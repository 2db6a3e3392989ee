"""Telling "are they kaupapa Māori?" (about the services shown) from "anything kaupapa Māori?"."""

from __future__ import annotations

import pytest

from bot.directory.present import search_label
from bot.nlu.narrowing import asks_for_other_services


@pytest.mark.parametrize(
    "text",
    [
        "is there anything kaupapa Māori",
        "none of those are maori tho",
        "any free ones?",
        "anything open now",
        "what about kaupapa maori",
        "are there any kaupapa maori services for whanau on the coast",
        "i want something free",
    ],
)
def test_requests_for_other_services(text):
    assert asks_for_other_services(text)


@pytest.mark.parametrize(
    "text", ["are they kaupapa Māori?", "is it free?", "r they open now", "how much does it cost"]
)
def test_questions_about_the_services_shown(text):
    assert not asks_for_other_services(text)


def test_search_label_names_the_filters():
    assert search_label("housing", ()) == "services for housing"
    assert search_label("housing", ("kaupapa_maori", "free")) == (
        "kaupapa Māori free services for housing"
    )
    assert search_label(None, ("kaupapa_maori",)) == "kaupapa Māori services"
    assert search_label("kai", ("open_now",)) == "services for kai open now"
