"""The web app people chat on (http://127.0.0.1:8000/).

The page talks to ``POST /chat``, which relays to Rasa's REST channel on
loopback, so the browser never needs to reach Rasa directly.
"""

from __future__ import annotations

import json
import logging
import uuid

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.config import ROOT, rasa_url

log = logging.getLogger(__name__)
STATIC = ROOT / "bot" / "web" / "static"
MAX_MESSAGE_CHARS = 1000
RASA_TIMEOUT = ClientTimeout(total=30)
RASA_DOWN = (
    "Sorry, the assistant isn't answering right now. If you or someone else is in danger, "
    "call 111. You can call or text 1737 any time, free."
)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def chat(request: web.Request) -> web.Response:
    """Relays one message to Rasa and returns its replies: ``{"sender", "message"}``."""
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, 'Send JSON: {"sender": "...", "message": "..."}')
    if not isinstance(payload, dict):
        return _error(400, "Send a JSON object.")
    message, sender = payload.get("message"), payload.get("sender")
    if not isinstance(message, str) or not message.strip():
        return _error(400, "'message' must be non-empty text.")
    if len(message) > MAX_MESSAGE_CHARS:
        return _error(413, f"Messages can be up to {MAX_MESSAGE_CHARS} characters.")
    if not isinstance(sender, str) or not 8 <= len(sender) <= 64:
        sender = uuid.uuid4().hex
    session: ClientSession = request.app["rasa"]
    try:
        async with session.post(
            f"{rasa_url()}/webhooks/rest/webhook", json={"sender": sender, "message": message}
        ) as response:
            response.raise_for_status()
            replies = await response.json()
    except (ClientError, TimeoutError) as exc:
        log.warning("Rasa unreachable: %s", type(exc).__name__)
        return web.json_response({"sender": sender, "replies": [{"text": RASA_DOWN}]}, status=502)
    return web.json_response({"sender": sender, "replies": replies})


async def _client(app: web.Application):
    app["rasa"] = ClientSession(timeout=RASA_TIMEOUT)
    yield
    await app["rasa"].close()


def create_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_post("/chat", chat)
    app.router.add_static("/static/", STATIC)
    app.cleanup_ctx.append(_client)
    return app


def main(host: str = "127.0.0.1", port: int = 8000) -> None:
    logging.basicConfig(level=logging.INFO)
    print(f"Chat with Āwhina at http://{host}:{port}/", flush=True)
    web.run_app(create_app(), host=host, port=port, print=None)
