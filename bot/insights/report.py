"""The figures on the insights page, the CSV and the monthly report, all suppressed.

Everything is counted by calendar month (bot/insights/suppress.py, rule 3): a
demand record's week belongs to the month of its Thursday; a handoff request to
the month it was made in, New Zealand time. Each month's tables are suppressed,
then combined over the period asked.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import product

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import NZ
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.handoff.models import OUTCOMES as HANDOFF_OUTCOMES
from bot.handoff.models import HandoffEvent, HandoffRequest, NavigatorTeam
from bot.insights.demand import area_rules
from bot.insights.models import DemandRecord
from bot.insights.suppress import TOTAL, Table, combine, protect

NOT_GIVEN = "not_given"
ELSEWHERE = "elsewhere"
UNSPECIFIED = "unspecified"
NOT_LOCAL = ("regional", "national", "nothing")
# The handoff funnel, in order; a request stops at the last step it reached.
STAGES = ("sent", "claimed", "in_contact", "closed")
# Searches, and those the same week followed by each step of a handoff.
SEARCH_STAGES = ("searched", "asked", "consented", "sent")
STAGE_EVENTS = {"claimed": "claimed", "in_contact": "in_contact", "closed": "closed"}
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MAX_MONTHS = 36
COUNT = "count"


class FilterError(ValueError):
    """A filter on the page or the export that cannot be used; the message says why."""


def month_of_week(week: date) -> str:
    """The month a week belongs to: its Thursday's (as ISO 8601 numbers weeks)."""
    return (week + timedelta(days=3)).strftime("%Y-%m")


def _month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_between(first: str, last: str) -> list[str]:
    months, day = [], _month_start(first)
    while day <= _month_start(last):
        months.append(day.strftime("%Y-%m"))
        day = _next_month(day)
    return months


def period_label(filters: Filters) -> str:
    """ "October 2026", or "September 2026 to November 2026"."""
    first, last = (_month_start(m).strftime("%B %Y") for m in (filters.first, filters.last))
    return first if first == last else f"{first} to {last}"


def areas() -> tuple[str, ...]:
    """The columns: named towns, the districts, the region as a whole, elsewhere, not given."""
    places = gazetteer().places
    towns = tuple(area_rules().town_populations)
    districts = tuple(
        k for k, p in places.items() if p.kind == "district" and p.parent == "west-coast"
    )
    return (*towns, *districts, "west-coast", ELSEWHERE, NOT_GIVEN)


def needs() -> tuple[str, ...]:
    return (*(c for c in taxonomies().needs if c != "general"), "general", UNSPECIFIED)


def area_label(key: str) -> str:
    labels = {NOT_GIVEN: "No place given", ELSEWHERE: "Outside the Coast"}
    if key in labels:
        return labels[key]
    place = gazetteer().get(key)
    if key == "west-coast":
        return "West Coast (region)"
    return place.name if place else key


def need_label(code: str) -> str:
    need = taxonomies().needs.get(code)
    return need.name if need else "Not said"


@dataclass(frozen=True)
class Filters:
    first: str  # "YYYY-MM"
    last: str
    area: str | None = None
    need: str | None = None

    @property
    def months(self) -> list[str]:
        return months_between(self.first, self.last)

    @classmethod
    def parse(cls, query: dict[str, str], today: date) -> Filters:
        """From the page's query string; a bad value raises ``FilterError``."""
        this_month = today.strftime("%Y-%m")
        default_first = _month_start(this_month)
        for _ in range(2):
            default_first = (default_first - timedelta(days=1)).replace(day=1)
        first = query.get("from") or default_first.strftime("%Y-%m")
        last = query.get("to") or this_month
        for name, value in (("from", first), ("to", last)):
            if not MONTH.fullmatch(value):
                raise FilterError(f"'{name}' must be a month written YYYY-MM, such as 2026-11.")
        if first > last:
            raise FilterError("'from' must be the same month as 'to' or before it.")
        if len(months_between(first, last)) > MAX_MONTHS:
            raise FilterError(f"A period is at most {MAX_MONTHS} months.")
        area = query.get("area") or None
        if area is not None and area not in areas():
            raise FilterError("'area' must be one of: " + ", ".join(areas()) + ".")
        need = query.get("need") or None
        if need is not None and need not in needs():
            raise FilterError("'need' must be one of: " + ", ".join(needs()) + ".")
        return cls(first, last, area, need)


