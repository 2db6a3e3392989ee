"""Flood limits in sliding windows, on a clock the tests move (no sleeping)."""

from __future__ import annotations

import pytest

from bot.channels.sms.flood import OVERALL, PER_NUMBER, FloodGate, FloodLimits, Limited


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_sender_gets_its_limit_in_any_window(clock):
    gate = FloodGate(FloodLimits(per_number=3, overall=100, window=60), clock)
    for _ in range(3):
        assert gate.admit("a") is None
        clock.now += 10
    assert gate.admit("a") == Limited(PER_NUMBER, notify=True)
    assert gate.admit("a") == Limited(PER_NUMBER, notify=False)
    assert gate.admit("b") is None  # others are not held up
    clock.now = 500 + 59.9
    assert gate.admit("a") == Limited(PER_NUMBER, notify=False)
    clock.now = 500 + 60  # the first message has left the window
    assert gate.admit("a") is None
    assert gate.admit("a") == Limited(PER_NUMBER, notify=False)  # told at 530: not again


def test_a_sender_is_told_again_a_window_after_it_was_told(clock):
    gate = FloodGate(FloodLimits(per_number=1, overall=100, window=60), clock)
    assert gate.admit("a") is None
    assert gate.admit("a").notify
    clock.now += 30
    assert not gate.admit("a").notify
    clock.now += 30  # a window since it was told, and since its message
    assert gate.admit("a") is None
    assert gate.admit("a").notify


def test_the_overall_limit_covers_every_sender(clock):
    gate = FloodGate(FloodLimits(per_number=5, overall=3, window=60), clock)
    assert [gate.admit(s) for s in "abc"] == [None, None, None]
    assert gate.admit("d") == Limited(OVERALL, notify=True)
    assert gate.admit("e") == Limited(OVERALL, notify=True)
    assert gate.admit("d") == Limited(OVERALL, notify=False)
    clock.now += 60
    assert gate.admit("d") is None


def test_refused_messages_do_not_count(clock):
    """Only answered messages fill the window: a flood does not lock a number out for good."""
    gate = FloodGate(FloodLimits(per_number=2, overall=100, window=60), clock)
    gate.admit("a")
    gate.admit("a")
    for _ in range(50):
        clock.now += 1
        assert gate.admit("a") is not None
    clock.now = 500 + 60
    assert gate.admit("a") is None


def test_memory_is_kept_only_for_the_window(clock):
    gate = FloodGate(FloodLimits(per_number=1, overall=1000, window=60), clock)
    for i in range(500):
        gate.admit(f"sender-{i}")
        gate.admit(f"sender-{i}")
    assert len(gate._by_sender) == 500 and len(gate._told) == 500
    clock.now += 60
    assert gate.admit("late") is None
    assert len(gate._by_sender) == 1 and len(gate._answered) == 1 and not gate._told


@pytest.mark.parametrize(
    "limits", [{"per_number": 0}, {"overall": 0}, {"window": 0}, {"per_number": -1}]
)
def test_limits_must_be_positive(limits):
    with pytest.raises(ValueError):
        FloodLimits(**limits)
