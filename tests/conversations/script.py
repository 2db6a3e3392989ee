"""Loads the held-out conversations (``tests/conversations/*.yml``) and checks a turn's replies.

The conversations are written the way people really write to Āwhina (SMS
shorthand, typos, capitals, te reo, changes of mind) and are never used for
training. Each turn is what the person sends and what the bot's replies to it
must show::

    conversations:
      - name: sms-son-on-the-gear
        turns:
          - user: "wer cn i gt hlp 4 my boy hes on the gear"
            expect: {need: drugs_alcohol, asks_place: true, first_not_bare_question: true}
          - user: "hoki"
            expect: {place: "Hokitika", reach: regional,
                     services: [Alcohol Drug Helpline]}

What ``expect`` may hold (every check is on the turn's replies joined together,
unless it says "first", the first message of the turn):

- ``need``: a need code of ``data/directory/taxonomy.yml``; its label (how the
  bot names the need) must appear: the need was understood.
- ``place``: a regex that must match, e.g. ``"Greymouth|Māwhera"``: the place was used.
- ``reach``: how honestly local the answer says it is: ``local`` ("Here are …
  in <place>:"), ``regional`` ("… listed in <place> itself yet. These cover …"),
  ``national`` ("I don't have local … listed for <place> yet. These national
  ones work anywhere:"), ``relaxed`` ("I couldn't find … The closest
  options:") or ``anywhere`` ("Here are …:", no place asked).
- ``services``: service names (plain text) that must all appear.
- ``asks_place``: true if "Whereabouts are you" must be asked, false if it must not.
- ``search``: true if a numbered list of services must be shown, false if none may be.
- ``all`` / ``any`` / ``none``: regexes that must all / at least one / none match.
- ``first``: a regex the first message must match.
- ``first_not_bare_question``: the first message must not open with a question:
  the first reply to a need acknowledges it and names the help before asking anything.
- ``crisis``: true if the crisis answer must come first (a ``utter_crisis_*``
  response of domain.yml, with 111), false (the default for every turn) if no
  crisis response may come at all; null to not check.

Regexes are case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.replies import all_responses

HERE = Path(__file__).parent
FLAGS = re.IGNORECASE | re.MULTILINE
KEYS = {
    "need",
    "place",
    "reach",
    "services",
    "asks_place",
    "search",
    "all",
    "any",
    "none",
    "first",
    "first_not_bare_question",
    "crisis",
}
REACH = {
    "local": r"^Here are [^\n]+ in [^\n]+:$",
    "regional": r"listed in [^\n]+ itself yet\. These cover [^\n]+, or work anywhere:",
    "national": (
        r"I don't have local [^\n]+ listed for [^\n]+ yet\. These national ones work anywhere:"
    ),
    "relaxed": r"I couldn't find [^\n]+\. The closest options:",
    "anywhere": r"^Here are [^\n]+:$",
}
# By SMS the result intros are the short ``channel: sms`` variants: they name the place
# but not the need (that was said when it was understood), and a local answer just lists.
REACH_SMS = {
    **REACH,
    "local": r"^Here's what I have:$",
    "regional": r"^Nothing in [^\n]+ itself yet\. These cover [^\n]+:$",
    "national": r"^Nothing local listed for [^\n]+ yet\. These work anywhere:$",
    "anywhere": r"^Here's what I have:$",
}
ASKS_PLACE = r"Whereabouts are you"
SERVICE_LIST = r"^\d+\. \S"
# The crisis responses' own openings, not "111" or "in danger" anywhere: a service's
# description may say "In an emergency call 111", and that is not a crisis answer.
CRISIS_RESPONSES = "utter_crisis_"
NOT_AN_ANSWER = {"utter_crisis_resume"}  # "When you're ready, we can carry on"
OPENING_CHARS = 30
# A short word of acknowledgement before a question does not make it more than a question.
INTERJECTION = re.compile(r"^(ka pai|sure|ok|okay|no worries|sorry)[.!,]\s*", re.IGNORECASE)


@dataclass
class Turn:
    user: str
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    name: str
    file: str
    turns: list[Turn]
    note: str = ""


def load(directory: Path = HERE) -> list[Conversation]:
    """Every conversation in ``directory``, checked for unknown keys and bad regexes, so a
    typo in an expectation fails loudly instead of checking nothing."""
    conversations = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["conversations"]:
            turns = [Turn(t["user"], t.get("expect") or {}) for t in raw["turns"]]
            conversation = Conversation(raw["name"], path.name, turns, raw.get("note", ""))
            for turn in turns:
                problems = invalid(turn.expect)
                if problems:
                    raise ValueError(f"{path.name}: {conversation.name}: {turn.user!r}: {problems}")
            conversations.append(conversation)
    return conversations


def invalid(expect: dict[str, Any]) -> list[str]:
    """What is wrong with an ``expect`` mapping (empty when it is fine)."""
    problems = [f"unknown key {key!r}" for key in expect if key not in KEYS]
    if "need" in expect and expect["need"] not in taxonomies().needs:
        problems.append(f"unknown need {expect['need']!r}")
    if "reach" in expect and expect["reach"] not in REACH:
        problems.append(f"unknown reach {expect['reach']!r}")
    for key in ("all", "any", "none", "services"):
        if key in expect and not isinstance(expect[key], list):
            problems.append(f"{key} must be a list")
    for pattern in [
        *expect.get("all", []),
        *expect.get("any", []),
        *expect.get("none", []),
        *[expect[k] for k in ("place", "first") if k in expect],
    ]:
        try:
            re.compile(pattern)
        except re.error as error:
            problems.append(f"bad regex {pattern!r}: {error}")
    return problems


def is_bare_question(message: str) -> bool:
    """Whether a message opens with a question (after a word like "Ka pai.")."""
    text = INTERJECTION.sub("", message.strip())
    first_sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first_sentence.rstrip().endswith("?")


@lru_cache(maxsize=1)
def crisis_openings() -> tuple[str, ...]:
    """How each crisis response in domain.yml begins (up to its first slot)."""
    return tuple(
        variant["text"].split("{")[0][:OPENING_CHARS]
        for name, variants in all_responses().items()
        if name.startswith(CRISIS_RESPONSES) and name not in NOT_AN_ANSWER
        for variant in variants
    )


def is_crisis_response(message: str) -> bool:
    return message.startswith(crisis_openings())


def check(
    expect: dict[str, Any], messages: list[str], slots: dict[str, Any] | None = None
) -> list[str]:
    """Why the bot's ``messages`` for one turn fail ``expect`` (empty when they pass).

    ``slots`` (the conversation's slots after the turn) marks an SMS conversation: its
    short replies may leave out the need's label and a local answer's place, so those
    are read from the slots the turn left instead: what the bot understood and used.
    """
    text = "\n".join(messages)
    by_sms = slots is not None
    reach = REACH_SMS if by_sms else REACH
    first = messages[0] if messages else ""
    failures = []

    def found(pattern: str, where: str = text) -> bool:
        return re.search(pattern, where, FLAGS) is not None

    if not messages:
        failures.append("no reply")
    if "need" in expect:
        label = taxonomies().needs[expect["need"]].label
        said = found(re.escape(label))
        if not said and not (by_sms and slots.get("need") == expect["need"]):
            failures.append(f"need not understood: {label!r} not in the reply")
    if "place" in expect and not found(expect["place"]):
        place = gazetteer().get(slots.get("place")) if by_sms else None
        if place is None or not found(expect["place"], place.display_name):
            failures.append(f"place not used: {expect['place']!r} not in the reply")
    if "reach" in expect and not found(reach[expect["reach"]]):
        failures.append(f"not the {expect['reach']} answer: {reach[expect['reach']]!r}")
    failures += [f"service missing: {s!r}" for s in expect.get("services", []) if s not in text]
    if "asks_place" in expect and found(ASKS_PLACE) != expect["asks_place"]:
        failures.append("place not asked" if expect["asks_place"] else "place asked again")
    if "search" in expect and found(SERVICE_LIST) != expect["search"]:
        failures.append("no services shown" if expect["search"] else "services shown")
    failures += [f"missing {p!r}" for p in expect.get("all", []) if not found(p)]
    if expect.get("any") and not any(found(p) for p in expect["any"]):
        failures.append(f"none of {expect['any']!r}")
    failures += [f"unwanted {p!r}" for p in expect.get("none", []) if found(p)]
    if "first" in expect and not found(expect["first"], first):
        failures.append(f"first message does not match {expect['first']!r}")
    if expect.get("first_not_bare_question") and messages and is_bare_question(first):
        failures.append("first reply is a bare question")
    crisis = expect.get("crisis", False)
    if crisis is True and not (is_crisis_response(first) and "111" in first):
        failures.append("no crisis answer (with 111) first")
    if crisis is False and any(is_crisis_response(m) for m in messages):
        failures.append("crisis answer where none belongs")
    return failures
