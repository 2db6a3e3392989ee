"""Numbers written into domain responses (the static crisis answers) must be in the directory."""

from __future__ import annotations

import re

import yaml
from sqlalchemy import select

from bot.config import ROOT
from bot.db import session_scope
from bot.directory.models import Phone

NUMBER = re.compile(r"\b(?:0\d{1,3}(?: \d{2,4}){1,3}|\d{3,4})\b")


def test_every_number_in_the_domain_is_a_directory_number(seeded_url):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    with session_scope(seeded_url) as session:
        numbers = set(session.execute(select(Phone.number)).scalars())
    stated = {
        number
        for name, variants in domain["responses"].items()
        for variant in variants
        for number in NUMBER.findall(variant.get("text", ""))
    }
    assert {"111", "1737", "0508 828 865", "0800 733 843", "0508 326 459"} <= stated
    assert stated <= numbers, f"not in the directory: {stated - numbers}"
