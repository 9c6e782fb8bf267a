"""What an AMI stream means, frame by frame: the same for a live socket and a replay.

A :class:`Session` is told what a connection sees (the greeting, the actions sent, each
frame, the end) and turns it into the tracker's work: event frames one by one, the answer
to a ``QueueStatus`` as one snapshot once its ``QueueStatusComplete`` arrives,
``FullyBooted`` (the connection is usable; its ``Uptime`` smaller than expected means
Asterisk restarted and its calls are gone) and ``Shutdown``. The events the tracker makes
go to ``sink`` as soon as the frame that caused them is read.

Time. :class:`AsteriskClock` estimates Asterisk's clock: the ``Timestamp`` of the last
frame that had one, plus the local time elapsed since (the wall clock until a frame had
one). A frame without ``Timestamp`` (``timestampevents = no``) happens at the clock's
estimate; a ``QueueStatus`` answer (which never has one) at the last ``Timestamp`` seen:
the connection sends a ``Ping`` just before (its answer carries Asterisk's time), so a
snapshot's instant is Asterisk's own, the same live and in a replay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccms.feeds.asterisk.protocol import Frame
from ccms.feeds.asterisk.tracker import Tracker

log = logging.getLogger(__name__)

RESTART_SLACK_S = 10.0  # an Uptime this much below the expected one is a restart
Sink = Callable[[list[dict[str, Any]]], None]


class AsteriskClock:
    """Asterisk's epoch seconds, estimated from frames' ``Timestamp`` and a local clock."""

    def __init__(
        self, local: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self.local = local
        self._wall = wall
        self._anchor: tuple[float, float] | None = None  # (asterisk ts, local time)

    def observe(self, ts: float) -> None:
        self._anchor = (ts, self.local())

    def anchor(self, ts: float, local: float) -> None:
        self._anchor = (ts, local)

    def last_seen(self) -> float:
        """The last ``Timestamp`` seen (the estimate of :meth:`now` before any)."""
        return self.now() if self._anchor is None else self._anchor[0]

    def now(self) -> float:
        if self._anchor is None:
            return self._wall()
        ts, at = self._anchor
        return ts + (self.local() - at)


@dataclass
class SessionStats:
    connections: int = 0
    frames: int = 0
    restarts: int = 0
    snapshots: int = 0
    shutdowns: int = 0
    uptime: float | None = None
    booted: bool = False
    connected: bool = False
    last_snapshot: float | None = None
    notes: list[str] = field(default_factory=list)


class Session:
    """Interprets one AMI stream (across reconnections) for a :class:`Tracker`."""

    def __init__(self, tracker: Tracker, clock: AsteriskClock, sink: Sink) -> None:
        self.tracker = tracker
        self.clock = clock
        self.sink = sink
        self.stats = SessionStats()
        self._actions: dict[str, str] = {}  # ActionID -> Action, for this connection
        self._lists: dict[str, list[Frame]] = {}  # ActionID -> QueueStatus frames so far
        self._uptime: tuple[float, float] | None = None  # (Uptime, local time) at boot

    # -- what the connection sees ------------------------------------------------------

    def connected(self, banner: str) -> None:
        self.stats.connections += 1
        self.stats.connected = True
        self.stats.booted = False
        self._actions.clear()
        self._lists.clear()

    def sent(self, action: Frame) -> None:
        action_id = action.get("ActionID")
        if action_id:
            self._actions[action_id] = action.get("Action")

    def closed(self) -> None:
        self.stats.connected = False
        self.stats.booted = False
        self._actions.clear()
        self._lists.clear()

    def settle(self) -> None:
        """Nothing more will come (a replay ended): the calls' ends that wait, now."""
        events = self.tracker.calls.settle_all()
        if events:
            self.sink(events)

    def tick(self) -> None:
        """Time passed: the wrap-ups that ended."""
        events = self.tracker.advance(self.clock.now())
        if events:
            self.sink(events)

    def received(self, frame: Frame) -> None:
        self.stats.frames += 1
        stamp = frame.get("Timestamp")
        if stamp:
            try:
                self.clock.observe(float(stamp))
            except ValueError:
                stamp = ""
        at = float(stamp) if stamp else self.clock.now()
        action_id = frame.action_id
        if action_id and self._actions.get(action_id) == "QueueStatus":
            self._queue_status(frame, action_id, at)
            return
        name = frame.event
        if name == "FullyBooted":
            self._booted(frame)
            return
        if name == "Shutdown":
            self.stats.shutdowns += 1
            self.stats.booted = False
            log.warning("Asterisk is shutting down (%s)", frame.get("Shutdown") or "no reason")
            return
        if not name:
            return  # a response to another action
        events = self.tracker.frame(frame, at)
        if events:
            self.sink(events)

    # -- inside --------------------------------------------------------------------------

    def _queue_status(self, frame: Frame, action_id: str, at: float) -> None:
        if frame.response:
            if frame.response == "Success":
                self._lists[action_id] = []
            else:
                log.warning("QueueStatus refused: %s", frame.get("Message"))
            return
        frames = self._lists.get(action_id)
        if frames is None:
            return
        if frame.event != "QueueStatusComplete":
            frames.append(frame)
            return
        del self._lists[action_id]
        self.stats.snapshots += 1
        at = max(self.clock.last_seen(), self.tracker.latest)
        self.stats.last_snapshot = at
        events = self.tracker.snapshot(frames, at)
        if events:
            self.sink(events)

    def _booted(self, frame: Frame) -> None:
        try:
            uptime = float(frame.get("Uptime", ""))
        except ValueError:
            uptime = None
        local = self.clock.local()
        if uptime is not None:
            if self._uptime is not None:
                before, then = self._uptime
                expected = before + (local - then)
                if uptime + RESTART_SLACK_S < expected:
                    self.stats.restarts += 1
                    log.warning(
                        "Asterisk restarted (uptime %.0f s, %.0f s expected): its calls are"
                        " gone, the next QueueStatus says who is still a member",
                        uptime, expected,
                    )  # fmt: skip
                    ended = self.tracker.restarted()
                    if ended:
                        self.sink(ended)
            self._uptime = (uptime, local)
            self.stats.uptime = uptime
        self.stats.booted = True
