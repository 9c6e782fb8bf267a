"""The wallboard's files (``ccms/web/wallboard/``), read from the installed package once:
their bytes, content types and ETags, for ``ccms.http.routes.wallboard`` and the OpenAPI
document (which lists their names)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

PAGE = "index.html"  # served at /wallboard itself

CONTENT_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file: its bytes, its ``Content-Type`` and its strong ETag (of its content)."""

    name: str
    body: bytes
    content_type: bytes
    etag: str


def _content_type(name: str) -> bytes:
    suffix = name[name.rfind(".") :] if "." in name else ""
    try:
        return CONTENT_TYPES[suffix]
    except KeyError:
        raise ValueError(f"wallboard file {name!r} has no known content type") from None


@functools.cache
def wallboard() -> dict[str, Asset]:
    """Every file of the wallboard, by name (the page is :data:`PAGE`)."""
    folder = resources.files("ccms").joinpath("web", "wallboard")
    files = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.is_file() or entry.name.startswith("."):
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        files[entry.name] = Asset(entry.name, body, _content_type(entry.name), etag)
    if PAGE not in files:
        raise RuntimeError(f"the wallboard's {PAGE} is missing from the package")
    return files


def file_names() -> list[str]:
    """The names served under ``/wallboard/``: every file but the page."""
    return [name for name in wallboard() if name != PAGE]
