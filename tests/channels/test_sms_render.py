"""Rendering the bot's messages for SMS: markdown, buttons, segments, splitting, and
the compact forms of search answers, details and the results hint."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from actions.search import INTROS
from bot.channels.sms.render import (
    DETAIL_SEGMENTS,
    LIMIT,
    NOT_CHECKED,
    ONCE_PER_CONVERSATION,
    RESULTS_HINT,
    button_line,
    buttons_in_turn,
    chosen_payload,
    compact_detail,
    compact_service,
    encoding,
    once_per_conversation,
    plain,
    render,
    render_message,
    segments,
    split,
)
from bot.config import DATA_DIR
from bot.db import session_scope
from bot.directory import present, query
from bot.directory.models import Service
from bot.directory.query import ServiceView, get_services
from bot.directory.taxonomy import taxonomies
from bot.replies import all_responses
from tests.figures import record

# What an SMS reply may cost, in segments (issue 16): a search answer, and any other.
SEARCH_SEGMENTS = 4
OTHER_SEGMENTS = 2

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
        ("a" * 158 + "€", "GSM-7", 1),  # 160 septets
        ("a" * 159 + "€", "GSM-7", 2),
        ("a" * 305 + "€", "GSM-7", 3),  # 307 septets: over two parts of 153
        ("ā" + "€" * 69, "UCS-2", 1),  # in UCS-2 an extension character is one unit
        ("Kia ora whānau", "UCS-2", 1),
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
    assume("\n" not in text)  # a line break is as good a cut as a sentence end
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


# Compact search answers


@pytest.fixture(scope="module")
def directory_url(seeded_sqlite: str) -> str:
    return seeded_sqlite


@pytest.fixture(scope="module")
def views(directory_url: str) -> list[ServiceView]:
    with session_scope(directory_url) as session:
        ids = session.query(Service.id).order_by(Service.id).all()
        return get_services(session, [i for (i,) in ids])


ADH = (
    "2. Alcohol Drug Helpline\n"
    "Free, confidential advice about alcohol and other drugs, including P (meth), for you "
    "or your whānau.\n"
    "Call 0800 787 797 · Text 8681 (free text) · https://alcoholdrughelp.org.nz\n"
    "Open 24/7 · Free"
)


@pytest.mark.parametrize(
    "paragraph, line",
    [
        (ADH, "2. Alcohol Drug Helpline 0800 787 797 (24/7, free)"),
        (
            "1. West Coast methamphetamine navigation service\nLocal navigators.\n"
            "No checked contact details yet.\n" + present.UNCHECKED,
            "1. West Coast methamphetamine navigation service (not yet checked)",
        ),
        (
            "1. Emergency 111\nCall 111 for Police.\nCall 111\nOpen 24/7 · Free",
            "1. Emergency 111 (24/7, free)",
        ),
        ("3. Textline\nText 234 (free text) · https://t.nz", "3. Textline text 234"),
        ("4. Law\nLegal help.\nhttps://law.nz\nFree", "4. Law https://law.nz (free)"),
        ("5. Mail\nEmail help@mail.nz", "5. Mail help@mail.nz"),
        (
            "6. Hub\nCall 03 768 1234 (reception)\n"
            "Open now (Mon–Fri 9am–5pm) · $5 a visit · Kaupapa Māori",
            "6. Hub 03 768 1234 (open now)",
        ),
        (
            "7. Hub\nA hub.\nCall 03 768 1234\nClosed now, opens Monday at 9am (Mon–Fri 9am–5pm)",
            "7. Hub 03 768 1234 (closed now)",
        ),
    ],
)
def test_a_numbered_service_becomes_one_line(paragraph, line):
    assert compact_service(paragraph) == line


@pytest.mark.parametrize(
    "paragraph",
    [
        "1. Drugs or alcohol",
        "Here are services for housing in Greymouth:",
        "2. A name\nOne line.\nAnother line.\nCall 0800 111 222",  # two lines before the contact
        "1. Call me\nmaybe later",
        "Call 0800 787 797\nOpen 24/7",
        "1. A\nCall 0800 787 797\nOpen 24/7\nFree\nmore",
    ],
)
def test_other_paragraphs_are_not_taken_for_services(paragraph):
    assert compact_service(paragraph) is None


def _facts(line: str) -> list[str]:
    match = re.search(r" \(([^()]*)\)$", line)
    return match.group(1).split(", ") if match else []


def test_every_service_in_the_directory_has_a_list_line(views):
    """The contract with ``present.summary``: its paragraph for any service compacts."""
    for view in views:
        line = compact_service(present.summary(view, 7))
        assert line and "\n" not in line, view.id
        assert line.startswith(f"7. {view.name}")
        facts = _facts(line)
        assert ("24/7" in facts) == view.is_24_7, line
        assert ("free" in facts) == bool(view.free), line
        assert ("not yet checked" in facts) == (not view.verified), line
        hours = present.hours_line(view) or ""
        assert ("open now" in facts) == hours.startswith("Open now"), line
        assert ("closed now" in facts) == hours.startswith("Closed now"), line
        calls = [p.number for p in view.phones if p.type != "text"]
        if calls:
            assert calls[0] in line
        assert "\u00b7" not in line and "Call " not in line


# Places to search in: none, the main towns of the West Coast's three districts
# (each with a te reo name) and one elsewhere.
PLACES = (None, "greymouth", "westport", "hokitika", "wellington")


def _search_answers(directory_url: str):
    """The first page (with the results hint) and every "more" page of each
    search: every need, in each of PLACES, for anything and for kaupapa Māori."""
    filters = [(), ("kaupapa_maori",)]
    with session_scope(directory_url) as session:
        for need, place, only in itertools.product(taxonomies().needs, PLACES, filters):
            asked = query.ServiceQuery(need=need, place=place, **{f: True for f in only})
            found = query.search(session, asked).services
            for start in range(0, len(found), 3):
                paragraphs = present.summaries(found[start : start + 3], start + 1)
                messages = [{"text": p} for p in paragraphs.split("\n\n")]
                yield messages + ([{"text": RESULTS_HINT}] if start == 0 else [])


def test_every_first_answer_with_its_intro_fits_the_search_budget(directory_url):
    """The whole first answer as the action sends it: the SMS intro for how local (or
    relaxed) the result is, three services and the hint. An intro that needs UCS-2
    ("None listed are kaupapa Māori.") goes alone when that is cheaper; a list whose
    own names need UCS-2 (Te Rūnanga o Ngāi Tahu) may take one segment more."""
    filters = [(), ("kaupapa_maori",), ("free",), ("kaupapa_maori", "free"), ("open_now",)]
    counts: Counter[int] = Counter()
    with session_scope(directory_url) as session:
        for need, place, only in itertools.product(taxonomies().needs, PLACES, filters):
            asked = query.ServiceQuery(need=need, place=place, **{f: True for f in only})
            result = query.search(session, asked)
            if not result.services:
                continue
            intro = (
                "utter_filters_relaxed"
                if result.relaxed
                else "utter_general_results"
                if result.fallback
                else INTROS[result.reach]
            )
            listed = present.summaries(result.services[:3]).split("\n\n")
            opening = _sms_variant(all_responses()[intro])["text"]
            parts = render(
                [
                    {"text": opening.format(**present.search_wording(asked))},
                    *({"text": p} for p in listed),
                    {"text": RESULTS_HINT},
                ]
            )
            cost = sum(segments(p) for p in parts)
            budget = SEARCH_SEGMENTS + (encoding("\n".join(listed)) != "GSM-7")
            assert cost <= budget, parts
            counts[cost] += 1
    assert sum(counts.values()) > 300
    record(f"SMS first search answers with intro, segments: {dict(sorted(counts.items()))}")


def test_an_opening_that_needs_ucs2_goes_alone_only_when_cheaper():
    listed = [{"text": f"{n}. Some Service 0800 000 00{n} (free)"} for n in (1, 2, 3)]
    intro = {"text": "None listed are kaupapa Māori. Closest:"}
    apart = render([intro, *listed])
    assert apart[0] == "None listed are kaupapa Māori. Closest:" and len(apart) == 2
    assert sum(map(segments, apart)) < segments("\n\n".join(apart))
    assert len(render([{"text": "Kia ora e hoa, nau mai."}, *listed])) == 1  # all GSM-7
    short = [{"text": "1. Rūnanga"}]
    assert len(render([intro, *short])) == 1  # one UCS-2 segment either way


def test_every_list_of_results_fits_the_search_budget(directory_url):
    """The list and the hint fit SEARCH_SEGMENTS even in UCS-2; the intro the
    domain words (a place's te reo name makes it UCS-2) comes on top."""
    counts = Counter()
    for messages in _search_answers(directory_url):
        [text] = render(messages)
        assert segments(text) <= SEARCH_SEGMENTS, text
        counts[segments(text)] += 1
    assert sum(counts.values()) > 200
    record(f"SMS result lists (without intro), segments: {dict(sorted(counts.items()))}")


def test_a_search_answer_renders_as_a_list():
    messages = [
        {"text": "Here are services for drugs in Greymouth:"},
        {"text": ADH},
        {"text": "3. 1737 Need to talk?\nFree.\nCall 1737 · Text 1737\nOpen 24/7 · Free"},
        {"text": RESULTS_HINT},
        {"text": "Anything else?"},
    ]
    assert render(messages) == [
        "Here are services for drugs in Greymouth:\n"
        "2. Alcohol Drug Helpline 0800 787 797 (24/7, free)\n"
        "3. 1737 Need to talk? (24/7, free)\n"
        f"{RESULTS_HINT}\n\n"
        "Anything else?"
    ]
    # Sent later as one text (a navigator's push), the paragraphs compact the same way.
    assert (
        render_message({"text": f"{ADH}\n\n{ADH}"})
        == ("2. Alcohol Drug Helpline 0800 787 797 (24/7, free)\n" * 2).strip()
    )


# Compact details


def test_every_service_s_details_fit_two_segments(views):
    for view in views:
        full = present.detail(view)
        [text] = render([{"text": full}])
        assert segments(text) <= DETAIL_SEGMENTS <= OTHER_SEGMENTS, text
        lines = text.split("\n")
        source = plain(full).split("\n")
        assert lines[0] == view.name
        assert [line for line in source if line in lines] == [
            line for line in lines if line != NOT_CHECKED
        ], "lines are kept whole and in order"
        for line in source:
            if line.startswith(("Contact: ", "Hours: ", "Cost: ", "Note: ")):
                assert line in lines, (view.id, line)
        assert ("Kaupapa Māori service." in lines) == bool(view.kaupapa_maori)
        if not view.verified:
            assert NOT_CHECKED in lines or source[-1] in lines


def test_details_that_fit_are_left_alone_and_other_text_is_not_details():
    short = "Kai Hub\nContact: Call 03 768 1234\nCost: Free\nSource: kai.nz (checked 1 Nov 2026)"
    assert compact_detail(short) is None
    assert render([{"text": short}]) == [short]
    assert compact_detail("Contact: me\n" + "words " * 100 + "\nSource: me") is None
    assert compact_detail("A\nB\n" + "words " * 100) is None


def test_unchecked_details_say_so_when_the_source_is_left_out():
    detail = "\n".join(
        [
            "Te Rūnanga o Makaawhio",
            "Papatipu rūnanga of Poutini Ngāi Tahu; a place to start connecting with mana "
            "whenua on the Coast.",
            "Contact: no checked contact details yet",
            "Kaupapa Māori service.",
            "Source: ROCC West Coast programme description (not yet checked)",
        ]
    )
    assert compact_detail(detail) == (
        "Te Rūnanga o Makaawhio\nContact: no checked contact details yet\n"
        f"Kaupapa Māori service.\n{NOT_CHECKED}"
    )


# The results hint, once per conversation

LONG_HINT = "Say 'more' or 'talk to someone' and a navigator, a real person, will get in touch."


def _user(text: str) -> dict:
    return {"event": "user", "text": text}


def _said(text: str, response: str | None = None) -> dict:
    metadata = {"utter_action": response} if response else {}
    return {"event": "bot", "text": text, "metadata": metadata}


def _search_turn(query_text: str) -> list[dict]:
    return [
        _user(query_text),
        _said("Here are services:", "utter_results_intro"),
        _said(ADH, "utter_services"),
        _said(LONG_HINT, "utter_results_hint"),
    ]


TURN = [{"text": "Here are services:"}, {"text": ADH}, {"text": LONG_HINT}]


def test_the_hint_comes_in_sms_words_the_first_time():
    events = [{"event": "session_started"}, *_search_turn("P in greymouth")]
    assert once_per_conversation(TURN, events) == [*TURN[:2], {"text": RESULTS_HINT}]


def test_the_hint_is_left_out_after_the_first_time():
    events = [*_search_turn("P in greymouth"), _user("2"), _said("Details"), *_search_turn("kai")]
    assert once_per_conversation(TURN, events) == TURN[:2]


def test_the_hint_comes_again_in_a_new_session():
    events = [
        *_search_turn("P in greymouth"),
        {"event": "session_started"},
        *_search_turn("P in greymouth"),
    ]
    assert once_per_conversation(TURN, events)[-1] == {"text": RESULTS_HINT}


def test_without_the_conversation_nothing_changes():
    assert once_per_conversation(TURN, []) == TURN
    other = [{"text": "Kia ora"}, {"text": "Say 'more'", "buttons": []}]
    assert once_per_conversation(other, _search_turn("x")) == other


def test_the_hint_uses_only_words_the_bot_understands():
    """Words the bot's own hint tells people to say, and a number (bot/nlu/picks.py):
    no keywords the bot does not know."""
    responses = all_responses()
    promised = responses["utter_results_hint"][0]["text"]
    quoted = re.findall(r"'([^']+)'", RESULTS_HINT)
    assert quoted == ["more", "talk to someone"]
    assert all(f"'{words}'" in promised for words in quoted)
    assert ONCE_PER_CONVERSATION == {"utter_results_hint": RESULTS_HINT}


# Every other reply the domain has, on SMS

# Answers that carry the content they carry, whatever it costs: the crisis answers.
EXEMPT_PREFIX = "utter_crisis_"


def _sms_variant(variants: list[dict]) -> dict:
    return next((v for v in variants if v.get("channel") == "sms"), variants[0])


def test_every_fixed_reply_fits_two_segments():
    """Each response's own words (a slot counts 12 characters) as SMS. Responses that
    are only a slot (a search answer, details) are measured above."""
    responses = all_responses()
    over = {}
    for name, variants in responses.items():
        variant = _sms_variant(variants)
        text = variant.get("text", "")
        if re.fullmatch(r"\{\w+\}", text) or name in ONCE_PER_CONVERSATION:
            continue
        text = re.sub(r"\{\w+\}", "x" * 12, text)
        count = sum(segments(p) for p in render([{**variant, "text": text}]))
        if count > OTHER_SEGMENTS and not name.startswith(EXEMPT_PREFIX):
            over[name] = count
    assert over == {}


def test_crisis_answers_are_sent_whole(views):
    """Nothing of a crisis answer is shortened; what it costs is recorded."""
    responses = all_responses()
    categories = yaml.safe_load(
        (DATA_DIR / "safety" / "crisis_responses.yml").read_text(encoding="utf-8")
    )["categories"]
    by_id = {v.id: v for v in views}
    cost = {}
    for category, config in categories.items():
        first = responses[f"utter_crisis_{category}"][0]["text"]
        lines = "\n".join(present.contact_answer(by_id[s]) for s in config["services"])
        second = responses["utter_crisis_lines"][0]["text"].format(lines=lines)
        parts = render([{"text": first}, {"text": second}])
        assert "\n\n".join(parts) == f"{plain(first)}\n\n{plain(second)}"
        cost[category] = sum(segments(p) for p in parts)
    record(f"SMS crisis answers, segments (exempt from the budget): {cost}")
