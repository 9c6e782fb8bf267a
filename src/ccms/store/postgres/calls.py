"""Calls on PostgreSQL: their reads, and the call events of a batch inside its
transaction (the SQL is :mod:`ccms.store.calls`, shared with SQLite, and the records per
minute of :mod:`ccms.store.postgres.record_counts`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.batch import CallPlan, plan_call_batch
from ccms.domain.call import CallEvent, CallKey, CallRecord, RecordQuery
from ccms.domain.calltrace import CallTrack
from ccms.domain.indicators import VdnCounts
from ccms.domain.queues import QueueBoard, QueueWindow
from ccms.store import calls as call_sql
from ccms.store import calltrace as trace_sql
from ccms.store.listing import Dialect
from ccms.store.postgres import record_counts

_PG = Dialect.POSTGRES
_SELECT_CALL = call_sql.select_one(_PG)
_KEYS = "unnest($1::integer[], $2::integer[], $3::text[]) AS k(c, v, i)"
# A batch's calls are locked in one statement, in key order, that only the primary key
# serves (ON CONFLICT's arbiter, whatever the planner knows of the table): a placeholder
# row for each unknown call (returned), so that two batches about one new call do not
# both insert it; each known call locked by ``DO UPDATE ... WHERE false``, which locks the
# row (as FOR UPDATE: it names a key column) and writes nothing.
PLACE_OR_LOCK = (
    f"INSERT INTO call ({call_sql.WRITE_COLUMNS}) SELECT c, v, i, 0, '', '', '', 0, -1, 0,"
    f" true, NULL, 0, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0 FROM {_KEYS}"
    ' ORDER BY c, v, i COLLATE "C" ON CONFLICT (cc_id, vdn, call_id)'
    " DO UPDATE SET cc_id = EXCLUDED.cc_id WHERE false RETURNING cc_id, vdn, call_id"
)
# The known calls, locked, read by their keys (none in a batch of new calls): a row
# comparison of the three columns, which only the primary key matches whole, prepared
# for each batch so that it is planned with its keys (a generic plan, made by a
# connection once and kept, takes ``call_queue`` on a table not analyzed, reading every
# call of the VDN per key; an equality on each column takes it in either plan).
READ_LOCKED = (
    f"SELECT t.* FROM {_KEYS}, LATERAL (SELECT {call_sql.COLUMNS} FROM call"
    " WHERE (cc_id, vdn, call_id) >= (k.c, k.v, k.i) AND (cc_id, vdn, call_id) <= (k.c, k.v, k.i))"
    " AS t"
)
_UPSERT = call_sql.upsert(_PG)
_WINDOWS = call_sql.queue_windows(_PG)
_VDN_AGENTS, _VDN_CALLS = call_sql.vdn_counts(_PG)
_BOARD_HAS_CALLS, _BOARD_SKILLS, _BOARD_WAITING = call_sql.board(_PG)
# the steps of the calls pruned first, then the records that ended before the oldest moment
# kept (off their minutes), then the live calls not heard of since
PRUNE = [*trace_sql.prune(_PG), *record_counts.PRUNE, call_sql.prune(_PG)[1]]
_INSERT_STEPS = trace_sql.insert(_PG)
_SELECT_STEPS = trace_sql.select_steps(_PG)
_SELECT_BY_ID = trace_sql.select_by_id(_PG)


async def get_call(conn: Any, cc_id: int, vdn: int, call_id: str) -> CallRecord | None:
    row = await conn.fetchrow(_SELECT_CALL, cc_id, vdn, call_id)
    return None if row is None else call_sql.record(row)


async def call_records(
    conn: Any, cc_id: int, vdn: int, query: RecordQuery
) -> tuple[int, list[CallRecord]]:
    statement, params = record_counts.page_and_count(cc_id, vdn, query)
    rows = await conn.fetch(statement, *params)
    return int(rows[0][0]), [call_sql.record(r[1:]) for r in rows if r[1] is not None]


async def queue_windows(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
) -> list[QueueWindow]:
    rows = await conn.fetch(_WINDOWS, cc_id, vdn, list(dict.fromkeys(skill_ids)), start)
    return call_sql.windows(rows, skill_ids, start)


async def queue_board(conn: Any, cc_id: int, vdn: int, start: int) -> QueueBoard:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        has_calls = await conn.fetchval(_BOARD_HAS_CALLS, cc_id, vdn)
        skills = await conn.fetch(_BOARD_SKILLS, cc_id, vdn)
        waiting = await conn.fetch(_BOARD_WAITING, cc_id, vdn)
        ids = call_sql.board_skills(skills, waiting)
        rows = await conn.fetch(_WINDOWS, cc_id, vdn, ids, start) if ids else []
    return call_sql.board_of(has_calls, call_sql.windows(rows, ids, start), waiting)


async def vdn_counts(conn: Any, cc_id: int, vdns: Sequence[int]) -> dict[int, VdnCounts]:
    wanted = list(dict.fromkeys(vdns))
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        agents = await conn.fetch(_VDN_AGENTS, cc_id, wanted)
        live = await conn.fetch(_VDN_CALLS, cc_id, wanted)
    return call_sql.counts_of(wanted, agents, live)


async def apply_calls(conn: Any, fresh: list[CallEvent]) -> CallPlan:
    """Inside a batch's transaction, before its agents: lock the calls of ``fresh``, write
    those the events changed, then what they change in the records per minute
    (:mod:`ccms.store.postgres.record_counts`): a statement per table, each table's rows
    locked in key order after the one before. Returns the plan (its moves change agents)."""
    keys = sorted({c.key for c in fresh})
    arrays = ([k.cc_id for k in keys], [k.vdn for k in keys], [k.call_id for k in keys])
    placeholders = {CallKey(*r) for r in await conn.fetch(PLACE_OR_LOCK, *arrays)}
    known: dict[CallKey, CallRecord] = {}
    locked = [k for k in keys if k not in placeholders]
    if locked:
        arrays = ([k.cc_id for k in locked], [k.vdn for k in locked], [k.call_id for k in locked])
        read = await conn.prepare(READ_LOCKED)  # planned for these keys: see READ_LOCKED
        for row in await read.fetch(*arrays):
            found = call_sql.record(row)
            known[found.key] = found
    plan = plan_call_batch(fresh, known)
    # A placeholder whose events changed nothing cannot be: a new call always differs.
    changed = plan.changed
    await write_calls(conn, [changed[k] for k in sorted(changed)])
    await record_counts.write_changes(conn, record_counts.changes(known, changed))
    await conn.execute(_INSERT_STEPS, *trace_sql.step_arrays(fresh))
    return plan


async def write_calls(conn: Any, calls: Sequence[CallRecord]) -> None:
    """Write ``calls`` (rows locked by this transaction) in one statement."""
    if calls:
        rows = [call_sql.row(r, _PG) for r in calls]
        await conn.execute(_UPSERT, *(list(column) for column in zip(*rows, strict=True)))


async def call_track(conn: Any, cc_id: int, vdn: int, call_id: str) -> CallTrack | None:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(_SELECT_CALL, cc_id, vdn, call_id)
        if row is None:
            return None
        steps = await conn.fetch(_SELECT_STEPS, cc_id, vdn, call_id)
    return CallTrack(call_sql.record(row), tuple(map(trace_sql.step, steps)))


async def calls_by_id(conn: Any, cc_id: int, call_id: str) -> list[CallRecord]:
    return [call_sql.record(r) for r in await conn.fetch(_SELECT_BY_ID, cc_id, call_id)]
