"""bot/locks.py: two Rasa servers' lock stores on one Redis never let two messages of one
conversation be handled at once (Rasa's own RedisLockStore does, now and then)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bot.locks import AtomicRedisLockStore

HOLDERS = 8


def _stores(redis_url: str) -> list[AtomicRedisLockStore]:
    """Two stores, as two replicas have, each with its own connection."""
    address = urlsplit(redis_url)
    return [
        AtomicRedisLockStore(host=address.hostname, port=address.port, key_prefix="test")
        for _ in range(2)
    ]


def test_tickets_issued_at_once_by_two_servers_are_all_different(redis_url: str):
    stores, conversation = _stores(redis_url), uuid.uuid4().hex
    start = threading.Barrier(HOLDERS)

    def issue(n: int) -> int:
        start.wait()
        return stores[n % 2].issue_ticket(conversation)

    with ThreadPoolExecutor(HOLDERS) as pool:
        tickets = list(pool.map(issue, range(HOLDERS)))
    assert sorted(tickets) == list(range(HOLDERS))


def test_one_conversation_is_held_by_one_message_at_a_time(redis_url: str):
    stores, conversation = _stores(redis_url), uuid.uuid4().hex
    start = threading.Barrier(HOLDERS)
    counting = threading.Lock()
    holding, most, served = 0, 0, 0

    async def hold(store: AtomicRedisLockStore) -> None:
        nonlocal holding, most, served
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            with counting:
                holding += 1
                most = max(most, holding)
            await asyncio.sleep(0.02)
            with counting:
                holding -= 1
                served += 1

    def message(n: int) -> None:
        start.wait()
        asyncio.run(hold(stores[n % 2]))

    with ThreadPoolExecutor(HOLDERS) as pool:
        list(pool.map(message, range(HOLDERS)))
    assert (most, served) == (1, HOLDERS)
    assert stores[0].get_lock(conversation) is None, "the last message removes the lock"
