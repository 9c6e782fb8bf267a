"""The fan-out of one server process: every open stream and waiting long-poll, fed from the
store's change log.

One :class:`Hub` per app follows the store's change feed (``Store.changes()``, the wake-up
signal: this process's commits and, through the store, every other process's and node's)
and, once per wake, reads the change log after the last change it saw, for every tenant
(``Store.read_changes``). Each change is encoded once (``encode_change``: its JSON and its
SSE bytes) and the same bytes are handed to every matching :class:`Subscriber`'s bounded
queue. A subscriber whose queue is full is ended with a ``slow-consumer`` reset on its own;
the hub never waits for a subscriber.

A subscriber catches up from the log by itself (its snapshot, or its cursor) and joins the
hub (:meth:`Hub.join`) only once its cursor has reached the hub's: from then on the hub
hands it every change after that, and nothing is missed between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ccms.auth import AccessKey
from ccms.domain.changes import AgentChange, ViewToken
from ccms.domain.flags import FlagsOf, no_flags
from ccms.errors import CCMSError, RateLimitedError, StoreUnavailableError
from ccms.http.metrics import Metrics
from ccms.http.queueboards import QueueBoards
from ccms.http.schemas.stream import EncodedChange, Filter, encode_change
from ccms.http.snapshots import SharedSnapshots
from ccms.store.base import Store

log = logging.getLogger(__name__)

READ_PAGE = 1000  # changes the hub reads from the log at once
ABANDON_AFTER_S = 10.0  # an ended subscriber's connection is cut when it is stuck that long
_RETRY_MIN_S = 0.1
_RETRY_MAX_S = 5.0

CURSOR_EXPIRED = "cursor-expired"
SLOW_CONSUMER = "slow-consumer"


class Ending(NamedTuple):
    """Why a subscriber ends: a reset (``reason``) or an in-band error; both ``None``:
    the server is shutting down (the stream closes without a word)."""

    reason: str | None = None
    error: CCMSError | None = None


class Subscriber:
    """One open stream or waiting long-poll: who opened it, what it follows, and the
    changes handed to it and not yet written (at most ``limit``)."""

    __slots__ = (
        "_waiter", "abandon", "cc_id", "ending", "expired", "filter", "items", "key", "limit",
        "live", "queue_frame", "token", "vdn",
    )  # fmt: skip

    def __init__(
        self,
        key: AccessKey,
        token: ViewToken | None,
        cc_id: int,
        vdn: int,
        selection: Filter,
        limit: int,
    ) -> None:
        self.key = key
        self.token = token
        self.cc_id = cc_id
        self.vdn = vdn
        self.filter = selection
        self.limit = limit
        self.items: deque[EncodedChange] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.ending: Ending | None = None
        self.live = False  # joined: the hub hands it every change after its cursor
        self.expired = False  # the hub fell behind the replay window: start again
        self.abandon = asyncio.Event()  # set when an ended subscriber's writes are stuck
        self.queue_frame: bytes | None = None  # the newest queue figures not yet written

    @property
    def pending(self) -> bool:
        """Something to write: changes, queue figures, an ending, or a restart after
        expiry."""
        return (
            bool(self.items)
            or self.ending is not None
            or self.expired
            or self.queue_frame is not None
        )

    @property
    def skills(self) -> frozenset[int] | None:
        return self.filter.skills

    def take_queue_frame(self) -> bytes:
        """The newest queue figures handed to it and not yet written (``b""``: none)."""
        frame, self.queue_frame = self.queue_frame, None
        return frame or b""

    async def wait(self, timeout: float) -> None:
        """Until something is :attr:`pending` or ``timeout`` seconds passed. One future
        and one timer, no task: a thousand idle subscribers cost a thousand futures."""
        if self.pending:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(max(0.0, timeout), _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def notify(self) -> None:
        """Wake :meth:`wait` (something became pending)."""
        _resolve(self._waiter)

    def take(self) -> list[EncodedChange]:
        """The changes handed to it since the last call, in sequence order."""
        items = list(self.items)
        self.items.clear()
        return items


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Hub:
    """The fan-out of one process. Started by the first subscriber, stopped with the app."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        now_ms: Callable[[], int],
        *,
        queue: int,
        max_per_key: int,
        page: int = READ_PAGE,
        flags: FlagsOf = no_flags,
    ) -> None:
        self._store = store
        self._flags = flags  # an agent's flags, in the changes it encodes
        self._metrics = metrics
        self._now_ms = now_ms
        self._queue = queue
        self._max_per_key = max_per_key
        # A subscriber that keeps up takes each page before the next is read (a store read
        # lets it run), so a page never fills its queue alone.
        self._page = max(1, min(page, queue))
        self._by_tenant: dict[tuple[int, int], set[Subscriber]] = {}
        self._by_key: dict[str, set[Subscriber]] = {}
        self._task: asyncio.Task[None] | None = None
        self._following = asyncio.Event()
        self._stopping = False
        self.seq: int | None = None  # every change up to it was handed out
        # one store read and encoding of a snapshot for the streams that ask together
        self.snapshots = SharedSnapshots(store, now_ms, lambda: self.seq)
        self.queues = QueueBoards(store, now_ms)  # the figures of streams with queues=1

    # -- subscribers -------------------------------------------------------------------

    @property
    def subscribers(self) -> int:
        return sum(len(subs) for subs in self._by_key.values())

    def open(
        self,
        key: AccessKey,
        token: ViewToken | None,
        cc_id: int,
        vdn: int,
        selection: Filter,
    ) -> Subscriber:
        """A new subscriber of ``key`` (not yet joined); HTTP 429 past the key's cap."""
        if self._stopping:
            raise StoreUnavailableError("the server is shutting down")
        mine = self._by_key.setdefault(key.ak, set())
        if len(mine) >= self._max_per_key:
            raise RateLimitedError(
                f"access key {key.ak} has {len(mine)} open streams, the most allowed"
                " (stream_max_per_key)",
                retry_after_s=5,
            )
        self.start()
        sub = Subscriber(key, token, cc_id, vdn, selection, self._queue)
        mine.add(sub)
        self._metrics.streams_open.inc()
        return sub

    def close(self, sub: Subscriber) -> None:
        """Forget ``sub`` (its stream or long-poll is over). Idempotent."""
        self.leave(sub)
        self.queues.unwatch(sub)
        mine = self._by_key.get(sub.key.ak)
        if mine is not None and sub in mine:
            mine.discard(sub)
            if not mine:
                del self._by_key[sub.key.ak]
            self._metrics.streams_open.dec()

    def join(self, sub: Subscriber, cursor: int) -> bool:
        """Hand ``sub`` every change after the hub's position from now on, if its
        ``cursor`` has reached it; False when it has not (read the log further first)."""
        if sub.ending is not None:
            return True  # nothing to join: the caller sees the ending
        if self.seq is None or cursor < self.seq:
            return False
        self._by_tenant.setdefault((sub.cc_id, sub.vdn), set()).add(sub)
        sub.live = True
        return True

    def leave(self, sub: Subscriber) -> None:
        """Stop handing changes to ``sub`` (it catches up from the log again)."""
        sub.live = False
        tenant = (sub.cc_id, sub.vdn)
        subs = self._by_tenant.get(tenant)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_tenant[tenant]

    def end(self, sub: Subscriber, ending: Ending) -> None:
        """End ``sub``: its stream writes the reset or error (if any) and closes; a stream
        whose writes are stuck is cut after :data:`ABANDON_AFTER_S`."""
        if sub.ending is not None:
            return
        self.leave(sub)
        self.queues.unwatch(sub)
        sub.ending = ending
        sub.items.clear()
        sub.queue_frame = None
        sub.notify()
        if ending.reason is not None:
            self._metrics.resets.labels(ending.reason).inc()
        asyncio.get_running_loop().call_later(ABANDON_AFTER_S, sub.abandon.set)

    def revoke(self, check: Callable[[Subscriber], CCMSError | None]) -> int:
        """End, with its in-band error, every subscriber ``check`` refuses now (a key
        removed from the credentials, a scope withdrawn). Returns how many."""
        ended = 0
        for subs in list(self._by_key.values()):
            for sub in list(subs):
                error = check(sub)
                if error is not None and sub.ending is None:
                    self.end(sub, Ending(error=error))
                    ended += 1
        return ended

    # -- following the change log ------------------------------------------------------

    def start(self) -> None:
        if self._task is None and not self._stopping:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ccms-hub")

    async def ready(self, timeout: float = 5.0) -> int:
        """The hub's position once it follows the store; StoreUnavailableError when it
        cannot within ``timeout`` seconds."""
        self.start()
        if self.seq is None:
            try:
                await asyncio.wait_for(self._following.wait(), timeout)
            except TimeoutError:
                raise StoreUnavailableError("the store is unavailable, try again later") from None
        assert self.seq is not None
        return self.seq

    def reopen(self) -> None:
        """Take subscribers again after :meth:`stop` (an app started again)."""
        self._stopping = False

    async def stop(self) -> None:
        """End every subscriber (their streams close) and stop following."""
        self._stopping = True
        for subs in list(self._by_key.values()):
            for sub in list(subs):
                self.end(sub, Ending())
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._following.clear()
        self.snapshots.clear()
        await self.queues.stop()
        self.seq = None

    async def _run(self) -> None:
        delay = _RETRY_MIN_S
        while not self._stopping:
            try:
                async with self._store.changes() as feed:
                    if self.seq is None:
                        self.seq = feed.seq or 0
                    await self._read()  # what committed while the hub was not following
                    self._following.set()
                    delay = _RETRY_MIN_S
                    async for change_set in feed:
                        if change_set.seq > self.seq:
                            await self._read()
            except Exception as exc:
                log.warning("the stream hub lost the change feed (%s); following again", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)

    async def _read(self) -> None:
        """Hand out every change after :attr:`seq`, page by page."""
        while True:
            since = self.seq
            assert since is not None
            page = await self._store.read_changes(since, self._page)
            if page.expired:
                log.warning(
                    "the stream hub fell behind the replay window (after %d); its"
                    " subscribers get a cursor-expired reset",
                    since,
                )
                self.seq = page.newest
                self._expire_all()
                return
            self._publish(page.changes)  # and the position moves, in the same step
            position = page.changes[-1].seq if page.changes else since
            done = len(page.changes) < self._page
            self.seq = max(position, page.newest) if done else position
            if done:
                return

    def _publish(self, changes: Iterable[AgentChange]) -> None:
        tenants = self._by_tenant
        if not tenants:
            return
        now = self._now_ms()
        full: list[Subscriber] = []
        for change in changes:
            cur = change.cur
            subs = tenants.get((cur.cc_id, cur.vdn))
            if not subs:
                continue
            encoded = encode_change(change, now, self._flags)
            for sub in subs:
                if not sub.filter.everything and not sub.filter.change(encoded):
                    continue
                if len(sub.items) >= sub.limit:
                    full.append(sub)
                    continue
                sub.items.append(encoded)
                sub.notify()
        for sub in full:
            self.end(sub, Ending(SLOW_CONSUMER))

    def _expire_all(self) -> None:
        for subs in list(self._by_tenant.values()):
            for sub in list(subs):
                self.leave(sub)
                sub.items.clear()
                sub.expired = True
                sub.notify()
                self._metrics.resets.labels(CURSOR_EXPIRED).inc()
