"""Small-number suppression: primary, complementary, and no differencing across periods."""

from __future__ import annotations

import random
from itertools import product

import numpy as np
import pytest

from bot.insights import suppress
from bot.insights.suppress import TOTAL, Table, combine, determined, protect

ROWS = ("housing", "drugs_alcohol", "money_food", "legal")
COLUMNS = ("buller", "grey", "westland")


def _figures() -> list[suppress.Key]:
    return list(product((*ROWS, TOTAL), (*COLUMNS, TOTAL)))


def _random_cells(rng: random.Random) -> dict[suppress.Key, int]:
    return {(r, c): rng.choice((0, 1, 2, 3, 4, 5, 6, 8, 12, 20)) for r in ROWS for c in COLUMNS}


def test_small_counts_show_as_fewer_than_five_and_one_hidden_cell_gets_a_complement() -> None:
    cells = {(r, c): 10 for r in ROWS for c in COLUMNS} | {("legal", "westland"): 3}
    table = protect(cells, ROWS, COLUMNS, 5)
    assert table.value("legal", "westland") is None
    assert sum(table.value(r, c) == 10 for r in ROWS for c in COLUMNS) == 8
    # Its row and its column each lose one more figure, and those need a fourth.
    hidden_cells = {key for key in table.hidden if TOTAL not in key}
    assert len(hidden_cells) == 4
    assert determined(table.hidden, suppress._lines(ROWS, COLUMNS)) == set()
    assert table.value(TOTAL, TOTAL) == 113


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_figure_can_be_worked_out_from_one_table(seed: int) -> None:
    table = protect(_random_cells(random.Random(seed)), ROWS, COLUMNS, 5)
    assert all(table.counts[k] >= 5 for k in _figures() if k not in table.hidden)
    assert determined(table.hidden, suppress._lines(ROWS, COLUMNS)) == set()


def _attack(months: list[Table], reports: list[tuple[list[int], Table]]) -> list[tuple]:
    """What someone holding every published table can work out that was hidden.

    Unknowns: each month's figures. Known: each month's sums, every figure shown
    in a month's table, and every figure shown in a report over several months
    (the sum of that figure over its months). A hidden figure (of a month, or of a
    report) is revealed when its vector lies in the row space of what is known.
    """
    figures = _figures()
    size = len(months) * len(figures)

    def var(month: int, key: suppress.Key) -> int:
        return month * len(figures) + figures.index(key)

    known: list[np.ndarray] = []
    for m in range(len(months)):
        for line in suppress._lines(ROWS, COLUMNS):
            row = np.zeros(size)
            for key in line:
                row[var(m, key)] = -1.0 if key == line[-1] else 1.0
            known.append(row)
    secrets: list[tuple[tuple, np.ndarray]] = []
    for covered, table in [([m], t) for m, t in enumerate(months)] + reports:
        for key in figures:
            vector = np.zeros(size)
            for m in covered:
                vector[var(m, key)] = 1.0
            if key in table.hidden:
                secrets.append(((tuple(covered), key), vector))
            else:
                known.append(vector)
    matrix = np.array(known)
    rank = np.linalg.matrix_rank(matrix)
    return [
        name
        for name, vector in secrets
        if np.linalg.matrix_rank(np.vstack([matrix, vector])) == rank
    ]


def _overlapping(months: list[Table]) -> list[tuple[list[int], Table]]:
    spans = ([0, 1], [1, 2], [0, 1, 2])
    return [(span, combine([months[m] for m in span], 5)) for span in spans]


@pytest.mark.parametrize("seed", range(12))
def test_overlapping_periods_reveal_nothing_hidden(seed: int) -> None:
    rng = random.Random(seed)
    months = [protect(_random_cells(rng), ROWS, COLUMNS, 5) for _ in range(3)]
    assert _attack(months, _overlapping(months)) == []


def test_the_attack_works_on_periods_suppressed_on_their_own() -> None:
    """Without the fixed month grid (each period's table suppressed by itself), the
    difference between two overlapping periods gives a month's small count away."""
    rng = random.Random(3)
    raw = [_random_cells(rng) for _ in range(3)]
    months = [protect(cells, ROWS, COLUMNS, 5) for cells in raw]
    naive = [
        (span, protect({k: sum(raw[m][k] for m in span) for k in raw[0]}, ROWS, COLUMNS, 5))
        for span in ([0, 1], [1, 2], [0, 1, 2])
    ]
    revealed = _attack(months, naive)
    assert any(len(span) == 1 for span, _key in revealed)  # a month's own hidden count


def test_a_figure_over_months_is_hidden_when_any_month_hides_it() -> None:
    big = {(r, c): 10 for r in ROWS for c in COLUMNS}
    small = big | {("legal", "westland"): 2}
    months = [protect(big, ROWS, COLUMNS, 5), protect(small, ROWS, COLUMNS, 5)]
    both = combine(months, 5)
    assert both.value("legal", "westland") is None  # 12 in all, but 2 in the second month
    assert both.value("housing", "grey") in (20, None)
    with pytest.raises(ValueError, match="at least one"):
        combine([], 5)
    with pytest.raises(ValueError, match="same rows"):
        combine([months[0], protect(big, ROWS[:2], COLUMNS, 5)], 5)
