"""The replies file: worded by Rasa's own generator together with the domain's responses."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import ROOT
from bot.replies import ReplyGenerator, load_replies


def _say(generator: ReplyGenerator, name: str, channel: str, **values: str) -> dict | None:
    tracker = DialogueStateTracker("someone", [])
    return asyncio.run(generator.generate(name, tracker, channel, **values))


def test_a_model_loaded_after_start_keeps_the_replies():
    """Rasa creates the generator with an empty domain, then assigns the model's responses."""
    generator = ReplyGenerator(domain=Domain.empty())
    assert _say(generator, "utter_nothing_shown", "rest") is None
    generator.responses = Domain.load(ROOT / "domain.yml").responses
    assert _say(generator, "utter_nothing_shown", "rest")["text"]
    assert _say(generator, "utter_capabilities", "rest")["text"]


def test_replies_have_channel_variants_and_slots():
    generator = ReplyGenerator(domain=Domain.load(ROOT / "domain.yml"))
    web = _say(generator, "utter_greet", "socketio", greeting="Kia ora")
    sms = _say(generator, "utter_greet", "sms", greeting="Kia ora")
    assert web["text"].startswith("Kia ora, I'm Āwhina")
    assert sms["text"].startswith("Kia ora, I'm Āwhina, a chatbot")
    assert sms["text"] != web["text"]


def test_buttons_of_reuses_a_domain_responses_buttons():
    domain = Domain.load(ROOT / "domain.yml")
    generator = ReplyGenerator(domain=domain)
    asked = _say(generator, "utter_ask_need_kind", "rest")
    assert asked["buttons"] == domain.responses["utter_capabilities"][0]["buttons"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("replies:\n  utter_capabilities:\n    - text: hi\n", "also in the domain"),
        (
            "replies:\n  utter_x:\n    - text: hi\n      buttons_of: utter_nowhere\n",
            "names no domain response",
        ),
    ],
)
def test_a_broken_replies_file_is_refused(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "replies.yml"
    path.write_text(text)
    domain = Domain.load(ROOT / "domain.yml").responses
    with pytest.raises(ValueError, match=problem):
        load_replies(path, domain)
