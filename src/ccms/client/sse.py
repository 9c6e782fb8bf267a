"""A sans-I/O parser of Server-Sent Events (the WHATWG HTML "event stream" format).

Feed it the bytes of a ``text/event-stream`` answer as they arrive, in chunks of any
size; it returns what each complete line or block means. What it returns does not depend
on how the bytes were split.

    parser = SSEParser()
    for chunk in response.iter_bytes():
        for item in parser.feed(chunk):
            ...                      # Event, Bookmark, Comment or Retry

The format, as the standard reads it:

- Lines end with CRLF, LF or CR. A UTF-8 byte order mark at the very start is skipped.
  Bytes that are not UTF-8 read as U+FFFD.
- ``:text`` is a comment (:class:`Comment`; servers send them as heartbeats).
- ``name: value`` is a field (one space after the colon is dropped; a line without a
  colon is a field with an empty value). ``event`` names the event type, ``data`` adds
  a line of data, ``id`` sets the last event id (ignored when it holds U+0000),
  ``retry`` (ASCII digits only) the reconnection time in ms (:class:`Retry`, as soon as
  its line is read). Other fields are ignored.
- An empty line ends a block: with data, it is an :class:`Event` (the data lines joined
  by LF; the type ``message`` when none was named); without data but with an ``id``, it
  is a :class:`Bookmark` (the standard's dispatch does nothing visible then, but the
  last event id moved, and a client resuming from it must know); otherwise nothing.
- At the end of the stream an incomplete block is dropped (:meth:`SSEParser.close`).

``max_line`` bounds the bytes of one line (and of the data of one block): a server that
never ends its line cannot make the parser hold unbounded memory (:class:`SSEError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Bookmark", "Comment", "Event", "Retry", "SSEError", "SSEItem", "SSEParser"]

DEFAULT_MAX_LINE = 16 * 2**20  # 16 MiB: far above a snapshot part of 500 agents
_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSEError(ValueError):
    """The stream is not one this parser will hold (a line longer than ``max_line``)."""


@dataclass(frozen=True, slots=True)
class Event:
    """A dispatched event: its ``type`` (``message`` by default), its ``data`` and the
    last event id when it was dispatched (``""``: none yet, or reset by an empty ``id``)."""

    type: str
    data: str
    id: str


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A block that set the last event id (``id``) and carried no data."""

    id: str


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line, without its leading colon (``" hb"`` for ``: hb``)."""

    text: str


@dataclass(frozen=True, slots=True)
class Retry:
    """A ``retry`` field: the server's reconnection time, in milliseconds."""

    ms: int


SSEItem = Event | Bookmark | Comment | Retry


class SSEParser:
    """The state of one event stream: the partial line, the block being read, the last
    event id. One parser per connection; :attr:`last_event_id` survives the blocks."""

    def __init__(self, *, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.max_line = max_line
        self.last_event_id = ""
        self._buffer = b""
        self._started = False  # the byte order mark can only come first
        self._skip_lf = False  # the last chunk ended with CR: a leading LF ends nothing
        self._type = ""
        self._data: list[str] = []
        self._data_size = 0
        self._id_seen = False

    def feed(self, chunk: bytes) -> list[SSEItem]:
        """What the complete lines of ``chunk`` (and of the bytes before it) mean."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        data = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._buffer = data
                return []
            self._started = True
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
        items: list[SSEItem] = []
        start = 0
        for end in _LINE_END.finditer(data):
            self._line(data[start : end.start()], items)
            start = end.end()
        rest = data[start:]
        if not rest and data.endswith(b"\r"):
            self._skip_lf = True  # a CR at the end: the LF that may follow is its pair
        if len(rest) > self.max_line:
            raise SSEError(f"an event stream line is longer than {self.max_line} bytes")
        self._buffer = rest
        return items

    def close(self) -> None:
        """The stream ended: an incomplete line or block is dropped, as the standard says."""
        self._buffer = b""
        self._skip_lf = False
        self._end_block()

    def _line(self, raw: bytes, items: list[SSEItem]) -> None:
        if not raw:
            self._dispatch(items)
            return
        line = raw.decode("utf-8", "replace")
        name, colon, value = line.partition(":")
        if not name and colon:
            items.append(Comment(value))
            return
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_size += len(raw)
            if self._data_size > self.max_line:
                raise SSEError(f"an event's data is longer than {self.max_line} bytes")
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\x00" not in value:
                self.last_event_id = value
                self._id_seen = True
        elif name == "retry" and value.isascii() and value.isdigit():
            items.append(Retry(int(value)))

    def _dispatch(self, items: list[SSEItem]) -> None:
        if self._data:
            items.append(Event(self._type or "message", "\n".join(self._data), self.last_event_id))
        elif self._id_seen:
            items.append(Bookmark(self.last_event_id))
        self._end_block()

    def _end_block(self) -> None:
        self._type = ""
        self._data = []
        self._data_size = 0
        self._id_seen = False
