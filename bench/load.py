"""Closed-loop load over the REST channel: N conversations at once, each replaying a script.

Each simulated person sends their next message as soon as the last one is
answered (no thinking time), so N is the number of conversations in flight and
the throughput is what the server sustains at that concurrency. A finished
script starts a new conversation (a new sender id), so trackers stay the size
of real conversations instead of growing for the whole run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

# Realistic conversations: a greeting, a need with a place, a follow-up on a
# result, a contact question, a te reo word, and the start of a handoff.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    (
        "kia ora",
        "my partner is back on the P, we're in Greymouth",
        "tell me about the second one",
        "whats their number",
        "what does whānau mean",
        "can i talk to someone",
    ),
    (
        "hi",
        "my boy is getting mixed up with a gang in Westport",
        "tell me about the second one",
        "what's their phone number?",
        "what does rangatahi mean",
        "can I talk to a real person",
    ),
    (
        "mōrena",
        "we need somewhere to live in hokitika",
        "tell me about the second one",
        "whats their number",
        "what does whanau mean",
        "can i talk to someone",
    ),
    (
        "hello",
        "im worried about my drinking, im in Reefton",
        "tell me about the second one",
        "how do i contact them",
        "what does kaupapa Māori mean",
        "i want to talk to someone",
    ),
    (
        "tēnā koe",
        "my sister's partner hits her, they live in Greymouth",
        "tell me about the second one",
        "whats their number",
        "what does tāne mean",
        "can i talk to someone",
    ),
)
# Messages for NLU alone (``/model/parse``): every message of every script.
NLU_TEXTS = tuple(message for script in SCRIPTS for message in script)
REQUEST_TIMEOUT_S = 120


@dataclass(frozen=True)
class Sample:
    """One answered (or failed) message: when it was sent and how long the answer took."""

    sent: float
    latency_s: float
    ok: bool


@dataclass(frozen=True)
class LevelResult:
    concurrency: int
    messages: int
    errors: int
    throughput: float  # answered messages per second in the measured window
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms_per_message: float  # the bot's processes' CPU time per answered message
    # Each round's throughput, when the level was measured in several (``pooled``).
    round_throughputs: tuple[float, ...] = ()


@dataclass(frozen=True)
class Measured:
    """What one measured window saw: every message's sample, the window, the CPU used."""

    samples: list[Sample]
    window: tuple[float, float]
    cpu_s: float


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


async def _post(
    session: aiohttp.ClientSession, url: str, payload: dict[str, str], samples: list[Sample]
) -> None:
    sent = time.perf_counter()
    try:
        async with session.post(url, json=payload) as response:
            await response.read()
            ok = response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        ok = False
    samples.append(Sample(sent, time.perf_counter() - sent, ok))


async def _converse(
    session: aiohttp.ClientSession,
    url: str,
    worker: int,
    tag: str,
    stop: asyncio.Event,
    answered_once: Callable[[], None],
    samples: list[Sample],
) -> None:
    # Conversations spread over their scripts: worker w first greets w % (script length)
    # times in a conversation of its own, during the warm-up. Started together, every
    # worker would send its search at the same moment, six turns apart, for good: a
    # closed loop keeps the lock-step, and real conversations do not move in one.
    for _ in range(worker % len(SCRIPTS[0])):
        lead = {"sender": f"bench-{tag}-{worker}-lead", "message": "kia ora"}
        await _post(session, url, lead, [])
    conversation = 0
    while not stop.is_set():
        script = SCRIPTS[(worker + conversation) % len(SCRIPTS)]
        sender = f"bench-{tag}-{worker}-{conversation}"
        for turn, message in enumerate(script):
            if stop.is_set():
                return
            await _post(session, url, {"sender": sender, "message": message}, samples)
            if conversation == 0 and turn == 0:
                answered_once()
        conversation += 1


def _in_window(m: Measured) -> tuple[list[Sample], list[Sample]]:
    """The messages sent in the window, and those answered in it."""
    start, end = m.window
    sent = [s for s in m.samples if start <= s.sent < end]
    done = [s for s in m.samples if s.ok and start <= s.sent + s.latency_s <= end]
    return sent, done


def pooled(rounds: list[Measured], concurrency: int) -> LevelResult:
    """Figures for the messages sent inside the windows (after each warm-up), pooled:
    throughput and CPU over the windows' total time, percentiles over every latency."""
    sent: list[Sample] = []
    done: list[Sample] = []
    throughputs: list[float] = []
    for m in rounds:
        round_sent, round_done = _in_window(m)
        sent += round_sent
        done += round_done
        throughputs.append(len(round_done) / (m.window[1] - m.window[0]))
    answered = [s for s in sent if s.ok]
    latencies = [s.latency_s * 1000 for s in answered]
    seconds = sum(m.window[1] - m.window[0] for m in rounds)
    return LevelResult(
        concurrency=concurrency,
        messages=len(answered),
        errors=len(sent) - len(answered),
        throughput=len(done) / seconds,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        cpu_ms_per_message=1000 * sum(m.cpu_s for m in rounds) / max(1, len(done)),
        round_throughputs=tuple(throughputs) if len(rounds) > 1 else (),
    )


