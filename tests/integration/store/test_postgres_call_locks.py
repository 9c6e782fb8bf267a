"""PostgreSQL only: how a batch locks its calls. One statement, in key order, that only the
primary key serves whatever the planner knows of the table (a fresh store is not
analyzed until autovacuum comes, and a prepared statement's generic plan, chosen while
the table was small, is kept by its connection): a placeholder for each unknown call, a
lock of FOR UPDATE's strength on each known one, and nothing written to those."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from tests.conftest import FrozenClock
from tests.integration.store.conftest import PgSchema

from ccms.domain.call import CallEvent, CallKind
from ccms.store.postgres import PostgresStore
from ccms.store.postgres.calls import PLACE_OR_LOCK, READ_LOCKED

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.anyio]

T0 = 1_789_999_000_000  # within the clock's day (FrozenClock: 1_790_000_000 s)


def prepare(conn: psycopg.Connection[Any], name: str = "lock", sql: str = PLACE_OR_LOCK) -> None:
    """``PREPARE name`` of ``sql`` (by the simple query protocol: its ``$n`` are the
    prepared statement's, not the query's)."""
    sql = f"PREPARE {name}(integer[], integer[], text[]) AS " + sql
    result = conn.pgconn.exec_(sql.encode())
    assert result.status == psycopg.pq.ExecStatus.COMMAND_OK, result.error_message


def execute(conn: psycopg.Connection[Any], sql: str, keys: Any) -> list[Any]:
    """``sql`` with the three arrays of ``keys`` as its arguments (bound by the client: a
    utility statement takes no parameters)."""
    with psycopg.ClientCursor(conn) as cur:
        cur.execute(sql + "(%s::integer[], %s::integer[], %s::text[])", keys)
        return cur.fetchall()


def scans(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (node type, index) of every node of ``plan`` that reads table ``call``."""
    found = []
    if plan.get("Relation Name") == "call" and "Scan" in plan["Node Type"]:
        found.append((plan["Node Type"], plan.get("Index Name")))
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


async def test_a_batch_locks_and_reads_its_calls_by_the_primary_key_on_a_table_not_analyzed(
    pg_schema: PgSchema, clock: FrozenClock
) -> None:
    store = PostgresStore(pg_schema.url, clock=clock)
    await store.open()
    try:
        pg_schema.admin(f"ALTER TABLE {pg_schema.name}.call SET (autovacuum_enabled = false)")
        for b in range(5):  # 5,000 calls of one VDN, all live (in no partial index's subset)
            await store.apply_events([], [
                CallEvent(f"a{b}-{n}", 1, 1, f"{T0 // 1000}-{b}-{n}", T0, CallKind.ARRIVE)
                for n in range(1_000)
            ])  # fmt: skip
    finally:
        await store.close()
    analyzed = pg_schema.admin(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", f"{pg_schema.name}.call"
    )
    assert analyzed == [(-1.0,)]  # never analyzed
    keys = ([1] * 300, [1] * 300, [f"{T0 // 1000}-2-{n}" for n in range(200)]
            + [f"new-{n}" for n in range(100)])  # fmt: skip
    with psycopg.connect(pg_schema.url, connect_timeout=5) as conn:
        prepare(conn)
        for mode in ("force_custom_plan", "force_generic_plan"):
            conn.execute(f"SET plan_cache_mode = {mode}")
            (plan,) = execute(conn, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE lock", keys)[0]
            conn.rollback()
            top = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
            assert top["Conflict Arbiter Indexes"] == ["call_pkey"], mode
            assert scans(top) == [], mode  # the keys alone are read: no scan of call
            assert top["Actual Rows"] == 100, mode  # the placeholders, returned
        # the known calls, read after (prepared for each batch: planned for its keys), by
        # the primary key alone, one seek each
        prepare(conn, "read", READ_LOCKED)
        known = tuple(column[:200] for column in keys)
        conn.execute("SET plan_cache_mode = force_custom_plan")
        (plan,) = execute(conn, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE read", known)[0]
        top = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
        assert scans(top) == [("Index Scan", "call_pkey")]
        assert top["Actual Rows"] == 200


async def test_a_known_call_is_locked_as_for_update_and_left_as_it_was(
    pg_schema: PgSchema, clock: FrozenClock
) -> None:
    store = PostgresStore(pg_schema.url, clock=clock)
    await store.open()
    try:
        await store.apply_events([], [CallEvent("a1", 1, 1, "1789999000-1", T0, CallKind.ARRIVE)])
    finally:
        await store.close()
    where = f"FROM {pg_schema.name}.call WHERE call_id = '1789999000-1'"
    before = pg_schema.admin(f"SELECT xmin::text, * {where}")
    with psycopg.connect(pg_schema.url, connect_timeout=5) as conn:
        prepare(conn)
        placed = execute(conn, "EXECUTE lock", ([1, 1], [1, 1], ["1789999000-1", "1789999000-2"]))
        assert placed == [(1, 1, "1789999000-2")]  # the unknown one only
        with psycopg.connect(pg_schema.url, connect_timeout=5) as other:
            # KEY SHARE conflicts with FOR UPDATE only (not with FOR NO KEY UPDATE)
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(f"SELECT 1 {where} FOR KEY SHARE NOWAIT")
        conn.rollback()
    assert pg_schema.admin(f"SELECT xmin::text, * {where}") == before  # nothing written
