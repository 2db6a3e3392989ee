"""Control characters in text from outside: chat messages, form fields, navigators' notes.

One definition for every channel and form: the C0 control characters, DEL and
the C1 controls, except tab, newline and carriage return, which are ordinary
text. PostgreSQL cannot store NUL, and the others can hide or garble what a
navigator reads in the inbox or an operator in the logs. (No call site treats
the Unicode bidi overrides, so they are not here.)
"""

from __future__ import annotations

import re

CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_BREAKS = re.compile(r"[\t\n\r]")


def strip_controls(text: str) -> str:
    """The text with its control characters removed (tab and line breaks kept)."""
    return CONTROLS.sub("", text)


def has_controls(text: str, *, one_line: bool = False) -> bool:
    """Whether the text has control characters; for ``one_line`` text, tabs and line
    breaks count too."""
    return bool(CONTROLS.search(text) or (one_line and LINE_BREAKS.search(text)))
