"""Finding phone numbers in what the bot says, and the numbers the directory holds."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.db import session_scope
from bot.directory.models import Phone

# A phone number as the bot writes one; "0800 TENANCY" is a mnemonic, not a number.
NUMBER = re.compile(r"\b(?:0\d{1,3}(?: \d{2,4}){1,3}|\d{3,4})\b(?! ?[A-Z]{3})")


def directory_numbers(db_url: str) -> set[str]:
    with session_scope(db_url) as session:
        return set(session.execute(select(Phone.number)).scalars())
