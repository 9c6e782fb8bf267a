"""A fake store for the hub's unit tests: agents, a change log and view tokens in memory.

It keeps the store contract the hub relies on (``spec/stream.md``): one gap-free sequence,
one number per applied change, a change feed whose ``seq`` is the newest number, a log
that can be pruned (``prune``) so that an old cursor is ``expired``, and it can be made
to fail (``failing``) as a store whose file or server is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, apply_event
from ccms.domain.changes import AgentChange, ChangePage, Snapshot, ViewToken
from ccms.errors import StoreUnavailableError
from ccms.store.base import IngestResult


class FakeFeed:
    """``store.changes()``: the newest number on entering, then one item per commit."""

    def __init__(self, store: FakeStreamStore) -> None:
        self._store = store
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        self.seq: int | None = None

    async def __aenter__(self) -> FakeFeed:
        if self._store.failing:
            raise StoreUnavailableError("the store is unavailable, try again later")
        self._store.feeds.add(self)
        self.seq = self._store.seq
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.feeds.discard(self)

    def __aiter__(self) -> FakeFeed:
        return self

    async def __anext__(self) -> FakeFeed:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        self.seq = item
        return self

    def offer(self, seq: int | None) -> None:
        self._queue.put_nowait(seq)


class FakeStreamStore:
    def __init__(self) -> None:
        self.agents: dict[AgentKey, AgentRecord] = {}
        self.log: list[AgentChange] = []
        self.oldest = 0  # the log holds every change after this number
        self.seq = 0
        self.tokens: dict[str, ViewToken] = {}
        self.event_ids: set[str] = set()
        self.feeds: set[FakeFeed] = set()
        self.failing = False
        self.reads = 0

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        for feed in list(self.feeds):
            feed.offer(None)

    async def ping(self) -> None:
        self._check()

    def _check(self) -> None:
        if self.failing:
            raise StoreUnavailableError("the store is unavailable, try again later")

    async def apply_events(self, events: Sequence[AgentEvent]) -> IngestResult:
        self._check()
        accepted = duplicates = 0
        for event in events:
            if event.event_id in self.event_ids:
                duplicates += 1
                continue
            self.event_ids.add(event.event_id)
            accepted += 1
            prev = self.agents.get(event.key)
            cur, _ = apply_event(prev, event)
            if cur != prev:
                self.seq += 1
                self.agents[event.key] = cur
                self.log.append(AgentChange(self.seq, event.at, event.event_id, prev, cur))
        for feed in self.feeds:
            feed.offer(self.seq)
        return IngestResult(accepted, duplicates)

    def changes(self, since: int | None = None) -> FakeFeed:
        return FakeFeed(self)

    def prune(self, upto: int) -> None:
        """Forget the changes up to and including ``upto``."""
        self.log = [change for change in self.log if change.seq > upto]
        self.oldest = max(self.oldest, upto)

    async def read_changes(
        self, since: int, limit: int, cc_id: int | None = None, vdn: int | None = None
    ) -> ChangePage:
        self._check()
        self.reads += 1
        await asyncio.sleep(0)  # a store read yields to the loop
        if since < self.oldest:
            return ChangePage([], self.seq, True)
        found = [
            change for change in self.log
            if change.seq > since and (cc_id is None or (change.cur.cc_id, change.cur.vdn) == (cc_id, vdn))
        ][:limit]  # fmt: skip
        return ChangePage(found, self.seq, False)

    async def snapshot(self, cc_id: int, vdn: int) -> Snapshot:
        self._check()
        agents = sorted(
            (a for k, a in self.agents.items() if (k.cc_id, k.vdn) == (cc_id, vdn)),
            key=lambda a: a.work_no,
        )
        return Snapshot(self.seq, agents)

    async def put_view_token(self, token: ViewToken) -> None:
        self._check()
        self.tokens[token.token_hash] = token

    async def get_view_token(self, token_hash: str, now_ms: int) -> ViewToken | None:
        self._check()
        token = self.tokens.get(token_hash)
        return None if token is None or token.expires_at <= now_ms else token
