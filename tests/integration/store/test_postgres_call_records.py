"""PostgreSQL only: the calls a batch writes in one statement, and the records kept per
minute (``call_record_minute``) equal to a recount of the records, however the batches
come (several nodes at once, calls that move between minutes)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from tests.conftest import FrozenClock
from tests.integration.store.conftest import PgSchema

from ccms.domain.call import DAY_MS, CallEvent, CallKind, RecordQuery
from ccms.store import calls as call_sql
from ccms.store.postgres import PostgresStore
from ccms.store.postgres.record_counts import MINUTE_MS, RECOUNT

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.anyio]

M0 = 1_789_999_000_000 // MINUTE_MS * MINUTE_MS


def minutes(schema: PgSchema) -> set[tuple[object, ...]]:
    rows = schema.admin(
        f"SELECT cc_id, vdn, call_in, minute, records FROM {schema.name}.call_record_minute"
        " WHERE records <> 0"
    )
    return set(rows)


def recounted(schema: PgSchema) -> set[tuple[object, ...]]:
    with psycopg.connect(schema.url, connect_timeout=5) as conn:  # on the schema's path
        return set(conn.execute(RECOUNT).fetchall())


async def test_the_upsert_arrays_are_of_the_columns_types(pg_schema: PgSchema) -> None:
    store = PostgresStore(pg_schema.url)
    await store.open()
    await store.close()
    rows = pg_schema.admin(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'call'",
        pg_schema.name,
    )
    types = dict(rows)
    columns = [c.strip() for c in call_sql.WRITE_COLUMNS.split(",")]
    assert [types[c] for c in columns] == list(call_sql.PG_TYPES)


async def test_minutes_equal_a_recount_whatever_the_batches(
    pg_schema: PgSchema, clock: FrozenClock
) -> None:
    one, two = PostgresStore(pg_schema.url, clock=clock), PostgresStore(pg_schema.url, clock=clock)
    await one.open()
    await two.open()
    try:

        def calls(node: str, first: int) -> list[CallEvent]:
            events = []
            for n in range(first, first + 60):
                call_id, at = f"1789999000-{n}", M0 + n * 7_000
                events += [
                    CallEvent(f"{node}{n}a", 1, 1 + n % 2, call_id, at, CallKind.ARRIVE),
                    CallEvent(f"{node}{n}e", 1, 1 + n % 2, call_id, at + 20_000, CallKind.END),
                ]
            return events

        # two nodes at once, about calls of the same minutes (and some of the same calls)
        await asyncio.gather(
            one.apply_events([], calls("a", 0)), two.apply_events([], calls("b", 30))
        )
        assert minutes(pg_schema) == recounted(pg_schema) != set()
        # calls that move: an earlier entry seen after the end, an outbound direction
        moves = [
            CallEvent("m1", 1, 1, "1789999000-2", M0 - 5 * MINUTE_MS, CallKind.QUEUE, skill_id=1),
            CallEvent("m2", 1, 2, "1789999000-3", M0 + 21_000, CallKind.ARRIVE, call_in=False),
        ]
        await one.apply_events([], moves)
        assert minutes(pg_schema) == recounted(pg_schema)
        count, _ = await one.call_records(1, 1, RecordQuery(M0 - DAY_MS, M0 + DAY_MS, True))
        assert count == 45  # calls 0, 2, ..., 88 of VDN 1
    finally:
        await one.close()
        await two.close()
