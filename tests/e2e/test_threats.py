"""End to end: threats, drug debts and standover are a need of their own, not a crisis."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

SERVICES = ("Crimestoppers", "Victim Support", "Police non-emergency 105")


def test_a_drug_debt_threat_finds_police_crimestoppers_and_victim_support(stack):
    text = stack.texts(
        uuid.uuid4().hex, "my ex keeps threatening me because of a drug debt, we're in Greymouth"
    )
    assert "threats, drug debts and standover" in text
    assert all(name in text for name in SERVICES), text
    assert "Women's Refuge" not in text  # not answered as family harm


def test_being_made_to_sell_asks_where_then_answers(stack):
    sender = uuid.uuid4().hex
    assert "Whereabouts" in stack.texts(sender, "they're making my boy sell for them")
    text = stack.texts(sender, "Westport")
    assert all(name in text for name in SERVICES), text
    assert "not yet checked" in text  # Victim Support's details are still to be verified
