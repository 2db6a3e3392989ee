"""Small numbers: what may be shown of a table of counts, alone and next to other reports.

The rule (README, "Needs and gaps"):

1. **Primary.** A count under ``smallest_shown_count`` (5, in data/insights/areas.yml),
   zero included, is shown as "fewer than 5".
2. **Complementary, in each table.** A table is its cells with row and column
   totals and a grand total; each row and each column, totals included, is a
   sum. No sum may have exactly one hidden member, or subtracting the shown ones
   from it would give that member: while one does, the smallest shown member
   (a cell before a total) is hidden too. Sums can also be combined (a hidden
   cell joining two otherwise separate groups of hidden cells is fixed by them),
   so the table is then solved as a set of linear equations: while any hidden
   figure has only one possible value, a shown figure on one of its lines is
   hidden as well.
3. **A fixed grid of periods.** Figures are counted by calendar month (a week
   belongs to the month of its Thursday, as ISO weeks do). Steps 1 and 2 run on
   each month's table. A figure over several months is shown only when it is
   shown in every one of those months' tables, so it is a sum of figures already
   public: no difference between two reports, overlapping or not, gives anything
   the month tables do not already show. Filters (district, need) pick rows and
   columns of the same tables, so they reveal nothing either.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from bot.insights.demand import area_rules

TOTAL = "__total__"
Key = tuple[Hashable, Hashable]


def smallest_shown() -> int:
    return area_rules().smallest_shown_count


@dataclass
class Table:
    """Counts by (row, column) with their totals, and which of them are hidden."""

    rows: tuple[Hashable, ...]
    columns: tuple[Hashable, ...]
    counts: dict[Key, int]
    hidden: set[Key] = field(default_factory=set)

    def value(self, row: Hashable, column: Hashable) -> int | None:
        """The count, or None when it must show as "fewer than 5"."""
        key = (row, column)
        return None if key in self.hidden else self.counts.get(key, 0)


def _lines(rows: tuple[Hashable, ...], columns: tuple[Hashable, ...]) -> list[list[Key]]:
    """Every sum in the table: its members, the total last."""
    all_rows, all_columns = (*rows, TOTAL), (*columns, TOTAL)
    across = [[(r, c) for c in all_columns] for r in all_rows]
    down = [[(r, c) for r in all_rows] for c in all_columns]
    return across + down


def protect(
    cells: Mapping[Key, int],
    rows: Iterable[Hashable],
    columns: Iterable[Hashable],
    smallest: int | None = None,
    hidden: Iterable[Key] = (),
) -> Table:
    """The table of ``cells`` with totals, small counts and their complements hidden.

    ``hidden`` are figures to hide whatever their size (hidden in a month that a
    several-month figure covers).
    """
    smallest = smallest_shown() if smallest is None else smallest
    rows, columns = tuple(rows), tuple(columns)
    counts = {(r, c): int(cells.get((r, c), 0)) for r in rows for c in columns}
    for r in rows:
        counts[(r, TOTAL)] = sum(counts[(r, c)] for c in columns)
    for c in (*columns, TOTAL):
        counts[(TOTAL, c)] = sum(counts[(r, c)] for r in rows)
    secret = {key for key, value in counts.items() if value < smallest} | set(hidden)
    lines = _lines(rows, columns)
    while True:
        fixed = determined(secret, lines)
        if not fixed:
            return Table(rows, columns, counts, secret)
        # A sum with one hidden member (else the first through a fixed figure) loses
        # its smallest shown member: hidden cells pair up in rows and columns.
        through = [line for line in lines if fixed & set(line) and not set(line) <= secret]
        through.sort(key=lambda line: sum(key in secret for key in line) != 1)
        line = through[0] if through else list(counts)
        secret.add(
            min(
                (key for key in line if key not in secret),
                # a cell whose other sum has one hidden member closes a rectangle
                key=lambda key: (TOTAL in key, _alone(key, line, lines, secret), counts[key]),
            )
        )


def _alone(key: Key, line: list[Key], lines: list[list[Key]], secret: set[Key]) -> bool:
    """False when the other sum through ``key`` has exactly one hidden member."""
    other = next(o for o in lines if key in o and o is not line)
    return sum(k in secret for k in other) != 1


def determined(secret: set[Key], lines: list[list[Key]]) -> set[Key]:
    """The hidden figures that the table's sums fix to one value, given every shown one.

    A hidden figure is fixed when its unit vector lies in the row space of the
    sums restricted to the hidden figures (shown ones are constants).
    """
    unknowns = sorted(secret, key=repr)
    if not unknowns:
        return set()
    index = {key: i for i, key in enumerate(unknowns)}
    matrix = np.zeros((len(lines), len(unknowns)))
    for row, line in enumerate(lines):
        for key in line:
            if key in index:
                matrix[row, index[key]] = -1.0 if key == line[-1] else 1.0
    rank = np.linalg.matrix_rank(matrix)
    fixed = set()
    for key, i in index.items():
        unit = np.zeros((1, len(unknowns)))
        unit[0, i] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            fixed.add(key)
    return fixed


def combine(tables: list[Table], smallest: int | None = None) -> Table:
    """One table over several months (each over the same rows and columns): each
    figure the sum of the months' figures, hidden when it is hidden in any of them
    (rule 3), and then rules 1 and 2 again, which can only hide more."""
    if not tables:
        raise ValueError("combine needs at least one month's table")
    rows, columns = tables[0].rows, tables[0].columns
    if any(t.rows != rows or t.columns != columns for t in tables):
        raise ValueError("the months' tables must have the same rows and columns")
    inner = {(r, c): sum(t.counts[(r, c)] for t in tables) for r in rows for c in columns}
    hidden = set().union(*(t.hidden for t in tables))
    return protect(inner, rows, columns, smallest, hidden)
