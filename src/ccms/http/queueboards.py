"""The queue figures of the live stream (``docs/stream.md``, ``queues=1``): one reader per
process for the VDNs that streams watch.

Queue figures are derived, not changes: a call that waits longer changes nothing, and a
wallboard ticks the longest wait itself. So the figures are not in the change log; once a
second, :class:`QueueBoards` reads the board of each watched VDN (``Store.queue_board``,
one read) and, when it differs from the last one read, hands every watching stream the
new ``queue`` event, encoded once per skills filter. A stream holds at most one: a newer
one replaces it, so a slow reader is never sent a backlog of stale figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from ccms.domain.queues import QueueBoard, window_start
from ccms.http.schemas.stream import queue_event
from ccms.store.base import Store

log = logging.getLogger(__name__)

INTERVAL_S = 1.0  # how often a watched VDN's board is read


class Watcher(Protocol):
    cc_id: int
    vdn: int
    queue_frame: bytes | None

    @property
    def skills(self) -> frozenset[int] | None: ...

    def notify(self) -> None: ...


class QueueBoards:
    """The boards of the VDNs watched by this process's streams."""

    def __init__(
        self, store: Store, now_ms: Callable[[], int], interval_s: float = INTERVAL_S
    ) -> None:
        self._store = store
        self._now_ms = now_ms
        self._interval_s = interval_s
        self._watchers: dict[tuple[int, int], set[Watcher]] = {}
        self._last: dict[tuple[int, int], tuple[QueueBoard, int]] = {}  # board, its start
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.reads = 0  # boards read (for tests and metrics)

    @property
    def watched(self) -> int:
        return len(self._watchers)

    def watch(self, sub: Watcher) -> None:
        """Hand ``sub`` its VDN's figures from now on (the last read at once, if any)."""
        tenant = (sub.cc_id, sub.vdn)
        self._watchers.setdefault(tenant, set()).add(sub)
        last = self._last.get(tenant)
        if last is not None:
            self._hand({sub}, *last)
        else:
            self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ccms-queues")

    def unwatch(self, sub: Watcher) -> None:
        tenant = (sub.cc_id, sub.vdn)
        subs = self._watchers.get(tenant)
        if subs is not None and sub in subs:
            subs.discard(sub)
            if not subs:
                del self._watchers[tenant]
                self._last.pop(tenant, None)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._last.clear()

    async def read_once(self) -> None:
        """Read the board of every watched VDN; hand out those that changed."""
        now = self._now_ms()
        start = window_start(now)
        for tenant in list(self._watchers):
            board = await self._store.queue_board(*tenant, start)
            self.reads += 1
            subs = self._watchers.get(tenant)
            if not subs:
                continue
            if self._last.get(tenant) == (board, start):
                continue
            self._last[tenant] = (board, start)
            self._hand(subs, board, start)

    def _hand(self, subs: set[Watcher], board: QueueBoard, start: int) -> None:
        if not board.has_calls:
            return  # no call data: no queue figures (a wallboard shows none)
        now = self._now_ms()
        encoded: dict[frozenset[int] | None, bytes] = {}
        for sub in subs:
            skills = sub.skills
            frame = encoded.get(skills)
            if frame is None:
                frame = encoded[skills] = queue_event(board, start, skills, now)
            sub.queue_frame = frame
            sub.notify()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._watchers:
            self._wake.clear()
            try:
                await self.read_once()
            except Exception as exc:  # the store is away: the next second tries again
                log.warning("the stream's queue figures could not be read (%s)", exc)
            wait = self._interval_s - loop.time() % self._interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
        self._task = None
