"""The benchmark's load (bench/load.py): conversations spread over their scripts."""

from __future__ import annotations

import pytest
from aiohttp import web

from bench import load

pytestmark = pytest.mark.asyncio


async def test_conversations_start_spread_over_their_scripts() -> None:
    """Each worker is a turn behind the one before, so they do not all search at once."""
    received: list[tuple[str, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append((body["sender"], body["message"]))
        return web.json_response([{"recipient_id": body["sender"], "text": "kia ora"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    turns = len(load.SCRIPTS[0])
    try:
        result = await load.run_level(
            f"http://127.0.0.1:{port}", turns + 2, 0.0, 0.2, "t", lambda: 0.0
        )
    finally:
        await runner.cleanup()

    assert result.errors == 0 and result.messages > 0
    for worker in range(turns + 2):
        lead = [m for s, m in received if s == f"bench-t-{worker}-lead"]
        assert lead == ["kia ora"] * (worker % turns)
        first = next(m for s, m in received if s == f"bench-t-{worker}-0")
        assert first == load.SCRIPTS[worker % len(load.SCRIPTS)][0]
        # Every lead greeting came before the worker's first scripted message.
        order = [s for s, _ in received if s.startswith(f"bench-t-{worker}-")]
        assert order[: worker % turns] == [f"bench-t-{worker}-lead"] * (worker % turns)
