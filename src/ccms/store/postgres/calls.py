"""Calls on PostgreSQL: their reads, and the call events of a batch inside its
transaction (the SQL is :mod:`ccms.store.calls`, shared with SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.call import CallEvent, CallKey, CallRecord, RecordQuery, plan_calls
from ccms.domain.calltrace import CallTrack
from ccms.domain.indicators import VdnCounts
from ccms.domain.queues import QueueWindow
from ccms.store import calls as call_sql
from ccms.store import calltrace as trace_sql
from ccms.store.listing import Dialect

_PG = Dialect.POSTGRES
_SELECT_CALL = call_sql.select_one(_PG)
_KEYS = "unnest($1::integer[], $2::integer[], $3::text[]) AS k(c, v, i)"
# Calls are locked as agents are: a placeholder row for the unknown ones, then FOR UPDATE,
# both in key order, so that two batches about one new call do not both insert it.
_PLACEHOLD = (
    f"INSERT INTO call ({call_sql.WRITE_COLUMNS}) SELECT c, v, i, 0, '', '', '', 0, -1, 0, true,"
    f" NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0 FROM {_KEYS}"
    ' ORDER BY c, v, i COLLATE "C" ON CONFLICT DO NOTHING RETURNING cc_id, vdn, call_id'
)
_LOCK = (
    f"SELECT {call_sql.COLUMNS} FROM call WHERE (cc_id, vdn, call_id) IN"
    f' (SELECT c, v, i FROM {_KEYS}) ORDER BY cc_id, vdn, call_id COLLATE "C" FOR UPDATE'
)
_UPSERT = call_sql.upsert(_PG)
_WINDOWS = call_sql.queue_windows(_PG)
_VDN_AGENTS, _VDN_CALLS = call_sql.vdn_counts(_PG)
PRUNE = [*trace_sql.prune(_PG), *call_sql.prune(_PG)]  # the steps first
_INSERT_STEPS = trace_sql.insert(_PG)
_SELECT_STEPS = trace_sql.select_steps(_PG)
_SELECT_BY_ID = trace_sql.select_by_id(_PG)


async def get_call(conn: Any, cc_id: int, vdn: int, call_id: str) -> CallRecord | None:
    row = await conn.fetchrow(_SELECT_CALL, cc_id, vdn, call_id)
    return None if row is None else call_sql.record(row)


async def call_records(
    conn: Any, cc_id: int, vdn: int, query: RecordQuery
) -> tuple[int, list[CallRecord]]:
    page, count, params = call_sql.records(_PG, cc_id, vdn, query)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        total = int(await conn.fetchval(count, *params))
        rows = await conn.fetch(page, *params, query.limit, query.offset)
    return total, [call_sql.record(r) for r in rows]


async def queue_windows(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
) -> list[QueueWindow]:
    rows = await conn.fetch(_WINDOWS, cc_id, vdn, list(dict.fromkeys(skill_ids)), start)
    return call_sql.windows(rows, skill_ids, start)


async def vdn_counts(conn: Any, cc_id: int, vdns: Sequence[int]) -> dict[int, VdnCounts]:
    wanted = list(dict.fromkeys(vdns))
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        agents = await conn.fetch(_VDN_AGENTS, cc_id, wanted)
        live = await conn.fetch(_VDN_CALLS, cc_id, wanted)
    return call_sql.counts_of(wanted, agents, live)


async def apply_calls(conn: Any, fresh: list[CallEvent]) -> None:
    """Inside a batch's transaction, after its agents: lock the calls of ``fresh`` and
    write those the events changed."""
    keys = sorted({c.key for c in fresh})
    arrays = ([k.cc_id for k in keys], [k.vdn for k in keys], [k.call_id for k in keys])
    placeholders = {CallKey(*r) for r in await conn.fetch(_PLACEHOLD, *arrays)}
    known: dict[CallKey, CallRecord] = {}
    for row in await conn.fetch(_LOCK, *arrays):
        found = call_sql.record(row)
        if found.key not in placeholders:
            known[found.key] = found
    changed = plan_calls(fresh, known)
    # A placeholder whose events changed nothing cannot be: a new call always differs.
    await conn.executemany(_UPSERT, [call_sql.row(r, _PG) for r in changed.values()])
    await conn.execute(_INSERT_STEPS, *trace_sql.step_arrays(fresh))


async def call_track(conn: Any, cc_id: int, vdn: int, call_id: str) -> CallTrack | None:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(_SELECT_CALL, cc_id, vdn, call_id)
        if row is None:
            return None
        steps = await conn.fetch(_SELECT_STEPS, cc_id, vdn, call_id)
    return CallTrack(call_sql.record(row), tuple(map(trace_sql.step, steps)))


async def calls_by_id(conn: Any, cc_id: int, call_id: str) -> list[CallRecord]:
    return [call_sql.record(r) for r in await conn.fetch(_SELECT_BY_ID, cc_id, call_id)]
