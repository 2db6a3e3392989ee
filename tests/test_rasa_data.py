"""`rasa data validate` is clean, and the test stories pass 100%."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import pytest
import yaml

from bot.config import ROOT
from bot.directory.taxonomy import taxonomies
from bot.replies import all_responses

ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}


def _responses_named_by_actions() -> set[str]:
    """The responses the actions send by name (form questions: ``actions/asks.py``)."""
    names: set[str] = set()
    for path in (ROOT / "actions").glob("*.py"):
        names |= set(re.findall(r'"(utter_\w+)"', path.read_text()))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    asks = [a for a in domain["actions"] if a.startswith("action_ask_")]
    return names | {a.replace("action_ask_", "utter_ask_") for a in asks}


def test_every_reply_an_action_names_exists_and_every_reply_is_named():
    """A typo in an action's response name would send nothing; an unnamed reply is dead text."""
    named = _responses_named_by_actions()
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    replies = set(all_responses()) - set(domain["responses"])
    assert named - set(all_responses()) == set()
    assert replies - named == set()


def test_every_form_slot_has_a_question():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for form in domain["forms"].values():
        for slot in form["required_slots"]:
            assert f"action_ask_{slot}" in domain["actions"], slot


def test_every_need_has_its_intent_button_and_search_rule():
    """A need in the taxonomy is reachable: understood, offered as a button, and searched."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((ROOT / "data/rules/rules_search.yml").read_text(encoding="utf-8"))
    buttons = {b["payload"] for b in all_responses()["utter_ask_need_kind"][0]["buttons"]}
    searched = {
        rule["steps"][0]["intent"]
        for rule in rules["rules"]
        if "intent" in rule["steps"][0] and rule["steps"][1] == {"action": "service_search_form"}
    }
    for need in taxonomies().needs.values():
        if need.intent in (None, "need_help_general"):
            continue
        assert need.intent in domain["intents"], need.code
        assert f"/{need.intent}" in buttons, need.code
        assert need.intent in searched, need.code


@pytest.mark.model  # runs Rasa's CLI: tens of seconds
def test_rasa_data_validate_has_no_warnings():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "data",
            "validate",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--config",
            "config.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    warnings = [
        line
        for line in output.splitlines()
        if "UserWarning" in line and "rasa/" in line or "rasa.validator" in line and "WARN" in line
    ]
    assert not warnings, "\n".join(warnings)


def test_test_stories_pass(agent, tmp_path):
    """What ``rasa test core --fail-on-prediction-errors`` does, on the model the
    evaluation tests have loaded already (the command loads it again: a minute)."""
    from rasa.core.test import test

    stories = str(ROOT / "tests" / "test_stories.yml")
    asyncio.run(test(stories, agent, out_directory=str(tmp_path), disable_plotting=True))
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, failed
