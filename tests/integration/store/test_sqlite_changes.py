"""SQLite only: how the change feed hears of commits, by this process (from the writer,
right after ``COMMIT``) and by other processes on the file (``ccms serve --workers N``)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.status import CtiStatus
from ccms.store import changes as change_feed
from ccms.store.changes import ChangeSet, ChangeStream
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000
WORKER = """
import asyncio, sys
from ccms.domain.agent import AgentEvent
from ccms.store.sqlite import SQLiteStore

async def main() -> None:
    store = SQLiteStore(sys.argv[1])
    await store.open()
    await store.apply_events([AgentEvent(f"w-{w}", 1, 1, w, 1, 1) for w in range(201, 204)])
    await store.close()

asyncio.run(main())
"""


def batch(tag: str, agents: range, at: int = T0) -> list[AgentEvent]:
    return [AgentEvent(f"{tag}-{w}", 1, 1, w, at, CtiStatus.IDLE) for w in agents]


def keys(agents: range) -> frozenset[AgentKey]:
    return frozenset(AgentKey(1, 1, w) for w in agents)


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def reported(stream: ChangeStream, wanted: frozenset[AgentKey]) -> int:
    """Read until every wanted agent was reported (10 s at most); the newest number."""
    deadline = time.monotonic() + 10
    seen: set[AgentKey] = set()
    seq = 0
    while not wanted <= seen:
        changes: ChangeSet = await asyncio.wait_for(anext(stream), deadline - time.monotonic())
        assert changes.seq > seq
        seq = changes.seq
        seen |= changes.agents
    return seq


async def test_own_commits_arrive_from_the_writer_without_polling(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "own.db"), change_poll_interval=3600)  # never polls
    await store.open()
    try:
        async with store.changes() as stream:
            for n in range(3):
                await store.apply_events(batch(f"b{n}", range(101 + n, 102 + n), at=T0 + n))
            for n in range(3):
                changes = await asyncio.wait_for(anext(stream), 10)
                assert changes == ChangeSet(1 + n, keys(range(101 + n, 102 + n)))
            # a batch of several changes: one change set with the newest of its numbers
            await store.apply_events(batch("many", range(110, 114), at=T0 + 5))
            assert await asyncio.wait_for(anext(stream), 10) == ChangeSet(7, keys(range(110, 114)))
    finally:
        await store.close()


async def test_a_commit_by_another_process_arrives(tmp_path: Path) -> None:
    path = tmp_path / "workers.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        await store.apply_events(batch("a", range(101, 103)))
        async with store.changes() as stream:
            worker = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, str(path))
            assert await asyncio.wait_for(worker.wait(), 60) == 0
            assert await reported(stream, keys(range(201, 204))) == 5
            await store.apply_events(batch("b", range(103, 104), at=T0 + 1))
            assert await reported(stream, keys(range(103, 104))) == 6
    finally:
        await store.close()


async def test_a_slow_subscriber_catches_up_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_feed, "_QUEUE_SIZE", 2)  # a subscriber's queue holds 2 sets
    store = SQLiteStore(str(tmp_path / "slow.db"))
    await store.open()
    try:
        await store.apply_events(batch("before", range(90, 92)))
        async with store.changes() as stream:
            for n in range(6):  # nobody reads meanwhile: the queue overflows
                await store.apply_events(batch(f"b{n}", range(101 + n, 102 + n), at=T0 + n))
            await until(lambda: store.feed is not None and store.feed.seq == 8)
            changes = await asyncio.wait_for(anext(stream), 10)
            assert changes == ChangeSet(8, keys(range(101, 107)))
            await store.apply_events(batch("after", range(200, 201), at=T0 + 9))
            assert await reported(stream, keys(range(200, 201))) == 9
    finally:
        await store.close()
