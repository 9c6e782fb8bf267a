"""PostgreSQL only: schemas of an older version upgrade in place, keeping what they hold."""

from __future__ import annotations

import psycopg
import pytest
from tests.conftest import FrozenClock
from tests.integration.store.conftest import PgSchema

from ccms.domain.agent import AgentEvent
from ccms.domain.call import CallEvent, CallKind, RecordQuery
from ccms.domain.status import CtiStatus
from ccms.store.migrations import migrations
from ccms.store.postgres import PostgresStore

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.anyio]

MIGRATIONS = "ccms.store.postgres.migrations"
TENANT_EVENT_IDS = 4  # the version from which event ids are per call center and VDN
HISTORY_SOURCE = 5  # the version from which the history keeps source and rawState
CALLS = 8  # the version from which the store keeps calls
RECORD_MINUTES = 9  # the version from which the records are counted per minute
CALL_LEGS = 10  # the version from which the store keeps the steps of calls


def old_schema(schema: PgSchema, version: int) -> psycopg.Connection[tuple[object, ...]]:
    """The test schema as ``version`` left it; a connection to it (autocommit)."""
    conn = psycopg.connect(schema.url, autocommit=True, connect_timeout=5)
    conn.execute(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for migration in migrations(MIGRATIONS):
        if migration.version <= version:
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version) VALUES (%s)", (migration.version,)
            )
    return conn


async def test_migration_keeps_applied_event_ids_in_their_tenant(
    pg_schema: PgSchema, clock: FrozenClock
) -> None:
    previous = max(m.version for m in migrations(MIGRATIONS) if m.version < TENANT_EVENT_IDS)
    now_ms = int(clock() * 1000)
    with old_schema(pg_schema, previous) as conn:
        # ids applied before: two status events (in 1/1 and in 1/2) and one without a status
        for event_id in ("s1", "s2", "attr"):
            conn.execute(
                "INSERT INTO applied_event (event_id, applied_at) VALUES (%s, %s)",
                (event_id, now_ms),
            )
        for cc_id, vdn, event_id in ((1, 1, "s1"), (1, 2, "s2")):
            conn.execute(
                "INSERT INTO status_history (cc_id, vdn, work_no, at, cti_status, event_id,"
                " applied) VALUES (%s, %s, 101, 5, 1, %s, true)",
                (cc_id, vdn, event_id),
            )
    store = PostgresStore(pg_schema.url, clock=clock)
    assert (await store.schema_status()).current == previous
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


async def test_a_node_of_the_earlier_version_still_takes_in_events(pg_schema: PgSchema) -> None:
    """During a rolling upgrade, a node not yet upgraded writes ids without a tenant: they
    count as ids of every tenant (as they did for it), and its batches do not fail."""
    store = PostgresStore(pg_schema.url)
    await store.open()
    try:
        with psycopg.connect(pg_schema.url, autocommit=True, connect_timeout=5) as conn:
            claimed = conn.execute(
                "INSERT INTO applied_event (event_id, applied_at) SELECT id, 1 FROM"
                " unnest(%s::text[]) AS t(id) ORDER BY id ON CONFLICT DO NOTHING"
                " RETURNING event_id",
                (["old-1"],),
            ).fetchall()
        assert claimed == [("old-1",)]
        result = await store.apply_events([AgentEvent("old-1", 3, 30, 101, 10, 1)])
        assert (result.accepted, result.duplicates) == (0, 1)
    finally:
        await store.close()


async def test_migration_keeps_the_history_and_adds_source_and_raw_state(
    pg_schema: PgSchema,
) -> None:
    with old_schema(pg_schema, HISTORY_SOURCE - 1) as conn:
        conn.execute(
            "INSERT INTO agent (cc_id, vdn, work_no, created_at, cti_status, status_at,"
            " status_event_at, reason, media_type, skills, calls)"
            " VALUES (1, 1, 101, 0, 8, 9, 9, 4, 0, '{}', '{}')"
        )
        for at, status, reason, event_id, applied in (
            (5, 1, None, "old-1", True), (9, 8, 4, "old-2", True), (7, 7, None, "old-late", False),
        ):  # fmt: skip
            conn.execute(
                "INSERT INTO status_history (cc_id, vdn, work_no, at, cti_status, reason,"
                " event_id, applied) VALUES (1, 1, 101, %s, %s, %s, %s, %s)",
                (at, status, reason, event_id, applied),
            )
    store = PostgresStore(pg_schema.url)
    assert (await store.schema_status()).pending[0] == "0005_history_source"
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


async def test_a_node_of_the_earlier_version_still_writes_history(pg_schema: PgSchema) -> None:
    """During a rolling upgrade, a node not yet upgraded inserts history rows without
    source and rawState: they are kept, with neither."""
    store = PostgresStore(pg_schema.url)
    await store.open()
    try:
        with psycopg.connect(pg_schema.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                "INSERT INTO status_history (cc_id, vdn, work_no, at, cti_status, reason,"
                " event_id, applied) VALUES (1, 1, 101, 5, 1, NULL, 'old-node', true)"
            )
        kept = await store.history(1, 1, 101, 10)
        assert [(h.event_id, h.source, h.raw_state) for h in kept] == [("old-node", None, None)]
    finally:
        await store.close()


