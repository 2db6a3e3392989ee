"""Static assets served under a name that carries their content hash.

``widget.js`` is served as ``/static/widget.3f9a0c12d4e5.js``: the name changes
whenever the content does, so browsers may cache it for a year. Assets are read
once at start-up (they are small); restart the app after editing one.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from bot.config import ROOT

STATIC = ROOT / "bot" / "web" / "static"
WIDGET_SRC = ROOT / "widget" / "src"

# Logical name -> file. The widget's own source lives in widget/src (no build step);
# socket.io's client is vendored from npm by `npm run vendor` in widget/.
FILES = {
    "widget.js": WIDGET_SRC / "widget.js",
    "widget.css": WIDGET_SRC / "widget.css",
    "socket.io.min.js": STATIC / "vendor" / "socket.io.min.js",
    "site.css": STATIC / "site.css",
    "embed.js": STATIC / "embed.js",
}
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
HASH_CHARS = 12


@dataclass(frozen=True)
class Asset:
    name: str
    url_name: str  # name with the content hash, e.g. widget.3f9a0c12d4e5.js
    body: bytes
    content_type: str
    digest: str


def load(name: str, path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    stem, dot, ext = name.rpartition(".")
    content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(name)[0]
    return Asset(
        name=name,
        url_name=f"{stem}.{digest[:HASH_CHARS]}.{ext}" if dot else f"{name}.{digest[:HASH_CHARS]}",
        body=body,
        content_type=content_type or "application/octet-stream",
        digest=digest,
    )


class Assets:
    """Every asset by logical name, and by hashed name for serving."""

    def __init__(self, files: dict[str, Path] = FILES) -> None:
        self._by_name = {name: load(name, path) for name, path in files.items()}
        self._by_url_name = {a.url_name: a for a in self._by_name.values()}

    def url(self, name: str) -> str:
        """Path of an asset relative to the app root, e.g. ``static/widget.3f9a0c12d4e5.js``."""
        return f"static/{self._by_name[name].url_name}"

    def by_url_name(self, url_name: str) -> Asset | None:
        return self._by_url_name.get(url_name)
