"""Figures the suite prints at the end of `make test` (NLU scores and the like)."""

FIGURES: list[str] = []


def record(line: str) -> None:
    FIGURES.append(line)
