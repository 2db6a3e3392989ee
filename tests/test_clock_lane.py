"""The clock lane (make test-clocks) runs every test that reads the clock, and only those.

``tests/conftest.py`` records, test by test, whether ``bot.clock`` was read; the
next collection marks the readers ``clock``. These tests run a small suite
through that conftest in a separate pytest, on two xdist workers, and check
what ``-m clock`` selects before and after.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from bot import clock
from bot.config import ROOT
from tests import conftest

pytest_plugins = ["pytester"]

SUITE = """
from datetime import datetime, timezone

import pytest

from bot import clock


@pytest.fixture
def opened_at():
    return clock.now()


def test_reads_the_clock():
    assert clock.now().tzinfo is not None


def test_a_fixture_reads_it(opened_at):
    assert opened_at.tzinfo is not None


def test_takes_its_time_as_a_parameter():
    assert datetime(2026, 12, 1, tzinfo=timezone.utc).weekday() == 1


@pytest.mark.xdist_group("model")
def test_in_an_xdist_group():
    assert True


@pytest.mark.clock
def test_a_subprocess_reads_it():
    pass


@pytest.mark.skip(reason="skipped before it could read the clock")
def test_skipped():
    clock.now()
"""
READERS = {
    "test_reads_the_clock",
    "test_a_fixture_reads_it",
    "test_a_subprocess_reads_it",
    "test_skipped",
}


def test_every_read_goes_through_the_watched_function():
    """``now()`` reads ``frozen()``, the function the conftest watches."""
    conftest._clock_read[0] = False
    clock.now()
    assert conftest._clock_read[0]


def _stamp():
    return clock.now()


def test_a_read_that_stamps_a_record_does_not_count(monkeypatch):
    """A read from a function in STAMPS leaves the test out of the lane; any other counts."""
    monkeypatch.setattr(conftest, "STAMPS", {(__name__, "_stamp")})
    conftest._clock_read[0] = False
    _stamp()
    assert not conftest._clock_read[0]
    clock.now()
    assert conftest._clock_read[0]


@pytest.mark.parametrize(("module", "name"), sorted(conftest.STAMPS))
def test_stamps_name_functions_that_read_the_clock(module, name):
    function = getattr(importlib.import_module(module), name)
    assert "clock.now()" in inspect.getsource(function)


# The small suite needs no Hypothesis: its pytest plugin imports it (a second of each
# process's start).
PLUGINS = ("-p", "no:hypothesispytest")


def selected(pytester: pytest.Pytester, *args: str) -> set[str]:
    result = pytester.runpytest_subprocess(*PLUGINS, "-m", "clock", "--collect-only", "-q", *args)
    return {line.split("::")[-1] for line in result.outlines if "::" in line}


@pytest.mark.processes
def test_the_lane_selects_the_tests_that_read_the_clock(pytester, monkeypatch):
    """Recorded on two xdist workers: what each test read reaches the controller, a test
    in an xdist group included."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(test_suite=SUITE)
    # Before the first run nothing is known: every test is in the lane.
    unknown = {"test_takes_its_time_as_a_parameter", "test_in_an_xdist_group"}
    assert selected(pytester) == READERS | unknown
    # --dist loadgroup, as make test runs: a test in a group is reported as "<id>@<group>".
    run = pytester.runpytest_subprocess(*PLUGINS, "-n", "2", "--dist", "loadgroup")
    run.assert_outcomes(passed=5, skipped=1)
    assert selected(pytester) == READERS
