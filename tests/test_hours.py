from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.directory.hours import Hours, describe, is_24_7, is_open, next_opening, parse_days

NZ = ZoneInfo("Pacific/Auckland")
WEEKDAYS = Hours(parse_days("MO-FR"), time(8, 30), time(17, 0))


def test_parse_days_ranges_and_lists():
    assert parse_days("MO-FR") == ("MO", "TU", "WE", "TH", "FR")
    assert parse_days("SA,MO") == ("MO", "SA")
    with pytest.raises(ValueError):
        parse_days("XX")


def test_open_in_nz_time_whatever_the_server_clock():
    utc_monday_morning_nz = datetime(2026, 11, 29, 20, 0, tzinfo=ZoneInfo("UTC"))  # Mon 9am NZDT
    assert is_open([WEEKDAYS], utc_monday_morning_nz) is True
    assert is_open([WEEKDAYS], datetime(2026, 11, 28, 10, 0, tzinfo=NZ)) is False  # Saturday
    assert is_open([WEEKDAYS], datetime(2026, 11, 30, 17, 0, tzinfo=NZ)) is False  # closing time
    assert is_open([], datetime(2026, 11, 30, 10, 0, tzinfo=NZ)) is None


def test_24_7_and_descriptions():
    all_week = Hours(parse_days("MO-SU"), time(0, 0), time(23, 59))
    assert is_24_7([all_week]) and describe([all_week]) == "24/7"
    assert describe([WEEKDAYS]) == "Mon–Fri 8:30am–5pm"
    assert describe([]) is None


def test_next_opening_after_the_weekend():
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=NZ)
    opening = next_opening([WEEKDAYS], saturday)
    assert (opening.weekday(), opening.hour, opening.minute) == (0, 8, 30)
