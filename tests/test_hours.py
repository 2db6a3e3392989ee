from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FROZEN_TIME
from bot.directory.hours import Hours, describe, is_24_7, is_open, next_opening, parse_days
from bot.directory.present import hours_line
from bot.directory.query import ServiceView
from tests.conftest import SATURDAY_NIGHT, TUESDAY_MORNING

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


@pytest.mark.parametrize(
    ("frozen", "expected"),
    [
        (TUESDAY_MORNING, "Open now (Mon–Fri 8:30am–5pm)"),
        (SATURDAY_NIGHT, "Closed now, opens Mon at 8:30am (Mon–Fri 8:30am–5pm)"),
    ],
)
def test_without_a_time_open_now_follows_the_clock(monkeypatch, frozen, expected):
    office = ServiceView(
        id="office",
        name="Office",
        organization="Org",
        description=None,
        website=None,
        email=None,
        phones=(),
        hours=(WEEKDAYS,),
        needs={},
        audiences=(),
        area_keys=(),
        addresses=(),
        kaupapa_maori=False,
        free=None,
        fees_description=None,
        referral=None,
        eligibility=None,
        source="test",
        last_verified=None,
    )
    monkeypatch.setenv(FROZEN_TIME, frozen)
    assert office.is_open() is (frozen == TUESDAY_MORNING)
    assert hours_line(office) == expected  # as the search action words it
