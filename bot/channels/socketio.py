"""The website chat widget's channel: Rasa's socket.io channel, hardened.

Registered in ``credentials.yml`` as ``bot.channels.socketio.SocketIOInput``; its
name stays ``socketio`` so trackers, ``output_channel=latest`` (a navigator's
reply) and Rasa's own tooling treat it as the built-in channel.

What it changes, read against ``rasa/core/channels/socketio.py`` (Rasa 3.6):

- **CORS.** Rasa builds its ``AsyncServer`` with ``cors_allowed_origins=[]``,
  which turns Engine.IO's origin check off: any web page could open a socket.
  Here only the configured origins may connect (``cors_allowed_origins`` in
  ``credentials.yml``, else ``WIDGET_ALLOWED_ORIGINS``, comma separated, else the
  web app's own origin on ``WEB_PORT``).
- **Session persistence.** Rasa calls ``sio.enter_room`` without ``await``;
  with python-socketio 5.x it is a coroutine, so the socket never joins the
  session's room and replies (and pushed navigator messages) are lost. Here the
  room is joined, a socket is in at most one session, and a session id must be
  32 lowercase hex characters (``uuid4().hex``, unguessable); anything else gets
  a fresh id.
- **Messages.** Only a socket that asked for the session may speak in it;
  anything but text is ignored; text over ``max_message_chars`` gets a clear
  reply and never reaches the model; control characters (NUL and friends, which
  PostgreSQL cannot store) are removed.
- **Replicas.** With a Redis URL (``redis_url`` in ``credentials.yml``, else
  ``WIDGET_REDIS_URL``) the server's rooms are shared through Redis
  (python-socketio's ``AsyncRedisManager``): a reply emitted by any Rasa
  replica, such as a navigator's through the HTTP API, reaches the widget on
  whichever replica holds its socket. Each socket still needs sticky sessions
  at the balancer for socket.io's polling transport (``deploy/haproxy.cfg``).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint
from socketio import AsyncRedisManager

from bot.channels.guard import guarded
from bot.channels.limits import MAX_MESSAGE_CHARS, too_long_reply
from bot.channels.widget import default_origins, is_session_id, parse_origins
from bot.text import strip_controls

log = logging.getLogger(__name__)
# The Redis pub/sub channel the replicas share rooms on.
REDIS_CHANNEL = "awhina-widget"


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io input with an origin allow-list, working rooms and a length limit."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SocketIOInput:
        credentials = credentials or {}
        origins = parse_origins(
            credentials.get("cors_allowed_origins") or os.environ.get("WIDGET_ALLOWED_ORIGINS")
        )
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=origins or default_origins(),
            max_message_chars=int(credentials.get("max_message_chars", MAX_MESSAGE_CHARS)),
            redis_url=credentials.get("redis_url") or os.environ.get("WIDGET_REDIS_URL"),
        )

    def __init__(
        self,
        *args: Any,
        cors_allowed_origins: Iterable[str] | None = None,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        redis_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cors_allowed_origins = parse_origins(cors_allowed_origins) or default_origins()
        if max_message_chars < 1:
            raise ValueError("max_message_chars must be at least 1")
        self.max_message_chars = max_message_chars
        self.redis_url = redis_url or None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint with our origin list and our session and message handlers."""
        on_new_message = guarded(on_new_message)
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by super().blueprint
        sio.eio.cors_allowed_origins = list(self.cors_allowed_origins)
        if self.redis_url:
            # Before any socket connects: the server starts its manager on the first one.
            sio.manager = AsyncRedisManager(self.redis_url, channel=REDIS_CHANNEL)
            sio.manager.set_server(sio)
        namespace = self.namespace

        def session_rooms(sid: str) -> list[str]:
            return [room for room in sio.rooms(sid, namespace) if is_session_id(room)]

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if is_session_id(requested) else uuid.uuid4().hex
            if self.session_persistence:
                for room in session_rooms(sid):
                    if room != session_id:
                        await sio.leave_room(sid, room, namespace)
                await sio.enter_room(sid, session_id, namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                log.debug("socket.io message without text ignored")
                return
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not is_session_id(sender_id) or sender_id not in session_rooms(sid):
                    log.info("socket.io message for a session this socket did not request")
                    return
            else:
                sender_id = sid
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = strip_controls(data["message"])
            if not text.strip():
                return
            if len(text) > self.max_message_chars:
                log.info("socket.io message over %d characters refused", self.max_message_chars)
                await output.send_text_message(sender_id, too_long_reply(self.max_message_chars))
                return
            metadata = data.get(self.metadata_key)
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata if isinstance(metadata, dict) else {},
                )
            )

        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return socketio_webhook
