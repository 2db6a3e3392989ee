"""End to end: real Rasa server with the trained model, real action server, real database.

Every phone number and service name the bot states must come from the database.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from bot.db import session_scope
from bot.directory.query import ServiceQuery, get_services, search
from tests.phone_numbers import NUMBER, directory_numbers

pytestmark = pytest.mark.e2e


def _assert_numbers_from_db(text: str, db_url: str) -> None:
    numbers = directory_numbers(db_url)
    stated = [n for n in NUMBER.findall(text) if not re.fullmatch(r"(19|20)\d\d", n)]
    unknown = [n for n in stated if n not in numbers]
    assert not unknown, f"numbers not in the directory: {unknown}\n{text}"


NEEDS = [
    ("my partner is back on the P, we're in Greymouth", "drugs_alcohol", "greymouth"),
    ("my boy is hanging round with the mob lot in Westport", "youth_gangs", "westport"),
    ("my ex keeps threatening me, I'm in Hokitika", "family_harm", "hokitika"),
    ("been feeling really low and anxious lately, I'm in Reefton", "mental_health", "reefton"),
    ("we got kicked out and need emergency housing in Greymouth", "housing", "greymouth"),
    ("kei hea te kai bank in Māwhera", "money_food", "greymouth"),
    ("my son has court next week in Westport and needs a lawyer", "legal", "westport"),
    ("my brother gets out of prison next month, we live in Hokitika", "prison", "hokitika"),
    ("need to see a doctor in Westport", "health", "westport"),
    ("looking for mahi and training courses in Greymouth", "education_work", "greymouth"),
    ("I want kaupapa Māori support for my whānau in Hokitika", "cultural", "hokitika"),
]


@pytest.mark.parametrize("message, need, place", NEEDS)
def test_every_need_is_answered_from_the_directory(stack, message, need, place):
    text = stack.texts(uuid.uuid4().hex, message)
    with session_scope(stack.db_url) as session:
        result = search(
            session,
            ServiceQuery(need=need, place=place, kaupapa_maori=need == "cultural"),
        )
    expected = result.services[:3]
    assert expected, f"seed has nothing for {need}"
    for view in expected:
        assert view.name in text, f"{view.name} missing from reply:\n{text}"
    _assert_numbers_from_db(text, stack.db_url)


def test_place_is_asked_once_then_results_and_follow_ups(stack):
    sender = uuid.uuid4().hex
    assert "Whereabouts" in stack.texts(sender, "my son is using ice")
    text = stack.texts(sender, "Greymouth")
    assert "Alcohol Drug Helpline" in text
    with session_scope(stack.db_url) as session:
        ranked = search(session, ServiceQuery(need="drugs_alcohol", place="greymouth")).services
    second = ranked[1]
    detail = stack.texts(sender, "tell me about the second one")
    assert detail.startswith(second.name)
    assert "Source:" in detail
    contact = stack.texts(sender, "what's their number?")
    for phone in second.phones:
        assert phone.number in contact
    assert "24/7" in stack.texts(sender, "are they open now?")
    assert "Free" in stack.texts(sender, "is it free?")
    more = stack.texts(sender, "any others?")
    assert ranked[3].name in more
    _assert_numbers_from_db(detail + contact + more, stack.db_url)


@pytest.mark.parametrize(
    ("need", "answer", "expected"),
    [
        pytest.param(
            "need help with housing",
            "skip",
            ["Work and Income emergency housing"],
            id="skipped: national services",
        ),
        pytest.param(
            "my daughter needs counselling",
            "Timbuktu",
            ["don't have that place", "1737"],
            id="unknown: not asked again",
        ),
    ],
)
def test_the_place_is_asked_once(stack, need, answer, expected):
    """Whatever the answer to "Whereabouts?", the search goes on without asking again."""
    sender = uuid.uuid4().hex
    stack.texts(sender, need)
    text = stack.texts(sender, answer)
    assert all(words in text for words in expected), text
    assert "Whereabouts" not in text


def test_named_service_question_without_a_search(stack):
    text = stack.texts(uuid.uuid4().hex, "what's the number for Lifeline?")
    with session_scope(stack.db_url) as session:
        (lifeline,) = get_services(session, ["lifeline"])
    assert lifeline.phones[0].number in text


def test_crisis_mid_form_gets_the_crisis_answer_first(stack):
    sender = uuid.uuid4().hex
    assert "Whereabouts" in stack.texts(sender, "need emergency housing")
    replies = stack.chat(sender, "i dont see the point anymore")
    assert "111" in replies[0]["text"]
    text = "\n".join(r.get("text", "") for r in replies)
    assert "1737" in text and "0508 828 865" in text
    _assert_numbers_from_db(text, stack.db_url)
    # the form was interrupted: the next message is understood afresh
    assert "Work and Income" in stack.texts(sender, "need emergency housing in Greymouth")


def test_a_parent_who_mentions_children_gets_services_not_a_crisis_answer(stack):
    """Children mentioned are not children in danger: no Oranga Tamariki, the search answers."""
    text = stack.texts(
        uuid.uuid4().hex,
        "my partner has been using P and i don't know what to do, we have 2 little kids. "
        "I'm in Reefton",
    )
    assert "Oranga Tamariki" not in text and "danger" not in text
    assert "Alcohol Drug Helpline" in text
    _assert_numbers_from_db(text, stack.db_url)


def test_fallback_helps(stack):
    text = stack.texts(uuid.uuid4().hex, "qwpoeiruty zxmcnvb")
    assert "drugs and alcohol" in text or "what can you do" in text


def test_web_app_relays_to_rasa_and_rejects_bad_input(stack):
    ok = requests.post(
        f"{stack.web_url}/chat", json={"sender": uuid.uuid4().hex, "message": "kia ora"}, timeout=60
    )
    assert ok.status_code == 200
    assert "Āwhina" in ok.json()["replies"][0]["text"]
    for body, status in [
        (b"not json", 400),
        (b'{"message": ""}', 400),
        (b'["a list"]', 400),
        (b'{"message": 5}', 400),
        (('{"message": "' + "a" * 2000 + '"}').encode(), 413),
        (b"\xff\xfe\x00", 400),
    ]:
        response = requests.post(
            f"{stack.web_url}/chat",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == status, body[:40]
        assert "error" in response.json()
    assert requests.get(f"{stack.web_url}/", timeout=10).status_code == 200


def test_a_general_request_takes_the_need_from_a_need_word(stack):
    sender = uuid.uuid4().hex
    text = stack.texts(sender, "can you help me, its about kai. we're in Greymouth")
    with session_scope(stack.db_url) as session:
        expected = search(session, ServiceQuery(need="money_food", place="greymouth")).services
    assert expected[0].name in text


def test_a_general_request_without_a_need_asks_what_kind_with_buttons(stack):
    replies = stack.chat(uuid.uuid4().hex, "i need some help")
    payloads = {b["payload"] for r in replies for b in r.get("buttons", [])}
    assert "/need_housing" in payloads and "/need_drugs_alcohol" in payloads


def test_a_need_without_a_place_is_acknowledged_with_a_line_before_the_question(stack):
    replies = stack.chat(uuid.uuid4().hex, "my son is on P and I don't know what to do")
    first, last = replies[0]["text"], replies[-1]["text"]
    assert "alcohol and drug harm" in first
    assert "Alcohol Drug Helpline" in first and "0800 787 797" in first
    assert last.startswith("Whereabouts") and "skip" in last
    _assert_numbers_from_db(first, stack.db_url)


@pytest.mark.parametrize("move", ["actually we're in Westport", "what about in westport"])
def test_a_new_place_runs_the_same_search_there(stack, move):
    sender = uuid.uuid4().hex
    stack.texts(sender, "my partner is back on the P, we're in Greymouth")
    text = stack.texts(sender, move)
    assert "Westport" in text and "Alcohol Drug Helpline" in text
    assert "What kind of help" not in text and "Sorry" not in text


def test_narrowing_searches_again_with_the_filter(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "need a food bank in Greymouth")
    text = stack.texts(sender, "is there anything kaupapa Māori")
    assert "not listed as kaupapa Māori" not in text
    assert "kaupapa Māori" in text.splitlines()[0]  # the search says what it looked for
    first = stack.texts(
        uuid.uuid4().hex, "are there any kaupapa maori services for whanau on the coast"
    )
    assert "Poutini Waiora" in first and "haven't shown you" not in first


def test_nothing_local_is_said_in_one_line_before_the_national_options(stack):
    text = stack.texts(
        uuid.uuid4().hex, "my brother gets out of prison next month, we're in Westport"
    )
    assert "I don't have local" in text and "Westport" in text
    assert "national ones work anywhere" in text


def test_skipping_the_place_gives_one_answer_not_two(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "need help with housing")
    text = stack.texts(sender, "skip")
    assert "What would you like help with" not in text
    assert "housing" in text
