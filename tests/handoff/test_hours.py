"""Team hours in New Zealand time: open now, next opening, across midnight, weekends and DST."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.directory.hours import DAYS, MIDNIGHT, parse_hours
from bot.handoff.models import NavigatorTeam, NavigatorTeamHours
from bot.handoff.service import next_opening, team_open_now

NZ = ZoneInfo("Pacific/Auckland")


def team(spec) -> NavigatorTeam:
    return NavigatorTeam(
        id="t",
        hours=[
            NavigatorTeamHours(weekday=DAYS.index(day), opens_at=s.opens, closes_at=s.closes)
            for s in parse_hours(spec)
            for day in s.days
        ],
    )


OFFICE = team([{"days": "MO-FR", "opens": "08:30", "closes": "17:00"}])
NIGHTS = team([{"days": "FR-SA", "opens": "20:00", "closes": "02:00"}])
SUNDAY_NIGHT = team([{"days": "SU", "opens": "22:00", "closes": "06:00"}])


def nz(*args: int) -> datetime:
    return datetime(*args, tzinfo=NZ)


@pytest.mark.parametrize(
    "the_team, at, open_, next_",
    [
        (OFFICE, nz(2026, 12, 1, 11, 0), True, nz(2026, 12, 1, 11, 0)),  # Tuesday: now
        (OFFICE, nz(2026, 12, 1, 8, 29), False, nz(2026, 12, 1, 8, 30)),
        (OFFICE, nz(2026, 12, 4, 17, 0), False, nz(2026, 12, 7, 8, 30)),  # Fri closing time
        (OFFICE, nz(2026, 12, 5, 10, 0), False, nz(2026, 12, 7, 8, 30)),  # Saturday
        (OFFICE, nz(2026, 12, 6, 23, 59), False, nz(2026, 12, 7, 8, 30)),  # Sunday night
        (NIGHTS, nz(2026, 12, 4, 19, 59), False, nz(2026, 12, 4, 20, 0)),
        (NIGHTS, nz(2026, 12, 4, 23, 30), True, nz(2026, 12, 4, 23, 30)),
        (NIGHTS, nz(2026, 12, 5, 1, 59), True, nz(2026, 12, 5, 1, 59)),  # Friday's shift, Sat
        (NIGHTS, nz(2026, 12, 5, 2, 0), False, nz(2026, 12, 5, 20, 0)),
        (NIGHTS, nz(2026, 12, 6, 1, 0), True, nz(2026, 12, 6, 1, 0)),  # Saturday's, into Sunday
        (NIGHTS, nz(2026, 12, 6, 3, 0), False, nz(2026, 12, 11, 20, 0)),  # next Friday
        (SUNDAY_NIGHT, nz(2026, 12, 7, 5, 0), True, nz(2026, 12, 7, 5, 0)),  # the week wraps
        (SUNDAY_NIGHT, nz(2026, 12, 7, 6, 0), False, nz(2026, 12, 13, 22, 0)),
    ],
)
def test_open_now_and_next_opening(the_team, at, open_, next_):
    assert team_open_now(the_team, at) is open_
    assert next_opening(the_team, at) == next_
    assert next_opening(the_team, at).utcoffset() == next_.utcoffset()  # NZ time


def test_utc_clock_is_read_in_new_zealand_time():
    tuesday_9am_nz = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)
    assert team_open_now(OFFICE, tuesday_9am_nz)
    friday_5pm_utc = datetime(2026, 12, 4, 17, 0, tzinfo=timezone.utc)  # Sat 6am in NZ
    assert not team_open_now(OFFICE, friday_5pm_utc)


def test_a_night_shift_across_the_daylight_saving_change():
    # NZ daylight saving starts Sunday 27 September 2026: 2am becomes 3am.
    shift = team([{"days": "SA", "opens": "22:00", "closes": "04:00"}])
    assert team_open_now(shift, nz(2026, 9, 27, 3, 30))
    assert not team_open_now(shift, nz(2026, 9, 27, 4, 0))
    assert next_opening(shift, nz(2026, 9, 27, 4, 0)) == nz(2026, 10, 3, 22, 0)


def test_24_7_and_midnight_notation():
    always = team("24/7")
    for at in (nz(2026, 12, 5, 0, 0), nz(2026, 12, 6, 23, 59), nz(2026, 12, 1, 12, 0)):
        assert team_open_now(always, at) and next_opening(always, at) == at
    evenings = team([{"days": "MO", "opens": "18:00", "closes": "24:00"}])
    assert team_open_now(evenings, nz(2026, 11, 30, 23, 59))
    assert not team_open_now(evenings, nz(2026, 12, 1, 0, 0))


def test_no_hours_means_nobody_rostered():
    empty = team([])
    assert not team_open_now(empty, nz(2026, 12, 1, 11, 0))
    assert next_opening(empty, nz(2026, 12, 1, 11, 0)) is None


def test_a_naive_clock_is_refused():
    with pytest.raises(ValueError):
        team_open_now(OFFICE, datetime(2026, 12, 1, 11, 0))


@pytest.mark.parametrize(
    "spec",
    [
        "weekdays",
        [{"days": "XX", "opens": "09:00", "closes": "17:00"}],
        [{"days": "MO", "opens": "9am", "closes": "17:00"}],
        [{"days": "MO", "opens": "09:00"}],
        [{"days": "MO", "opens": "09:00", "closes": "17:00", "note": "x"}],
        [{"days": "MO", "opens": "09:00:30", "closes": "17:00"}],
        [{"days": 1, "opens": "09:00", "closes": "17:00"}],
    ],
)
def test_bad_hours_are_refused(spec):
    with pytest.raises(ValueError):
        parse_hours(spec)


def test_parse_hours_reads_days_and_times():
    [shift] = parse_hours([{"days": "MO-FR", "opens": "08:30", "closes": "24:00"}])
    assert shift.days == ("MO", "TU", "WE", "TH", "FR")
    assert (shift.opens, shift.closes) == (time(8, 30), MIDNIGHT)
