"""The adapter as an :class:`~ccms.feeds.delivery.EventSource`: the spool, read in runs.

Events the session makes go into the spool at once (:meth:`AmiSource.accept`); the
:class:`~ccms.feeds.delivery.Feed` asks for runs, and a run is acknowledged (the spool's
cursor moves past it) only when the feed comes back for the next one, that is once ccms
acknowledged it. Whatever ccms has not acknowledged when the adapter stops is still in the
spool when it starts again.

When the spool is full, a batch of events is refused whole: each agent's last written
event stays what the adapter compares against, and the agent is remembered; once the
spool has room again the adapter derives those agents anew and writes their state of
that moment (their intermediate states are lost: counted in
``ccms_ami_spool_refused_events_total``).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from ccms.domain.agent import AgentKey
from ccms.feeds.asterisk.spool import Spool
from ccms.feeds.asterisk.tracker import Tracker

log = logging.getLogger(__name__)

ROOM_MARGIN = 64 * 1024  # refreshed agents are written once this much room is free


class AmiSource:
    """Runs of spooled events for a :class:`~ccms.feeds.delivery.Feed`."""

    def __init__(
        self,
        spool: Spool,
        tracker: Tracker,
        *,
        batch: int,
        now: Callable[[], float],
        local: Callable[[], float] = time.monotonic,
        on_lag: Callable[[float], None] = lambda seconds: None,
        summary: Callable[[], str] = lambda: "",
    ) -> None:
        self.spool = spool
        self.tracker = tracker
        self.batch = batch
        self.overflow: set[AgentKey] = set()
        self.ended = False
        self._now = now
        self._local = local
        self._on_lag = on_lag
        self._summary = summary
        self._old = spool.pending  # events left by an earlier run: no receive time known
        self._written = 0
        self._delivered = 0
        self._received: deque[tuple[int, float]] = deque()  # (events written so far, t)
        self._warned = False

    def accept(self, events: list[dict[str, Any]], received: float) -> None:
        """Spool ``events`` (made from a frame received at local time ``received``)."""
        if not events:
            return
        if self.overflow:
            self.spool.refused += len(events)  # the agents' state is written on refresh
            self._refused(events)
            return
        if not self.spool.append(events):
            self._refused(events)
            return
        self._written += len(events)
        self._received.append((self._written, received))

    def _refused(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if "callId" in event:
                continue  # a call event refused is lost (counted with the others)
            key = AgentKey(event["ccId"], event["vdn"], event["agentId"])
            self.tracker.forget_sent(key, self.spool.last.get(key))
            self.overflow.add(key)
        if not self._warned:
            self._warned = True
            log.warning(
                "the spool is full (%d MB): until ccms takes events again, only each agent's"
                " latest state is kept", self.spool.max_bytes // (1 << 20),
            )  # fmt: skip

    def finish(self) -> None:
        """No more events will come (a replay ended): runs end once the spool is empty."""
        self.ended = True
        self.spool.wake()

    def _refresh(self) -> None:
        if self.overflow and self.spool.room(ROOM_MARGIN):
            keys, self.overflow = self.overflow, set()
            self._warned = False
            log.info("the spool has room again: writing the state of %d agents", len(keys))
            self.accept(self.tracker.refresh(keys, self._now()), self._local())

    async def runs(self) -> AsyncIterator[list[dict[str, Any]]]:
        while True:
            self._refresh()
            if not self.spool.unread:
                if self.ended:
                    return
                await self.spool.wait()
                continue
            events = self.spool.read(self.batch)
            yield events
            self.spool.commit()
            self._acknowledged(len(events))

    def _acknowledged(self, count: int) -> None:
        now = self._local()
        self._delivered += count
        mine = self._delivered - self._old
        while self._received and self._received[0][0] <= mine:
            self._on_lag(now - self._received.popleft()[1])

    def summary(self) -> str:
        return self._summary()
