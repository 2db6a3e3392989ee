"""Opening hours from HSDS weekly schedules: is a service open now, and how to say its hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import TIMEZONE

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
END_OF_DAY = time(23, 59)


@dataclass(frozen=True)
class Hours:
    """One weekly opening: ``days`` are iCal codes (MO..SU); times are local to ``timezone``."""

    days: tuple[str, ...]
    opens: time
    closes: time
    timezone: str = TIMEZONE

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        if DAYS[local.weekday()] not in self.days:
            return False
        now = local.time()
        return (
            self.opens <= now <= self.closes
            if self.closes == END_OF_DAY
            else (self.opens <= now < self.closes)
        )

    @property
    def all_day(self) -> bool:
        return self.opens == time(0, 0) and self.closes == END_OF_DAY


def parse_days(byday: str) -> tuple[str, ...]:
    """``"MO,TU"`` or a range ``"MO-FR"`` (our seed's shorthand) to day codes."""
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


def is_24_7(hours: Iterable[Hours]) -> bool:
    covered = {d for h in hours if h.all_day for d in h.days}
    return covered == set(DAYS)


def is_open(hours: Iterable[Hours], at: datetime) -> bool | None:
    """True or False from the schedules; None when no hours are known."""
    hours = list(hours)
    if not hours:
        return None
    return any(h.is_open(at) for h in hours)


def _clock(t: time) -> str:
    if t == END_OF_DAY:
        return "midnight"
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    minutes = f":{t.minute:02d}" if t.minute else ""
    return f"{hour}{minutes}{suffix}"


def _day_span(days: tuple[str, ...]) -> str:
    idx = [DAYS.index(d) for d in days]
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{DAY_NAMES[idx[0]]}–{DAY_NAMES[idx[-1]]}"
    return ", ".join(DAY_NAMES[i] for i in idx)


def describe(hours: Iterable[Hours]) -> str | None:
    """``"24/7"`` or ``"Mon–Fri 8:30am–5pm"``; None when no hours are known."""
    hours = list(hours)
    if not hours:
        return None
    if is_24_7(hours):
        return "24/7"
    return "; ".join(
        f"{_day_span(h.days)} {'all day' if h.all_day else f'{_clock(h.opens)}–{_clock(h.closes)}'}"
        for h in hours
    )


def next_opening(hours: Iterable[Hours], at: datetime) -> datetime | None:
    """When a closed service next opens, within the coming week."""
    hours = list(hours)
    if not hours:
        return None
    candidates = []
    for h in hours:
        local = at.astimezone(ZoneInfo(h.timezone))
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if DAYS[day.weekday()] in h.days:
                opening = datetime.combine(day, h.opens, tzinfo=local.tzinfo)
                if opening > local:
                    candidates.append(opening)
                    break
    return min(candidates) if candidates else None


def describe_opening(when: datetime, at: datetime) -> str:
    local_at = at.astimezone(when.tzinfo)
    if when.date() == local_at.date():
        day = "today"
    elif when.date() == local_at.date() + timedelta(days=1):
        day = "tomorrow"
    else:
        day = DAY_NAMES[when.weekday()]
    return f"{day} at {_clock(when.time())}"
