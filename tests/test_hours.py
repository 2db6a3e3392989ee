from dataclasses import replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FROZEN_TIME
from bot.directory.hours import (
    MIDNIGHT,
    Opening,
    describe,
    from_schedule_row,
    is_24_7,
    is_open,
    next_opening,
    parse_days,
    parse_hours,
    schedule_row,
)
from bot.directory.present import hours_line
from bot.directory.query import ServiceView
from tests.conftest import SATURDAY_NIGHT, TUESDAY_MORNING

NZ = ZoneInfo("Pacific/Auckland")
WEEKDAYS = Opening(parse_days("MO-FR"), time(8, 30), time(17, 0))


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


def test_24_7_and_descriptions():
    [all_week] = parse_hours("24/7")
    assert is_24_7([all_week]) and describe([all_week]) == "24/7"
    assert describe([WEEKDAYS]) == "Mon–Fri 8:30am–5pm"
    assert describe([]) is None


def test_24_00_is_midnight_at_the_end_of_the_day():
    """services.yml takes "24:00" as teams.yml does (one parser, bot.directory.hours)."""
    [evenings] = parse_hours([{"days": "MO-FR", "opens": "18:00", "closes": "24:00"}])
    assert evenings == Opening(parse_days("MO-FR"), time(18, 0), MIDNIGHT)
    assert describe([evenings]) == "Mon–Fri 6pm–midnight"
    assert is_open([evenings], datetime(2026, 11, 30, 23, 59, 59, tzinfo=NZ))
    assert not is_open([evenings], datetime(2026, 12, 1, 0, 0, tzinfo=NZ))


def test_schedule_rows_keep_midnight_as_23_59():
    """HSDS rows say "until midnight" as 23:59, as the database has always held them."""
    [always] = parse_hours("24/7")
    assert schedule_row(always) == ("MO,TU,WE,TH,FR,SA,SU", MIDNIGHT, time(23, 59))
    assert from_schedule_row(*schedule_row(always), "Pacific/Auckland") == always
    assert from_schedule_row("MO,TU", time(9, 0), time(17, 0), "Pacific/Auckland") == Opening(
        ("MO", "TU"), time(9, 0), time(17, 0)
    )


def test_a_service_open_past_midnight():
    [late] = parse_hours([{"days": "FR", "opens": "20:00", "closes": "02:00"}])
    assert describe([late]) == "Fri 8pm–2am"
    assert is_open([late], datetime(2026, 12, 5, 1, 30, tzinfo=NZ))  # Saturday, Friday's night
    assert not is_open([late], datetime(2026, 12, 5, 2, 0, tzinfo=NZ))


def test_next_opening_after_the_weekend():
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=NZ)
    opening = next_opening([WEEKDAYS], saturday)
    assert (opening.weekday(), opening.hour, opening.minute) == (0, 8, 30)
    assert opening.utcoffset() == saturday.utcoffset()  # in New Zealand time


def test_bad_service_hours_are_refused():
    with pytest.raises(ValueError, match="bad hours"):
        parse_hours([{"days": "MO-FR", "opens": "9am", "closes": "17:00"}])


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
    assert replace(office, hours=()).is_open() is None  # no hours known
