"""The store contract of the change feed, tested through the protocol only: every applied
change of an agent takes the next change number (a batch a block of them), and a stream
delivers every commit, by this store object or another on the same storage (another
worker, another node)."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.integration.store.conftest import StoreMaker

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.status import CtiStatus
from ccms.errors import StoreUnavailableError
from ccms.store.base import Store
from ccms.store.changes import ChangeSet, ChangeStream

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000


def batch(tag: str, agents: range, at: int = T0, status: int = CtiStatus.IDLE) -> list[AgentEvent]:
    return [AgentEvent(f"{tag}-{w}", 1, 1, w, at, status) for w in agents]


def keys(agents: range) -> frozenset[AgentKey]:
    return frozenset(AgentKey(1, 1, w) for w in agents)


async def collect(stream: ChangeStream, wanted: frozenset[AgentKey]) -> list[ChangeSet]:
    """The change sets read until every wanted agent was reported (10 s at most)."""
    deadline = time.monotonic() + 10
    got: list[ChangeSet] = []
    seen: set[AgentKey] = set()
    while not wanted <= seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"not reported: {sorted(wanted - seen)[:5]}")
        try:
            changes = await asyncio.wait_for(anext(stream), left)
        except TimeoutError:
            continue
        got.append(changes)
        seen |= changes.agents
    return got


async def test_a_batch_takes_the_next_numbers_one_per_change(store: Store) -> None:
    assert await store.change_seq() == 0
    assert await store.changes_since(0) == ChangeSet(0, frozenset())
    await store.apply_events(batch("a", range(101, 103)))
    assert await store.change_seq() == 2
    assert await store.changes_since(0) == ChangeSet(2, keys(range(101, 103)))
    await store.apply_events(batch("b", range(102, 104), at=T0 + 1, status=CtiStatus.BUSY))
    assert await store.change_seq() == 4
    assert await store.changes_since(2) == ChangeSet(4, keys(range(102, 104)))
    assert await store.changes_since(0) == ChangeSet(4, keys(range(101, 104)))
    assert await store.changes_since(4) == ChangeSet(4, frozenset())
    # duplicates, and a new event that changes nothing (an older status), take no number
    await store.apply_events(batch("b", range(102, 104), at=T0 + 1))
    late = await store.apply_events(batch("late", range(102, 103), at=T0 - 1))
    assert late.accepted == 1
    assert await store.change_seq() == 4


async def test_a_stream_delivers_every_batch_with_rising_numbers(store: Store) -> None:
    await store.apply_events(batch("before", range(90, 92)))
    async with store.changes() as stream:
        start = await store.change_seq()
        assert stream.seq == start == 2
        for n in range(5):
            await store.apply_events(batch(f"b{n}", range(101 + n, 102 + n), at=T0 + n))
        got = await collect(stream, keys(range(101, 106)))
    numbers = [c.seq for c in got]
    assert numbers == sorted(set(numbers))  # each number once, rising
    assert numbers[0] > start
    assert numbers[-1] == await store.change_seq() == start + 5
    first_seen = [min(c.seq for c in got if AgentKey(1, 1, 101 + n) in c.agents) for n in range(5)]
    assert first_seen == sorted(first_seen)  # in commit order
    assert all(not c.agents & keys(range(90, 92)) for c in got)


async def test_a_stream_sees_only_what_commits_after_it_starts(store: Store) -> None:
    await store.apply_events(batch("a", range(101, 103)))
    async with store.changes() as stream:
        await store.apply_events(batch("b", range(103, 105), at=T0 + 1))
        first = await asyncio.wait_for(anext(stream), 10)
    assert first == ChangeSet(4, keys(range(103, 105)))


async def test_a_stream_since_a_number_starts_with_what_followed_it(store: Store) -> None:
    await store.apply_events(batch("a", range(101, 103)))
    await store.apply_events(batch("b", range(103, 105), at=T0 + 1))
    async with store.changes(since=2) as stream:
        first = await asyncio.wait_for(anext(stream), 10)
        assert first == ChangeSet(4, keys(range(103, 105)))
        await store.apply_events(batch("c", range(105, 106), at=T0 + 2))
        assert await asyncio.wait_for(anext(stream), 10) == ChangeSet(5, keys(range(105, 106)))
    async with store.changes(since=0) as stream:
        first = await asyncio.wait_for(anext(stream), 10)
    assert first == ChangeSet(5, keys(range(101, 106)))


async def test_another_store_on_the_same_storage_sees_the_changes(stores: StoreMaker) -> None:
    writer, other = await stores(), await stores()
    async with other.changes() as stream, writer.changes() as own:
        await writer.apply_events(batch("a", range(101, 104)))
        assert [c.seq for c in await collect(stream, keys(range(101, 104)))] == [3]
        await other.apply_events(batch("b", range(104, 106), at=T0 + 1))
        assert [c.seq for c in await collect(own, keys(range(101, 106)))][-1] == 5
        await writer.apply_events(batch("c", range(106, 107), at=T0 + 2))
        got = await collect(stream, keys(range(104, 107)))
    assert [c.seq for c in got][-1] == 6
    assert await other.change_seq() == await writer.change_seq() == 6


async def test_batches_from_several_stores_are_numbered_without_gaps(stores: StoreMaker) -> None:
    a, b = await stores(), await stores()
    await asyncio.gather(
        *((a if n % 2 else b).apply_events(batch(f"n{n}", range(101 + n, 102 + n)))
          for n in range(10))
    )  # fmt: skip
    assert await a.change_seq() == await b.change_seq() == 10
    for seq in range(11):  # one number per change, each agent changed once: no gap, no repeat
        since = await b.changes_since(seq)
        assert len(since.agents) == 10 - seq
        assert since.seq == (10 if seq < 10 else seq)


async def test_streams_end_when_the_store_closes(store: Store) -> None:
    stream = store.changes()
    async with stream:
        await store.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(anext(stream), 10)
    with pytest.raises(StoreUnavailableError):
        store.changes()  # a closed store has no feed
