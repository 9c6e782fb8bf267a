"""The SQL of the call's track (``docs/calls.md``), for both backends: the steps of
calls (``call_step``, one row per call event applied), their reads, a call by its id in a
call center (whatever its VDN), and pruning the steps with their calls.

The legs are not stored: they follow from the steps (:func:`ccms.domain.calltrace.legs`),
so that steps arriving in any order give the same legs. The two dialects differ in
placeholders and in how a batch's steps are written (``executemany`` on SQLite; one
statement over arrays on PostgreSQL, a single round trip).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.call import CallEvent
from ccms.domain.calltrace import KINDS, CallStep
from ccms.store.calls import COLUMNS
from ccms.store.listing import Dialect

STEP_COLUMNS = (
    "cc_id, vdn, call_id, event_id, at, kind, skill_id, work_no, leave_reason, release_cause"
)
_KIND_CODE = {kind: n for n, kind in enumerate(KINDS)}
_READ = "event_id, at, kind, skill_id, work_no, leave_reason, release_cause"
_PG_TYPES = ("integer", "integer", "text", "text", "bigint", "smallint", "integer", "integer",
             "smallint", "integer")  # fmt: skip


def step_rows(events: Sequence[CallEvent]) -> list[tuple[Any, ...]]:
    """The rows of :data:`STEP_COLUMNS` of new call events."""
    code = _KIND_CODE
    return [
        (e.cc_id, e.vdn, e.call_id, e.event_id, e.at, code[e.kind], e.skill_id, e.work_no,
         e.leave_reason, e.release_cause)
        for e in events
    ]  # fmt: skip


def step_arrays(events: Sequence[CallEvent]) -> list[list[Any]]:
    """The steps of new call events, a list per column (PostgreSQL's insert)."""
    rows = step_rows(events)
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * 10


def insert(dialect: Dialect) -> str:
    """Write steps; a step already kept (same event id) is left as it is."""
    if dialect is Dialect.SQLITE:
        marks = ", ".join("?" * 10)
        return f"INSERT OR IGNORE INTO call_step ({STEP_COLUMNS}) VALUES ({marks})"
    arrays = ", ".join(f"${n}::{t}[]" for n, t in enumerate(_PG_TYPES, 1))
    return (
        f"INSERT INTO call_step ({STEP_COLUMNS}) SELECT * FROM unnest({arrays})"
        " ON CONFLICT DO NOTHING"
    )


def select_steps(dialect: Dialect) -> str:
    """The steps of one call (call center, VDN, call id), by event id."""
    m = ["?"] * 3 if dialect is Dialect.SQLITE else ["$1", "$2", "$3"]
    collate = ' COLLATE "C"' if dialect is Dialect.POSTGRES else ""
    return (
        f"SELECT {_READ} FROM call_step WHERE cc_id = {m[0]} AND vdn = {m[1]}"
        f" AND call_id = {m[2]} ORDER BY event_id{collate}"
    )


def step(row: Sequence[Any]) -> CallStep:
    event_id, at, kind, skill_id, work_no, leave_reason, release_cause = row
    return CallStep(event_id, at, KINDS[kind], skill_id, work_no, leave_reason, release_cause)


def select_by_id(dialect: Dialect) -> str:
    """The calls of a call id in a call center, in every VDN, by VDN (parameters: the
    call center, the call id; named ``cc`` and ``id`` on SQLite). No index of its own (one
    would cost every call written): the VDNs of the call center are walked on the primary
    key, one seek each (a loose index scan), and the call looked up in each."""
    cc, call_id = (":cc", ":id") if dialect is Dialect.SQLITE else ("$1", "$2")
    return (
        f"WITH RECURSIVE v(n) AS (SELECT (SELECT min(vdn) FROM call WHERE cc_id = {cc})"
        f" UNION ALL SELECT (SELECT min(vdn) FROM call WHERE cc_id = {cc} AND vdn > v.n)"
        f" FROM v WHERE v.n IS NOT NULL)"
        f" SELECT {COLUMNS} FROM v JOIN call ON cc_id = {cc} AND vdn = v.n"
        f" AND call_id = {call_id} ORDER BY vdn"
    )


def prune(dialect: Dialect) -> list[str]:
    """Two statements of one parameter, the oldest moment kept, to run before the calls'
    (:func:`ccms.store.calls.prune`): the steps of the calls those drop."""
    m = "?" if dialect is Dialect.SQLITE else "$1"
    gone = "SELECT cc_id, vdn, call_id FROM call WHERE"
    return [
        f"DELETE FROM call_step WHERE (cc_id, vdn, call_id) IN ({gone} ended_at < {m})",
        f"DELETE FROM call_step WHERE (cc_id, vdn, call_id) IN"
        f" ({gone} ended_at IS NULL AND last_at < {m})",
    ]
