"""Recorded AMI streams: ``--record FILE`` writes one, ``--replay FILE`` reads it.

The format is that of the real Asterisk 22 transcript the adapter was built against:
each entry starts with ``# t=<seconds since the recording started>`` and ends with an
empty line; an entry is the greeting (``<banner> Asterisk Call Manager/11.0.0``), an
action the adapter sent (``>>> Action: Login | ActionID: a1 | ...``, fields joined by
`` | ``), a frame received (its ``Key: Value`` lines), or the end of a connection
(``<EOF>``). A recording that spans reconnections holds several banners, each after an
``<EOF>``. Secrets (the ``Secret`` of ``Login``) are written as ``********``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from ccms.feeds.asterisk.protocol import Frame, parse_frame

Kind = Literal["banner", "sent", "frame", "eof"]
REDACTED = "********"
SECRET_FIELDS = frozenset({"Secret", "Key"})


@dataclass(frozen=True)
class Entry:
    """One entry of a transcript; ``frame`` holds the fields of a sent action too."""

    t: float
    kind: Kind
    text: str = ""  # the banner line
    frame: Frame | None = None


class TranscriptError(ValueError):
    """A file that is not a transcript (the line number says where)."""


def _sent(text: str) -> Frame:
    pairs = []
    for part in text.split(" | "):
        key, _, value = part.partition(":")
        pairs.append((key.strip(), value[1:] if value.startswith(" ") else value))
    return Frame(pairs)


def read_entries(lines: Sequence[str], source: str = "transcript") -> Iterator[Entry]:
    """The entries of a transcript's lines, in order."""
    t: float | None = None
    body: list[str] = []

    def entry() -> Entry:
        assert t is not None
        first = body[0]
        if first.startswith("<banner>"):
            return Entry(t, "banner", first[len("<banner>") :].strip())
        if first == "<EOF>":
            return Entry(t, "eof")
        if first.startswith(">>>"):
            return Entry(t, "sent", frame=_sent(first[3:].strip()))
        return Entry(t, "frame", frame=parse_frame("\n".join(body)))

    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if line.startswith("# t="):
            if t is not None and body:
                yield entry()
            try:
                t = float(line[4:])
            except ValueError:
                raise TranscriptError(f"{source} line {number}: bad time {line!r}") from None
            body = []
        elif not line:
            if t is not None and body:
                yield entry()
                t, body = None, []
        elif t is None:
            raise TranscriptError(f"{source} line {number}: expected '# t=SECONDS' first")
        else:
            body.append(line)
    if t is not None and body:
        yield entry()


def read_transcript(path: str | Path) -> list[Entry]:
    """Every entry of a transcript file (a file that cannot be read raises ``OSError``)."""
    with open(path, encoding="utf-8", errors="replace") as file:
        return list(read_entries(file.readlines(), str(path)))


class Recorder:
    """Writes what an AMI connection sees, in the transcript format, as it happens."""

    def __init__(self, file: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._file = file
        self._clock = clock
        self._origin = clock()

    @classmethod
    def open(cls, path: str | Path) -> Recorder:
        return cls(open(path, "w", encoding="utf-8"))

    def _write(self, body: str) -> None:
        self._file.write(f"# t={self._clock() - self._origin:.3f}\n{body}\n\n")
        self._file.flush()

    def banner(self, text: str) -> None:
        self._write(f"<banner> {text}")

    def sent(self, pairs: Sequence[tuple[str, str]]) -> None:
        shown = [(k, REDACTED if k in SECRET_FIELDS else v) for k, v in pairs]
        self._write(">>> " + " | ".join(f"{k}: {v}" for k, v in shown))

    def frame(self, frame: Frame) -> None:
        self._write(frame.text("\n"))

    def eof(self) -> None:
        self._write("<EOF>")

    def close(self) -> None:
        self._file.close()
