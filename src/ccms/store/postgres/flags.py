"""The PostgreSQL side of the flag timers: the signed-in agents, and flags raised in the log.

The same design as SQLite's (:mod:`ccms.store.sqlite.flags`), in one transaction that
takes its locks in a batch's order (agents, then the change counter), so that it neither
deadlocks with batches nor with the timers of other nodes: the agents' rows ``FOR UPDATE``
in key order, then the moments their flags were last raised (``agent_flag``, read after
the lock: a node that waited sees what the first one wrote), the domain's choice
(:func:`~ccms.domain.flags.to_raise`), a block of change numbers, the entries, the raised
moments, and a ``NOTIFY`` as a batch's. Two nodes whose timers fire together raise each
flag once: the second waits for the first's row locks and finds the flags raised.

:func:`clear_flags` takes back the flags the agents no longer have after a reload of the
thresholds in the same transaction and order (SQLite's :func:`~ccms.store.sqlite.flags.\
clear_flags`): one ``raised`` false entry each, the ``agent_flag`` row kept with the moment
:data:`~ccms.domain.flags.CLEARED` and the entry's number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.changes import AgentChange
from ccms.domain.flags import CLEARED, Flag, FlagRaise, FlagsOf, to_clear, to_raise
from ccms.store.changes import encode_flag, encode_record, flag_of
from ccms.store.postgres.notify import encode_payload
from ccms.store.postgres.views import AGENT_COLUMNS, record

_KEYS = "unnest($1::integer[], $2::integer[], $3::integer[]) AS k(c, v, w)"
_LOCK = (
    f"SELECT {AGENT_COLUMNS} FROM agent WHERE (cc_id, vdn, work_no) IN"
    f" (SELECT c, v, w FROM {_KEYS}) ORDER BY cc_id, vdn, work_no FOR UPDATE"
)
_RAISED = (
    "SELECT cc_id, vdn, work_no, flag, since FROM agent_flag WHERE (cc_id, vdn, work_no) IN"
    f" (SELECT c, v, w FROM {_KEYS})"
)
# The flags raised, with the entry that raised them (its level), while the log holds it.
_RAISED_WITH = (
    "SELECT f.cc_id, f.vdn, f.work_no, f.flag, f.since, c.flag FROM agent_flag AS f"
    " LEFT JOIN agent_change AS c ON c.seq = f.seq WHERE (f.cc_id, f.vdn, f.work_no) IN"
    f" (SELECT c, v, w FROM {_KEYS})"
)
_TAKE_CHANGES = "UPDATE change_counter SET seq = seq + $1 RETURNING seq"
_LOG = (
    "INSERT INTO agent_change (seq, logged_at, at, event_id, cc_id, vdn, work_no, prev, cur,"
    " flag) SELECT s, $2, a, '', c, v, w, NULL, q, f FROM unnest($1::bigint[], $3::bigint[],"
    " $4::integer[], $5::integer[], $6::integer[], $7::text[], $8::text[])"
    " AS t(s, a, c, v, w, q, f)"
)
_UPSERT_RAISED = (
    "INSERT INTO agent_flag (cc_id, vdn, work_no, flag, since, seq) SELECT * FROM"
    " unnest($1::integer[], $2::integer[], $3::integer[], $4::text[], $5::bigint[],"
    " $6::bigint[]) ON CONFLICT (cc_id, vdn, work_no, flag) DO UPDATE"
    " SET since = excluded.since, seq = excluded.seq"
)
_SIGNED_IN_FIRST = (
    f"SELECT {AGENT_COLUMNS} FROM agent WHERE cti_status <> 0 ORDER BY cc_id, vdn, work_no LIMIT $1"
)
_SIGNED_IN_AFTER = (
    f"SELECT {AGENT_COLUMNS} FROM agent WHERE (cc_id, vdn, work_no) > ($2, $3, $4)"
    " AND cti_status <> 0 ORDER BY cc_id, vdn, work_no LIMIT $1"
)


async def raise_flags(
    conn: Any, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int, channel: str
) -> list[AgentChange]:
    """Raise the flags of ``keys`` due by ``now_ms`` and not raised yet, in one
    transaction on ``conn``; the entries written (committed when this returns)."""
    keys = sorted(set(keys))
    arrays = ([k.cc_id for k in keys], [k.vdn for k in keys], [k.work_no for k in keys])
    async with conn.transaction():
        records = [record(row) for row in await conn.fetch(_LOCK, *arrays)]
        raised: dict[AgentKey, dict[str, int]] = {}
        for c, v, w, name, since in await conn.fetch(_RAISED, *arrays):
            raised.setdefault(AgentKey(c, v, w), {})[name] = since
        due: list[tuple[AgentRecord, Flag]] = []
        for r in records:
            due.extend((r, f) for f in to_raise(r, raised.get(r.key, {}), flags_of, now_ms))
        if not due:
            return []
        seq = int(await conn.fetchval(_TAKE_CHANGES, len(due)))
        base = seq - len(due)
        entries = [
            AgentChange(base + n, f.since, "", None, r, FlagRaise(f))
            for n, (r, f) in enumerate(due, start=1)
        ]
        await _write(conn, entries, now_ms, channel)
    return entries


async def clear_flags(
    conn: Any, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int, channel: str
) -> list[AgentChange]:
    """Take back the flags raised for ``keys`` that they no longer have at ``now_ms``, in
    one transaction on ``conn``; the entries written (``raised`` false, at ``now_ms``, in
    key order; committed when this returns)."""
    keys = sorted(set(keys))
    arrays = ([k.cc_id for k in keys], [k.vdn for k in keys], [k.work_no for k in keys])
    async with conn.transaction():
        records = [record(row) for row in await conn.fetch(_LOCK, *arrays)]
        raised: dict[AgentKey, dict[str, Flag]] = {}
        for c, v, w, name, since, entry in await conn.fetch(_RAISED_WITH, *arrays):
            raised.setdefault(AgentKey(c, v, w), {})[name] = flag_of(name, since, entry)
        ended: list[tuple[AgentRecord, Flag]] = []
        for r in records:
            held = raised.get(r.key, {})
            since = {name: flag.since for name, flag in held.items()}
            ended.extend((r, held[n]) for n in to_clear(r, since, flags_of, now_ms))
        if not ended:
            return []
        seq = int(await conn.fetchval(_TAKE_CHANGES, len(ended)))
        base = seq - len(ended)
        entries = [
            AgentChange(base + n, now_ms, "", None, r, FlagRaise(f, raised=False))
            for n, (r, f) in enumerate(ended, start=1)
        ]
        await _write(conn, entries, now_ms, channel)
    return entries


async def _write(conn: Any, entries: list[AgentChange], now_ms: int, channel: str) -> None:
    """The entries of a raise or a clear, the moments in ``agent_flag`` and the NOTIFY."""
    flags = [e.flag for e in entries if e.flag is not None]
    await conn.execute(
        _LOG,
        [e.seq for e in entries],
        now_ms,
        [e.at for e in entries],
        [e.cur.cc_id for e in entries],
        [e.cur.vdn for e in entries],
        [e.cur.work_no for e in entries],
        [encode_record(e.cur) for e in entries],
        [encode_flag(f.flag, f.raised) for f in flags],
    )
    await conn.execute(
        _UPSERT_RAISED,
        [e.cur.cc_id for e in entries],
        [e.cur.vdn for e in entries],
        [e.cur.work_no for e in entries],
        [f.flag.name for f in flags],
        [f.flag.since if f.raised else CLEARED for f in flags],
        [e.seq for e in entries],
    )
    agents = list(dict.fromkeys(e.key for e in entries))
    await conn.execute(
        "SELECT pg_notify($1, $2)",
        channel,
        encode_payload(entries[0].seq, entries[-1].seq, agents),
    )


async def signed_in_agents(conn: Any, after: AgentKey | None, limit: int) -> list[AgentRecord]:
    if after is None:
        rows = await conn.fetch(_SIGNED_IN_FIRST, limit)
    else:
        rows = await conn.fetch(_SIGNED_IN_AFTER, limit, *after)
    return [record(r) for r in rows]
