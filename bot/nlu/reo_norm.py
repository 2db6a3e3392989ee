"""A spaCy component giving every token the norm the entity ruler's phrases match on.

A token's norm becomes its lower-case text without macrons (or other diacritics):
``Whāngārei``, ``WHANGAREI`` and ``whangarei`` all have the norm ``whangarei``. The
ruler's phrase matcher reads this norm, so one phrase pattern stands for a name
with or without macrons on any vowel, and a message is matched with one lookup a
token. Spelling sets in token patterns (``{"LOWER": {"IN": [...]}}``) were tried on
every token, one pattern at a time: 0.7 ms a message, where the phrases take a few
microseconds. Doubled vowels are left as typed (``whaanau`` is a spelling of its
own), so words without macrons match exactly as they did on lower-case text.

spaCy finds the component through the package's ``spacy_factories`` entry point
(``pyproject.toml``), so any process can load the pipeline; Rasa's components
(``bot.nlu.components``) also import this module. (No postponed annotations here:
spaCy checks a factory's arguments against its annotations, which must be types.)
"""

from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

from bot.reo.normalise import strip_diacritics

NAME = "awhina_reo_norm"


def norm(text: str) -> str:
    """The norm of a token whose text is ``text``."""
    lower = text.lower()
    return lower if lower.isascii() else strip_diacritics(lower)


def set_norms(doc: Doc) -> Doc:
    for token in doc:
        token.norm_ = norm(token.text)
    return doc


@Language.factory(NAME)
def make_norms(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    return set_norms
