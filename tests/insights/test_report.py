"""The figures behind the insights page: filters, months, gaps, summaries, CSV, demo data."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.db import session_scope
from bot.handoff.accounts import create_navigator
from bot.handoff.models import HandoffRequest
from bot.handoff.routing import load_teams
from bot.handoff.service import claim, close, mark_in_contact, submit
from bot.insights import charts, demo, report
from bot.insights.models import DemandRecord
from bot.insights.suppress import TOTAL
from tests.handoff.conftest import DRAFT

TODAY = date(2026, 11, 28)


def test_the_default_period_is_this_month_and_the_two_before() -> None:
    filters = report.Filters.parse({}, TODAY)
    assert filters.months == ["2026-09", "2026-10", "2026-11"]
    january = report.Filters.parse({}, date(2027, 1, 5))
    assert january.months == ["2026-11", "2026-12", "2027-01"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13"}, "'from' must be a month written YYYY-MM"),
        ({"to": "last week"}, "'to' must be a month"),
        ({"from": "2026-11", "to": "2026-10"}, "same month as 'to' or before"),
        ({"from": "2020-01", "to": "2026-11"}, "at most 36 months"),
        ({"area": "atlantis"}, "'area' must be one of: buller"),
        ({"need": "<script>"}, "'need' must be one of: drugs_alcohol"),
    ],
)
def test_bad_filters_are_refused_with_a_clear_message(query: dict, message: str) -> None:
    with pytest.raises(report.FilterError, match=message):
        report.Filters.parse(query, TODAY)


def test_a_period_is_named_in_words() -> None:
    one = report.Filters.parse({"from": "2026-10", "to": "2026-10"}, TODAY)
    assert report.period_label(one) == "October 2026"
    assert report.period_label(report.Filters.parse({}, TODAY)) == "September 2026 to November 2026"


def test_a_week_belongs_to_the_month_of_its_thursday() -> None:
    assert report.month_of_week(date(2026, 8, 31)) == "2026-09"  # Thu 3 September
    assert report.month_of_week(date(2026, 9, 28)) == "2026-10"  # Thu 1 October
    assert report.month_of_week(date(2026, 9, 21)) == "2026-09"


def _add(url: str, week: date, need: str, area: str | None, outcome: str, n: int) -> None:
    with session_scope(url) as session:
        session.add_all(
            DemandRecord(week=week, need=need, area=area, channel="sms", reo=False,
                         outcome=outcome, handoff=False, demo=False)
            for _ in range(n)
        )  # fmt: skip


def test_counts_and_the_share_with_nothing_local(db_url: str) -> None:
    week = date(2026, 11, 9)
    _add(db_url, week, "housing", "buller", "local", 12)
    _add(db_url, week, "housing", "buller", "national", 8)
    _add(db_url, week, "housing", "grey", "nothing", 3)
    _add(db_url, week, "housing", "grey", "local", 30)
    _add(db_url, week, "drugs_alcohol", "buller", "local", 10)
    _add(db_url, week, "drugs_alcohol", "grey", "local", 10)
    _add(db_url, week, "housing", None, "no_place", 9)
    _add(db_url, week - timedelta(weeks=20), "housing", "buller", "local", 50)  # not in period
    filters = report.Filters.parse({"from": "2026-11", "to": "2026-11"}, TODAY)
    with session_scope(db_url) as session:
        built = report.build(session, filters)
    assert built.demand.value("housing", "buller") == 20
    assert built.demand.value("housing", "grey") == 33
    assert built.demand.value("housing", report.NOT_GIVEN) == 9
    assert built.gap[("housing", "buller")] == pytest.approx(0.4)
    assert built.gap[("housing", "grey")] is None  # 3 found nothing: fewer than 5
    assert built.demand.value(TOTAL, TOTAL) == 82
    assert built.channels.value("sms", report.COUNT) == 82
    assert not built.demo
    assert built.funnel == {stage: None for stage in report.STAGES}  # no requests: all < 5
    assert built.asked == {"searched": 82, "asked": None, "consented": None, "sent": None}
    summary = report.summaries(built)["buller"]
    assert summary.startswith("30 searches named Buller.")
    assert "housing and emergency accommodation (40%)" in summary
    rows = report.csv_rows(built)
    assert ("2026-11", "2026-11", "housing", "buller", "20", "0.400", "no") in rows
    assert all(r[4] != "3" for r in rows)


def test_filters_pick_rows_and_columns_of_the_same_table(db_url: str) -> None:
    _add(db_url, date(2026, 11, 9), "housing", "westland", "local", 7)
    query = {"from": "2026-11", "to": "2026-11", "area": "westland", "need": "housing"}
    with session_scope(db_url) as session:
        built = report.build(session, report.Filters.parse(query, TODAY))
    assert (built.rows, built.columns) == (("housing",), ("westland",))
    assert [r[2:5] for r in report.csv_rows(built)][:1] == [("housing", "westland", "7")]


def test_demo_history_is_marked_and_drawn(db_url: str) -> None:
    with session_scope(db_url) as session:
        written = demo.write(session, TODAY, weeks=13)
    with session_scope(db_url) as session:
        assert demo.write(session, TODAY, weeks=13) == written  # replaced, not added
        built = report.build(session, report.Filters.parse({}, TODAY))
    assert built.demo and written > 13 * 90
    assert built.demand.value(TOTAL, TOTAL) is not None
    assert all(row[-1] == "yes" for row in report.csv_rows(built))
    assert charts.svg(charts.gap_map(built)).startswith("<svg")
    assert charts.monthly_pdf(built, report.summaries(built)).startswith(b"%PDF")


def test_the_funnel_outcomes_and_times_come_from_the_event_log(seeded_url: str) -> None:
    """Seven Greymouth requests in November: all claimed, six in contact (after 2 h),
    five closed (after 10 h) as no capacity. A step is shown only 5 or more below the
    one shown above it, so no difference between steps gives a small count."""
    made = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
    with session_scope(seeded_url) as session:
        load_teams(session)
        ids = [submit(session, DRAFT, f"conv-1:{i}", made).id for i in range(7)]
        team = session.get(HandoffRequest, ids[0]).team_id
        navigator = create_navigator(session, "n@example.org", "N", team, "a long passphrase ok")
        for i, request_id in enumerate(ids):
            claim(session, navigator, request_id, made + timedelta(hours=1))
            if i < 6:
                mark_in_contact(session, navigator, request_id, made + timedelta(hours=2))
            if i < 5:
                close(session, navigator, request_id, "no_capacity", made + timedelta(hours=10))
    with session_scope(seeded_url) as session:
        built = report.build(
            session, report.Filters.parse({"from": "2026-11", "to": "2026-11"}, TODAY)
        )
    assert built.funnel == {"sent": 7, "claimed": None, "in_contact": None, "closed": None}
    assert built.outcomes.value("no_capacity", report.COUNT) is None  # closed is hidden
    assert built.outcomes.value(TOTAL, report.COUNT) is None
    (timing,) = built.timings
    assert (timing["contact_hours"], timing["close_hours"]) == (2.0, 10.0)
    assert timing["week"] == date(2026, 11, 9)


def test_searches_followed_by_asking_consenting_and_a_request(db_url: str) -> None:
    week = date(2026, 11, 9)
    with session_scope(db_url) as session:
        for asked, consented, sent, n in ((0, 0, 0, 30), (1, 0, 0, 6), (1, 1, 0, 2), (1, 1, 1, 9)):
            session.add_all(
                DemandRecord(week=week, need="housing", area="grey", channel="rest", reo=False,
                             outcome="local", handoff_asked=bool(asked),
                             handoff_consented=bool(consented), handoff=bool(sent), demo=False)
                for _ in range(n)
            )  # fmt: skip
    with session_scope(db_url) as session:
        built = report.build(
            session, report.Filters.parse({"from": "2026-11", "to": "2026-11"}, TODAY)
        )
    # 17 asked, 11 consented (6 below: shown), 9 sent (only 2 below 11: hidden)
    assert built.asked == {"searched": 47, "asked": 17, "consented": 11, "sent": None}
