"""One definition of control characters (bot/text.py): every channel and form but SMS, for now."""

from __future__ import annotations

import json
import re

import pytest

from bot.channels.rest import refusal
from bot.config import ROOT
from bot.handoff import HandoffError
from bot.handoff.service import _text
from bot.navigator.ops import BadInput, clean_text
from bot.text import has_controls, strip_controls

C0_AND_DEL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
# Written as a character class of control characters, in any of the ways the code has had.
CONTROL_CLASS = re.compile(r"\\x00|\\x1f|\\x7f|\"Cc\"|\\u0000")
OWN_DEFINITION = "bot/text.py"


@pytest.mark.parametrize("char", C0_AND_DEL + C1)
def test_control_characters_are_found_and_dropped(char):
    assert has_controls(f"kia{char}ora")
    assert strip_controls(f"kia{char} ora") == "kia ora"


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_tab_and_line_breaks_are_text_except_on_one_line(char):
    assert not has_controls(f"kia{char}ora")
    assert strip_controls(f"kia{char}ora") == f"kia{char}ora"
    assert has_controls(f"kia{char}ora", one_line=True)


def test_everything_else_is_text():
    text = "Kia ora e te whānau ☕️ \u00a0\u202e 🔥 ' \" <b>"
    assert not has_controls(text, one_line=True) and strip_controls(text) == text


def test_no_other_module_defines_control_characters():
    sources = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "actions").rglob("*.py")]
    defining = {
        name
        for name in (path.relative_to(ROOT).as_posix() for path in sources)
        if name != OWN_DEFINITION
        and CONTROL_CLASS.search((ROOT / name).read_text(encoding="utf-8"))
    }
    assert not defining, defining


@pytest.mark.parametrize("value", ["bell\x07", "csi\x9b", "nul\x00"])
def test_the_rest_channel_refuses_controls(value):
    refused = refusal(json.dumps({"sender": "s", "message": value}).encode())
    assert refused is not None and refused.status == 400
    assert b"control characters" in refused.body
    assert refusal(json.dumps({"sender": "s", "message": "one\ntwo"}).encode()) is None


@pytest.mark.parametrize("value", ["bell\x07", "csi\x9b", "nul\x00"])
def test_handoff_text_and_inbox_notes_refuse_controls(value):
    with pytest.raises(HandoffError, match="not allowed"):
        _text(value, "note", 100, multiline=True)
    with pytest.raises(BadInput, match="control characters"):
        clean_text(value, "text", 100)


def test_line_breaks_only_where_text_may_have_several_lines():
    assert _text("one\ntwo\tthree", "note", 100, multiline=True) == "one\ntwo\tthree"
    for one_line in ("one\ntwo", "one\ttwo", "one\rtwo"):
        with pytest.raises(HandoffError):
            _text(one_line, "name", 100)
    assert clean_text("one\r\ntwo\rthree", "text", 100) == "one\ntwo\nthree"