async def run_level(
    url: str,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    tag: str,
    cpu_s: Callable[[], float],
) -> LevelResult:
    """``concurrency`` conversations at once; figures for ``duration_s`` after the warm-up
    (see ``measure_level``)."""
    measured = await measure_level(url, concurrency, warmup_s, duration_s, tag, cpu_s)
    return pooled([measured], concurrency)


async def measure_level(
    url: str,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    tag: str,
    cpu_s: Callable[[], float],
) -> Measured:
    """``concurrency`` conversations at once, measured for ``duration_s`` after the warm-up.

    The warm-up lasts at least ``warmup_s`` and until every conversation has had
    its first answer: all of them start at the same instant, each a few turns
    behind the one before (see ``_converse``), and only once each has been
    answered do the messages arrive as they would in steady use.
    ``cpu_s`` reads the bot's CPU seconds so far; its increase over the
    measured window, per answered message, is the least noisy figure on a
    shared machine. Messages still in flight at the end are waited for (at
    most ``REQUEST_TIMEOUT_S``) and counted by when they were sent.
    """
    webhook = f"{url}/webhooks/rest/webhook"
    samples: list[Sample] = []
    stop, warm = asyncio.Event(), asyncio.Event()
    first_answers = 0

    def answered_once() -> None:
        nonlocal first_answers
        first_answers += 1
        if first_answers == concurrency:
            warm.set()

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        workers = [
            asyncio.create_task(_converse(session, webhook, w, tag, stop, answered_once, samples))
            for w in range(concurrency)
        ]
        await asyncio.gather(asyncio.sleep(warmup_s), warm.wait())
        start, cpu_before = time.perf_counter(), cpu_s()
        await asyncio.sleep(duration_s)
        end, cpu_used = time.perf_counter(), cpu_s() - cpu_before
        stop.set()
        await asyncio.gather(*workers)
    return Measured(samples, (start, end), cpu_used)


async def run_parse(
    url: str, token: str, duration_s: float, cpu_s: Callable[[], float]
) -> LevelResult:
    """NLU alone: ``/model/parse`` one message at a time for ``duration_s``."""
    samples: list[Sample] = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    parse = f"{url}/model/parse?token={token}"
    async with aiohttp.ClientSession(timeout=timeout) as session:
        cpu_before, began = cpu_s(), time.perf_counter()
        i = 0
        while time.perf_counter() < began + duration_s:
            await _post(session, parse, {"text": NLU_TEXTS[i % len(NLU_TEXTS)]}, samples)
            i += 1
        end, cpu_used = time.perf_counter(), cpu_s() - cpu_before
    return pooled([Measured(samples, (began, end), cpu_used)], 1)


# A message of danger, as a person in crisis might write it; the reply must give
# 111 or 1737 (bot/channels/guard.py's promise).
URGENT_TEXT = "i want to kill myself tonight"
URGENT_HELP = ("111", "1737")


@dataclass(frozen=True)
class UrgentResult:
    concurrency: int
    probes: int
    helped: int  # replies that gave 111 or 1737
    p50_ms: float
    max_ms: float
    others_p50_ms: float  # the loading conversations' messages meanwhile


async def run_urgent(
    url: str, concurrency: int, warmup_s: float, probes: int, cpu_s: Callable[[], float]
) -> UrgentResult:
    """``probes`` messages of danger, each in a conversation of its own, one every half
    second while ``concurrency`` conversations load the bot: how soon crisis help comes
    when the server is busy (a crisis message goes ahead of the turn queue)."""
    gap_s = 0.5
    level = asyncio.create_task(
        run_level(url, concurrency, warmup_s, probes * gap_s + 1, "urgent-load", cpu_s)
    )
    latencies: list[float] = []
    helped = 0
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.sleep(warmup_s + 0.5)
        for probe in range(probes):
            sent = time.perf_counter()
            payload = {"sender": f"bench-urgent-{probe}", "message": URGENT_TEXT}
            async with session.post(f"{url}/webhooks/rest/webhook", json=payload) as response:
                text = await response.text()
            latencies.append((time.perf_counter() - sent) * 1000)
            helped += response.status == 200 and any(number in text for number in URGENT_HELP)
            await asyncio.sleep(gap_s)
    others = await level
    return UrgentResult(
        concurrency=concurrency,
        probes=probes,
        helped=helped,
        p50_ms=percentile(latencies, 50),
        max_ms=max(latencies),
        others_p50_ms=others.p50_ms,
    )
