"""The held-out conversations are well formed and held out; the turn checks mean what they say.

These run without the servers; tests/e2e/test_conversations.py plays the conversations.
"""

from __future__ import annotations

from tests.conftest import trained_examples
from tests.conversations.script import check, is_bare_question, load

# Short turns ("skip", "more", "greymouth") are bound to be in the training data too.
MIN_WORDS_HELD_OUT = 4


def test_there_are_enough_conversations_with_unique_names():
    conversations = load()
    names = [c.name for c in conversations]
    assert len(conversations) >= 150
    assert len(set(names)) == len(names)
    assert all(c.turns for c in conversations)


def test_conversations_are_not_training_examples():
    trained = {text.lower() for _, text in trained_examples()}
    repeated = [
        turn.user
        for conversation in load()
        for turn in conversation.turns
        if len(turn.user.split()) >= MIN_WORDS_HELD_OUT and turn.user.lower() in trained
    ]
    assert not repeated, f"conversation turns repeat training examples: {repeated}"


def test_a_reply_that_opens_with_a_question_is_bare():
    assert is_bare_question("Whereabouts are you (or they)? A town is fine. Or say 'skip'.")
    assert is_bare_question("Ka pai. What kind of help are you looking for?")
    assert not is_bare_question(
        "Thanks for telling me. I can help you find support with housing. Whereabouts are you?"
    )


def test_need_place_and_reach_checks():
    ok = [
        "I don't have local services for housing and emergency accommodation listed for "
        "Westport yet. These national ones work anywhere:",
        "1. Tenancy Services\nFree information",
    ]
    expect = {"need": "housing", "place": "Westport", "reach": "national", "search": True}
    assert check(expect, ok) == []
    wrong = check({**expect, "need": "legal", "reach": "regional"}, ok)
    assert len(wrong) == 2


def test_crisis_is_checked_on_every_turn_unless_switched_off():
    crisis = ["If you or someone else is in danger right now, call 111. Women's Refuge…"]
    assert check({}, crisis) == ["crisis answer where none belongs"]
    assert check({"crisis": True}, crisis) == []
    assert check({"crisis": None}, crisis) == []
    # A service that mentions 111 in its own description is not a crisis answer.
    police = ["Here are services:", "2. Police non-emergency 105\nIn an emergency call 111."]
    assert check({}, police) == []
    assert check({"crisis": True}, police) == ["no crisis answer (with 111) first"]
