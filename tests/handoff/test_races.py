"""Moves that race: many navigators at once, and a claim against an escalation.

Each thread has its own session, as each inbox request has, on SQLite and on
PostgreSQL; exactly one of simultaneous moves may win.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from bot.db import session_scope
from bot.handoff import InvalidTransition, lifecycle, service
from bot.handoff.models import HandoffRequest
from bot.handoff.service import claim, close, escalate
from tests.handoff.conftest import NOW, make_request, nav, snapshot

THREADS = 50
LATER = NOW + timedelta(minutes=31)  # the Grey team's request is overdue: it goes regional


def _at_once(work, count: int) -> Counter:
    """Runs ``work(i)`` in ``count`` threads released together; counts how each ended."""
    barrier = threading.Barrier(count)
    results: Counter = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            outcome = "won"
        except InvalidTransition:
            outcome = "refused"
        except Exception as exc:  # anything else is a failure the assertion shows
            outcome = type(exc).__name__
        with lock:
            results[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _kinds(url: str, request_id: str) -> list[str]:
    return [kind for _, rid, _, _, kind, _ in snapshot(url)[1] if rid == request_id]


MOVES = {
    "claim": lambda s, n, r: claim(s, n, r, now=NOW),
    "close": lambda s, n, r: close(s, n, r, "duplicate", now=NOW),
}


@pytest.mark.parametrize("move", sorted(MOVES))
def test_of_fifty_simultaneous_moves_exactly_one_wins(url, navs, move):
    request_id = make_request(url, navs, "new")
    names = ["grey", "grey2"]

    def work(i: int) -> None:
        with session_scope(url) as session:
            MOVES[move](session, nav(session, navs, names[i % 2]), request_id)

    assert _at_once(work, THREADS) == {"won": 1, "refused": THREADS - 1}
    kinds = _kinds(url, request_id)
    assert kinds.count({"claim": "claimed", "close": "closed"}[move]) == 1


def test_a_claim_racing_an_escalation_loses_and_the_request_moves(url, navs, monkeypatch):
    """The escalation commits between the navigator reading the request and claiming it."""
    request_id = make_request(url, navs, "new")
    find = service._find

    def find_then_escalate(*args, **kwargs):
        request = find(*args, **kwargs)
        with session_scope(url) as other:
            assert [r.id for r in escalate(other, LATER, print, 30)] == [request_id]
        return request

    monkeypatch.setattr(service, "_find", find_then_escalate)
    with session_scope(url) as session, pytest.raises(InvalidTransition):
        claim(session, nav(session, navs, "grey"), request_id, now=LATER)
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert (request.status, request.claimed_by, request.team_id) == (
            "new",
            None,
            "west-coast-navigators",
        )
    assert _kinds(url, request_id) == ["created", "escalated"]


def test_an_escalation_racing_a_claim_leaves_the_request_with_its_claimer(url, navs, monkeypatch):
    """The claim commits between the escalation reading the request and moving it."""
    request_id = make_request(url, navs, "new")
    fallback = lifecycle.fallback_team

    def claim_then_fallback(session, *args, **kwargs):
        with session_scope(url) as other:
            claim(other, nav(other, navs, "grey"), request_id, now=LATER)
        return fallback(session, *args, **kwargs)

    monkeypatch.setattr(lifecycle, "fallback_team", claim_then_fallback)
    told = []
    with session_scope(url) as session:
        assert escalate(session, LATER, told.append, 30) == []
    assert told == []
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert (request.status, request.claimed_by, request.team_id) == (
            "claimed",
            navs["grey"],
            "grey-navigators",
        )
    assert _kinds(url, request_id) == ["created", "claimed"]