@dataclass
class Report:
    filters: Filters
    demand: Table  # need x area
    gap: dict[tuple[str, str], float | None]  # need x area: share with nothing local
    by_month: dict[str, Table]  # month -> need x area, for the chart over time
    channels: Table
    reo: Table
    funnel: dict[str, int | None]
    outcomes: Table
    asked: dict[str, int | None] = field(default_factory=dict)
    timings: list[dict[str, object]] = field(default_factory=list)
    demo: bool = False

    @property
    def rows(self) -> tuple[str, ...]:
        return tuple(r for r in self.demand.rows if self.filters.need in (None, r))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.demand.columns if self.filters.area in (None, c))


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    start = _month_start(month)
    return (
        datetime(start.year, start.month, 1, tzinfo=NZ),
        datetime(*_next_month(start).timetuple()[:3], tzinfo=NZ),
    )


def _records(session: Session, months: list[str]) -> list[DemandRecord]:
    first = _month_start(months[0]) - timedelta(days=7)
    last = _next_month(_month_start(months[-1]))
    stmt = select(DemandRecord).where(DemandRecord.week >= first, DemandRecord.week < last)
    return [r for r in session.scalars(stmt) if month_of_week(r.week) in months]


def _area_column(area: str | None) -> str:
    if area is None:
        return NOT_GIVEN
    return area if area in areas() else ELSEWHERE


def _by_month(
    records: Iterable[DemandRecord], months: list[str], rows: tuple, columns: tuple, cell
) -> dict[str, Table]:
    counts: dict[str, Counter] = {m: Counter() for m in months}
    for record in records:
        key = cell(record)
        if key is not None:
            counts[month_of_week(record.week)][key] += 1
    return {m: protect(counts[m], rows, columns) for m in months}


def _gap(records: list[DemandRecord], months: list[str]) -> dict[tuple[str, str], float | None]:
    """Share of searches with a place that found nothing local, by need and area; None
    where the searches that did or did not find something local are hidden."""
    rows, columns = needs(), areas()

    def searches(not_local: bool):
        def cell(r: DemandRecord):
            if r.area is None or (r.outcome in NOT_LOCAL) != not_local:
                return None
            return (r.need or UNSPECIFIED, _area_column(r.area))

        return cell

    missing = combine(list(_by_month(records, months, rows, columns, searches(True)).values()))
    found = combine(list(_by_month(records, months, rows, columns, searches(False)).values()))
    shares: dict[tuple[str, str], float | None] = {}
    for r in rows:
        for c in columns:
            gone, here = missing.value(r, c), found.value(r, c)
            shares[(r, c)] = None if gone is None or here is None else gone / (gone + here)
    return shares


def _one_column(counts: Counter, rows: tuple[Hashable, ...]) -> Table:
    return protect({(r, COUNT): counts[r] for r in rows}, rows, (COUNT,))


def _requests(session: Session, months: list[str]) -> list[tuple[HandoffRequest, dict]]:
    start, _ = _month_bounds(months[0])
    _, end = _month_bounds(months[-1])
    stmt = select(HandoffRequest).where(
        HandoffRequest.created_at >= start, HandoffRequest.created_at < end
    )
    requests = list(session.scalars(stmt))
    firsts: dict[str, dict[str, datetime]] = defaultdict(dict)
    if requests:
        moves = (
            select(HandoffEvent.request_id, HandoffEvent.kind, func.min(HandoffEvent.at))
            .where(
                HandoffEvent.request_id.in_([r.id for r in requests]),
                HandoffEvent.kind.in_(tuple(STAGE_EVENTS.values())),
            )
            .group_by(HandoffEvent.request_id, HandoffEvent.kind)
        )
        for request_id, kind, at in session.execute(moves):
            firsts[request_id][kind] = at
    return [(r, firsts[r.id]) for r in requests]


