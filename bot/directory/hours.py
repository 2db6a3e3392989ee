"""Weekly opening hours: one model and one parser for services and navigator teams.

An ``Opening`` runs from ``opens`` on each of its days until ``closes``, on the
next day when ``closes`` is not after ``opens``: 20:00–02:00 runs past midnight,
18:00–24:00 ends at midnight and 00:00–00:00 is the whole day. Times are wall
clock in the opening's time zone (New Zealand); comparisons are made in UTC, so
daylight-saving changes do not confuse them.

``data/directory/services.yml`` and ``data/handoff/teams.yml`` write hours the
same way (``parse_hours``). A service's hours are kept as HSDS schedule rows,
which say "until midnight" as 23:59 (``schedule_row``, ``from_schedule_row``);
a team's as one row per weekday (``bot.handoff.models.NavigatorTeamHours``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import TIMEZONE

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIDNIGHT = time(0, 0)
# An HSDS schedule row's closing time for "until midnight" (a time of day cannot be 24:00).
END_OF_DAY = time(23, 59)


@dataclass(frozen=True)
class Opening:
    """One weekly open period: ``days`` are iCal codes (MO..SU); times are local to ``timezone``."""

    days: tuple[str, ...]
    opens: time
    closes: time
    timezone: str = TIMEZONE

    @property
    def all_day(self) -> bool:
        return self.opens == self.closes == MIDNIGHT

    def on(self, day: date) -> tuple[datetime, datetime]:
        """The period starting on ``day`` (one of its days), as UTC datetimes."""
        zone = ZoneInfo(self.timezone)
        end_day = day + timedelta(days=1) if self.closes <= self.opens else day
        start = datetime.combine(day, self.opens, tzinfo=zone)
        end = datetime.combine(end_day, self.closes, tzinfo=zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the time must be timezone-aware")
    return at.astimezone(timezone.utc)


def _periods(
    openings: Iterable[Opening], at: datetime
) -> Iterator[tuple[datetime, datetime, Opening]]:
    """Every period from the day before ``at`` (it may still be running) to a week after."""
    for opening in openings:
        today = at.astimezone(ZoneInfo(opening.timezone)).date()
        for offset in range(-1, 9):
            day = today + timedelta(days=offset)
            if DAYS[day.weekday()] in opening.days:
                yield (*opening.on(day), opening)


def is_open(openings: Iterable[Opening], at: datetime) -> bool:
    """Whether any opening covers ``at`` (a timezone-aware time); False without openings."""
    at = _aware(at)
    return any(start <= at < end for start, end, _ in _periods(openings, at))


def next_opening(openings: Iterable[Opening], at: datetime) -> datetime | None:
    """When next open, in the opening's time zone: ``at`` itself if open then; None without
    openings."""
    at = _aware(at)
    periods = list(_periods(openings, at))
    for start, end, opening in periods:
        if start <= at < end:
            return at.astimezone(ZoneInfo(opening.timezone))
    later = [(start, opening) for start, _, opening in periods if start > at]
    if not later:
        return None
    start, opening = min(later, key=lambda pair: pair[0])
    return start.astimezone(ZoneInfo(opening.timezone))


def is_24_7(openings: Iterable[Opening]) -> bool:
    covered = {d for o in openings if o.all_day for d in o.days}
    return covered == set(DAYS)


# Reading hours as the data files write them ---------------------------------------------


def parse_days(byday: str) -> tuple[str, ...]:
    """``"MO,TU"`` or a range ``"MO-FR"`` (our data's shorthand) to day codes, in week order."""
    days: list[str] = []
    for part in byday.upper().replace(" ", "").split(","):
        if "-" in part:
            start, end = part.split("-")
            days.extend(DAYS[DAYS.index(start) : DAYS.index(end) + 1])
        elif part:
            if part not in DAYS:
                raise ValueError(f"unknown day {part!r}")
            days.append(part)
    return tuple(d for d in DAYS if d in days)


def parse_clock(text: Any) -> time:
    """``"08:30"``; ``"24:00"`` is midnight at the end of the day."""
    if not isinstance(text, str):
        raise ValueError(f"time {text!r} must be a quoted string like '08:30'")
    if text.strip() == "24:00":
        return MIDNIGHT
    try:
        value = time.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"time {text!r} is not a time like '08:30'") from exc
    if value.second or value.microsecond or value.tzinfo:
        raise ValueError(f"time {text!r} must be hours and minutes")
    return value


def parse_hours(spec: Any) -> list[Opening]:
    """Hours as the data files write them: empty, ``"24/7"`` or ``[{days, opens, closes}]``.

    Raises ``ValueError`` naming the bad item.
    """
    if spec in (None, []):
        return []
    if spec == "24/7":
        return [Opening(DAYS, MIDNIGHT, MIDNIGHT)]
    if not isinstance(spec, list):
        raise ValueError(f"hours must be '24/7' or a list, not {spec!r}")
    openings = []
    for item in spec:
        try:
            openings.append(_opening(item))
        except ValueError as exc:
            raise ValueError(f"bad hours {item!r}: {exc}") from exc
    return openings


def _opening(item: Any) -> Opening:
    if not isinstance(item, dict) or set(item) != {"days", "opens", "closes"}:
        raise ValueError("expected days, opens and closes")
    if not isinstance(item["days"], str):
        raise ValueError("days must be text like MO-FR")
    return Opening(
        parse_days(item["days"]), parse_clock(item["opens"]), parse_clock(item["closes"])
    )


def schedule_row(opening: Opening) -> tuple[str, time, time]:
    """An opening as an HSDS schedule row's ``byday``, ``opens_at`` and ``closes_at``."""
    closes = END_OF_DAY if opening.closes == MIDNIGHT else opening.closes
    return ",".join(opening.days), opening.opens, closes


def from_schedule_row(byday: str, opens: time, closes: time, zone: str) -> Opening:
    """The opening an HSDS schedule row stands for (23:59 closing: until midnight)."""
    return Opening(parse_days(byday), opens, MIDNIGHT if closes == END_OF_DAY else closes, zone)


# Saying hours in a message -----------------------------------------------------------------


def _clock(t: time) -> str:
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    minutes = f":{t.minute:02d}" if t.minute else ""
    return f"{hour}{minutes}{suffix}"


def _day_span(days: tuple[str, ...]) -> str:
    idx = [DAYS.index(d) for d in days]
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{DAY_NAMES[idx[0]]}–{DAY_NAMES[idx[-1]]}"
    return ", ".join(DAY_NAMES[i] for i in idx)


def _span(opening: Opening) -> str:
    if opening.all_day:
        return "all day"
    closes = "midnight" if opening.closes == MIDNIGHT else _clock(opening.closes)
    return f"{_clock(opening.opens)}–{closes}"


def describe(openings: Iterable[Opening]) -> str | None:
    """``"24/7"`` or ``"Mon–Fri 8:30am–5pm"``; None when no hours are known."""
    openings = list(openings)
    if not openings:
        return None
    if is_24_7(openings):
        return "24/7"
    return "; ".join(f"{_day_span(o.days)} {_span(o)}" for o in openings)


def describe_opening(when: datetime, at: datetime) -> str:
    local_at = at.astimezone(when.tzinfo)
    if when.date() == local_at.date():
        day = "today"
    elif when.date() == local_at.date() + timedelta(days=1):
        day = "tomorrow"
    else:
        day = DAY_NAMES[when.weekday()]
    return f"{day} at {_clock(when.time())}"
