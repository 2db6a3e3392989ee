"""What the handoff form understands and says (``bot.handoff.conversation``), one
function at a time: typed replies, contact details, names, the read-back and timing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.handoff import conversation as talk

YES = ["sweet as", "yep", "ok", "send it", "yes send", "āe", "yes please", "ka pai", "Sweet As!"]
NO = ["nah", "not now", "no thanks", "kāo", "yeah nah", "nope"]


@pytest.mark.parametrize("typed", YES)
def test_typed_yes(typed):
    assert talk.yes_or_no(typed, None) is True
    assert talk.is_reply_word(typed)
    assert talk.leaving(typed, None) is None


@pytest.mark.parametrize("typed", NO)
def test_typed_no_is_a_no_and_declines_a_question(typed):
    assert talk.yes_or_no(typed, None) is False
    assert talk.is_skip(typed, None)
    assert talk.leaving(typed, None) is None


@pytest.mark.parametrize(
    "typed, intent, expected",
    [
        ("yes my name is Mere", "affirm", True),  # not a short reply: the sure intent decides
        ("whatever you reckon", "deny", False),
        ("whatever you reckon", None, None),
        ("no. stop", "affirm", True),  # a stop is no yes or no: the intent decides
        ("", None, None),
        (None, None, None),
    ],
)
def test_the_words_first_then_a_sure_intent(typed, intent, expected):
    assert talk.yes_or_no(typed, intent) is expected


@pytest.mark.parametrize("typed", ["send it", "yes send", "go ahead", "yep do it"])
def test_go_ahead(typed):
    assert talk.is_go_ahead(typed)


@pytest.mark.parametrize("typed", ["ok", "sweet as", "nah", "change the number"])
def test_not_go_ahead(typed):
    assert not talk.is_go_ahead(typed)


@pytest.mark.parametrize(
    "typed, intent, why",
    [
        ("no. stop", None, talk.STOP),
        ("nah forget it", None, talk.STOP),
        ("kāti", None, talk.STOP),
        ("im done", None, talk.STOP),
        ("just give me a number", None, talk.NUMBER),
        ("what number can i ring", None, talk.NUMBER),
        ("i don't want a number", None, None),
        ("send it", "cancel", None),  # short words of another kind: the words decide
        ("change the number", "cancel", None),
        ("whatever, bye then", "goodbye", talk.STOP),
        ("hmm can I just get the helpline", "ask_helpline", talk.NUMBER),
        ("skip", "skip", None),
    ],
)
def test_leaving(typed, intent, why):
    assert talk.leaving(typed, intent) == why


@pytest.mark.parametrize(
    "typed, intent", [("skip", None), ("pass", None), ("any time", None), ("Mere", "skip")]
)
def test_skip(typed, intent):
    assert talk.is_skip(typed, intent)


@pytest.mark.parametrize("typed", ["Mere", "after 3pm", "text me"])
def test_an_answer_is_no_skip(typed):
    assert not talk.is_skip(typed, None)


@pytest.mark.parametrize(
    "typed, asked_again",
    [
        ("change the number", ("handoff_contact_detail",)),
        ("the name is wrong", ("handoff_name",)),
        ("change the time", ("handoff_good_time",)),
        ("wrong town", ("place",)),
        ("change how you contact me", talk.EVERYTHING[1:4]),
        ("change", talk.EVERYTHING),
        ("send it", None),
        ("yep", None),
    ],
)
def test_what_a_change_asks_again(typed, asked_again):
    assert talk.to_change(typed) == asked_again


@pytest.mark.parametrize(
    "typed, method",
    [
        ("call me", "call"),
        ("ring me pls", "call"),
        ("text me", "text"),
        ("txt", "text"),
        ("email me", "email"),
        ("chat here", "chat"),
        ("keep chatting here", "chat"),
        ("whenever", None),
    ],
)
def test_contact_method(typed, method):
    assert talk.contact_method(typed) == method


@pytest.mark.parametrize(
    "typed, method",
    [("text me", "text"), ("actually call me instead", "call"), ("call me Mere", None)],
)
def test_a_reply_that_is_only_a_method(typed, method):
    assert talk.method_only(typed) == method


@pytest.mark.parametrize(
    "asked, typed, given",
    [
        (None, "021 123 4567", ("call", "+64211234567")),
        ("text", "+64 21 123 4567", ("text", "+64211234567")),
        ("text", "aroha@example.org", ("email", "aroha@example.org")),
        (None, "0800 123", None),
        (None, "aroha@", None),
        (None, "Mere", None),
    ],
)
def test_a_number_or_email_as_the_whole_reply(asked, typed, given):
    assert talk.contact_given(asked, typed) == given


@pytest.mark.parametrize(
    "method, typed, detail",
    [
        ("call", "021 123 4567", "+64211234567"),
        ("text", "0211234567", "+64211234567"),
        ("text", "12", None),
        ("text", "my number is secret", None),
        ("email", "aroha@example.org", "aroha@example.org"),
        ("email", "aroha at example dot org", None),
        ("email", "021 123 4567", None),
    ],
)
def test_invalid_phone_and_email_are_refused(method, typed, detail):
    assert talk.contact_detail(method, typed) == detail


@pytest.mark.parametrize(
    "typed, name",
    [
        ("Mere", "Mere"),
        ("my name is mere", "Mere"),
        ("kia ora, I'm Aroha", "Aroha"),
        ("Te Aroha", "Te Aroha"),
        ("ok", None),
        ("sweet as", None),
        ("yes my name is Mere", None),
        ("021 123 4567", None),
        ("x" * 41, None),
    ],
)
def test_preferred_name(typed, name):
    assert talk.preferred_name(typed) == name


@pytest.mark.parametrize(
    "typed, who",
    [("for me", "self"), ("my son", "rangatahi"), ("the kids", "tamariki"), ("my mum", "whanau")],
)
def test_who_for(typed, who):
    assert talk.who_for(typed) == who


def test_whom_only_needs_a_reply_about_that():
    assert talk.whom_only("its for my son") == "rangatahi"
    assert talk.whom_only("me") == "self"
    assert talk.whom_only("text me") is None and talk.whom_only("Mere") is None


@pytest.mark.parametrize(
    "text, spans, bare, only",
    [
        ("I'm in Greymouth", [(7, 16)], False, True),
        ("Greymouth", [(0, 9)], False, False),  # where a name is asked it may be a name
        ("Greymouth", [(0, 9)], True, True),
        ("Mere from Greymouth", [(10, 19)], True, False),
        ("Mere", [], True, False),
    ],
)
def test_is_only_place(text, spans, bare, only):
    assert talk.is_only_place(text, spans, bare) is only


def test_good_time_is_one_short_line():
    assert talk.good_time("  after\n3pm  ") == "after 3pm"
    assert len(talk.good_time("x" * 200)) == talk.MAX_GOOD_TIME_CHARS
    assert talk.good_time("   ") is None


def test_the_summary_holds_no_free_text():
    assert talk.need_summary("drugs_alcohol", "greymouth", "whanau") == (
        "Help with alcohol and drug harm (including P / meth) in Greymouth (Māwhera)"
        " for someone in their whānau."
    )
    assert talk.need_summary(None, None, None) == "Help with support (need not said)."
    assert talk.need_summary("no-such-need", "nowhere", "nobody").startswith("Help with support")


def test_phone_numbers_are_masked_when_read_back_and_emails_are_not():
    assert "4567" not in talk.method_phrase("call", "+64211234567")
    assert talk.method_phrase("email", "aroha@example.org") == "an email to aroha@example.org"
    assert talk.method_phrase("chat", None) == "a message here in this chat"
    assert talk.shown_detail("text", None) == ""


def test_when_phrase_is_honest_about_the_hours():
    assert "working now" in talk.when_phrase(True, None)
    assert talk.when_phrase(False, None) == "They will be in touch as soon as they can."
    monday_8am_nz = datetime(2026, 11, 29, 19, 0, tzinfo=timezone.utc)
    assert talk.when_phrase(False, monday_8am_nz).endswith("after 8:00 am Monday.")
