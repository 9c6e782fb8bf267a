"""The SQL of calls (``docs/calls.md``), for both backends: the columns of ``call``, a row
and a record, the reads of a call and of a page of call records, and pruning.

The two dialects differ only in placeholders, the type of ``call_in`` (an integer on
SQLite, a boolean on PostgreSQL) and the collation of ``call_id`` (byte order on both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.call import CallRecord, CallState, RecordQuery
from ccms.domain.indicators import VdnCounts
from ccms.domain.queues import SERVICE_LEVEL_MS, BoardQueue, QueueBoard, QueueWindow, moved_at
from ccms.store.listing import Dialect

COLUMNS = (
    "cc_id, vdn, call_id, arrived_at, caller_no, callee_no, access_code, media_type,"
    " sub_media_type, call_type, call_in, attrs_at, state, state_at, last_at, skill_id,"
    " work_no, enter_reason, devices, queued_at, offered_at, answered_at, ended_at,"
    " leave_reason, release_cause"
)
WIDTH = len(COLUMNS.split(","))
# What a batch writes: the record's columns and ``moved_at`` (not part of the record).
WRITE_COLUMNS = COLUMNS + ", moved_at"


def record(row: Sequence[Any]) -> CallRecord:
    values = list(row)
    values[10] = bool(values[10])
    values[12] = CallState(values[12])
    return CallRecord(*values)


def row(r: CallRecord, dialect: Dialect) -> tuple[Any, ...]:
    """The values of :data:`WRITE_COLUMNS`."""
    call_in: Any = r.call_in if dialect is Dialect.POSTGRES else int(r.call_in)
    return (*r[:10], call_in, r.attrs_at, int(r.state), *r[13:], moved_at(r))


def _mark(dialect: Dialect, n: int) -> str:
    return "?" if dialect is Dialect.SQLITE else f"${n}"


# The PostgreSQL types of :data:`WRITE_COLUMNS`, in order.
PG_TYPES = (
    "integer", "integer", "text", "bigint", "text", "text", "text", "smallint", "smallint",
    "smallint", "boolean", "bigint", "smallint", "bigint", "bigint", "integer", "integer",
    "smallint", "integer", "bigint", "bigint", "bigint", "bigint", "smallint", "integer", "bigint",
)  # fmt: skip


def upsert(dialect: Dialect) -> str:
    """The write of calls: on SQLite of one, a parameter per column of
    :data:`WRITE_COLUMNS`; on PostgreSQL of many in one statement, an array per column
    (the values of :func:`row`, transposed)."""
    if dialect is Dialect.SQLITE:
        marks = ", ".join(_mark(dialect, n) for n in range(1, WIDTH + 2))
        return f"INSERT OR REPLACE INTO call ({WRITE_COLUMNS}) VALUES ({marks})"
    arrays = ", ".join(f"${n}::{t}[]" for n, t in enumerate(PG_TYPES, start=1))
    names = WRITE_COLUMNS.split(",")[3:]
    updates = ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in names)
    return (
        f"INSERT INTO call ({WRITE_COLUMNS}) SELECT * FROM unnest({arrays})"
        f" ON CONFLICT (cc_id, vdn, call_id) DO UPDATE SET {updates}"
    )


def select_one(dialect: Dialect) -> str:
    m = [_mark(dialect, n) for n in (1, 2, 3)]
    return f"SELECT {COLUMNS} FROM call WHERE cc_id = {m[0]} AND vdn = {m[1]} AND call_id = {m[2]}"


def records(dialect: Dialect, cc_id: int, vdn: int, q: RecordQuery) -> tuple[str, str, list[Any]]:
    """``(page, count, params)``: the page's statement (its limit and offset are the two
    last parameters) and the count's (the same parameters without those two)."""
    params: list[Any] = [cc_id, vdn, q.call_in if dialect is Dialect.POSTGRES else int(q.call_in)]
    params += [q.begin, q.end]
    where = (
        f"cc_id = {_mark(dialect, 1)} AND vdn = {_mark(dialect, 2)} AND ended_at IS NOT NULL"
        f" AND call_in = {_mark(dialect, 3)}"
        f" AND arrived_at BETWEEN {_mark(dialect, 4)} AND {_mark(dialect, 5)}"
    )
    for column, value in (("caller_no", q.caller_no), ("callee_no", q.callee_no)):
        if value:
            params.append(value)
            where += f" AND {column} = {_mark(dialect, len(params))}"
    collate = ' COLLATE "C"' if dialect is Dialect.POSTGRES else ""
    n = len(params)
    page = (
        f"SELECT {COLUMNS} FROM call WHERE {where} ORDER BY arrived_at, call_id{collate}"
        f" LIMIT {_mark(dialect, n + 1)} OFFSET {_mark(dialect, n + 2)}"
    )
    return page, f"SELECT count(*) FROM call WHERE {where}", params


def prune(dialect: Dialect) -> list[str]:
    """Two statements of one parameter, the oldest moment kept: the calls that ended
    before it, and the live calls not heard of since (their end was lost)."""
    m = _mark(dialect, 1)
    return [
        f"DELETE FROM call WHERE ended_at < {m}",
        f"DELETE FROM call WHERE ended_at IS NULL AND last_at < {m}",
    ]


