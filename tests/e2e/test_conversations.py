"""The held-out conversations (tests/conversations/) played through the real stack.

Each conversation goes through the REST channel with a fresh sender id, turn by
turn, and every turn's replies are checked against its expectations
(``tests.conversations.script``). The conversations written as people text
(``SMS_FILES``) are played again through the signed SMS webhook, where a turn's
reply is one compact text. A conversation passes when all its turns do.
The pass rates per turn and per conversation are printed with the suite's
figures; every failing conversation is printed with its transcript, so the bot
can be fixed rather than the expectations loosened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.conversations.script import Conversation, check, load
from tests.e2e.conftest import TOKEN, Stack
from tests.e2e.test_sms import conversation_id, new_number, texts
from tests.figures import record

pytestmark = pytest.mark.e2e

TARGET = 0.95
# Conversations are independent (one sender id each); a few at once keeps the run
# short without crowding two shared cores.
WORKERS = 3
SHOWN_CHARS = 160
SMS_FILES = {"sms_and_typos.yml", "picks_and_forms.yml"}
Send = Callable[[Stack, str, str], tuple[list[str], dict[str, Any] | None]]


@dataclass
class PlayedTurn:
    user: str
    messages: list[str]
    failures: list[str]


@dataclass
class Played:
    conversation: Conversation
    turns: list[PlayedTurn] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(t.failures for t in self.turns)

    def transcript(self) -> str:
        lines = [f"--- {self.conversation.name} ({self.conversation.file})"]
        if self.conversation.note:
            lines.append(f"    note: {self.conversation.note}")
        for turn in self.turns:
            lines.append(f"  > {turn.user}")
            for message in turn.messages:
                for line in message.splitlines() or [""]:
                    shown = line if len(line) <= SHOWN_CHARS else line[:SHOWN_CHARS] + "…"
                    lines.append(f"      {shown}")
            lines += [f"    ✗ {failure}" for failure in turn.failures]
        return "\n".join(lines)


def by_rest(stack: Stack, sender: str, text: str) -> tuple[list[str], None]:
    return [r["text"] for r in stack.chat(sender, text) if r.get("text")], None


def by_sms(stack: Stack, number: str, text: str) -> tuple[list[str], dict[str, Any]]:
    """The turn's one text, and the slots it left (see ``check``)."""
    messages = texts(number, stack, text)
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{conversation_id(number)}/tracker",
        params={"token": TOKEN},
        timeout=30,
    )
    return messages, tracker.json()["slots"]


def play(stack: Stack, conversation: Conversation, send: Send, sender: str) -> Played:
    """Plays every turn, even after one fails: later turns show how the bot recovers."""
    played = Played(conversation)
    for turn in conversation.turns:
        messages, slots = send(stack, sender, turn.user)
        failures = check(turn.expect, messages, slots)
        played.turns.append(PlayedTurn(turn.user, messages, failures))
    return played


def play_all(
    stack: Stack,
    conversations: list[Conversation],
    send: Send,
    sender: Callable[[], str],
    label: str,
) -> None:
    """Plays the conversations a few at a time, records the pass rates and holds the target."""
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda c: play(stack, c, send, sender()), conversations))
    turns = [t for r in results for t in r.turns]
    turn_rate = sum(not t.failures for t in turns) / len(turns)
    failing = [r for r in results if not r.passed]
    rate = 1 - len(failing) / len(results)
    record(
        f"{label}: n={len(results)} ({len(turns)} turns) "
        f"conversations passed={rate:.3f} turns passed={turn_rate:.3f}"
    )
    for result in failing:
        print(result.transcript())
    assert rate >= TARGET, (
        f"{len(failing)} of {len(results)} conversations failed (see the transcripts above): "
        + ", ".join(r.conversation.name for r in failing)
    )


def test_held_out_conversations(stack: Stack) -> None:
    play_all(
        stack,
        load(),
        by_rest,
        lambda: f"conversation-{uuid.uuid4().hex}",
        "Held-out conversations",
    )


def test_held_out_conversations_by_sms(stack: Stack) -> None:
    conversations = [c for c in load() if c.file in SMS_FILES]
    play_all(stack, conversations, by_sms, new_number, "Held-out conversations by SMS")
