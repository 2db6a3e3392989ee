"""The held-out conversations (tests/conversations/) played through the real stack.

Each conversation goes through the REST channel with a fresh sender id, turn by
turn, and every turn's replies are checked against its expectations
(``tests.conversations.script``). A conversation passes when all its turns do.
The pass rates per turn and per conversation are printed with the suite's
figures; every failing conversation is printed with its transcript, so the bot
can be fixed rather than the expectations loosened.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from tests.conversations.script import Conversation, check, load
from tests.e2e.conftest import Stack
from tests.figures import record

pytestmark = pytest.mark.e2e

TARGET = 0.95
# Conversations are independent (one sender id each); a few at once keeps the run
# short without crowding two shared cores.
WORKERS = 3
SHOWN_CHARS = 160


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


def play(stack: Stack, conversation: Conversation) -> Played:
    """Plays every turn, even after one fails: later turns show how the bot recovers."""
    sender = f"conversation-{uuid.uuid4().hex}"
    played = Played(conversation)
    for turn in conversation.turns:
        messages = [r["text"] for r in stack.chat(sender, turn.user) if r.get("text")]
        played.turns.append(PlayedTurn(turn.user, messages, check(turn.expect, messages)))
    return played


def test_held_out_conversations(stack: Stack) -> None:
    conversations = load()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda c: play(stack, c), conversations))
    turns = [t for r in results for t in r.turns]
    turn_rate = sum(not t.failures for t in turns) / len(turns)
    failing = [r for r in results if not r.passed]
    rate = 1 - len(failing) / len(results)
    record(
        f"Held-out conversations: n={len(results)} ({len(turns)} turns) "
        f"conversations passed={rate:.3f} turns passed={turn_rate:.3f}"
    )
    for result in failing:
        print(result.transcript())
    assert rate >= TARGET, (
        f"{len(failing)} of {len(results)} conversations failed (see the transcripts above): "
        + ", ".join(r.conversation.name for r in failing)
    )