def queue_windows(dialect: Dialect) -> str:
    """The figures of skill queues since a moment, in one statement of four parameters:
    call center, VDN, the queues (a JSON array on SQLite, an array on PostgreSQL) and the
    window's start, named on SQLite (``cc``, ``vdn``, ``skills``, ``start``);
    :func:`ccms.domain.queues.recount` is the definition."""
    if dialect is Dialect.SQLITE:
        # named: the start is used several times (Python 3.12 warns on ?N with a sequence)
        c, v, skills, s = ":cc", ":vdn", "(SELECT value FROM json_each(:skills))", ":start"
        among, cast = f"skill_id IN {skills}", ""
    else:
        c, v, s = "$1", "$2", "$4"
        among, cast = "skill_id = ANY($3::integer[])", "::bigint"

    def count(condition: str, value: str = "1") -> str:
        return f"coalesce(sum(CASE WHEN {condition} THEN {value} ELSE 0 END), 0){cast}"

    figures = ", ".join(
        [
            count(f"queued_at >= {s}"),
            count(f"answered_at >= {s}"),
            count(f"ended_at >= {s} AND answered_at IS NULL"),
            count(f"ended_at >= {s}"),
            count(
                f"answered_at >= {s} AND queued_at IS NOT NULL"
                f" AND answered_at - queued_at <= {SERVICE_LEVEL_MS}"
            ),
            count(f"queued_at >= {s} AND queued_at > arrived_at", "queued_at - arrived_at"),
        ]
    )
    return (
        f"SELECT skill_id, {figures} FROM call WHERE cc_id = {c} AND vdn = {v} AND {among}"
        f" AND moved_at >= {s} GROUP BY skill_id"
    )


def windows(
    rows: Sequence[Sequence[Any]], skill_ids: Sequence[int], start: int
) -> list[QueueWindow]:
    """The figures of each of ``skill_ids`` (in order, each once; zeros without calls)."""
    found = {int(r[0]): tuple(int(x) for x in r[1:]) for r in rows}
    return [
        QueueWindow(skill, start, *found.get(skill, (0, 0, 0, 0, 0, 0)))
        for skill in dict.fromkeys(skill_ids)
    ]


def board(dialect: Dialect) -> tuple[str, str, str]:
    """The reads of a VDN's queue board (``Store.queue_board``) but its windows, each of two
    parameters (call center, VDN): whether it has a call, the skill queues its agents are
    signed in to (``(skill_id,)`` rows), and its waiting calls per queue
    (``(skill_id, count, the earliest queueing)`` rows)."""
    c, v = ("?", "?") if dialect is Dialect.SQLITE else ("$1", "$2")
    has_calls = f"SELECT EXISTS (SELECT 1 FROM call WHERE cc_id = {c} AND vdn = {v})"
    if dialect is Dialect.SQLITE:  # the skill-queue index of the agents
        skills = f"SELECT DISTINCT skill_id FROM agent_skill WHERE cc_id = {c} AND vdn = {v}"
    else:  # the agents' arrays
        skills = f"SELECT DISTINCT unnest(skills) FROM agent WHERE cc_id = {c} AND vdn = {v}"
    waiting = (
        f"SELECT skill_id, count(*), min(state_at) FROM call WHERE cc_id = {c} AND vdn = {v}"
        f" AND ended_at IS NULL AND state = {int(CallState.QUEUED)} AND skill_id IS NOT NULL"
        " GROUP BY skill_id"
    )
    return has_calls, skills, waiting


def board_of(
    has_calls: Any,
    windows_of: Sequence[QueueWindow],
    waiting_rows: Sequence[Sequence[Any]],
) -> QueueBoard:
    """The board from its reads (``windows_of``: the windows of every queue, by skill id)."""
    waiting = {int(r[0]): (int(r[1]), int(r[2])) for r in waiting_rows}
    queues = tuple(
        BoardQueue(w, *waiting[w.skill_id]) if w.skill_id in waiting else BoardQueue(w)
        for w in windows_of
    )
    return QueueBoard(bool(has_calls), queues)


def board_skills(
    skill_rows: Sequence[Sequence[Any]], waiting_rows: Sequence[Sequence[Any]]
) -> list[int]:
    """The queues of a board: its agents' and its waiting calls', by id."""
    return sorted({int(r[0]) for r in skill_rows} | {int(r[0]) for r in waiting_rows})


def vdn_counts(dialect: Dialect) -> tuple[str, str]:
    """The agents per CTI status and the live calls per state of VDNs (two statements of
    two parameters: the call center, and the VDNs as a JSON array on SQLite or an array on
    PostgreSQL); each row ``(vdn, key, count)``."""
    among = (
        "vdn IN (SELECT value FROM json_each(?))"
        if dialect is Dialect.SQLITE
        else "vdn = ANY($2::integer[])"
    )
    c = "?" if dialect is Dialect.SQLITE else "$1"  # each once, in this order
    agents = (
        f"SELECT vdn, cti_status, count(*) FROM agent WHERE cc_id = {c} AND {among}"
        " GROUP BY vdn, cti_status"
    )
    live = (
        f"SELECT vdn, state, count(*) FROM call WHERE cc_id = {c} AND {among}"
        " AND ended_at IS NULL GROUP BY vdn, state"
    )
    return agents, live


def counts_of(
    vdns: Sequence[int], agent_rows: Sequence[Sequence[Any]], call_rows: Sequence[Sequence[Any]]
) -> dict[int, VdnCounts]:
    found: dict[int, VdnCounts] = {vdn: VdnCounts({}, {}) for vdn in vdns}
    for vdn, status, n in agent_rows:
        found[int(vdn)].agents[int(status)] = int(n)  # type: ignore[index]
    for vdn, state, n in call_rows:
        found[int(vdn)].calls[int(state)] = int(n)  # type: ignore[index]
    return found
