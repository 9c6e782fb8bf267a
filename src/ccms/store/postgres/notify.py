"""Change notification across ccms nodes: PostgreSQL LISTEN/NOTIFY with catch-up.

Every batch that changes agents takes the next number of a gap-free change sequence (an
update of one counter row, late in the batch's transaction; its lock is held until the
commit, so numbers follow commit order), writes it into the ``change_seq`` column of the
agents it changed, and sends
``NOTIFY`` with a compact payload: ``"<seq> <cc>.<vdn>.<work>,..."``, or ``"<seq>"`` alone
when the keys would not fit in PostgreSQL's 8000-byte payload limit.

One :class:`ChangeListener` per process holds one listening connection and fans the changes
out to :class:`ChangeStream` subscribers. A notification whose number follows the last one
seen is delivered as it is; a gap (a notification lost while the connection was down), a
payload without keys, or a fresh connection make the listener ask the database for the
agents with ``change_seq`` above the last number it saw. Delivery is at least once: a key
may be reported again, a committed change is never missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from ccms.domain.agent import AgentKey
from ccms.errors import StoreUnavailableError

log = logging.getLogger(__name__)

CHANNEL = "ccms_changes"
MAX_PAYLOAD_BYTES = 7999  # PostgreSQL refuses payloads of 8000 bytes and more
_QUEUE_SIZE = 1024
_CATCH_UP = (
    "SELECT cc_id, vdn, work_no, change_seq FROM agent WHERE change_seq > $1"
    " ORDER BY change_seq, cc_id, vdn, work_no"
)
_NEWEST = "SELECT coalesce(max(change_seq), 0) FROM agent"


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Agents changed by committed batches, up to and including change number ``seq``."""

    seq: int
    agents: frozenset[AgentKey]


def channel_for(schema: str) -> str:
    """The channel of a store: ``ccms_changes``, suffixed outside the ``public`` schema
    so that deployments (or tests) sharing one database do not hear each other."""
    return CHANNEL if schema == "public" else f"{CHANNEL}.{schema}"[:63]


def encode_payload(seq: int, keys: list[AgentKey]) -> str:
    text = f"{seq} " + ",".join(f"{k.cc_id}.{k.vdn}.{k.work_no}" for k in keys)
    return text if len(text) <= MAX_PAYLOAD_BYTES else str(seq)


def decode_payload(payload: str) -> tuple[int, frozenset[AgentKey] | None]:
    """The change number and the keys (``None``: not in the payload, ask the database)."""
    seq_text, _, keys_text = payload.partition(" ")
    seq = int(seq_text)
    if not keys_text:
        return seq, None
    keys = []
    for item in keys_text.split(","):
        cc_id, vdn, work_no = item.split(".")
        keys.append(AgentKey(int(cc_id), int(vdn), int(work_no)))
    return seq, frozenset(keys)


async def fetch_changes_since(conn: Any, seq: int) -> ChangeSet:
    """The agents changed after change number ``seq`` (``conn``: an asyncpg connection)."""
    rows = await conn.fetch(_CATCH_UP, seq)
    newest = max((r[3] for r in rows), default=seq)
    return ChangeSet(newest, frozenset(AgentKey(r[0], r[1], r[2]) for r in rows))


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[ChangeSet | None] = field(
        default_factory=lambda: asyncio.Queue(_QUEUE_SIZE)
    )
    lagged: bool = False


