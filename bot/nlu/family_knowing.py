"""Reading a privacy question: is it about whānau or school finding out, or from someone young?

Then the answer also says which services keep things confidential. Used by the
action server, so it imports nothing of Rasa's.
"""

from __future__ import annotations

import re

from bot.reo import match_key

# Someone at home or school finding out, or the person saying they are young
# (matched on ``match_key`` text, so "whānau" is "whanau" and "teen" is "ten").
_FAMILY_KNOWING = re.compile(
    r" (mum|mom|mam|mummy|dad|parents?|nan|nana|nanny|koro|kui|whanau|family|aunty|auntie"
    r"|uncle|step ?(mum|dad)|caregivers?|foster|school|teachers?|principal|counsell?or at school"
    r"|im 1[0-7]|i am 1[0-7]|1[0-7] ?(yo|years? old)|under ?age|under 1[68]|ten|tenager|young)"
    r" "
)


def about_family_knowing(text: str | None) -> bool:
    """Whether a privacy question is about whānau or school finding out, or from someone
    young ("dont tell my mum")."""
    return bool(_FAMILY_KNOWING.search(match_key(text or "")))
