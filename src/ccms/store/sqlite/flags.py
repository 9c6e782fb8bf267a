"""The SQLite side of the flag timers: the signed-in agents, and flags raised in the log.

A flag timer (:mod:`ccms.flagtimer`) asks the store to raise the flags due for some
agents (:func:`raise_flags`), in one write transaction (``BEGIN IMMEDIATE``: every process
on the file serialises there): it reads their records and the moments their flags were
last raised (``agent_flag``, migration 0006), asks the domain which flags to raise
(:func:`~ccms.domain.flags.to_raise`: those the agent has now that were not raised with the
same moment), takes as many change numbers and writes a ``flag`` entry to the change log
for each. Two processes whose timers fire together raise each flag once: the second finds
it raised.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.changes import AgentChange
from ccms.domain.flags import Flag, FlagRaise, FlagsOf, to_raise
from ccms.store.changes import encode_flag, encode_record
from ccms.store.sqlite import views

_RAISED = (
    "SELECT work_no, flag, since FROM agent_flag WHERE cc_id = ? AND vdn = ?"
    " AND work_no IN (SELECT value FROM json_each(?))"
)
_INSERT_ENTRY = (
    "INSERT INTO agent_change (seq, logged_at, at, event_id, cc_id, vdn, work_no, prev, cur,"
    " flag) VALUES (?, ?, ?, '', ?, ?, ?, NULL, ?, ?)"
)
_UPSERT_RAISED = (
    "INSERT OR REPLACE INTO agent_flag (cc_id, vdn, work_no, flag, since, seq)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _raised(conn: sqlite3.Connection, keys: Iterable[AgentKey]) -> dict[AgentKey, dict[str, int]]:
    groups: dict[tuple[int, int], list[int]] = {}
    for key in keys:
        groups.setdefault((key.cc_id, key.vdn), []).append(key.work_no)
    found: dict[AgentKey, dict[str, int]] = {}
    for (cc_id, vdn), work_nos in groups.items():
        for work_no, name, since in conn.execute(
            _RAISED, (cc_id, vdn, orjson.dumps(work_nos).decode())
        ):
            found.setdefault(AgentKey(cc_id, vdn, work_no), {})[name] = since
    return found


def raise_flags(
    conn: sqlite3.Connection,
    keys: Sequence[AgentKey],
    flags_of: FlagsOf,
    now_ms: int,
    load: Callable[[sqlite3.Connection, Iterable[AgentKey]], dict[AgentKey, AgentRecord]],
) -> list[AgentChange]:
    """Raise the flags of ``keys`` due by ``now_ms`` and not raised yet, in one write
    transaction; the entries written (their numbers taken, in key order)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        records = load(conn, keys)
        raised = _raised(conn, records)
        due: list[tuple[AgentRecord, Flag]] = []
        for key in sorted(records):
            record = records[key]
            due.extend((record, f) for f in to_raise(record, raised.get(key, {}), flags_of, now_ms))
        entries: list[AgentChange] = []
        if due:
            seq = views.take_changes(conn, len(due))
            base = seq - len(due)
            entries = [
                AgentChange(base + n, f.since, "", None, r, FlagRaise(f))
                for n, (r, f) in enumerate(due, start=1)
            ]
            conn.executemany(_INSERT_ENTRY, [_entry_row(e, now_ms) for e in entries])
            conn.executemany(_UPSERT_RAISED, [_raised_row(e) for e in entries])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return entries


def _entry_row(entry: AgentChange, now_ms: int) -> tuple[Any, ...]:
    cur, raised = entry.cur, entry.flag
    assert raised is not None
    return (entry.seq, now_ms, entry.at, cur.cc_id, cur.vdn, cur.work_no, encode_record(cur),
            encode_flag(raised.flag))  # fmt: skip


def _raised_row(entry: AgentChange) -> tuple[Any, ...]:
    cur, raised = entry.cur, entry.flag
    assert raised is not None
    return (cur.cc_id, cur.vdn, cur.work_no, raised.flag.name, raised.flag.since, entry.seq)


_SIGNED_IN_FIRST = (
    "SELECT {columns} FROM agent WHERE cti_status != 0 ORDER BY cc_id, vdn, work_no LIMIT ?"
)
_SIGNED_IN_AFTER = (
    "SELECT {columns} FROM agent WHERE (cc_id, vdn, work_no) > (?, ?, ?) AND cti_status != 0"
    " ORDER BY cc_id, vdn, work_no LIMIT ?"
)


def signed_in_agents(
    conn: sqlite3.Connection,
    columns: str,
    record: Callable[[Sequence[Any]], AgentRecord],
    after: AgentKey | None,
    limit: int,
) -> list[AgentRecord]:
    """A page of the signed-in agents of every tenant, in key order, after ``after``."""
    if after is None:
        rows = conn.execute(_SIGNED_IN_FIRST.format(columns=columns), (limit,))
    else:
        rows = conn.execute(_SIGNED_IN_AFTER.format(columns=columns), (*after, limit))
    return [record(r) for r in rows]
