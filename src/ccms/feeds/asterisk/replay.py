"""``--replay FILE [--speed N]``: a recorded AMI stream through the same pipeline.

The entries of a transcript go to the :class:`~ccms.feeds.asterisk.session.Session`
exactly as a live connection would hand them over (greeting, actions sent, frames, end),
at their recorded times divided by ``speed`` (``None``: as fast as the pipeline goes).
The session's local clock is the recording's own time (``# t=``), so Asterisk's clock,
the wrap-up timers and therefore every event and its id are the same at any speed, and
the same as when the stream was live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from ccms.feeds.asterisk.session import Session
from ccms.feeds.asterisk.transcript import Entry


class ReplayClock:
    """The recording's time: the ``t`` of the entry being replayed, running on at
    ``speed`` between entries."""

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self._t = 0.0
        self._since = time.monotonic()

    def set(self, t: float) -> None:
        self._t = t
        self._since = time.monotonic()

    def __call__(self) -> float:
        if self.speed is None:
            return self._t
        return self._t + (time.monotonic() - self._since) * self.speed


def origin(entries: Sequence[Entry]) -> tuple[float, float] | None:
    """(Asterisk time, recording time) of the first frame with a ``Timestamp``."""
    for entry in entries:
        if entry.kind == "frame" and entry.frame is not None and entry.frame.get("Timestamp"):
            try:
                return float(entry.frame["Timestamp"]), entry.t
            except ValueError:
                continue
    return None


class Replayer:
    """Feeds a session with a transcript's entries."""

    def __init__(self, entries: Sequence[Entry], session: Session, clock: ReplayClock) -> None:
        self.entries = entries
        self.session = session
        self.clock = clock
        self.replayed = 0

    async def run(self) -> None:
        speed = self.clock.speed
        start = time.monotonic()
        first = self.entries[0].t if self.entries else 0.0
        for entry in self.entries:
            if speed is not None:
                delay = start + (entry.t - first) / speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif self.replayed % 200 == 0:
                await asyncio.sleep(0)  # let the feed deliver while a long file replays
            self.clock.set(entry.t)
            self.session.tick()
            self._dispatch(entry)
            self.replayed += 1
        self.session.tick()
        self.session.settle()
        if self.session.stats.connected:
            self.session.closed()

    def _dispatch(self, entry: Entry) -> None:
        session = self.session
        if entry.kind == "banner":
            session.connected(entry.text)
        elif entry.kind == "eof":
            session.closed()
        elif entry.frame is not None:
            if entry.kind == "sent":
                session.sent(entry.frame)
            else:
                session.received(entry.frame)
