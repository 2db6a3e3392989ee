"""Sending a text through a Twilio-compatible REST API.

``POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` with basic
auth (account SID, auth token) and form fields ``To``, ``From``, ``Body``.
Server errors (5xx), 429 and connection failures are retried with exponential
backoff; any other 4xx is the request's fault and is not retried.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from bot.phone import mask

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.twilio.com"


class SendError(Exception):
    """The gateway refused the message or could not be reached after every retry."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def _message_sid(response: aiohttp.ClientResponse) -> str | None:
    """The ``sid`` of an accepted message; a body that is not JSON is still a success."""
    try:
        payload = await response.json(content_type=None)
    except ValueError:
        return None
    sid = payload.get("sid") if isinstance(payload, dict) else None
    return str(sid) if sid else None


@dataclass(frozen=True)
class Gateway:
    account_sid: str
    auth_token: str
    base_url: str = DEFAULT_BASE_URL
    attempts: int = 4
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    timeout: float = 15.0

    @property
    def messages_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    async def send(self, to: str, from_: str, body: str) -> str | None:
        """Send one message; returns the gateway's message SID if it gave one.

        Raises ``SendError`` on a 4xx answer or when every attempt failed.
        """
        auth = aiohttp.BasicAuth(self.account_sid, self.auth_token)
        form = {"To": to, "From": from_, "Body": body}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        delay = self.backoff
        last_error = "not attempted"
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for attempt in range(1, self.attempts + 1):
                try:
                    async with session.post(self.messages_url, data=form, auth=auth) as response:
                        if response.status < 300:
                            sid = await _message_sid(response)
                            logger.info("sms sent to %s (%s)", mask(to), sid or "no sid")
                            return sid
                        if 400 <= response.status < 500 and response.status != 429:
                            raise SendError(
                                f"gateway refused the message: HTTP {response.status}",
                                response.status,
                            )
                        last_error = f"HTTP {response.status}"
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    last_error = type(exc).__name__
                if attempt < self.attempts:
                    logger.warning(
                        "sms to %s failed (%s), retry %d in %.1fs",
                        mask(to),
                        last_error,
                        attempt,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    delay *= 2
        raise SendError(f"gateway unreachable after {self.attempts} attempts: {last_error}")