def _stage(moves: dict[str, datetime], request: HandoffRequest) -> str:
    reached = "sent"
    for stage in STAGES[1:]:
        if STAGE_EVENTS[stage] in moves or (stage == "closed" and request.status == "closed"):
            reached = stage
    return reached


def _steps(
    stops: Counter, smallest: int, stages: tuple[str, ...] = STAGES
) -> dict[str, int | None]:
    """A month's count reaching each step (at least ``smallest``), where any two shown
    steps differ by ``smallest`` or more, so no difference gives a small count."""
    steps: dict[str, int | None] = {}
    above = None
    for i, stage in enumerate(stages):
        reached = sum(stops[s] for s in stages[i:])
        shown = reached >= smallest and (above is None or above - reached >= smallest)
        steps[stage] = reached if shown else None
        above = reached if shown else above
    return steps


def _over_months(monthly: list[dict[str, int | None]]) -> dict[str, int | None]:
    """Steps over the period: shown only when shown in every month (rule 3)."""
    return {
        stage: None
        if any(steps[stage] is None for steps in monthly)
        else sum(steps[stage] for steps in monthly)
        for stage in monthly[0]
    }


def _asked(records: list[DemandRecord], months: list[str]) -> dict[str, int | None]:
    """Searches, then those followed by asking for a navigator, consenting, a request."""
    smallest = area_rules().smallest_shown_count
    stops: dict[str, Counter] = {m: Counter() for m in months}
    for r in records:
        stage = (
            "sent"
            if r.handoff
            else "consented"
            if r.handoff_consented
            else "asked"
            if r.handoff_asked
            else "searched"
        )
        stops[month_of_week(r.week)][stage] += 1
    return _over_months([_steps(stops[m], smallest, SEARCH_STAGES) for m in months])


def _funnel(requests, months: list[str]) -> tuple[dict[str, int | None], Table]:
    """Requests reaching each step, and the closed ones' outcomes, by month then combined
    (shown over the period only when shown in every month, as in suppress.py's rule 3).

    The outcomes add up to the closed requests: where the month's closed count is
    hidden, so are all of that month's outcomes.
    """
    smallest = area_rules().smallest_shown_count
    stops: dict[str, Counter] = {m: Counter() for m in months}
    outcomes: dict[str, Counter] = {m: Counter() for m in months}
    for request, moves in requests:
        month = request.created_at.astimezone(NZ).strftime("%Y-%m")
        if month not in stops:
            continue
        stage = _stage(moves, request)
        stops[month][stage] += 1
        if stage == "closed":
            outcomes[month][request.outcome or "other"] += 1
    monthly = [_steps(stops[m], smallest) for m in months]
    funnel = _over_months(monthly)
    closed = combine(
        [
            protect(
                {(o, COUNT): outcomes[m][o] for o in HANDOFF_OUTCOMES},
                HANDOFF_OUTCOMES,
                (COUNT,),
                hidden=set(product((*HANDOFF_OUTCOMES, TOTAL), (COUNT, TOTAL)))
                if steps["closed"] is None
                else (),
            )
            for m, steps in zip(months, monthly, strict=True)
        ]
    )
    return funnel, closed


