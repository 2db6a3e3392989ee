"""Charts for the insights page and the monthly report, drawn on the server (matplotlib, Agg).

Each chart is a ``Figure`` built from a suppressed ``Report``: a hidden figure is
a gap in a line, or a hatched cell marked "<5", never a number. ``svg`` turns a
figure into markup for the page; ``monthly_pdf`` puts them in a PDF.
"""

from __future__ import annotations

import io
import textwrap
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from bot.handoff.models import OUTCOMES
from bot.insights import report as rep

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ("#1b6e6b", "#c0562f", "#4f6fa8", "#8a6d1d", "#7b4a8c", "#3f7f3f")
STAGE_LABELS = {
    "sent": "Sent",
    "claimed": "Claimed",
    "in_contact": "In contact",
    "closed": "Closed",
}
TOP_NEEDS = 5


@cache
def pyplot() -> ModuleType:
    """matplotlib's pyplot on the Agg backend with our settings, imported at the first
    chart: about a second that a process drawing none (the inbox at start, a test run)
    no longer spends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "awhina", "font.size": 9, "axes.spines.top": False})
    return plt


def svg(figure: Figure) -> str:
    """The figure as an SVG element (no XML prolog), to put in a page."""
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _top_needs(report: rep.Report) -> list[str]:
    if report.filters.need:
        return [report.filters.need]
    ranked = sorted(report.rows, key=lambda r: -(report.demand.counts.get((r, "__total__"), 0)))
    return [r for r in ranked if report.demand.value(r, "__total__")][:TOP_NEEDS]


def needs_over_time(report: rep.Report) -> Figure:
    """Searches a month by need, one panel per district; a hidden month is a gap."""
    places = [c for c in report.columns if c not in (rep.NOT_GIVEN, rep.ELSEWHERE, "west-coast")]
    columns = places or list(report.columns)
    months = report.filters.months
    figure, axes = pyplot().subplots(
        1, len(columns), figsize=(3.2 * len(columns), 2.8), sharey=True, squeeze=False
    )
    for ax, column in zip(axes[0], columns, strict=True):
        for i, need in enumerate(_top_needs(report)):
            values = [report.by_month[m].value(need, column) for m in months]
            series = np.array([np.nan if v is None else v for v in values], dtype=float)
            ax.plot(
                months,
                series,
                marker="o",
                color=COLOURS[i % len(COLOURS)],
                label=rep.need_label(need),
            )
        ax.set_title(rep.area_label(column))
        ax.tick_params(axis="x", labelrotation=45)
    axes[0][0].set_ylabel("Searches a month")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        figure.legend(
            handles,
            labels,
            loc="lower center",
            ncol=min(len(labels), 5),
            frameon=False,
            bbox_to_anchor=(0.5, -0.12),
        )
    return figure


def gap_map(report: rep.Report) -> Figure:
    """Share of searches with nothing local, by need and district; hatched where hidden."""
    rows = [r for r in report.rows if r != rep.UNSPECIFIED]
    columns = [c for c in report.columns if c not in (rep.NOT_GIVEN, rep.ELSEWHERE)]
    grid = np.array(
        [
            [report.gap[(r, c)] if report.gap[(r, c)] is not None else np.nan for c in columns]
            for r in rows
        ],
        dtype=float,
    )
    figure, ax = pyplot().subplots(figsize=(1.5 * len(columns) + 2.5, 0.34 * len(rows) + 1.2))
    ax.imshow(np.ones_like(grid), cmap="Greys", vmin=0, vmax=8, aspect="auto")
    image = ax.imshow(grid, cmap="OrRd", vmin=0, vmax=1, aspect="auto")
    for y in range(len(rows)):
        for x in range(len(columns)):
            value = grid[y, x]
            label = "<5" if np.isnan(value) else f"{value:.0%}"
            ax.text(
                x,
                y,
                label,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if not np.isnan(value) and value > 0.6 else "black",
            )
    ax.set_xticks(range(len(columns)), [rep.area_label(c) for c in columns])
    ax.set_yticks(range(len(rows)), [rep.need_label(r) for r in rows])
    figure.colorbar(image, ax=ax, label="Nothing local", format=lambda v, _: f"{v:.0%}")
    return figure


def funnel(report: rep.Report) -> Figure:
    """Handoff requests reaching each step, and how the closed ones ended."""
    if all(value is None for value in report.funnel.values()):
        return _note("Fewer than 5 handoff requests, or steps too close to show, in this period.")
    figure, (left, right) = pyplot().subplots(1, 2, figsize=(8, 2.6))
    stages = list(rep.STAGES)
    values = [report.funnel[s] or 0 for s in stages]
    bars = left.barh([STAGE_LABELS[s] for s in stages], values, color=COLOURS[0])
    for bar, stage in zip(bars, stages, strict=True):
        shown = report.funnel[stage]
        left.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {shown}" if shown is not None else " fewer than 5",
            va="center",
        )
    left.invert_yaxis()
    left.set_title("Requests")
    outcomes = [o for o in OUTCOMES if report.outcomes.value(o, rep.COUNT)]
    right.barh(
        [o.replace("_", " ") for o in outcomes],
        [report.outcomes.value(o, rep.COUNT) for o in outcomes],
        color=COLOURS[1],
    )
    right.invert_yaxis()
    right.set_title("Closed, by outcome (5 or more)")
    return figure


def _note(text: str) -> Figure:
    """A chart with nothing it may show: the reason, in words."""
    figure = pyplot().figure(figsize=(6, 0.6))
    figure.text(0.01, 0.5, text, va="center")
    return figure


def channels(report: rep.Report) -> Figure:
    figure, ax = pyplot().subplots(figsize=(4, 2.2))
    rows = [c for c in report.channels.rows if report.channels.value(c, rep.COUNT)]
    ax.barh(rows, [report.channels.value(c, rep.COUNT) for c in rows], color=COLOURS[2])
    ax.invert_yaxis()
    ax.set_title("Searches by channel (5 or more)")
    return figure


def cover(report: rep.Report, summaries: dict[str, str]) -> Figure:
    """The report's first page (A4): the period, a demo warning, a paragraph per district."""
    page = pyplot().figure(figsize=(8.27, 11.69))
    lines = [f"Āwhina needs and gaps: {rep.period_label(report.filters)}", ""]
    if report.demo:
        lines += ["DEMO DATA: synthetic figures, not a measurement.", ""]
    for area, paragraph in summaries.items():
        lines += [rep.area_label(area), *textwrap.wrap(paragraph, 90), ""]
    lines += textwrap.wrap(
        "Each conversation counts once per need per week. Counts under 5 are shown as "
        "'fewer than 5', and some other figures are hidden with them so they cannot be "
        "worked out. Nothing here identifies a person.",
        90,
    )
    page.text(0.08, 0.95, "\n".join(lines), va="top", fontsize=10)
    return page


def monthly_pdf(report: rep.Report, summaries: dict[str, str]) -> bytes:
    """The leadership group's report: the charts, then a paragraph per district."""
    from matplotlib.backends.backend_pdf import PdfPages

    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": "Āwhina needs and gaps", "CreationDate": None}) as pdf:
        pdf.savefig(cover(report, summaries))
        pyplot().close("all")
        for build in (needs_over_time, gap_map, funnel, channels):
            figure = build(report)
            pdf.savefig(figure, bbox_inches="tight")
            pyplot().close(figure)
    return out.getvalue()
