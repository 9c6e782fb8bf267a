"""A batch of events applied in one PostgreSQL transaction, safely across nodes.

The transaction (``READ COMMITTED``, on one connection):

1. claims the batch's event ids in their tenants: ``INSERT INTO applied_event ... ON
   CONFLICT DO NOTHING RETURNING``, in (call center, VDN, id) order, except the ids still
   kept as ids of every tenant (call center and VDN 0, from before ids were per tenant).
   An id claimed by another node's open transaction makes this one wait for its outcome,
   so the same batch posted to two nodes at once is applied once;
2. locks the agents of the new events in key order: a placeholder row for the unknown ones
   (``INSERT ... ON CONFLICT DO NOTHING``), then ``SELECT ... FOR UPDATE``, with the known
   agents the batch's call events ring at or take calls from (their ``calls``);
3. follows the batch plan of :mod:`ccms.domain.batch` (the same as every backend's): the
   new events, applied in arrival order, and the agents they changed;
4. inserts the history, then takes a block of change numbers, one per change in the plan's
   log (an update of the one counter row, whose lock is held to the commit, so numbers
   are gap-free and follow commit order), writes the log (one statement) and the changed
   agents (each with the number of its last change), and queues a ``NOTIFY`` (sent by
   PostgreSQL at commit; see :mod:`ccms.store.postgres.notify`).

Every transaction takes its locks in that order (ids, agents, counter), so two batches do
not deadlock; the caller still retries deadlocks and serialization failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, StatusChange
from ccms.domain.batch import (
    CallMove,
    EventKey,
    event_key,
    new_calls,
    new_events,
    plan_batch,
    with_call_moves,
)
from ccms.domain.call import CallEvent
from ccms.domain.changes import state_exits
from ccms.store.base import IngestResult
from ccms.store.postgres import stream
from ccms.store.postgres.calls import apply_calls
from ccms.store.postgres.notify import encode_payload
from ccms.store.postgres.views import AGENT_COLUMNS, record

_KEYS = "unnest($1::integer[], $2::integer[], $3::integer[]) AS k(c, v, w)"
_CLAIM = (
    "INSERT INTO applied_event (cc_id, vdn, event_id, applied_at)"
    " SELECT c, v, e, $4 FROM unnest($1::integer[], $2::integer[], $3::text[]) AS t(c, v, e)"
    " WHERE NOT EXISTS (SELECT FROM applied_event AS a WHERE a.cc_id = 0 AND a.vdn = 0"
    " AND a.event_id = t.e) ORDER BY c, v, e ON CONFLICT DO NOTHING"
    " RETURNING cc_id, vdn, event_id"
)
_PLACEHOLD = (
    "INSERT INTO agent (cc_id, vdn, work_no, created_at, cti_status, media_type, skills, calls)"
    f" SELECT c, v, w, 0, 0, 0, '{{}}', '{{}}' FROM {_KEYS} ORDER BY c, v, w"
    " ON CONFLICT DO NOTHING RETURNING cc_id, vdn, work_no"
)
_LOCK = (
    f"SELECT {AGENT_COLUMNS} FROM agent WHERE (cc_id, vdn, work_no) IN"
    f" (SELECT c, v, w FROM {_KEYS}) ORDER BY cc_id, vdn, work_no FOR UPDATE"
)
_INSERT_HISTORY = (
    "INSERT INTO status_history (cc_id, vdn, work_no, at, cti_status, reason, event_id, applied,"
    " source, raw_state) SELECT c, v, w, a, s, r, e, p, o, x FROM unnest($1::integer[],"
    " $2::integer[], $3::integer[], $4::bigint[], $5::smallint[], $6::integer[], $7::text[],"
    " $8::boolean[], $9::text[], $10::text[])"
    " WITH ORDINALITY AS t(c, v, w, a, s, r, e, p, o, x, n) ORDER BY n"
)
_TAKE_CHANGES = "UPDATE change_counter SET seq = seq + $1 RETURNING seq"
_SET_AGENT = (
    "UPDATE agent SET created_at = $4, cti_status = $5, status_at = $6, status_event_at = $7,"
    " prev_status = $8, prev_duration_ms = $9, login_at = $10, reason = $11, reason_at = $12,"
    " name = $13, name_at = $14, phone_number = $15, phone_at = $16, media_type = $17,"
    " media_at = $18, skills = $19, skills_at = $20, calls = $21, calls_at = $22"
)
_UPDATE_AGENT = _SET_AGENT + ", change_seq = $23 WHERE cc_id = $1 AND vdn = $2 AND work_no = $3"
# An agent whose record changed without a change of its state (only the time a field was
# set moved): its row, keeping the number of its last change.
_UPDATE_RECORD = _SET_AGENT + " WHERE cc_id = $1 AND vdn = $2 AND work_no = $3"
PRUNE = "DELETE FROM applied_event WHERE applied_at < $1"


async def apply_batch(
    conn: Any,
    events: Sequence[AgentEvent],
    now_ms: int,
    channel: str,
    calls: Sequence[CallEvent] = (),
) -> IngestResult:
    """Apply ``events`` and ``calls`` in one transaction on ``conn``; committed when this
    returns. The call events' ids are claimed with the agent events' (one statement, in
    key order), their calls locked after the agents."""
    ids = list(dict.fromkeys(event_key(e) for e in events))
    if calls:
        ids = list(dict.fromkeys([*ids, *(EventKey(c.cc_id, c.vdn, c.event_id) for c in calls)]))
    claim = ([k.cc_id for k in ids], [k.vdn for k in ids], [k.event_id for k in ids], now_ms)
    async with conn.transaction():
        claimed = {EventKey(*r) for r in await conn.fetch(_CLAIM, *claim)}
        applied = set(ids).difference(claimed)
        new = new_events(events, applied=applied)
        fresh_calls: list[CallEvent] = []
        again = 0
        moves: list[CallMove] = []
        if calls:
            fresh_calls, again = new_calls(calls, applied, new.event_keys)
            if fresh_calls:
                moves = (await apply_calls(conn, fresh_calls)).moves
        if not new.events and not moves:
            return IngestResult(accepted=len(fresh_calls), duplicates=new.duplicates + again)
        keys = sorted(new.keys)  # every transaction locks agents in key order
        arrays = ([k.cc_id for k in keys], [k.vdn for k in keys], [k.work_no for k in keys])
        fresh = {AgentKey(*r) for r in await conn.fetch(_PLACEHOLD, *arrays)} if keys else set()
        if moves:  # the agents of the call events too (known ones only: no placeholder)
            keys = sorted({*keys, *(m.agent for m in moves)})
            arrays = ([k.cc_id for k in keys], [k.vdn for k in keys], [k.work_no for k in keys])
        loaded: dict[AgentKey, AgentRecord | None] = {}
        for row in await conn.fetch(_LOCK, *arrays):
            agent = record(row)
            if agent.key not in fresh:  # a placeholder is an unknown agent
                loaded[agent.key] = agent
        plan = plan_batch(new, loaded)
        if moves:
            plan = with_call_moves(plan, loaded, moves)
        if plan.history:
            await conn.execute(_INSERT_HISTORY, *_history_arrays(plan.history))
        base = seq = 0
        if plan.log:
            seq = int(await conn.fetchval(_TAKE_CHANGES, len(plan.log)))
            base = seq - len(plan.log)
            await conn.execute(stream.LOG_CHANGES, *stream.log_arrays(plan.log, base, now_ms))
        last = plan.last_changes
        numbered, others = [], []
        for key, (_, changed) in plan.changes.items():
            number = last.get(key)
            if number is None:  # the state did not change: keep the row's number
                others.append(_row(changed, 0)[:22])
            else:
                numbered.append(_row(changed, base + number))
        if numbered:
            await conn.executemany(_UPDATE_AGENT, numbered)
        if others:
            await conn.executemany(_UPDATE_RECORD, others)
        if plan.log:
            payload = encode_payload(base + 1, seq, list(last))
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
    return IngestResult(
        len(new.events) + len(fresh_calls), new.duplicates + again, tuple(state_exits(plan.log))
    )


def _row(r: AgentRecord, seq: int) -> tuple[Any, ...]:
    return (
        r.cc_id, r.vdn, r.work_no, r.created_at, r.cti_status, r.status_at, r.status_event_at,
        r.prev_status, r.prev_duration_ms, r.login_at, r.reason, r.reason_at, r.name, r.name_at,
        r.phone_number, r.phone_at, r.media_type, r.media_at, list(r.skills), r.skills_at,
        list(r.calls), r.calls_at, seq,
    )  # fmt: skip


def _history_arrays(history: list[StatusChange]) -> tuple[list[Any], ...]:
    return (
        [h.cc_id for h in history],
        [h.vdn for h in history],
        [h.work_no for h in history],
        [h.at for h in history],
        [h.cti_status for h in history],
        [h.reason for h in history],
        [h.event_id for h in history],
        [h.applied for h in history],
        [h.source for h in history],
        [h.raw_state for h in history],
    )
