"""Every crisis category is wired the same way, and every crisis answer has the general lines.

The dialogue's SafetyPolicy relies on the convention: the crisis check sets the
intent ``crisis_<category>``, answered by ``utter_crisis_<category>`` and then
``action_crisis_response`` (the lines listed in ``crisis_responses.yml``).
"""

from __future__ import annotations

import pytest
import yaml

from bot.config import DATA_DIR, ROOT
from bot.safety.detector import CATEGORIES, CRISIS_PREFIX, CrisisPatterns, load_patterns
from tests.conftest import trained_examples
from tests.phone_numbers import NUMBER

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RULES = yaml.safe_load((DATA_DIR / "rules" / "rules_crisis.yml").read_text(encoding="utf-8"))
RESPONSES = yaml.safe_load((DATA_DIR / "safety" / "crisis_responses.yml").read_text("utf-8"))
LINES = RESPONSES["categories"]


def _answer(category: str) -> str:
    return DOMAIN["responses"][f"utter_crisis_{category}"][0]["text"]


@pytest.fixture(scope="module")
def trained_intents() -> set[str]:
    return {intent for intent, _ in trained_examples()}


@pytest.fixture(scope="module")
def patterns() -> CrisisPatterns:
    """The crisis patterns, read once for the module's tests (a fifth of a second each)."""
    return load_patterns()


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_has_intent_answer_rule_lines_patterns_and_examples(
    category, trained_intents, patterns
):
    intent = CRISIS_PREFIX + category
    assert intent in DOMAIN["intents"]
    assert f"utter_crisis_{category}" in DOMAIN["responses"]
    rule = {
        "rule": f"crisis {category} is answered at once",
        "steps": [
            {"intent": intent},
            {"action": f"utter_crisis_{category}"},
            {"action": "action_crisis_response"},
        ],
    }
    assert rule in RULES["rules"]
    assert LINES[category]["services"]
    assert patterns.categories[category]
    assert intent in trained_intents
    for slot in ("place", "audience"):
        assert intent in DOMAIN["slots"][slot]["mappings"][0]["not_intent"]


def test_every_listed_line_is_a_directory_service():
    seed = yaml.safe_load((DATA_DIR / "directory" / "services.yml").read_text("utf-8"))
    ids = {s["id"] for org in seed["organizations"] for s in org["services"]}
    lists = [RESPONSES["general"], *LINES.values()]
    listed = {service for spec in lists for service in spec["services"]}
    assert listed <= ids, listed - ids


def test_no_crisis_intent_or_answer_without_a_category():
    intents = {i for i in DOMAIN["intents"] if i.startswith(CRISIS_PREFIX)}
    assert intents == {CRISIS_PREFIX + c for c in CATEGORIES}
    assert set(LINES) == set(CATEGORIES)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_crisis_answer_carries_111_and_1737(category):
    """Whatever the kind (and the kind can be uncertain), 111 and 1737 are in the first part."""
    numbers = NUMBER.findall(_answer(category))
    assert "111" in numbers and "1737" in numbers


def test_oranga_tamariki_is_never_the_only_line_for_a_child():
    numbers = NUMBER.findall(_answer("child"))
    assert numbers.index("1737") < numbers.index("0508 326 459")
    services = LINES["child"]["services"]
    assert services[-1] == "oranga-tamariki-concerns" and len(services) > 2


def test_someone_who_cannot_talk_gets_the_text_lines_first():
    answer = _answer("text_only")
    assert answer.index("text 1737") < answer.index("111")
    assert "text 234" in answer


@pytest.mark.parametrize("category", ["overdose_aid", "psychosis", "threat"])
def test_acute_answers_offer_a_navigator(category):
    assert "say 'talk to someone'" in _answer(category).lower()
