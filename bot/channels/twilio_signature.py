"""Twilio's webhook signature (``X-Twilio-Signature``), computed and checked.

The gateway signs the full URL it called, followed by every POST parameter
name and value (names sorted, values of a repeated name sorted, no
separators), with HMAC-SHA1 keyed by the account's auth token, base64-encoded.
Because gateways are inconsistent about default ports, a signature is accepted
for the URL with or without its scheme's default port (Twilio's own libraries
accept any port left out; this is stricter).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

Params = Mapping[str, str | Iterable[str]]


def _values(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def compute(auth_token: str, url: str, params: Params) -> str:
    """The signature a Twilio-compatible gateway sends for ``url`` and form ``params``."""
    payload = url
    for name in sorted(set(params)):
        for value in sorted(set(_values(params[name]))):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """``url`` as given, and with its scheme's default port written or left out.

    Only the default port is optional: a signature for port 8443 is not one for 443.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    if default_port is None or port not in (None, default_port):
        return [url]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    without = urlunsplit(parts._replace(netloc=prefix + host))
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default_port}"))
    return list(dict.fromkeys([url, without, with_port]))


def is_valid(auth_token: str, url: str, params: Params, signature: str | None) -> bool:
    """Whether ``signature`` matches; compared in constant time. No token or signature: False."""
    if not auth_token or not signature:
        return False
    # Sanic hands over undecodable header bytes as surrogates; they can never match.
    given = signature.strip().encode("utf-8", "surrogateescape")
    matches = [
        hmac.compare_digest(compute(auth_token, variant, params).encode(), given)
        for variant in _url_variants(url)
    ]
    return any(matches)
