"""Numbers written into domain responses (the static crisis answers) must be in the directory."""

from __future__ import annotations

from bot.channels.guard import SAFE_REPLY
from bot.replies import all_responses
from tests.phone_numbers import NUMBER, directory_numbers


def test_every_number_in_the_domain_is_a_directory_number(seeded_url):
    numbers = directory_numbers(seeded_url)
    stated = {
        number
        for name, variants in all_responses().items()
        for variant in variants
        for number in NUMBER.findall(variant.get("text", ""))
    }
    assert {"111", "1737", "0508 828 865", "0800 733 843", "0508 326 459"} <= stated
    assert stated <= numbers, f"not in the directory: {stated - numbers}"


def test_every_number_in_the_safe_reply_is_a_directory_number(seeded_url):
    stated = set(NUMBER.findall(SAFE_REPLY))
    assert stated == {"111", "1737"}
    assert stated <= directory_numbers(seeded_url)
