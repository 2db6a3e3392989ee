"""The Rasa server's turn queue (bot/turn_queue.py): a few turns at once, in arrival order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore

from bot import turn_queue
from bot.turn_queue import TurnQueue

pytestmark = pytest.mark.asyncio


async def settle() -> None:
    """Let every task that can run do so."""
    for _ in range(20):
        await asyncio.sleep(0)


class Turns:
    """Turns started through a queue, each held open until released."""

    def __init__(self, queue: TurnQueue) -> None:
        self.queue = queue
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, urgent: bool = False) -> None:
        self.release[name] = asyncio.Event()

        async def turn() -> None:
            async with self.queue.turn(urgent=urgent):
                self.started.append(name)
                await self.release[name].wait()

        self.tasks[name] = asyncio.create_task(turn())

    async def finish(self, name: str) -> None:
        self.release[name].set()
        await self.tasks[name]
        await settle()


async def test_at_most_size_turns_run_and_the_others_start_in_arrival_order() -> None:
    turns = Turns(TurnQueue(2, max_wait_s=60))
    for name in "abcde":
        turns.start(name)
        await settle()
    assert turns.started == ["a", "b"]
    assert (turns.queue.running, turns.queue.waiting) == (2, 3)

    await turns.finish("b")
    assert turns.started == ["a", "b", "c"]
    await turns.finish("a")
    assert turns.started == ["a", "b", "c", "d"]
    await turns.finish("c")
    await turns.finish("d")
    await turns.finish("e")
    assert turns.started == list("abcde")
    assert (turns.queue.running, turns.queue.waiting) == (0, 0)


async def test_a_new_message_does_not_overtake_one_already_waiting() -> None:
    queue = TurnQueue(1, max_wait_s=60)
    turns = Turns(queue)
    turns.start("a")
    await settle()
    turns.start("b")
    await settle()
    # "a" ends and hands its place to "b" before "c" arrives in the same instant.
    turns.release["a"].set()
    turns.start("c")
    await settle()
    assert turns.started == ["a", "b"]
    await turns.finish("b")
    assert turns.started == ["a", "b", "c"]
    await turns.finish("c")


async def test_an_urgent_message_goes_ahead_of_a_full_queue() -> None:
    turns = Turns(TurnQueue(1, max_wait_s=60))
    turns.start("a")
    turns.start("b")
    turns.start("crisis", urgent=True)
    await settle()
    assert turns.started == ["a", "crisis"]
    await turns.finish("crisis")
    await turns.finish("a")
    await turns.finish("b")
    assert turns.queue.running == 0


async def test_a_message_that_waited_too_long_goes_ahead_and_the_count_comes_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = Turns(TurnQueue(1, max_wait_s=0.01))
    turns.start("stuck")
    turns.start("next")
    await asyncio.wait_for(_until(lambda: "next" in turns.started), 5)
    assert turns.queue.running == 2
    assert turns.queue.went_ahead == 1
    assert "1 messages so far waited" in caplog.text
    await turns.finish("next")
    await turns.finish("stuck")
    assert (turns.queue.running, turns.queue.waiting) == (0, 0)


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.001)


async def test_a_message_cancelled_while_waiting_leaves_no_place_taken() -> None:
    turns = Turns(TurnQueue(1, max_wait_s=60))
    turns.start("a")
    turns.start("gone")
    turns.start("c")
    await settle()
    turns.tasks["gone"].cancel()
    await settle()
    assert turns.queue.waiting == 1
    await turns.finish("a")
    assert turns.started == ["a", "c"]
    await turns.finish("c")
    assert (turns.queue.running, turns.queue.waiting) == (0, 0)


async def test_a_message_cancelled_as_its_place_came_hands_the_place_on() -> None:
    queue = TurnQueue(1, max_wait_s=60)
    turns = Turns(queue)
    async with queue.turn():
        turns.start("gone")
        turns.start("c")
        await settle()
    # Leaving the turn gave "gone" the place; it is cancelled before it runs.
    turns.tasks["gone"].cancel()
    await settle()
    assert turns.started == ["c"]
    assert turns.queue.running == 1
    await turns.finish("c")
    assert (turns.queue.running, turns.queue.waiting) == (0, 0)


@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")
def test_a_queue_needs_a_place() -> None:
    with pytest.raises(ValueError):
        TurnQueue(0, max_wait_s=1)


class Processor:
    """Stands in for Rasa's message processor: records how many turns ran at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.handled: list[str] = []

    async def handle_message(self, message: UserMessage) -> list[dict[str, Any]]:
        self.handled.append(message.text or "")
        await self.release.wait()
        return [{"recipient_id": message.sender_id, "text": "ok"}]


def agent_with(processor: Processor) -> Agent:
    agent = Agent(lock_store=InMemoryLockStore())
    agent.processor = processor  # type: ignore[assignment]
    agent.is_ready = lambda: True  # type: ignore[method-assign]
    return agent


async def test_rasa_takes_each_turn_from_the_queue_after_the_conversation_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Agent.handle_message is turn_queue.handle_message
    queue = TurnQueue(1, max_wait_s=60)
    monkeypatch.setattr(turn_queue, "TURNS", queue)
    processor = Processor()
    agent = agent_with(processor)

    first = asyncio.create_task(agent.handle_message(UserMessage("kia ora", sender_id="a")))
    await settle()
    # A second message of the same conversation waits on its lock, not in the queue.
    again = asyncio.create_task(agent.handle_message(UserMessage("hello?", sender_id="a")))
    other = asyncio.create_task(agent.handle_message(UserMessage("hi", sender_id="b")))
    await settle()
    assert processor.handled == ["kia ora"]
    assert (queue.running, queue.waiting) == (1, 1)

    processor.release.set()
    answers = await asyncio.gather(first, again, other)
    assert [a[0]["recipient_id"] for a in answers] == ["a", "a", "b"]
    assert processor.handled == ["kia ora", "hi", "hello?"]
    assert (queue.running, queue.waiting) == (0, 0)


async def test_a_crisis_message_is_not_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    queue = TurnQueue(1, max_wait_s=60)
    monkeypatch.setattr(turn_queue, "TURNS", queue)
    processor = Processor()
    agent = agent_with(processor)

    busy = asyncio.create_task(agent.handle_message(UserMessage("hi", sender_id="a")))
    waiting = asyncio.create_task(agent.handle_message(UserMessage("hello", sender_id="b")))
    crisis = asyncio.create_task(
        agent.handle_message(UserMessage("i want to kill myself", sender_id="c"))
    )
    await settle()
    assert processor.handled == ["hi", "i want to kill myself"]
    processor.release.set()
    await asyncio.gather(busy, waiting, crisis)


async def test_messages_going_ahead_are_logged_at_the_1st_10th_100th(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = Turns(TurnQueue(1, max_wait_s=0.001))
    turns.start("stuck")
    for n in range(120):
        turns.start(f"m{n}")
    await asyncio.wait_for(_until(lambda: len(turns.started) == 121), 5)
    assert turns.queue.went_ahead == 120
    logged = [r.getMessage().split(" messages")[0] for r in caplog.records]
    assert logged == ["1", "10", "100"]
    for name in turns.release:
        turns.release[name].set()
    await asyncio.gather(*turns.tasks.values())
    assert (turns.queue.running, turns.queue.waiting) == (0, 0)
