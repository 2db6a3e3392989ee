"""Conversation fuzzer: random walks over the real stack, checking the safety guarantees.

Each walk is one conversation through the REST channel (Rasa, the action server,
the database). A turn is picked at random from: free text from the held-out NLU
sets (English and te reo), intents with entities as payloads, the buttons the
bot just offered, "skip", "cancel", "carry on", places, numbers, te reo words,
keyboard noise, and crisis messages at random points. On every turn:

- at least one reply and at most six messages, and no text twice in the turn;
- a crisis message gets an answer with 111, and never the guard's safe reply;
- the turn guard never had to step in, and Rasa's circuit breaker never tripped
  (both read from the servers' log).

The walks are seeded (``FUZZ_SEED``, default fixed) so a failure can be
replayed; the transcript of the failing walk is printed.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import pytest
import requests
import yaml

from bot.channels.guard import LOG_MARKER, MAX_MESSAGES_PER_TURN, SAFE_REPLY
from bot.config import ROOT
from bot.directory.places import gazetteer
from bot.reo.glossary import default_glossary
from bot.safety.detector import CRISIS_PREFIX, patterns

pytestmark = pytest.mark.e2e

TURNS = int(os.environ.get("FUZZ_TURNS", "2000"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
WORKERS = 6
TIME_BUDGET_S = 900
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def _examples(path: str) -> list[str]:
    data = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    texts = []
    for block in data.get("nlu", []):
        for line in (block.get("examples") or "").splitlines():
            line = line.strip().removeprefix("- ").strip()
            if line:
                texts.append(ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line))
    return texts


@lru_cache(maxsize=1)
def material() -> dict[str, list[str]]:
    """What people say, by kind, from the repo's own held-out sets and data."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    crisis_eval = yaml.safe_load((ROOT / "tests/safety/crisis_eval.yml").read_text("utf-8"))
    crisis = [
        text
        for texts in crisis_eval["crisis"].values()
        for text in texts
        if patterns().detect(text)
    ]
    places = [p.display_name for p in gazetteer().places.values()]
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    return {
        "text": _examples("tests/nlu/test_nlu.yml") + _examples("tests/nlu/test_nlu_reo.yml"),
        "crisis": crisis,
        "place": places + [p.lower() for p in places] + ["timbuktu", "up north", "here"],
        "payload": [f"/{intent}" for intent in intents if not intent.startswith(CRISIS_PREFIX)],
        "reo": [entry.word for entry in default_glossary().entries][:200],
    }


SHORT = [
    "skip",
    "cancel",
    "carry on",
    "yes",
    "no",
    "yep",
    "nah",
    "ok",
    "more",
    "2",
    "the first one",
    "send it",
    "change",
    "stop",
    "forget it",
    "what",
    "?",
    "help",
    "talk to someone",
    "delete my data",
    "thanks",
    "bye",
    "kia ora",
    "whats their number",
    "r they open now",
]
DETAILS = [
    "021 123 4567",
    "03 768 0000",
    "+64 27 555 0100",
    "mere@example.org",
    "Mere",
    "weekday mornings",
    "any time",
    "for me",
    "my son",
    "12345678901234",
]


def noise(rng: random.Random) -> str:
    alphabet = "asdfghjkl;qwertyuiop1234567890!?*&^%$#@ ✨🔥āēīōū\t"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))).strip() or "x"


@dataclass
class Walk:
    seed: int
    transcript: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    turns: int = 0


def next_message(rng: random.Random, buttons: list[str]) -> tuple[str, bool]:
    """A message, and whether it is a crisis message."""
    m = material()
    roll = rng.random()
    if buttons and roll < 0.15:
        return rng.choice(buttons), False
    if roll < 0.20:
        return rng.choice(m["crisis"]), True
    if roll < 0.24:
        return f"/{CRISIS_PREFIX}{rng.choice(['suicide', 'violence', 'overdose', 'child'])}", True
    if roll < 0.50:
        return rng.choice(m["text"]), False
    if roll < 0.60:
        payload = rng.choice(m["payload"])
        if rng.random() < 0.5:
            payload += json.dumps({"place": rng.choice(m["place"])})
        return payload, False
    if roll < 0.70:
        return rng.choice(m["place"]), False
    if roll < 0.85:
        return rng.choice(SHORT), False
    if roll < 0.90:
        return rng.choice(DETAILS), False
    if roll < 0.95:
        return rng.choice(m["reo"]), False
    return noise(rng), False


def check_turn(message: str, crisis: bool, replies: list[dict]) -> list[str]:
    texts = [r.get("text") or "" for r in replies]
    problems = []
    if not replies:
        problems.append("no reply")
    if len(replies) > MAX_MESSAGES_PER_TURN:
        problems.append(f"{len(replies)} messages")
    if len(set(texts)) < len(texts):
        problems.append("a text repeated in one turn")
    if SAFE_REPLY in texts:
        problems.append("the guard's safe reply (the turn produced nothing itself)")
    if crisis and not any("111" in t for t in texts):
        problems.append("a crisis message without 111 in the answer")
    return problems


def walk(url: str, seed: int, turns: int, deadline: float) -> Walk:
    rng = random.Random(seed)
    result = Walk(seed)
    sender = f"fuzz-{seed}"
    buttons: list[str] = []
    with requests.Session() as http:
        for _ in range(turns):
            if time.monotonic() > deadline:
                break
            message, crisis = next_message(rng, buttons)
            response = http.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": message},
                timeout=60,
            )
            result.turns += 1
            result.transcript.append(f"> {message!r}")
            if response.status_code != 200:
                result.problems.append(f"HTTP {response.status_code} for {message!r}")
                break
            replies = response.json()
            result.transcript += [f"< {(r.get('text') or '')[:100]!r}" for r in replies]
            problems = check_turn(message, crisis, replies)
            if problems:
                result.problems.append(f"turn {result.turns} {message!r}: {'; '.join(problems)}")
                break
            buttons = [b["payload"] for r in replies for b in r.get("buttons") or []]
    return result


def test_random_conversations_keep_every_safety_guarantee(stack):
    log = stack.workdir / "stack.log"
    log_start = log.stat().st_size
    deadline = time.monotonic() + TIME_BUDGET_S
    rng = random.Random(SEED)
    plan = []
    remaining = TURNS
    while remaining > 0:
        length = min(remaining, rng.randint(8, 40))
        plan.append((rng.randrange(2**32), length))
        remaining -= length
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        walks = list(pool.map(lambda p: walk(stack.rasa_url, p[0], p[1], deadline), plan))
    elapsed = time.monotonic() - started
    failed = [w for w in walks if w.problems]
    for w in failed[:3]:
        print(f"\nwalk seed {w.seed}:\n" + "\n".join(w.transcript[-30:]))
    assert not failed, [p for w in failed for p in w.problems]
    done = sum(w.turns for w in walks)
    assert done >= TURNS, f"only {done} of {TURNS} turns in {TIME_BUDGET_S} s"
    with log.open("rb") as f:
        f.seek(log_start)
        server_log = f.read().decode("utf-8", "replace")
    assert LOG_MARKER not in server_log, [
        line for line in server_log.splitlines() if LOG_MARKER in line
    ][:5]
    assert "Circuit breaker tripped" not in server_log
    print(f"\nconversation fuzz: {done} turns in {len(walks)} walks, {elapsed:.0f} s")
