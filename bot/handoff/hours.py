"""When a navigator team is staffed: weekly shifts in New Zealand time, across midnight too.

The directory's ``bot.directory.hours`` describes services open within one day
(a closing time of 23:59 means midnight); navigator shifts can run past
midnight, so a shift here is a start and an end that may fall on the next day.
Comparisons are made in UTC, so daylight-saving changes do not confuse them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from bot.config import NZ
from bot.directory.hours import DAYS, parse_days


@dataclass(frozen=True)
class Shift:
    """A weekly staffed period: ``weekday`` 0=Monday; NZ wall-clock times.

    When ``closes`` is not after ``opens`` the shift ends on the next day, so
    ``20:00–02:00`` runs past midnight and ``00:00–00:00`` is the whole day.
    """

    weekday: int
    opens: time
    closes: time

    def on(self, day: date) -> tuple[datetime, datetime]:
        """The shift starting on ``day`` (which must be its weekday), as UTC datetimes."""
        end_day = day + timedelta(days=1) if self.closes <= self.opens else day
        start = datetime.combine(day, self.opens, tzinfo=NZ)
        end = datetime.combine(end_day, self.closes, tzinfo=NZ)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def _periods(shifts: Iterable[Shift], now: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Every shift from the day before ``now`` (it may still be running) to a week after."""
    shifts = list(shifts)
    today = now.astimezone(NZ).date()
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        for shift in shifts:
            if shift.weekday == day.weekday():
                yield shift.on(day)


def is_open(shifts: Iterable[Shift], now: datetime) -> bool:
    now = _aware(now)
    return any(start <= now < end for start, end in _periods(shifts, now))


def next_opening(shifts: Iterable[Shift], now: datetime) -> datetime | None:
    """When someone is next there, in NZ time: ``now`` if staffed now; None without shifts."""
    now = _aware(now)
    periods = list(_periods(shifts, now))
    if any(start <= now < end for start, end in periods):
        return now.astimezone(NZ)
    starts = [start for start, _ in periods if start > now]
    return min(starts).astimezone(NZ) if starts else None


def parse_clock(text: Any) -> time:
    """``"08:30"``; ``"24:00"`` is midnight at the end of the day."""
    if not isinstance(text, str):
        raise ValueError(f"time {text!r} must be a quoted string like '08:30'")
    if text.strip() == "24:00":
        return time(0, 0)
    try:
        value = time.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"time {text!r} is not a time like '08:30'") from exc
    if value.second or value.microsecond or value.tzinfo:
        raise ValueError(f"time {text!r} must be hours and minutes")
    return value


def parse_hours(spec: Any) -> list[Shift]:
    """Hours as written in ``teams.yml``: empty, ``"24/7"`` or ``[{days, opens, closes}]``.

    Raises ``ValueError`` naming the bad item.
    """
    if spec in (None, []):
        return []
    if spec == "24/7":
        return [Shift(day, time(0, 0), time(0, 0)) for day in range(7)]
    if not isinstance(spec, list):
        raise ValueError(f"hours must be '24/7' or a list, not {spec!r}")
    shifts: list[Shift] = []
    for item in spec:
        if not isinstance(item, dict) or set(item) != {"days", "opens", "closes"}:
            raise ValueError(f"bad hours {item!r}: expected days, opens and closes")
        if not isinstance(item["days"], str):
            raise ValueError(f"bad hours {item!r}: days must be text like MO-FR")
        opens, closes = parse_clock(item["opens"]), parse_clock(item["closes"])
        shifts.extend(Shift(DAYS.index(code), opens, closes) for code in parse_days(item["days"]))
    return shifts
