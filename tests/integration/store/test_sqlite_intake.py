"""The SQLite writer's agent-event path (``ccms.store.sqlite.intake``): what it writes on
disk equals what the rules say, whichever shortcut wrote it (ids claimed in one statement,
history rows without their NULL columns, agents updated in the columns that changed,
change-log JSON reused from the batch before, batches that waited committed together)."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, apply_event
from ccms.domain.changes import is_change
from ccms.errors import StoreUnavailableError
from ccms.store.base import IngestResult
from ccms.store.changes import ChangeSet
from ccms.store.sqlite import SQLiteStore

EVENTS: list[list[AgentEvent]] = [
    [
        AgentEvent("e1", 1, 1, 101, 1_000, 1, name="Ann", skills=(3, 1)),
        AgentEvent("e2", 1, 1, 102, 1_000, 2, reason=7, source="cti", raw_state="Ready"),
        AgentEvent("e1", 1, 1, 101, 1_000, 1),  # a duplicate in the batch
        AgentEvent("e1", 1, 2, 101, 1_000, 4),  # the same id in another tenant: applied
    ],
    [
        AgentEvent("e3", 1, 1, 101, 2_000, 3),  # a status change
        AgentEvent("e4", 1, 1, 101, 2_500, 3),  # the same status again: no change number
        AgentEvent("e5", 1, 1, 102, 1_500, None, phone_number="+1", has_phone_number=True),
        AgentEvent("e6", 1, 1, 102, 2_000, None, calls=("c1",), skills=()),
        AgentEvent("e2", 1, 1, 102, 9_000, 5),  # applied in the batch before
    ],
    [
        AgentEvent("e7", 1, 1, 101, 3_000, 4, name=""),
        AgentEvent("e8", 1, 1, 101, 3_100, 5),  # twice in one batch: prev is the first's cur
        AgentEvent("e9", 1, 1, 102, 500, 1),  # older than the status: history only
        AgentEvent("e10", 1, 1, 103, 3_000, None, name="Cy"),  # known by its name alone
    ],
]


def expected() -> tuple[dict[AgentKey, AgentRecord], list[tuple[str, Any, AgentRecord]]]:
    """The agents after every batch, and the change log (event id, prev, cur), by the
    domain's rules alone."""
    agents: dict[AgentKey, AgentRecord] = {}
    log: list[tuple[str, Any, AgentRecord]] = []
    seen: set[tuple[int, int, str]] = set()
    for events in EVENTS:
        for event in events:
            if (event.cc_id, event.vdn, event.event_id) in seen:
                continue
            seen.add((event.cc_id, event.vdn, event.event_id))
            prev = agents.get(event.key)
            agents[event.key] = apply_event(prev, event)[0]
            if is_change(prev, agents[event.key]):
                log.append((event.event_id, prev, agents[event.key]))
    return agents, log


@pytest.mark.anyio
async def test_what_the_writer_writes_is_what_the_rules_say(tmp_path: Path) -> None:
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        results = [await store.apply_events(events) for events in EVENTS]
        assert [(r.accepted, r.duplicates) for r in results] == [(3, 1), (4, 1), (4, 0)]
        page = await store.read_changes(0, 100)
    finally:
        await store.close()
    fresh = SQLiteStore(str(path))  # no writer's records: every agent read from the file
    await fresh.open()
    try:
        for key, record in expected()[0].items():
            assert await fresh.get_agent(*key) == record
    finally:
        await fresh.close()
    _, log = expected()
    assert [(c.event_id, c.prev, c.cur) for c in page.changes] == log
    assert [c.event_id for c in page.changes if c.key == AgentKey(1, 1, 101)] == [
        "e1", "e3", "e7", "e8",
    ]  # fmt: skip
    conn = sqlite3.connect(path)
    try:
        ids = conn.execute("SELECT cc_id, vdn, event_id FROM applied_event ORDER BY 1, 2, 3")
        assert ids.fetchall() == sorted(
            {(e.cc_id, e.vdn, e.event_id) for events in EVENTS for e in events}
        )
        history = conn.execute(
            "SELECT event_id, reason, source, raw_state, applied, typeof(applied)"
            " FROM status_history ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert history == [
        ("e1", None, None, None, 1, "integer"),
        ("e2", 7, "cti", "Ready", 1, "integer"),
        ("e1", None, None, None, 1, "integer"),
        ("e3", None, None, None, 1, "integer"),
        ("e4", None, None, None, 1, "integer"),
        ("e7", None, None, None, 1, "integer"),
        ("e8", None, None, None, 1, "integer"),
        ("e9", None, None, None, 0, "integer"),
    ]