async def test_migration_adds_calls_and_keeps_the_agents(pg_schema: PgSchema) -> None:
    with old_schema(pg_schema, CALLS - 1) as conn:
        conn.execute(
            "INSERT INTO agent (cc_id, vdn, work_no, created_at, cti_status, status_at,"
            " status_event_at, media_type, skills, calls)"
            " VALUES (1, 1, 101, 0, 1, 9, 9, 0, '{1}', '{}')"
        )
    clock = FrozenClock()
    store = PostgresStore(pg_schema.url, clock=clock)
    assert (await store.schema_status()).pending[0] == "0008_calls"
    await store.open()
    try:
        agent = await store.get_agent(1, 1, 101)
        assert agent is not None and agent.skills == (1,) and agent.status_at == 9
        now = int(clock() * 1000)
        result = await store.apply_events(
            [AgentEvent("a", 1, 1, 101, now, CtiStatus.TALKING)],
            [CallEvent("c", 1, 1, "1789999000-1", now, CallKind.ABANDON)],
        )
        assert (result.accepted, result.duplicates) == (2, 0)
        count, page = await store.call_records(1, 1, RecordQuery(now - 1, now, call_in=True))
        assert (count, [r.call_id for r in page]) == (1, ["1789999000-1"])
        assert (await store.schema_status()).pending == ()
    finally:
        await store.close()


async def test_migration_counts_the_records_kept_per_minute(pg_schema: PgSchema) -> None:
    """A store that kept calls before: its records are counted once, in the minute each
    entered; a live call is not a record."""
    previous = max(m.version for m in migrations(MIGRATIONS) if m.version < RECORD_MINUTES)
    clock = FrozenClock()
    now = int(clock() * 1000) // 60_000 * 60_000
    with old_schema(pg_schema, previous) as conn:
        for n, arrived, ended, call_in in [
            (1, now - 3 * 60_000, now, True),
            (2, now - 3 * 60_000 + 59_999, now, True),  # the same minute
            (3, now - 60_000, now, True),
            (4, now - 60_000, now, False),  # outbound
            (5, now - 60_000, None, True),  # live
        ]:
            conn.execute(
                "INSERT INTO call (cc_id, vdn, call_id, arrived_at, caller_no, callee_no,"
                " access_code, media_type, sub_media_type, call_type, call_in, state, state_at,"
                " last_at, enter_reason, devices, ended_at, moved_at) VALUES (1, 1, %s, %s, '',"
                " '', '', 0, -1, 0, %s, 0, %s, %s, 0, 0, %s, %s)",
                (f"1789999000-{n}", arrived, call_in, arrived, arrived, ended, now),
            )
    store = PostgresStore(pg_schema.url, clock=clock)
    assert "0009_call_record_minute" in (await store.schema_status()).pending
    await store.open()
    try:
        rows = pg_schema.admin(
            f"SELECT call_in, minute, records FROM {pg_schema.name}.call_record_minute"
        )
        minute = now // 60_000
        assert sorted(rows) == [
            (False, minute - 1, 1),
            (True, minute - 3, 2),
            (True, minute - 1, 1),
        ]
        for begin, end, expected in [(now - 3 * 60_000, now, 3), (now - 3 * 60_000 + 1, now, 2)]:
            count, page = await store.call_records(1, 1, RecordQuery(begin, end, call_in=True))
            assert count == len(page) == expected
    finally:
        await store.close()


async def test_migration_adds_the_steps_of_calls_and_keeps_the_calls(pg_schema: PgSchema) -> None:
    with old_schema(pg_schema, CALL_LEGS - 1) as conn:
        conn.execute(  # a call ended before the upgrade (the columns of 0008_calls)
            "INSERT INTO call VALUES (1, 1, '1789999000-1', 5, '88881364', '650550', '', 5, -1,"
            " 0, true, 5, 4, 9, 9, 3, NULL, 0, 1, 6, NULL, NULL, 9, 89, NULL, 9)"
        )
    clock = FrozenClock()
    store = PostgresStore(pg_schema.url, clock=clock)
    assert (await store.schema_status()).pending == ("0010_call_legs",)
    await store.open()
    try:
        old = await store.call_track(1, 1, "1789999000-1")
        assert old is not None and old.steps == () and old.legs == []  # no steps from before
        assert old.call.caller_no == "88881364" and old.call.abandoned
        assert [r.vdn for r in await store.calls_by_id(1, "1789999000-1")] == [1]
        now = int(clock() * 1000)
        await store.apply_events(
            [], [CallEvent("q", 1, 1, "1789999000-2", now, CallKind.QUEUE, skill_id=4)]
        )
        new = await store.call_track(1, 1, "1789999000-2")
        assert new is not None and [(g.device, g.device_no) for g in new.legs] == [(1, 4)]
        assert (await store.schema_status()).pending == ()
    finally:
        await store.close()
