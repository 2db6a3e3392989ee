"""The calls the inbox makes to Rasa's HTTP API (``--enable-api --auth-token``).

What Rasa 3.6 really does, read from ``rasa/server.py`` and ``rasa/core/processor.py``:

- ``POST /conversations/{id}/tracker/events`` appends events under the
  conversation lock and saves the tracker. "Pausing" the bot sets the slot
  ``navigator_live``: the person's messages are still understood and logged as
  ``user`` events (the inbox reads them from the tracker), and
  ``NavigatorLivePolicy`` predicts nothing but listening, except after a
  crisis message, which still gets the crisis answer. (Rasa's own ``pause``
  event would silence crisis answers too.)
- ``POST /conversations/{id}/execute`` runs the action through
  ``MessageProcessor.execute_action``: the relay actions run while the
  navigator is live. ``output_channel=latest``
  sends the bot's messages to the channel of the person's latest message when
  that channel can make an output channel (socket.io, SMS); for the REST
  channel they are only logged as ``bot`` events (the web chat page has to
  fetch them).
- ``execute`` answers 404 for a conversation Rasa has never seen, 500 when the
  action is not in the domain, and **200 even when the action server failed**
  (``_run_action`` logs the exception and drops the action's events). So after
  executing, :meth:`RasaClient.execute` reads the tracker back and checks that
  the action said something; otherwise it raises :class:`RasaError`.
- ``GET /conversations/{id}/tracker`` creates an empty tracker for an unknown
  id, so the inbox does not ask for the transcript of a forgotten conversation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from aiohttp import ClientError, ClientSession, ClientTimeout
from yarl import URL

from bot.dialogue import NAVIGATOR_LIVE_SLOT
from bot.safety.detector import CRISIS_PREFIX

log = logging.getLogger(__name__)


def _live(value: bool | None) -> dict[str, Any]:
    return {"event": "slot", "name": NAVIGATOR_LIVE_SLOT, "value": value}


MAX_ERROR_CHARS = 300


class RasaError(Exception):
    """Rasa answered with an error, or the action did not do what it should."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached at all."""


@dataclass(frozen=True)
class Turn:
    """One line of the conversation: what the person or the bot said."""

    actor: str  # 'user' or 'bot'
    text: str
    at: datetime
    timestamp: float
    crisis: bool = False  # the NLU's crisis check flagged this message


def _turns(events: list[Any]) -> list[Turn]:
    turns = []
    for event in events:
        if not isinstance(event, dict) or event.get("event") not in ("user", "bot"):
            continue
        text = event.get("text")
        if not isinstance(text, str) or not text:
            continue
        timestamp = event.get("timestamp")
        timestamp = float(timestamp) if isinstance(timestamp, (int, float)) else 0.0
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
        turns.append(
            Turn(
                actor=event["event"],
                text=text,
                at=datetime.fromtimestamp(timestamp, timezone.utc),
                timestamp=timestamp,
                crisis=event["event"] == "user" and str(intent).startswith(CRISIS_PREFIX),
            )
        )
    return turns


def _said_something_after(events: list[Any], action: str) -> bool:
    """Whether a ``bot`` event follows the last run of ``action`` in the tracker."""
    last = None
    for i, event in enumerate(events):
        if (
            isinstance(event, dict)
            and event.get("event") == "action"
            and event.get("name") == action
        ):
            last = i
    if last is None:
        return False
    return any(isinstance(e, dict) and e.get("event") == "bot" for e in events[last + 1 :])


class RasaClient:
    def __init__(
        self, http: ClientSession, base_url: str, token: str | None, timeout: float = 10.0
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = ClientTimeout(total=timeout)

    def _url(self, conversation_id: str, tail: str, **params: str) -> URL:
        query = {"token": self._token} if self._token else {}
        query.update(params)
        path = f"/conversations/{quote(conversation_id, safe='')}/{tail}"
        return URL(self._base + path, encoded=True).with_query(query)

    async def _call(self, method: str, url: URL, body: Any = None) -> Any:
        try:
            async with self._http.request(
                method, url, json=body, timeout=self._timeout
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise RasaError(_error_message(response.status, text))
        except (ClientError, TimeoutError) as exc:
            log.warning("Rasa unreachable: %s", type(exc).__name__)
            raise RasaUnavailable("Āwhina's server (Rasa) is not answering.") from exc
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError as exc:
            raise RasaError("Rasa sent an answer the inbox could not read.") from exc

    async def tracker_events(self, conversation_id: str) -> list[Any]:
        state = await self._call("GET", self._url(conversation_id, "tracker", include_events="ALL"))
        events = state.get("events") if isinstance(state, dict) else None
        return events if isinstance(events, list) else []

    async def transcript(self, conversation_id: str) -> list[Turn]:
        """What the person and the bot said, oldest first."""
        return _turns(await self.tracker_events(conversation_id))

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        await self._call("POST", self._url(conversation_id, "tracker/events"), events)

    async def set_slots(self, conversation_id: str, slots: Mapping[str, str | None]) -> None:
        await self.append_events(
            conversation_id,
            [{"event": "slot", "name": name, "value": value} for name, value in slots.items()],
        )

    async def pause(self, conversation_id: str) -> None:
        """Quiets the bot (not Rasa's ``pause``, which would also silence crisis answers)."""
        await self.append_events(conversation_id, [_live(True)])

    async def resume(self, conversation_id: str) -> None:
        await self.append_events(conversation_id, [_live(None)])

    async def execute(self, conversation_id: str, action: str) -> None:
        """Runs ``action`` and sends what it says to the person's latest channel.

        Raises :class:`RasaError` when Rasa refuses or the action said nothing
        (Rasa hides action server failures behind a 200). Afterwards the
        conversation is left listening, as after any bot turn: ``execute``
        does not add ``action_listen``, and without it the person's next
        message would be read out of context.
        """
        await self._call(
            "POST",
            self._url(conversation_id, "execute", output_channel="latest"),
            {"name": action},
        )
        said = _said_something_after(await self.tracker_events(conversation_id), action)
        await self.append_events(conversation_id, [{"event": "action", "name": "action_listen"}])
        if not said:
            raise RasaError(
                f"Āwhina ran {action} but it sent nothing to the person "
                "(is the action server running?)."
            )


def _error_message(status: int, body: str) -> str:
    """Rasa's own error message (``{"message": ...}``), shortened for the page."""
    message = ""
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            message = str(payload.get("message") or payload.get("reason") or "")
    except json.JSONDecodeError:
        pass
    message = " ".join(message.split())[:MAX_ERROR_CHARS]
    return f"Rasa answered {status}" + (f": {message}" if message else ".")
