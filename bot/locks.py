"""Conversation locks shared by several Rasa servers: Rasa's ``RedisLockStore``, made atomic.

Rasa handles one conversation's messages one at a time by giving each a ticket in the
conversation's lock and serving the tickets in order. ``RedisLockStore`` (Rasa 3.6) keeps
the lock as one JSON value and changes it by reading it, changing it in Python and
writing it back. Two servers doing that at once both read the same lock: both issue the
same ticket number, or one drops the other's ticket, and two messages are handled at
once. Each then saves the tracker it read, and the SQL tracker store keeps only the
events past the count already stored, so messages and answers are lost (Rasa issue
9213; Rasa's fix, ``ConcurrentRedisLockStore``, was reverted from the open-source
release). The replicas test shows it (tests/scale).

:class:`AtomicRedisLockStore` is the same store and the same tickets, but every change
to a lock happens in a Redis transaction that is retried if another server changed the
lock meanwhile (``WATCH``/``MULTI``/``EXEC``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import WatchError

T = TypeVar("T")
# What a change to a lock returns: the lock to store (None deletes it) and a result.
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket changes are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        """From ``endpoints.yml`` (Rasa passes the whole ``lock_store`` section), or from
        ``RedisLockStore``'s own arguments."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Change[T]) -> T:
        """Reads the lock, applies ``change`` and stores the result, as one transaction."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    changed, result = change(lock)
                    pipe.multi()
                    if changed is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, changed.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # another server changed the lock: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def _finish(self, conversation_id: str, ticket_number: int, delete_unused: bool) -> None:
        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            unused = delete_unused and not lock.is_someone_waiting()
            return (None if unused else lock), None

        self._change(conversation_id, finish)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._finish(conversation_id, ticket_number, delete_unused=False)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket, and the lock if no one else holds one, in one transaction."""
        self._finish(conversation_id, ticket_number, delete_unused=True)
