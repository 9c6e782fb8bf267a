"""SQLite only: stores of an older schema version upgrade in place, keeping their agents."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.conftest import FrozenClock

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.call import CallEvent, CallKind, RecordQuery
from ccms.domain.status import CtiStatus
from ccms.store.migrations import migrations
from ccms.store.sqlite import SQLiteStore
from ccms.store.sqlite.store import _statements

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MIGRATIONS = "ccms.store.sqlite.migrations"
TENANT_EVENT_IDS = 5  # the version from which event ids are per call center and VDN
HISTORY_SOURCE = 6  # the version from which the history keeps source and rawState
CALLS = 9  # the version from which the store keeps calls
CALL_LEGS = 10  # the version from which the store keeps the steps of calls


def old_file(path: Path, version: int) -> None:
    """A store file as ``version`` left it: agents with skills (and no skill index when
    ``version`` is 1)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in [m for m in migrations(MIGRATIONS) if m.version <= version]:
        for statement in _statements(migration.sql):
            conn.execute(statement)
    rows = [
        (1, 1, 101, 0, 1, "[1,2]", "[]"),
        (1, 1, 102, 0, 1, "[2]", "[]"),
        (1, 1, 103, 0, 0, "[]", "[]"),
        (1, 2, 101, 0, 1, "[1]", "[]"),
    ]
    conn.executemany(
        "INSERT INTO agent (cc_id, vdn, work_no, created_at, cti_status, media_type, skills,"
        " calls) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        rows,
    )
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def file_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def test_migration_indexes_existing_skills(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    old_file(path, 1)
    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert [r.work_no for r in await store.agents_in_skills(1, 1, [1])] == [101]
        assert [r.work_no for r in await store.agents_in_skills(1, 1, [2])] == [101, 102]
        assert [r.work_no for r in await store.agents_in_skills(1, 2, [1, 2])] == [101]
        # and the index follows changes from then on
        await store.apply_events([AgentEvent("e", 1, 1, 101, 10, None, skills=(2,))])
        assert await store.agents_in_skills(1, 1, [1]) == []
        status = await store.schema_status()
    finally:
        await store.close()
    assert file_version(path) == status.latest == max(m.version for m in migrations(MIGRATIONS))
    assert status.pending == ()


async def test_migration_starts_the_change_sequence_on_existing_agents(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    old_file(path, 2)
    store = SQLiteStore(str(path))
    pending = (await store.schema_status()).pending
    assert pending == tuple(m.name for m in migrations(MIGRATIONS) if m.version > 2)
    assert pending[0] == "0003_change_seq"
    await store.open()
    try:
        assert await store.change_seq() == 0
        assert (await store.changes_since(0)).agents == frozenset()  # agents kept, unnumbered
        assert (await store.get_agent(1, 1, 102)) is not None
        await store.apply_events([AgentEvent("e", 1, 1, 102, 10, 3)])
        assert await store.change_seq() == 1
        changes = await store.changes_since(0)
        assert (changes.seq, changes.agents) == (1, frozenset({AgentKey(1, 1, 102)}))
    finally:
        await store.close()
    assert file_version(path) == max(m.version for m in migrations(MIGRATIONS))


async def test_migration_starts_the_change_log_after_the_numbers_taken(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    old_file(path, 3)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE change_counter SET seq = 7")  # seven batches numbered before
    conn.execute("UPDATE agent SET change_seq = 7 WHERE work_no = 101 AND vdn = 1")
    conn.close()
    store = SQLiteStore(str(path))
    pending = tuple(m.name for m in migrations(MIGRATIONS) if m.version > 3)
    assert pending[:2] == ("0004_change_log", "0005_tenant_event_ids")
    assert (await store.schema_status()).pending == pending
    await store.open()
    try:
        snap = await store.snapshot(1, 1)
        assert (snap.seq, [r.work_no for r in snap.agents]) == (7, [101, 102, 103])
        assert await store.change_seq() == 7
        assert (await store.read_changes(7, 10)).expired is False
        assert (await store.read_changes(6, 10)).expired is True  # never logged
        await store.apply_events([AgentEvent("e", 1, 1, 102, 10, 3)])
        page = await store.read_changes(7, 10)
        assert [c.seq for c in page.changes] == [8]
        assert page.changes[0].prev == snap.agents[1]
        assert (await store.changes_since(7)).agents == frozenset({AgentKey(1, 1, 102)})
    finally:
        await store.close()
    assert file_version(path) == max(m.version for m in migrations(MIGRATIONS))


async def test_migration_keeps_applied_event_ids_in_their_tenant(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "old.db"
    previous = max(m.version for m in migrations(MIGRATIONS) if m.version < TENANT_EVENT_IDS)
    old_file(path, previous)
    now_ms = int(clock() * 1000)
    conn = sqlite3.connect(path, isolation_level=None)
    # ids applied before: two status events (in 1/1 and in 1/2) and one without a status
    conn.executemany(
        "INSERT INTO applied_event (event_id, applied_at) VALUES (?, ?)",
        [("s1", now_ms), ("s2", now_ms), ("attr", now_ms)],
    )
    conn.executemany(
        "INSERT INTO status_history (cc_id, vdn, work_no, at, cti_status, event_id, applied)"
        " VALUES (?, ?, 101, 5, 1, ?, 1)",
        [(1, 1, "s1"), (1, 2, "s2")],
    )
    conn.close()
    store = SQLiteStore(str(path), clock=clock)
    assert f"{TENANT_EVENT_IDS:04d}_tenant_event_ids" in (await store.schema_status()).pending
    await store.open()
    try:
        # resent in their own tenant: duplicates still
        again = await store.apply_events(
            [
                AgentEvent("s1", 1, 1, 101, 10, CtiStatus.BUSY),
                AgentEvent("s2", 1, 2, 101, 10, CtiStatus.BUSY),
                AgentEvent("attr", 1, 1, 101, 10, name="again"),
            ]
        )
        assert (again.accepted, again.duplicates) == (0, 3)
        # the same ids in other tenants: other events
        other = await store.apply_events(
            [
                AgentEvent("s1", 7, 170, 101, 10, CtiStatus.BUSY),
                AgentEvent("s2", 1, 1, 102, 10, CtiStatus.BUSY),
            ]
        )
        assert (other.accepted, other.duplicates) == (2, 0)
        # an id without history has no known tenant: one of every tenant, until it expires
        unknown = await store.apply_events([AgentEvent("attr", 7, 170, 101, 11, name="n")])
        assert (unknown.accepted, unknown.duplicates) == (0, 1)
        clock.now += 7 * 86_400 + 120
        await store.apply_events([AgentEvent("later", 1, 1, 101, 12)])  # prunes expired ids
        expired = await store.apply_events([AgentEvent("attr", 7, 170, 101, 13, name="n")])
        assert (expired.accepted, expired.duplicates) == (1, 0)
        assert (await store.schema_status()).pending == ()
    finally:
        await store.close()


async def test_migration_keeps_the_history_and_adds_source_and_raw_state(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    old_file(path, HISTORY_SOURCE - 1)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executemany(
        "INSERT INTO status_history (cc_id, vdn, work_no, at, cti_status, reason, event_id,"
        " applied) VALUES (1, 1, 101, ?, ?, ?, ?, ?)",
        [(5, 1, None, "old-1", 1), (9, 8, 4, "old-2", 1), (7, 7, None, "old-late", 0)],
    )
    conn.execute("UPDATE agent SET cti_status = 8, status_at = 9, status_event_at = 9,"
                 " reason = 4 WHERE cc_id = 1 AND vdn = 1 AND work_no = 101")  # fmt: skip
    conn.close()
    store = SQLiteStore(str(path))
    assert (await store.schema_status()).pending[0] == "0006_history_source"
    await store.open()
    try:
        kept = await store.history(1, 1, 101, 10)
        assert [(h.event_id, h.at, h.cti_status, h.reason, h.applied) for h in kept] == [
            ("old-2", 9, 8, 4, True), ("old-late", 7, 7, None, False), ("old-1", 5, 1, None, True),
        ]  # fmt: skip
        assert {(h.source, h.raw_state) for h in kept} == {(None, None)}
        found = await store.agent_history(1, 1, 101, 10)
        assert found is not None and found.cause == kept[0]
        await store.apply_events(
            [AgentEvent("new", 1, 1, 101, 20, 1, source="asterisk-ami", raw_state="sales: ...")]
        )
        newest = (await store.history(1, 1, 101, 1))[0]
        assert (newest.event_id, newest.source, newest.raw_state) == (
            "new", "asterisk-ami", "sales: ...",
        )  # fmt: skip
        assert (await store.schema_status()).pending == ()
    finally:
        await store.close()
    assert file_version(path) == max(m.version for m in migrations(MIGRATIONS))


async def test_migration_adds_calls_and_keeps_the_agents(tmp_path: Path) -> None:
    path = tmp_path / "v8.db"
    old_file(path, CALLS - 1)
    store = SQLiteStore(str(path), clock=FrozenClock())
    assert (await store.schema_status()).pending[0] == "0009_calls"
    await store.open()
    try:
        kept = await store.get_agents(1, 1, [101, 102, 103])
        assert [(r.work_no, r.skills) for r in kept] == [(101, (1, 2)), (102, (2,)), (103, ())]
        assert await store.get_call(1, 1, "1789999000-1") is None
        now = int(FrozenClock()() * 1000)
        result = await store.apply_events(
            [AgentEvent("a", 1, 1, 101, now, CtiStatus.IDLE)],
            [CallEvent("c", 1, 1, "1789999000-1", now, CallKind.ABANDON)],
        )
        assert (result.accepted, result.duplicates) == (2, 0)
        call = await store.get_call(1, 1, "1789999000-1")
        assert call is not None and call.abandoned
        count, page = await store.call_records(1, 1, RecordQuery(now - 1, now, call_in=True))
        assert (count, [r.call_id for r in page]) == (1, ["1789999000-1"])
    finally:
        await store.close()
    assert file_version(path) == max(m.version for m in migrations(MIGRATIONS)) > CALLS


async def test_migration_adds_the_steps_of_calls_and_keeps_the_calls(tmp_path: Path) -> None:
    path = tmp_path / "v9.db"
    old_file(path, CALL_LEGS - 1)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(  # a call ended before the upgrade (the columns of 0009_calls)
        "INSERT INTO call VALUES (1, 1, '1789999000-1', 5, '88881364', '650550', '', 5, -1,"
        " 0, 1, 5, 4, 9, 9, 3, NULL, 0, 1, 6, NULL, NULL, 9, 89, NULL, 9)"
    )
    conn.close()
    store = SQLiteStore(str(path), clock=FrozenClock())
    assert (await store.schema_status()).pending[0] == "0010_call_legs"
    await store.open()
    try:
        old = await store.call_track(1, 1, "1789999000-1")
        assert old is not None and old.steps == () and old.legs == []  # no steps from before
        assert old.call.caller_no == "88881364" and old.call.abandoned
        assert [r.vdn for r in await store.calls_by_id(1, "1789999000-1")] == [1]
        kept = await store.get_agents(1, 1, [101])
        assert [(r.work_no, r.skills) for r in kept] == [(101, (1, 2))]
        now = int(FrozenClock()() * 1000)
        await store.apply_events([], [CallEvent("q", 1, 1, "1789999000-2", now, CallKind.QUEUE,
                                                skill_id=4)])  # fmt: skip
        new = await store.call_track(1, 1, "1789999000-2")
        assert new is not None and [(g.device, g.device_no) for g in new.legs] == [(1, 4)]
    finally:
        await store.close()
    assert file_version(path) == max(m.version for m in migrations(MIGRATIONS)) >= CALL_LEGS
