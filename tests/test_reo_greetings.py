"""Greetings and farewells mirror the person's, with glossary spellings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FROZEN_TIME
from bot.reo.glossary import default_glossary
from bot.reo.greetings import farewell_for, greeting_for
from tests.conftest import SATURDAY_NIGHT, TUESDAY_MORNING

NZ = ZoneInfo("Pacific/Auckland")
MORNING = datetime(2026, 11, 26, 8, 30, tzinfo=NZ)
AFTERNOON = datetime(2026, 11, 26, 15, 0, tzinfo=NZ)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("kia ora", MORNING, "Kia ora"),
        ("KIA ORA!!", AFTERNOON, "Kia ora"),
        ("hi there", AFTERNOON, "Kia ora"),
        ("mōrena", MORNING, "Mōrena"),
        ("morena whanau", MORNING, "Mōrena"),
        ("good morning", MORNING, "Mōrena"),
        ("moorena", AFTERNOON, "Kia ora"),
        ("tena koe", AFTERNOON, "Tēnā koe"),
        ("tēnā koutou katoa", MORNING, "Tēnā koutou"),
        ("teena koorua", MORNING, "Tēnā kōrua"),
    ],
)
def test_greetings_mirror_the_person_and_the_time_of_day(text, now, expected):
    assert greeting_for(text, now) == expected


def test_morning_is_new_zealand_morning_whatever_the_server_clock():
    utc_evening = datetime(2026, 11, 25, 20, 0, tzinfo=ZoneInfo("UTC"))  # 9 am in NZ
    assert greeting_for("morning", utc_evening) == "Mōrena"


@pytest.mark.parametrize(
    ("frozen", "expected"), [(TUESDAY_MORNING, "Mōrena"), (SATURDAY_NIGHT, "Kia ora")]
)
def test_without_a_time_the_greeting_follows_the_clock(monkeypatch, frozen, expected):
    monkeypatch.setenv(FROZEN_TIME, frozen)
    assert greeting_for("mōrena") == expected  # as the greet action calls it


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ka kite", "Ka kite anō"),
        ("bye", "Ka kite anō"),
        ("po marie", "Pō mārie"),
        ("good night", "Pō mārie"),
    ],
)
def test_farewells(text, expected):
    assert farewell_for(text) == expected


@pytest.mark.parametrize(
    "word",
    ["Kia ora", "Mōrena", "Tēnā koe", "Tēnā kōrua", "Tēnā koutou", "Ka kite anō", "Pō mārie"],
)
def test_every_reply_word_is_spelt_as_in_the_glossary(word):
    assert word.lower() in {e.word.lower() for e in default_glossary().lookup(word)}
