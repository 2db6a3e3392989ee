"""A Twilio-compatible SMS gateway on loopback that records what it is asked to send.

The real gateway is not reachable from tests. This one answers
``POST /2010-04-01/Accounts/{sid}/Messages.json`` like Twilio (201 and a JSON
body with a ``sid``), checks basic auth, and can be told to fail the next
requests with given statuses to exercise retries. It runs its own event loop
in a thread, so sync tests (against the Rasa server) and async tests can use it.

It also signs webhooks the way the gateway would (``sign``).
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from bot.channels.twilio_signature import compute

ACCOUNT_SID = "AC" + "0" * 30 + "e2e"
AUTH_TOKEN = "e2e-sms-auth-token"
FROM_NUMBER = "+6435550000"


@dataclass
class Sent:
    to: str
    from_: str
    body: str
    account_sid: str


@dataclass
class FakeGateway:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    failures: list[int] = field(default_factory=list)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these HTTP statuses (0: drop the connection)."""
        self.failures.extend(statuses)

    def reset(self) -> None:
        self.sent.clear()
        self.failures.clear()
        self.requests = 0

    def to(self, number: str) -> list[Sent]:
        return [s for s in self.sent if s.to == number]

    def wait_for(self, count: int, timeout: float = 30) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.sent)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.failures:
            status = self.failures.pop(0)
            if status == 0:
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            return web.json_response({"code": status, "message": "fake failure"}, status=status)
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if request.match_info["sid"] != self.account_sid:
            return web.json_response({"code": 20404, "message": "Not found"}, status=404)
        form = await request.post()
        if not all(form.get(k) for k in ("To", "From", "Body")):
            return web.json_response({"code": 21602, "message": "Missing field"}, status=400)
        self.sent.append(
            Sent(str(form["To"]), str(form["From"]), str(form["Body"]), self.account_sid)
        )
        sid = "SM" + uuid.uuid4().hex
        return web.json_response({"sid": sid, "status": "queued", "to": form["To"]}, status=201)

    def start(self) -> str:
        ready = threading.Event()
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self._runner = runner
            port = runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-sms-gateway", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake gateway did not start")
        return self.url

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def sign(auth_token: str, url: str, form: dict[str, str]) -> str:
    """The X-Twilio-Signature a gateway sends for this webhook."""
    return compute(auth_token, url, form)