class ChangeListener:
    """One listening connection per process, reconnecting by itself, fanning out changes.

    ``connect`` opens a new asyncpg connection (not from the pool: it stays in ``LISTEN``).
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        channel: str,
        *,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
        keepalive: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        self._connect = connect
        self.channel = channel
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._keepalive = keepalive
        self._timeout = timeout
        self._subscribers: set[_Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self.seq: int | None = None  # newest change number delivered
        self.connections = 0  # listening connections made so far (1 + reconnects)
        self.ready = asyncio.Event()  # set while listening and caught up

    @property
    def listening(self) -> bool:
        return self.ready.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ccms-listen")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in list(self._subscribers):
            self._push(sub, None, force=True)
        self._subscribers.clear()

    def subscribe(self) -> _Subscriber:
        sub = _Subscriber()
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: _Subscriber) -> None:
        self._subscribers.discard(sub)

    # -- the listening loop ------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._reconnect_delay
        while True:
            connections = self.connections
            try:
                await self._session()
            except Exception as exc:  # any failure: drop the connection, reconnect
                log.warning("change listener disconnected (%s); reconnecting", exc)
            finally:
                self.ready.clear()
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.terminate()
            if self.connections > connections:
                delay = self._reconnect_delay  # it was connected: a new outage starts over
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._max_reconnect_delay)

    async def _session(self) -> None:
        inbox: asyncio.Queue[str | None] = asyncio.Queue()
        conn = await self._connect()
        self._conn = conn
        conn.add_termination_listener(lambda _conn: inbox.put_nowait(None))
        await conn.add_listener(
            self.channel, lambda _conn, _pid, _channel, payload: inbox.put_nowait(payload)
        )
        self.connections += 1
        # Listening from here: whatever commits now is notified; catch up with the rest.
        await self._catch_up(conn)
        self.ready.set()
        while True:
            try:
                payload = await asyncio.wait_for(inbox.get(), self._keepalive)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=self._timeout)
                continue
            if payload is None:
                raise ConnectionError("listening connection closed")
            await self._handle(conn, payload)

    async def _handle(self, conn: Any, payload: str) -> None:
        try:
            seq, keys = decode_payload(payload)
        except ValueError:
            log.warning("ignoring a malformed change notification %r", payload[:80])
            return
        if self.seq is not None and seq <= self.seq:
            return  # already covered by a catch-up
        if keys is not None and self.seq is not None and seq == self.seq + 1:
            self.seq = seq
            self._publish(ChangeSet(seq, keys))
            return
        await self._catch_up(conn)

    async def _catch_up(self, conn: Any) -> None:
        if self.seq is None:
            self.seq = int(await conn.fetchval(_NEWEST, timeout=self._timeout))
            return
        newest = int(await conn.fetchval(_NEWEST, timeout=self._timeout))
        if newest < self.seq:
            log.warning("change sequence went back from %d to %d: reporting all", self.seq, newest)
            self.seq = 0
        changes = await fetch_changes_since(conn, self.seq)
        if changes.agents:
            self.seq = changes.seq
            self._publish(changes)

    # -- fan-out -----------------------------------------------------------------------

    def _publish(self, changes: ChangeSet) -> None:
        for sub in list(self._subscribers):
            self._push(sub, changes)

    @staticmethod
    def _push(sub: _Subscriber, item: ChangeSet | None, force: bool = False) -> None:
        try:
            sub.queue.put_nowait(item)
        except asyncio.QueueFull:
            if force:
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(item)
            else:
                sub.lagged = True  # the subscriber catches up from the database


class ChangeStream:
    """An async iterator of :class:`ChangeSet`; close it (``async with`` or ``aclose``).

    With ``since``, the first item covers the changes after that number (as remembered by
    a client that reconnects); then every change committed by any node, as it commits.
    """

    def __init__(
        self,
        listener: ChangeListener,
        changes_since: Callable[[int], Awaitable[ChangeSet]],
        since: int | None,
        timeout: float = 5.0,
    ) -> None:
        self._listener = listener
        self._changes_since = changes_since
        self._since = since
        self._timeout = timeout
        self._sub: _Subscriber | None = None
        self._closed = False
        self.seq = since

    async def __aenter__(self) -> ChangeStream:
        await self._subscribe()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> ChangeStream:
        return self

    async def _subscribe(self) -> _Subscriber:
        """Subscribe and wait until the listener listens: from then on, every change
        committed is delivered. Raise StoreUnavailableError when it cannot listen."""
        if self._sub is not None:
            return self._sub
        self._listener.start()
        sub = self._sub = self._listener.subscribe()
        try:
            await asyncio.wait_for(self._listener.ready.wait(), self._timeout)
        except TimeoutError:
            await self.aclose()
            raise StoreUnavailableError("the store is unavailable, try again later") from None
        if self.seq is None:
            self.seq = self._listener.seq  # where this stream starts
        return sub

    async def __anext__(self) -> ChangeSet:
        if self._closed:
            raise StopAsyncIteration
        sub = await self._subscribe()
        while True:
            if self._since is not None or sub.lagged:
                since = self._since if self._since is not None else self.seq or 0
                self._since = None
                if sub.lagged:
                    sub.lagged = False
                    while not sub.queue.empty():
                        if sub.queue.get_nowait() is None:
                            return await self._end()
                changes = await self._changes_since(since)
                if changes.agents:
                    return self._deliver(changes)
                continue
            item = await sub.queue.get()
            if item is None:
                return await self._end()
            return self._deliver(item)

    def _deliver(self, changes: ChangeSet) -> ChangeSet:
        self.seq = max(self.seq or 0, changes.seq)
        return changes

    async def _end(self) -> ChangeSet:
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self._closed = True
        if self._sub is not None:
            self._listener.unsubscribe(self._sub)
            self._sub = None


__all__ = [
    "CHANNEL",
    "ChangeListener",
    "ChangeSet",
    "ChangeStream",
    "channel_for",
    "decode_payload",
    "encode_payload",
    "fetch_changes_since",
]
