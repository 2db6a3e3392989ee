"""One check of contact details (bot.phone.checked_contact): the form and the stored request
accept and refuse the same details, with the same limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.db import session_scope
from bot.handoff import HandoffError
from bot.handoff import conversation as talk
from bot.handoff.service import submit
from bot.phone import InvalidContact, checked_contact
from tests.handoff.conftest import DRAFT, NOW

LOCAL = "a" * 64
LONGEST_EMAIL = f"{LOCAL}@{'b' * 63}.{'c' * 63}.{'d' * 58}.nz"  # 254 characters

VALID = [
    ("call", " 021 123 4567 ", "+64211234567"),
    ("call", "(03) 768-1234", "+6437681234"),
    ("text", "+64 27 555 0199", "+64275550199"),
    ("email", " aroha@example.org ", "aroha@example.org"),
    ("email", LONGEST_EMAIL, LONGEST_EMAIL),
]
INVALID = [
    ("call", None, "phone number"),
    ("call", "", "phone number"),
    ("call", "111", "phone number"),
    ("call", "021" + " " * 31 + "123 4567", "phone number"),  # over the 40 characters allowed
    ("call", "021\x1f123 4567", "phone number"),  # a control character
    ("call", "021\n123 4567", "phone number"),  # on one line
    ("text", "03 768 1234", "mobile"),
    ("email", "not an email", "email"),
    ("email", "x" + LONGEST_EMAIL, "email"),  # 255 characters
    ("email", f"a{LOCAL}@example.org", "email"),  # a 65-character local part
    ("email", "aroha@example.org\x00", "email"),
    ("email", 42, "email"),
    ("chat", "021 123 4567", "takes no number"),
]


def test_the_longest_email_is_254_characters():
    assert len(LONGEST_EMAIL) == 254


@pytest.mark.parametrize(("method", "text", "stored"), VALID)
def test_valid_details_are_kept_in_one_form(method, text, stored):
    assert checked_contact(method, text) == stored
    assert talk.contact_detail(method, text) == stored


@pytest.mark.parametrize(("method", "text", "message"), INVALID)
def test_invalid_details_are_refused_saying_what_is_needed(method, text, message):
    with pytest.raises(InvalidContact, match=message):
        checked_contact(method, text)
    assert talk.contact_detail(method, text) is None


def test_the_form_and_the_request_agree(url):
    """What the form takes, the request stores; what the form refuses, the request refuses."""
    with session_scope(url) as session:
        for i, (method, text, stored) in enumerate(VALID):
            draft = replace(DRAFT, contact_method=method, contact_detail=text)
            assert submit(session, draft, f"valid-{i}", NOW).contact_detail == stored
        for i, (method, text, message) in enumerate(INVALID):
            if method == "chat":
                continue  # a chat keeps no detail, whatever was typed
            draft = replace(DRAFT, contact_method=method, contact_detail=text)
            with pytest.raises(HandoffError, match=message):
                submit(session, draft, f"invalid-{i}", NOW)
