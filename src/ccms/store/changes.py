"""The change feed: committed changes, fanned out to subscribers, for every backend.

Every applied change of an agent takes the next number of a store-wide, gap-free change
sequence (a batch takes a block of consecutive numbers in its own transaction; numbers
follow commit order), is written to the change log with the agent's record before and
after, and the number of its last change goes into the agent's ``change_seq``. A backend
keeps the sequence and knows how to hear of commits; this module does the rest, the same
for all:

- :class:`ChangeFeed`, one per store object (one per process): follows the backend's
  commits through a *follower* (PostgreSQL: LISTEN/NOTIFY; SQLite: its writer and a poll
  of the file), numbers them, and fans them out to the subscribers' queues. A change that
  follows the last number seen is delivered as it is; a gap, a change without its agents,
  or a follower that starts again make the feed ask the database (a :class:`ChangeReader`)
  for the agents with ``change_seq`` above the last number it saw.
- :class:`ChangeStream`, one per subscriber: an async iterator of :class:`ChangeSet`.
- :func:`encode_record` and :func:`decode_record`: how the change log stores a record.

Delivery is at least once: an agent may be reported again; a committed change is never
missed. A subscriber whose queue overflows catches up from the database by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import orjson

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.flags import DEFAULT_LEVELS, WARNING, Flag, FlagRaise
from ccms.errors import StoreUnavailableError

log = logging.getLogger(__name__)

_QUEUE_SIZE = 1024


def encode_record(record: AgentRecord) -> str:
    """A record as the change log stores it: a JSON array of its fields in order. A field
    added at the end of :class:`AgentRecord` (with a default) keeps older entries legible."""
    return orjson.dumps(record, default=tuple).decode()


def decode_record(text: str | bytes) -> AgentRecord:
    values: list[Any] = orjson.loads(text)
    values[18] = tuple(values[18])  # skills
    values[20] = tuple(values[20])  # calls
    return AgentRecord(*values)


def encode_flag(flag: Flag, raised: bool = True) -> str:
    """The flag of a ``flag`` entry as the change log stores it: ``[name, level, since]``,
    and ``false`` after them for a flag taken back."""
    if raised:
        return orjson.dumps([flag.name, flag.level, flag.since]).decode()
    return orjson.dumps([flag.name, flag.level, flag.since, False]).decode()


def decode_flag(text: str | bytes | None) -> FlagRaise | None:
    """The flag of an entry (``None``: an agent change)."""
    if text is None:
        return None
    name, level, since, *rest = orjson.loads(text)
    return FlagRaise(Flag(name, level, since), bool(rest[0]) if rest else True)


def flag_of(name: str, since: int, entry: str | bytes | None) -> Flag:
    """A flag of ``agent_flag`` (its name and moment), with the level of the entry that
    raised it (``entry``: that entry's flag as stored; ``None`` once the log dropped it:
    the flag's default level)."""
    logged = decode_flag(entry)
    level = logged.flag.level if logged is not None else DEFAULT_LEVELS.get(name, WARNING)
    return Flag(name, level, since)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Agents changed by committed batches, up to and including change number ``seq``
    (the newest number committed among them)."""

    seq: int
    agents: frozenset[AgentKey]


class ChangeReader(Protocol):
    """The database side of a catch-up (a store is one)."""

    async def change_seq(self) -> int:
        """The newest committed change number (0: none yet)."""

    async def changes_since(self, seq: int) -> ChangeSet:
        """The agents changed after change number ``seq`` (``seq`` itself when none)."""


Follower = Callable[["ChangeFeed"], Awaitable[None]]
"""Follows a backend's commits for a feed until it fails or is cancelled: calls
:meth:`ChangeFeed.resume` once it hears every commit, then :meth:`ChangeFeed.offer` for
each commit it hears of and :meth:`ChangeFeed.catch_up` whenever :attr:`ChangeFeed.behind`
is set."""


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[ChangeSet | None] = field(
        default_factory=lambda: asyncio.Queue(_QUEUE_SIZE)
    )
    lagged: bool = False


class ChangeFeed:
    """A store object's changes, fanned out to its subscribers; started by the first one.

    The follower runs in a task of its own and is started again after a failure (after
    ``reconnect_delay``, doubling up to ``max_reconnect_delay``).
    """

    def __init__(
        self,
        follow: Follower,
        *,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
        name: str = "ccms-changes",
    ) -> None:
        self._follow = follow
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._name = name
        self._subscribers: set[_Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self.seq: int | None = None  # newest change number delivered
        self.sessions = 0  # times the follower started hearing every commit (1 + restarts)
        self.ready = asyncio.Event()  # set while the follower hears every commit
        self.behind = asyncio.Event()  # set when a catch-up from the database is due

    @property
    def listening(self) -> bool:
        return self.ready.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def aclose(self) -> None:
        """Stop following; every stream ends."""
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

    # -- following ---------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._reconnect_delay
        while True:
            sessions = self.sessions
            try:
                await self._follow(self)
            except Exception as exc:  # any failure: follow again from the database
                log.warning("change feed interrupted (%s); following again", exc)
            finally:
                self.ready.clear()
            if self.sessions > sessions:
                delay = self._reconnect_delay  # it was following: a new outage starts over
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._max_reconnect_delay)

    async def resume(self, reader: ChangeReader) -> None:
        """The follower hears every commit from now on: catch up with what committed
        before (the first time: start at the newest number), then deliver as it comes."""
        self.sessions += 1
        await self.catch_up(reader)
        self.ready.set()

    def offer(self, seq: int, agents: frozenset[AgentKey] | None, first: int | None = None) -> None:
        """A commit heard of: change numbers ``first`` (default ``seq``) to ``seq`` and its
        agents (``None``: unknown). Delivered when it follows the last number; otherwise
        :attr:`behind` is set."""
        if self.seq is not None and seq <= self.seq:
            return  # already covered by a catch-up
        first = seq if first is None else first
        if agents is not None and self.seq is not None and first == self.seq + 1:
            self.seq = seq
            self._publish(ChangeSet(seq, agents))
            return
        self.behind.set()

    async def catch_up(self, reader: ChangeReader) -> None:
        """Deliver, as one change set, the agents changed after the last number seen."""
        self.behind.clear()
        newest = await reader.change_seq()
        if self.seq is None:
            self.seq = newest
            return
        if newest < self.seq:
            # A read that began before a commit this process has already heard of (the
            # writer's offer came in while it ran) is older than the feed: read again.
            newest = await reader.change_seq()
        if newest < self.seq:
            log.warning("change sequence went back from %d to %d: reporting all", self.seq, newest)
            self.seq = 0
        elif newest == self.seq:
            return
        changes = await reader.changes_since(self.seq)
        if changes.agents and changes.seq > self.seq:
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
    a client that reconnects); then every change committed, as it commits. Without it,
    the stream starts at the newest number when it subscribes (:attr:`seq`).
    """

    def __init__(
        self,
        feed: ChangeFeed,
        changes_since: Callable[[int], Awaitable[ChangeSet]],
        since: int | None,
        timeout: float = 5.0,
    ) -> None:
        self._feed = feed
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
        """Subscribe and wait until the feed hears every commit: from then on, every
        change committed is delivered. Raise StoreUnavailableError when it cannot."""
        if self._sub is not None:
            return self._sub
        self._feed.start()
        sub = self._sub = self._feed.subscribe()
        try:
            await asyncio.wait_for(self._feed.ready.wait(), self._timeout)
        except TimeoutError:
            await self.aclose()
            raise StoreUnavailableError("the store is unavailable, try again later") from None
        if self.seq is None:
            self.seq = self._feed.seq  # where this stream starts
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
            if self.seq is not None and item.seq <= self.seq:
                continue  # covered by this stream's own catch-up
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
            self._feed.unsubscribe(self._sub)
            self._sub = None
