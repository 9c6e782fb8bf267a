"""The Asterisk Manager Interface line protocol: frames in, actions out.

AMI is a small text protocol over TCP (5038) or TLS (5039). The server greets with one
line (``Asterisk Call Manager/11.0.0``), then every message is a *frame*: lines of
``Key: Value`` ended by CR LF, the frame ended by an empty line. A frame with ``Event:``
is an event, one with ``Response:`` answers the action of the same ``ActionID``; list
actions (``QueueStatus``) answer with a response, events carrying that ``ActionID`` and a
closing ``...Complete`` event.

ccms parses it itself: a frame is a split on CR LF and a partition of each line, a few
microseconds, and the rules that matter for a CTI source (which frames are a snapshot,
what to do when the socket dies mid-frame or stops answering) live in
:mod:`ccms.feeds.asterisk.connection` and :mod:`ccms.feeds.asterisk.session`, where they
can be tested against a fake server. ``docs/adapters/asterisk.md`` says why no AMI library
is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

FRAME_END = b"\r\n\r\n"
MAX_FRAME_BYTES = 1 << 20  # a frame larger than this is a broken stream, not an event


class ProtocolError(Exception):
    """The stream is not AMI (no banner, a frame past :data:`MAX_FRAME_BYTES`)."""


class Frame:
    """One AMI frame: its fields in order (the first of a repeated key wins on lookup)."""

    __slots__ = ("fields", "pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        fields: dict[str, str] = {}
        for key, value in pairs:
            fields.setdefault(key, value)
        self.fields = fields

    @classmethod
    def of(cls, **fields: str) -> Frame:
        return cls(list(fields.items()))

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self.fields

    @property
    def event(self) -> str:
        """The event name (``QueueMemberStatus``), "" for a response."""
        return self.fields.get("Event", "")

    @property
    def response(self) -> str:
        """``Success``, ``Error``, ``Goodbye``..., "" for an event."""
        return self.fields.get("Response", "")

    @property
    def action_id(self) -> str:
        return self.fields.get("ActionID", "")

    def text(self, newline: str = "\r\n") -> str:
        """The frame as written on the wire (without the empty line that ends it)."""
        return newline.join(f"{key}: {value}" for key, value in self.pairs)

    def __repr__(self) -> str:
        return f"Frame({self.pairs!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frame) and other.pairs == self.pairs

    __hash__ = None  # type: ignore[assignment]


def parse_frame(text: str) -> Frame:
    """A frame from its lines (CR LF or LF separated; a trailing empty line is ignored).

    A line without a colon (Asterisk's raw command output of old versions) is kept under
    the key "" so that nothing is lost.
    """
    pairs: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            pairs.append(("", line))
            continue
        pairs.append((key, value[1:] if value.startswith(" ") else value))
    return Frame(pairs)


def format_action(action: str, action_id: str, fields: Mapping[str, str] | None = None) -> bytes:
    """The bytes of an action. A value holding CR or LF would end the frame early: refused."""
    lines = [f"Action: {action}", f"ActionID: {action_id}"]
    for key, value in (fields or {}).items():
        if "\r" in value or "\n" in value or "\r" in key or "\n" in key:
            raise ValueError(f"AMI field {key!r} must not contain a line break")
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def action_fields(data: bytes) -> list[tuple[str, str]]:
    """The fields of an action's bytes (for the transcript)."""
    return parse_frame(data.decode("utf-8", "replace")).pairs


class FrameReader:
    """Frames from an :class:`asyncio.StreamReader`.

    :meth:`banner` reads the greeting line, :meth:`frame` the next frame; both raise
    :class:`asyncio.IncompleteReadError` when the socket closes, also in the middle of a
    frame (the partial frame is dropped: it never happened for the adapter).
    """

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def banner(self) -> str:
        line = await self._reader.readuntil(b"\n")
        text = line.decode("utf-8", "replace").strip()
        if "Call Manager" not in text:
            raise ProtocolError(f"not an Asterisk Manager Interface: {text[:80]!r}")
        return text

    async def frame(self) -> Frame:
        while True:
            try:
                data = await self._reader.readuntil(FRAME_END)
            except asyncio.LimitOverrunError as exc:
                raise ProtocolError(f"a frame longer than {MAX_FRAME_BYTES} bytes") from exc
            frame = parse_frame(data.decode("utf-8", "replace"))
            if frame.pairs:  # stray empty lines between frames are not frames
                return frame


def stream_limit() -> int:
    """The ``limit`` to open an AMI stream with (the longest frame accepted)."""
    return MAX_FRAME_BYTES


def frames_text(frames: Iterable[Frame]) -> bytes:
    """Frames as a server writes them (tests and the fake server)."""
    return b"".join(frame.text().encode("utf-8") + FRAME_END for frame in frames)
