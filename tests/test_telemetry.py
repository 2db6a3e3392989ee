"""Rasa's usage telemetry is off wherever the project runs Rasa."""

from __future__ import annotations

import re

import pytest
from rasa import telemetry

from bot.config import ROOT


def _setting(path: str, pattern: str) -> str:
    match = re.search(pattern, (ROOT / path).read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path} does not set RASA_TELEMETRY_ENABLED"
    return match.group(1)


@pytest.mark.parametrize(
    "path, pattern",
    [
        ("Makefile", r"^export RASA_TELEMETRY_ENABLED := (\S+)$"),
        (".env.example", r"^RASA_TELEMETRY_ENABLED=(\S+)$"),
    ],
)
def test_the_project_turns_rasa_telemetry_off(path, pattern, monkeypatch):
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", _setting(path, pattern))
    assert telemetry.is_telemetry_enabled() is False
