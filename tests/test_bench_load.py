"""The benchmark's load (bench/load.py): conversations spread over their scripts."""

from __future__ import annotations

import pytest
from aiohttp import web

from bench import load

pytestmark = pytest.mark.asyncio


class Bot:
    """A webhook on a free port that records what it was sent and answers it: crisis help
    to a message of danger (``helps``: whether it does), "kia ora" to anything else."""

    def __init__(self, helps: bool = True) -> None:
        self.helps = helps
        self.received: list[tuple[str, str]] = []
        self.url = ""

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((body["sender"], body["message"]))
        urgent = self.helps and body["message"] == load.URGENT_TEXT
        text = "Call 111 now, or call or text 1737" if urgent else "kia ora"
        return web.json_response([{"recipient_id": body["sender"], "text": text}])

    async def __aenter__(self) -> Bot:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def test_conversations_start_spread_over_their_scripts() -> None:
    """Each worker is a turn behind the one before, so they do not all search at once."""
    turns = len(load.SCRIPTS[0])
    async with Bot() as bot:
        result = await load.run_level(bot.url, turns + 2, 0.0, 0.2, "t", lambda: 0.0)
    received = bot.received

    assert result.errors == 0 and result.messages > 0
    for worker in range(turns + 2):
        lead = [m for s, m in received if s == f"bench-t-{worker}-lead"]
        assert lead == ["kia ora"] * (worker % turns)
        first = next(m for s, m in received if s == f"bench-t-{worker}-0")
        assert first == load.SCRIPTS[worker % len(load.SCRIPTS)][0]
        # Every lead greeting came before the worker's first scripted message.
        order = [s for s, _ in received if s.startswith(f"bench-t-{worker}-")]
        assert order[: worker % turns] == [f"bench-t-{worker}-lead"] * (worker % turns)


@pytest.mark.parametrize("helps", [True, False])
async def test_messages_of_danger_under_load_are_sent_and_their_help_counted(helps: bool) -> None:
    async with Bot(helps) as bot:
        result = await load.run_urgent(bot.url, 3, 0.0, 2, lambda: 0.0)
    urgent = [s for s, m in bot.received if m == load.URGENT_TEXT]
    assert urgent == ["bench-urgent-0", "bench-urgent-1"]
    assert any(s.startswith("bench-urgent-load-") for s, _ in bot.received)
    assert (result.probes, result.helped) == (2, 2 if helps else 0)
    assert 0 < result.p50_ms <= result.max_ms


def test_rounds_pool_their_messages_time_and_cpu() -> None:
    """Throughput over the windows' total time, percentiles over every latency, CPU per
    message over all rounds; messages outside a window do not count."""

    def measured(start: float, latencies: list[float], cpu_s: float) -> load.Measured:
        samples = [
            load.Sample(start + i * 0.1, latency, True) for i, latency in enumerate(latencies)
        ]
        samples.append(load.Sample(start - 1.0, 0.01, True))  # in the warm-up
        samples.append(load.Sample(start + 0.5, 0.01, False))  # failed
        return load.Measured(samples, (start, start + 1.0), cpu_s)

    first = measured(0.0, [0.01] * 4, 0.2)  # four answered in its one second
    second = measured(10.0, [0.01, 0.01, 0.03, 0.05, 0.05, 0.05, 0.07, 0.09], 0.6)
    result = load.pooled([first, second], 5)
    assert (result.messages, result.errors) == (12, 2)
    assert result.throughput == pytest.approx(12 / 2.0)
    assert result.round_throughputs == pytest.approx((4.0, 8.0))
    assert result.cpu_ms_per_message == pytest.approx(1000 * 0.8 / 12)
    assert result.p50_ms == pytest.approx(20.0)  # between the 6th (10 ms) and 7th (30 ms)
    assert 50.0 < result.p95_ms <= 90.0
    assert load.pooled([first], 5).round_throughputs == ()