async def behind_a_lock(
    path: Path, store: SQLiteStore, batches: Sequence[list[AgentEvent]]
) -> list[IngestResult | BaseException]:
    """Apply ``batches`` while another connection holds the file's write lock: the writer
    takes the first and waits for the lock, the others wait on its queue behind it."""
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        first = asyncio.ensure_future(store.apply_events(batches[0]))
        await asyncio.sleep(0.3)  # the writer took the first batch, alone, and waits
        rest = [asyncio.ensure_future(store.apply_events(b)) for b in batches[1:]]
        await asyncio.sleep(0.1)
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def applied_at(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT event_id, applied_at FROM applied_event WHERE vdn = 1"))
    finally:
        conn.close()


def ticking() -> Any:
    """A clock 10 ms later at each reading: each transaction has a moment of its own."""
    return itertools.count(1_790_000_000.0, 0.01).__next__


@pytest.mark.anyio
async def test_batches_that_waited_are_committed_together_as_if_one_by_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path), clock=ticking())
    await store.open()
    try:
        results = await behind_a_lock(path, store, EVENTS)
        assert [(r.accepted, r.duplicates) for r in results] == [(3, 1), (4, 1), (4, 0)]  # type: ignore[union-attr]
        page = await store.read_changes(0, 100)
        for key, record in expected()[0].items():
            assert await store.get_agent(*key) == record
    finally:
        await store.close()
    assert [(c.event_id, c.prev, c.cur) for c in page.changes] == expected()[1]
    assert [c.seq for c in page.changes] == list(range(1, len(page.changes) + 1))
    moments = applied_at(path)
    # the first batch alone, the two that waited behind it in one transaction
    assert moments["e3"] == moments["e10"] != moments["e1"]


@pytest.mark.anyio
async def test_a_batch_that_fails_in_a_group_fails_alone(tmp_path: Path) -> None:
    """A batch SQLite refuses (here a trigger of the file's own) gets its error and leaves
    nothing; the batches that waited with it are each committed alone."""
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path), clock=ticking())
    await store.open()
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON status_history WHEN NEW.event_id = 'p2'"
            " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )
        conn.commit()
    finally:
        conn.close()
    try:
        batches = [
            [AgentEvent("a1", 1, 1, 101, 1_000, 1)],
            [AgentEvent("b1", 1, 1, 102, 1_000, 1)],
            [AgentEvent("p1", 1, 1, 103, 1_000, 1), AgentEvent("p2", 1, 1, 104, 1_000, 1)],
            [AgentEvent("c1", 1, 1, 105, 1_000, 1)],
        ]
        results = await behind_a_lock(path, store, batches)
        assert isinstance(results[2], StoreUnavailableError)
        assert [(r.accepted, r.duplicates) for r in results if isinstance(r, IngestResult)] == [
            (1, 0), (1, 0), (1, 0),
        ]  # fmt: skip
        assert await store.get_agent(1, 1, 103) is None  # nothing of the failed batch
        assert await store.get_agent(1, 1, 105) is not None
        page = await store.read_changes(0, 100)
        assert [(c.seq, c.event_id) for c in page.changes] == [(1, "a1"), (2, "b1"), (3, "c1")]
    finally:
        await store.close()
    moments = applied_at(path)
    assert set(moments) == {"a1", "b1", "c1"}
    assert len(set(moments.values())) == 3  # each in a transaction of its own


@pytest.mark.anyio
async def test_ids_held_before_are_duplicates_and_claim_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "ccms.db"))
    await store.open()
    try:
        first = [AgentEvent(f"x{n}", 1, 1, 101 + n, 1_000, 1) for n in range(5)]
        assert (await store.apply_events(first)).accepted == 5
        again = [*first[:3], AgentEvent("x9", 1, 1, 101, 2_000, 3)]
        result = await store.apply_events(again)
        assert (result.accepted, result.duplicates) == (1, 3)
        record = await store.get_agent(1, 1, 101)
        assert record is not None and record.cti_status == 3
    finally:
        await store.close()


@pytest.mark.anyio
async def test_the_agents_changed_since_a_number_come_from_the_log_or_past_it(
    tmp_path: Path,
) -> None:
    """``agent.change_seq`` has no index (schema version 11): the log answers while it
    holds every change after the number, a scan of the agents before it."""
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path), stream_window_changes=2)
    await store.open()
    try:
        for n, work_no in enumerate([101, 102, 103, 101, 104]):
            await store.apply_events([AgentEvent(f"p{n}", 1, 1, work_no, 1_000 + n, 1 + n)])
            await asyncio.sleep(1.1) if n == 3 else None  # the window is pruned once a second
        page = await store.read_changes(0, 10)
        assert page.expired  # the log no longer holds the first changes
        since_0 = await store.changes_since(0)  # past the log: the agents scanned
        assert since_0 == ChangeSet(5, frozenset(AgentKey(1, 1, w) for w in (101, 102, 103, 104)))
        assert await store.changes_since(3) == ChangeSet(
            5, frozenset({AgentKey(1, 1, 101), AgentKey(1, 1, 104)})
        )  # from the log
        assert await store.changes_since(5) == ChangeSet(5, frozenset())
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        indexes = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
    finally:
        conn.close()
    assert "agent_change_seq" not in indexes
