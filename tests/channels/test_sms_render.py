"""Rendering the bot's messages for SMS: markdown, buttons, segments and splitting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.sms_render import (
    LIMIT,
    button_line,
    buttons_in_turn,
    chosen_payload,
    encoding,
    plain,
    render,
    render_message,
    segments,
    split,
)

# Markdown


@pytest.mark.parametrize(
    "text, expected",
    [
        ("**Kia ora** whānau", "Kia ora whānau"),
        ("__bold__ and _italic_ and *also*", "bold and italic and also"),
        ("***both***", "both"),
        ("See [1737](https://1737.org.nz) now", "See 1737: https://1737.org.nz now"),
        ("[https://1737.org.nz](https://1737.org.nz)", "https://1737.org.nz"),
        ("[1737.org.nz](https://1737.org.nz/)", "https://1737.org.nz/"),
        ('[site](https://a.nz "title")', "site: https://a.nz"),
        ("<https://a.nz/x>", "https://a.nz/x"),
        ("![logo](https://a.nz/l.png)", "logo: https://a.nz/l.png"),
        ("https://a.nz/some_path_with_underscores", "https://a.nz/some_path_with_underscores"),
        ("https://a.nz/_x_/*y*", "https://a.nz/_x_/*y*"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("\\*not emphasis\\*", "*not emphasis*"),
        ("# Heading\ntext", "Heading\ntext"),
        ("* one\n* two", "- one\n- two"),
        ("> quoted", "quoted"),
        ("`code`", "code"),
        ("~~gone~~", "gone"),
        ("a\n\n\n\nb", "a\n\nb"),
        ("line  \nnext", "line\nnext"),
        ("\u201cquote\u201d it\u2019s \u2013 fine\u2026", '"quote" it\'s - fine...'),
        ("Call 0800 · Text 8681", "Call 0800; Text 8681"),
        ("Mon\u2013Fri", "Mon-Fri"),
        ("nul\x00 and \x07bell", "nul and bell"),
        ("Āwhina, kōrero mai", "Āwhina, kōrero mai"),
    ],
)
def test_plain(text, expected):
    assert plain(text) == expected


@given(st.text(max_size=300))
def test_plain_never_leaves_paired_bold_markers(text):
    result = plain(text)
    assert not re.search(r"(?<![\w*])\*\*[^\s*][^*]*[^\s*]\*\*(?![\w*])", result)


@given(st.text(st.characters(blacklist_categories=["Cs", "Co", "Cc"]), max_size=300))
def test_plain_keeps_urls_intact(text):
    url = "https://example.org.nz/a_b*c_/d"
    assert url in plain(f"{text} {url} {text}")


# Encoding and segments


@pytest.mark.parametrize(
    "text, enc, count",
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("ā" * 70, "UCS-2", 1),
        ("ā" * 71, "UCS-2", 2),
        ("ā" + "a" * 133, "UCS-2", 2),
        ("ā" + "a" * 134, "UCS-2", 3),
        ("💬" * 35, "UCS-2", 1),  # outside the BMP: two UTF-16 units
        ("💬" * 36, "UCS-2", 2),
    ],
)
def test_segments(text, enc, count):
    assert encoding(text) == enc
    assert segments(text) == count


# Splitting


def test_short_text_is_one_message():
    text = "Kia ora. " * 100
    assert split(text) == [text.strip()]


def test_long_text_splits_between_sentences():
    sentence = "This service helps whānau affected by P in Greymouth."
    text = " ".join([sentence] * 50)
    parts = split(text)
    assert len(parts) == 2
    assert all(len(p) <= LIMIT for p in parts)
    assert all(p.startswith("This") and p.endswith("Greymouth.") for p in parts)


def test_paragraphs_are_preferred_when_the_message_count_is_the_same():
    para = "One sentence here. Another one there."
    text = "\n\n".join([para] * 60)
    parts = split(text, 200)
    assert all(p.startswith("One") and p.endswith("there.") for p in parts)


def test_cuts_fall_on_segment_boundaries_where_possible():
    # 24 GSM-7 sentences of 99 characters + a space. Filling the first message
    # (16 sentences, 1,599 characters) costs 11 + 6 = 17 segments; a cut that
    # ends near a segment boundary costs 16.
    sentence = ("x" * 98) + "."
    text = " ".join([sentence] * 24)
    greedy = [" ".join([sentence] * 16), " ".join([sentence] * 8)]
    assert sum(segments(p) for p in greedy) == 17
    parts = split(text)
    assert len(parts) == 2
    assert all(len(p) <= LIMIT and p.endswith(".") for p in parts)
    assert sum(segments(p) for p in parts) == 16


def test_numbered_list_items_are_not_split_from_their_names():
    items = "\n".join(f"{n}. Service number {n} with a description." for n in range(1, 80))
    for part in split(items, 300):
        assert re.match(r"^\d+\. Service", part)


def test_a_sentence_longer_than_the_limit_is_cut_between_words():
    text = "word " * 50
    parts = split(text, 60)
    assert all(len(p) <= 60 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_a_word_longer_than_the_limit_is_cut():
    url = "https://example.org.nz/" + "a" * 200
    parts = split(f"See {url} now.", 50)
    assert all(len(p) <= 50 for p in parts)
    assert "".join(parts).replace(" ", "") == f"See{url}now."


def test_empty_and_bad_limits():
    assert split("") == []
    assert split(" \n ") == []
    with pytest.raises(ValueError):
        split("x", 0)


sentences = st.lists(
    st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        min_size=1,
        max_size=120,
    ).map(lambda s: s.strip() + "."),
    max_size=25,
)


@settings(deadline=None, max_examples=150)
@given(
    text=st.one_of(
        sentences.map(" ".join),
        sentences.map("\n\n".join),
        st.text(max_size=2000),
    ),
    limit=st.sampled_from([20, 70, 160, 500, LIMIT]),
)
def test_split_properties(text, limit):
    parts = split(text, limit)
    # No part over the limit, none empty, none with leading or trailing space.
    assert all(0 < len(p) <= limit for p in parts)
    assert all(p == p.strip() for p in parts)
    # Text preserved: every non-space character, in order, and each part is a slice.
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0
        position = found + len(part)
    # Text that fits stays whole.
    if len(text.strip()) <= limit:
        assert parts == ([text.strip()] if text.strip() else [])


@settings(deadline=None, max_examples=60)
@given(sentences.map(" ".join))
def test_split_only_cuts_inside_a_sentence_when_it_must(text):
    limit = 160
    parts = split(text, limit)
    if all(len(s) <= limit for s in re.split(r"(?<=\.)\s", text)):
        for part in parts[:-1]:
            assert part.endswith(".")


# Buttons

BUTTONS = [
    {"title": "Drugs or alcohol (incl. P)", "payload": "/need_drugs_alcohol"},
    {"title": "**Family harm**", "payload": "/need_family_harm"},
    {"title": "Housing.", "payload": "/need_housing"},
]


def test_button_line():
    assert button_line(BUTTONS) == (
        "Reply 1 for Drugs or alcohol (incl. P), 2 for Family harm or 3 for Housing."
    )
    assert button_line(BUTTONS[:1], first=4) == "Reply 4 for Drugs or alcohol (incl. P)."
    assert button_line([]) == ""


def test_render_numbers_buttons_across_the_turn_and_joins_messages():
    parts = render(
        [
            {"text": "Pick one:", "buttons": BUTTONS[:2]},
            {"text": "Or:", "quick_replies": BUTTONS[2:]},
            {"image": "https://a.nz/x.png"},
            {"custom": {"widget": "only"}},
        ]
    )
    assert parts == [
        "Pick one:\nReply 1 for Drugs or alcohol (incl. P) or 2 for Family harm.\n\n"
        "Or:\nReply 3 for Housing.\n\nhttps://a.nz/x.png"
    ]


def test_render_message_of_nothing_is_empty():
    assert render_message({}) == ""
    assert render([]) == []


def _bot(text: str, buttons: list | None = None) -> dict:
    return {"event": "bot", "text": text, "data": {"buttons": buttons}}


def test_buttons_in_turn_are_those_since_the_last_user_message():
    events = [
        _bot("old", [{"title": "Old", "payload": "/old"}]),
        {"event": "user", "text": "hi"},
        _bot("first", BUTTONS[:2]),
        {"event": "action", "name": "action_listen"},
        _bot("no buttons"),
        _bot("second", BUTTONS[2:]),
    ]
    assert [b["payload"] for b in buttons_in_turn(events)] == [
        "/need_drugs_alcohol",
        "/need_family_harm",
        "/need_housing",
    ]
    assert buttons_in_turn([*events, {"event": "user", "text": "2"}]) == []
    assert buttons_in_turn([]) == []


@pytest.mark.parametrize(
    "reply, payload",
    [
        ("1", "/need_drugs_alcohol"),
        (" 2 ", "/need_family_harm"),
        ("3.", "/need_housing"),
        ("#3", "/need_housing"),
        ("2)", "/need_family_harm"),
        ("0", None),
        ("4", None),
        ("-1", None),
        ("1.5", None),
        ("one", None),
        ("1 2", None),
        ("", None),
        ("9999", None),
    ],
)
def test_chosen_payload(reply, payload):
    assert chosen_payload(reply, BUTTONS) == payload


def test_chosen_payload_without_buttons_or_payload():
    assert chosen_payload("1", []) is None
    assert chosen_payload("1", [{"title": "Yes"}]) == "Yes"
