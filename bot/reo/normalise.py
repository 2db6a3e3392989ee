"""Folding te reo spellings to one matching key.

``whānau``, ``whanau``, ``whaanau`` and ``WHANAU`` all fold to ``whanau``: case
is folded, macrons (and any other diacritics) are removed and doubled vowels
collapse (ā = aa = a). The key is only for matching: what the person wrote is
never changed, and macrons are never added to anyone's text.
"""

from __future__ import annotations

import re
import unicodedata

_DOUBLED_VOWEL = re.compile(r"([aeiou])\1+")
_MACRON_TO_DOUBLE = str.maketrans({"ā": "aa", "ē": "ee", "ī": "ii", "ō": "oo", "ū": "uu"})


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """The matching key of ``text``: lower case, no macrons, doubled vowels collapsed."""
    return _DOUBLED_VOWEL.sub(r"\1", strip_diacritics(text.casefold()))


def spelling_variants(word: str) -> set[str]:
    """The lower-case ways a correctly spelt word is commonly typed.

    ``Māwhera`` gives ``māwhera``, ``mawhera`` and ``maawhera``.
    """
    lower = unicodedata.normalize("NFC", word.lower())
    return {lower, strip_diacritics(lower), lower.translate(_MACRON_TO_DOUBLE)}


_APOSTROPHES = re.compile(r"['’‘`]")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def match_key(text: str) -> str:
    """``fold`` plus punctuation: apostrophes dropped, other non-letters to single spaces.

    The result is padded with a space at each end so whole words can be found
    with ``" word " in key``.
    """
    words = _NON_WORD.sub(" ", _APOSTROPHES.sub("", fold(text))).strip()
    return f" {words} "
