"""Snapshots shared by the streams that ask together, on a real SQLite store: one read and
one encoding for all of them; a new one once a change was handed out after it, once it is
too old to share, and after a failed read; nothing kept once it is too old."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import FrozenClock

from ccms.domain.agent import AgentEvent
from ccms.domain.changes import Snapshot
from ccms.errors import StoreUnavailableError
from ccms.http.schemas.stream import Filter
from ccms.http.snapshots import SharedSnapshots
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

EVERYTHING = Filter()
WINDOW_S = 900


class Counted:
    """The store's ``snapshot`` with its calls counted, and failures on demand."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.reads = 0
        self.fail = 0  # the next reads that fail
        self.gate: asyncio.Event | None = None  # a read waits for it when set
        self._snapshot = store.snapshot

    async def snapshot(self, cc_id: int, vdn: int) -> Snapshot:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            self.fail -= 1
            raise StoreUnavailableError("the store is unavailable, try again later")
        return await self._snapshot(cc_id, vdn)


@pytest.fixture
async def store(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[SQLiteStore]:
    backend = SQLiteStore(str(tmp_path / "ccms.db"), clock=clock)
    await backend.open()
    await backend.apply_events(
        [AgentEvent(f"e{n}", 1, 1, 101 + n, 1_000 + n, cti_status=1) for n in range(600)]
    )
    yield backend
    await backend.close()


def shared(store: SQLiteStore, **options: Any) -> tuple[SharedSnapshots, Counted, list[int]]:
    counted = Counted(store)
    store.snapshot = counted.snapshot  # type: ignore[method-assign]
    position = [600]  # the hub's: every change up to it handed out
    return SharedSnapshots(store, lambda: 5_000, lambda: position[0], **options), counted, position


def agents(events: tuple[bytes, ...]) -> list[dict[str, Any]]:
    found = []
    for event in events:
        data = event.split(b"data: ", 1)[1]
        found += orjson.loads(data)["agents"]
    return found


async def test_a_hundred_streams_asking_together_cause_one_read_and_one_encoding(
    store: SQLiteStore,
) -> None:
    snapshots, counted, _ = shared(store)
    got = await asyncio.gather(*(snapshots.get(1, 1, EVERYTHING, WINDOW_S) for _ in range(100)))
    assert counted.reads == 1 and snapshots.encoded == 1
    assert all(item is got[0] for item in got)  # the same bytes for every stream
    first = got[0]
    assert first.seq == 600 and len(first.events) == 2  # parts of at most 500
    assert [a["workNo"] for a in agents(first.events)] == list(range(101, 701))
    assert first.events[-1].startswith(b"event: snapshot\nid: 600\n")
    # asked again a moment later, with nothing handed out since: still the same one
    again = await snapshots.get(1, 1, EVERYTHING, WINDOW_S)
    assert again is first and counted.reads == 1


async def test_each_tenant_and_filter_has_its_own_snapshot(store: SQLiteStore) -> None:
    snapshots, counted, _ = shared(store)
    one = Filter(agents=frozenset({101}))
    everything, only_one, other_vdn = await asyncio.gather(
        snapshots.get(1, 1, EVERYTHING, WINDOW_S),
        snapshots.get(1, 1, one, WINDOW_S),
        snapshots.get(1, 2, EVERYTHING, WINDOW_S),
    )
    assert counted.reads == 3 and snapshots.encoded == 3
    assert len(agents(everything.events)) == 600
    assert [a["workNo"] for a in agents(only_one.events)] == [101]
    assert agents(other_vdn.events) == []


async def test_a_change_handed_out_after_it_makes_the_next_stream_read_again(
    store: SQLiteStore,
) -> None:
    snapshots, counted, position = shared(store)
    first = await snapshots.get(1, 1, EVERYTHING, WINDOW_S)
    await store.apply_events([AgentEvent("later", 1, 1, 101, 9_000, cti_status=5)])
    # committed, but not yet handed out by the hub: the snapshot is still the newest known
    assert await snapshots.get(1, 1, EVERYTHING, WINDOW_S) is first
    position[0] = 601  # the hub handed the change out
    second = await snapshots.get(1, 1, EVERYTHING, WINDOW_S)
    assert counted.reads == 2 and snapshots.encoded == 2
    assert second.seq == 601
    assert agents(second.events)[0]["citStatus"] == 5


async def test_a_snapshot_too_old_to_share_is_read_again_and_not_kept(
    store: SQLiteStore,
) -> None:
    snapshots, counted, _ = shared(store, share_s=0.05)
    await snapshots.get(1, 1, EVERYTHING, WINDOW_S)
    assert len(snapshots) == 1
    deadline = asyncio.get_running_loop().time() + 5
    while len(snapshots):  # dropped once too old: the process keeps no snapshot
        assert asyncio.get_running_loop().time() < deadline, "the snapshot was kept"
        await asyncio.sleep(0.01)
    await snapshots.get(1, 1, EVERYTHING, WINDOW_S)
    assert counted.reads == 2


async def test_a_failed_read_reaches_every_waiter_and_is_not_shared(store: SQLiteStore) -> None:
    snapshots, counted, _ = shared(store)
    counted.fail = 1
    results = await asyncio.gather(
        *(snapshots.get(1, 1, EVERYTHING, WINDOW_S) for _ in range(10)), return_exceptions=True
    )
    assert counted.reads == 1
    assert all(isinstance(result, StoreUnavailableError) for result in results)
    assert len(snapshots) == 0 and snapshots.encoded == 0
    assert (await snapshots.get(1, 1, EVERYTHING, WINDOW_S)).seq == 600  # read again
    assert counted.reads == 2


async def test_a_stream_that_goes_away_does_not_cancel_the_read_of_the_others(
    store: SQLiteStore,
) -> None:
    snapshots, counted, _ = shared(store)
    counted.gate = asyncio.Event()
    leaving = asyncio.ensure_future(snapshots.get(1, 1, EVERYTHING, WINDOW_S))
    staying = asyncio.ensure_future(snapshots.get(1, 1, EVERYTHING, WINDOW_S))
    await asyncio.sleep(0)
    leaving.cancel()
    counted.gate.set()
    assert (await staying).seq == 600
    assert leaving.cancelled() and counted.reads == 1


async def test_clear_forgets_every_snapshot(store: SQLiteStore) -> None:
    snapshots, counted, _ = shared(store)
    counted.gate = asyncio.Event()
    waiting = asyncio.ensure_future(snapshots.get(1, 1, EVERYTHING, WINDOW_S))
    await asyncio.sleep(0)
    snapshots.clear()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert len(snapshots) == 0
