"""Phone numbers to E.164, masking for logs, and email addresses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.phone import is_email, is_mobile, mask, normalise_e164, to_e164_nz


@pytest.mark.parametrize(
    "text, e164",
    [
        # Mobiles in the ways people write them.
        ("021 123 4567", "+64211234567"),
        ("0211234567", "+64211234567"),
        ("021-123-4567", "+64211234567"),
        ("(021) 123 4567", "+64211234567"),
        ("+64 21 123 4567", "+64211234567"),
        ("+64211234567", "+64211234567"),
        ("64211234567", "+64211234567"),
        ("0064 21 123 4567", "+64211234567"),
        ("+64 (0)21 123 4567", "+64211234567"),
        ("021 123 456", "+6421123456"),
        ("021 1234 5678", "+642112345678"),
        ("022 123 4567", "+64221234567"),
        ("027 123 4567", "+64271234567"),
        ("029 123 4567", "+64291234567"),
        ("020 1234 5678", "+642012345678"),
        ("  027.123.4567  ", "+64271234567"),
        # Landlines: every area code.
        ("(03) 768 1234", "+6437681234"),
        ("03 768 1234", "+6437681234"),
        ("04-499 1234", "+6444991234"),
        ("06 358 1234", "+6463581234"),
        ("07 838 1234", "+6478381234"),
        ("09 379 1234", "+6493791234"),
        ("+64 3 768 1234", "+6437681234"),
        ("6437681234", "+6437681234"),
        # Free phone numbers, kept in E.164 like every other number.
        ("0800 787 797", "+64800787797"),
        ("0800 1234 567", "+648001234567"),
        ("0508 828 865", "+64508828865"),
    ],
)
def test_nz_numbers_become_e164(text, e164):
    assert to_e164_nz(text) == e164


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "111",
        "1737",
        "021",
        "021 123",
        "021 12345",  # too short for a mobile
        "021 123 456 789",  # too long
        "03 123 4567",  # local numbers start with 2-9
        "03 768 12345",
        "05 123 4567",  # no such area code
        "08 123 4567",
        "0900 12345",
        "+61 412 345 678",  # Australian
        "+1 212 555 0123",
        "768 1234",  # local number without area code
        "0800 TENANCY",
        "021 123 4567 ext 2",
        "021 123 4567; DROP TABLE",
        "phone me",
        "021١٢٣٤٥٦٧",  # digits of another script
        "0" * 41,
        "+",
        "++64211234567",
        "021 123 4567\x00",
    ],
)
def test_non_numbers_are_rejected(text):
    assert to_e164_nz(text) is None


def test_normalise_e164_keeps_foreign_numbers_and_checks_nz_ones():
    assert normalise_e164("+61412345678") == "+61412345678"
    assert normalise_e164("+64211234567") == "+64211234567"
    assert normalise_e164("021 123 4567") == "+64211234567"
    assert normalise_e164("+6421") is None
    assert normalise_e164("+0412345678") is None
    assert normalise_e164("hello") is None
    assert normalise_e164(None) is None


def test_is_mobile():
    assert is_mobile("+64211234567")
    assert not is_mobile("+6437681234")
    assert not is_mobile("+64800787797")


@pytest.mark.parametrize(
    "value, masked",
    [
        ("+64211234567", "+********567"),
        ("+6437681234", "+*******234"),
        ("0211234567", "*******567"),
        ("123", "***"),
        ("", "***"),
        (None, "***"),
        ("+64 21 123 4567 call me", "+********567"),
    ],
)
def test_mask_leaves_only_the_last_three_digits(value, masked):
    assert mask(value) == masked


@given(st.text(max_size=60))
def test_mask_never_reveals_more_than_three_digits(value):
    masked = mask(value)
    assert sum(c.isdigit() for c in masked) <= 3
    assert set(masked) <= set("+*0123456789")


@given(st.from_regex(r"0(2[1279]|[34679][2-9])\d{7}", fullmatch=True))
def test_formatting_does_not_change_the_result(digits):
    spaced = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    assert to_e164_nz(spaced) == to_e164_nz(digits) == to_e164_nz("+64" + digits[1:])


@pytest.mark.parametrize(
    "text", ["mere@example.org.nz", "a.b+tag@sub.example.co.nz", " kia.ora@whanau.nz "]
)
def test_emails(text):
    assert is_email(text)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "mere",
        "mere@",
        "@example.nz",
        "mere@example",
        "mere@@example.nz",
        "mere @example.nz",
        "mere@exa mple.nz",
        "mere@-example.nz",
        "mere@example.n",
        "a@b.c'; DROP TABLE",
        "x" * 65 + "@example.nz",
        "m@" + "a" * 250 + ".nz",
        "mere.@example.nz",
    ],
)
def test_not_emails(text):
    assert not is_email(text)
