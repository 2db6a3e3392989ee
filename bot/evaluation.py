"""Evaluates the trained NLU model on held-out test sets.

Intent macro-F1 (scikit-learn) and entity F1 over exact spans (type, start,
end). Used by the test suite, which prints the figures, and from the shell:
``python -m bot.evaluation tests/nlu/test_nlu.yml``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import f1_score

from bot.config import ROOT

MODEL = ROOT / "models" / "current.tar.gz"
# The held-out sets annotate these. ``need`` entities come straight from the
# word lists in data/directory/taxonomy.yml and are checked by unit tests.
SCORED_ENTITIES = {"place", "audience", "ordinal"}


@dataclass
class Example:
    text: str
    intent: str
    entities: set[tuple[str, int, int]]


@dataclass
class Report:
    name: str
    intent_macro_f1: float
    entity_f1: float | None
    n: int
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    def line(self) -> str:
        line = f"{self.name}: n={self.n} intent macro-F1={self.intent_macro_f1:.3f}"
        return line if self.entity_f1 is None else f"{line} entity F1={self.entity_f1:.3f}"


def load_examples(path: Path) -> list[Example]:
    data = load_data(str(path))
    return [
        Example(
            m.get("text"),
            m.get("intent"),
            {(e["entity"], e["start"], e["end"]) for e in m.get("entities") or []},
        )
        for m in data.intent_examples
    ]


def load_agent(model: Path = MODEL) -> Agent:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    return Agent.load(str(model))


async def _parse_all(agent: Agent, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(t) for t in texts]


def _entity_f1(examples: list[Example], parsed: list[dict]) -> float:
    tp = fp = fn = 0
    for example, p in zip(examples, parsed, strict=True):
        pred = {
            (e["entity"], e["start"], e["end"])
            for e in p.get("entities", [])
            if e["entity"] in SCORED_ENTITIES
        }
        tp += len(pred & example.entities)
        fp += len(pred - example.entities)
        fn += len(example.entities - pred)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def evaluate(
    agent: Agent,
    examples: list[Example],
    name: str,
    transform: Callable[[str], str] | None = None,
) -> Report:
    """Scores the model; ``transform`` rewrites each text first (entities then ignored)."""
    texts = [transform(e.text) if transform else e.text for e in examples]
    parsed = asyncio.run(_parse_all(agent, texts))
    gold_intents = [e.intent for e in examples]
    predicted = [p["intent"]["name"] for p in parsed]
    errors = [(t, g, p) for t, g, p in zip(texts, gold_intents, predicted, strict=True) if g != p]
    entity_f1 = None if transform else _entity_f1(examples, parsed)
    labels = sorted(set(gold_intents))
    macro = f1_score(gold_intents, predicted, labels=labels, average="macro", zero_division=0)
    return Report(name, float(macro), entity_f1, len(examples), errors)


def main(paths: list[str]) -> int:
    agent = load_agent()
    for path in paths:
        report = evaluate(agent, load_examples(Path(path)), path)
        print(report.line())
        for text, gold, pred in report.errors:
            print(f"  {gold:>22} -> {pred:<22} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["tests/nlu/test_nlu.yml"]))
