"""``crisis_in``: the patterns' verdict on a message, worked out once for the NLU pipeline
and the turn guard that both ask it."""

from __future__ import annotations

import pytest

from bot.safety import detector

TEXTS = (
    "i want to kill myself",
    "he's got a knife and he's coming over",
    "this app is killing me",
    "an assignment on suicide prevention",
    "housing in greymouth",
)


@pytest.mark.parametrize("text", TEXTS)
def test_it_is_the_patterns_verdict(text: str) -> None:
    assert detector.crisis_in(text) == detector.patterns().detect(text)


def test_a_text_asked_again_is_not_matched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    detector.crisis_in.cache_clear()
    calls: list[str] = []
    real = detector.patterns()

    class Counting:
        def detect(self, text: str) -> str | None:
            calls.append(text)
            return real.detect(text)

    monkeypatch.setattr(detector, "patterns", lambda: Counting())
    try:
        assert detector.crisis_in("i want to kill myself") == "suicide"
        assert detector.crisis_in("i want to kill myself") == "suicide"
        assert detector.crisis_in("housing in greymouth") is None
        assert calls == ["i want to kill myself", "housing in greymouth"]
    finally:
        detector.crisis_in.cache_clear()