def _timings(session: Session, requests, smallest: int) -> list[dict[str, object]]:
    """Median hours to first contact and to close, by team and week (the week the
    request was made); a median over fewer than ``smallest`` requests is not shown."""
    names = dict(session.execute(select(NavigatorTeam.id, NavigatorTeam.name)).all())
    groups: dict[tuple[str, date], dict[str, list[float]]] = defaultdict(
        lambda: {"contact": [], "close": []}
    )
    for request, moves in requests:
        made = request.created_at
        week = made.astimezone(NZ).date() - timedelta(days=made.astimezone(NZ).weekday())
        group = groups[(names.get(request.team_id, "Unknown team"), week)]
        if "in_contact" in moves:
            group["contact"].append((moves["in_contact"] - made).total_seconds() / 3600)
        if "closed" in moves:
            group["close"].append((moves["closed"] - made).total_seconds() / 3600)

    def median(hours: list[float]) -> float | None:
        return round(statistics.median(hours), 1) if len(hours) >= smallest else None

    return [
        {
            "team": team,
            "week": week,
            "contact_hours": median(group["contact"]),
            "close_hours": median(group["close"]),
        }
        for (team, week), group in sorted(groups.items(), key=lambda item: item[0])
    ]


def _in(records: list[DemandRecord], month: str, column: str) -> Counter:
    return Counter(getattr(r, column) for r in records if month_of_week(r.week) == month)


def build(session: Session, filters: Filters) -> Report:
    months = filters.months
    records = _records(session, months)
    rows, columns = needs(), areas()

    def demand_cell(r: DemandRecord):
        return (r.need or UNSPECIFIED, _area_column(r.area))

    by_month = _by_month(records, months, rows, columns, demand_cell)
    # The channel, te reo and handoff tables are for the whole region whatever the
    # filters: one of them for a district, next to the whole, would give the rest away.
    channels = tuple(sorted({r.channel for r in records})) or ("rest",)
    channel_table = combine([_one_column(_in(records, m, "channel"), channels) for m in months])
    reo_table = combine([_one_column(_in(records, m, "reo"), (True, False)) for m in months])
    requests = _requests(session, months)
    funnel, outcomes = _funnel(requests, months)
    return Report(
        filters=filters,
        demand=combine(list(by_month.values())),
        gap=_gap(records, months),
        by_month=by_month,
        channels=channel_table,
        reo=reo_table,
        funnel=funnel,
        outcomes=outcomes,
        asked=_asked(records, months),
        timings=_timings(session, requests, area_rules().smallest_shown_count),
        demo=any(r.demo for r in records),
    )


def _count(value: int | None) -> str:
    return "fewer than 5" if value is None else str(value)


def summaries(report: Report) -> dict[str, str]:
    """A paragraph per district for the leadership group, from shown figures only."""
    paragraphs = {}
    districts = [c for c in report.columns if c not in (NOT_GIVEN, ELSEWHERE, "west-coast")]
    for area in districts:
        total = report.demand.value(TOTAL, area)
        ranked = sorted(
            (r for r in report.rows if report.demand.value(r, area)),
            key=lambda r: -(report.demand.value(r, area) or 0),
        )[:3]
        top = ", ".join(f"{need_label(r).lower()} ({report.demand.value(r, area)})" for r in ranked)
        gaps = sorted(
            ((share, r) for (r, c), share in report.gap.items() if c == area and share),
            reverse=True,
        )[:2]
        text = f"{_count(total)} searches named {area_label(area)}."
        if top:
            text += f" Most asked for: {top}."
        if gaps:
            worst = " and ".join(f"{need_label(r).lower()} ({share:.0%})" for share, r in gaps)
            text += f" Nothing local was found most often for {worst}."
        else:
            text += " Too few searches to show where nothing local was found."
        paragraphs[area] = text
    return paragraphs


CSV_HEADER = ("from", "to", "need", "area", "searches", "nothing_local_share", "demo")


def csv_rows(report: Report) -> list[tuple[str, ...]]:
    """The need x area table, hidden figures written "fewer than 5"."""
    rows = []
    for need in (*report.rows, TOTAL):
        for area in (*report.columns, TOTAL):
            share = report.gap.get((need, area))
            rows.append(
                (
                    report.filters.first,
                    report.filters.last,
                    "all" if need == TOTAL else need,
                    "all" if area == TOTAL else area,
                    _count(report.demand.value(need, area)),
                    "" if share is None else f"{share:.3f}",
                    "yes" if report.demo else "no",
                )
            )
    return rows
