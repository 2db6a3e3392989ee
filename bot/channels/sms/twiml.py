"""Twilio's webhook format: the urlencoded form in, a TwiML document out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse


def document(parts: Sequence[str]) -> str:
    """A TwiML document with one ``<Message>`` per part (none: an empty ``<Response/>``)."""
    body = "".join(f"<Message>{escape(_xml_safe(p))}</Message>" for p in parts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def _xml_safe(text: str) -> str:
    """Characters XML 1.0 cannot carry removed."""
    return re.sub("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", text)


def answer(parts: Sequence[str] = ()) -> HTTPResponse:
    """The webhook's answer: ``parts`` as TwiML messages (none: the person gets nothing)."""
    return response.text(document(parts), content_type="text/xml; charset=utf-8")


def form(request: Request) -> dict[str, list[str]]:
    """The urlencoded form with empty values kept (an empty ``Body`` is signed too).

    Sanic's ``request.form`` drops empty values, which would break signatures.
    Anything else (another content type, bytes that are not UTF-8) is an empty form.
    """
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        return parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}


def field(values: Mapping[str, list[str]], name: str) -> str | None:
    """The first value of a form field, None when it is absent."""
    found = values.get(name)
    return found[0] if found else None
