"""The SQLite side of the flag timers: the signed-in agents, and flags raised in the log.

A flag timer (:mod:`ccms.flagtimer`) asks the store to raise the flags due for some
agents (:func:`raise_flags`), in one write transaction (``BEGIN IMMEDIATE``: every process
on the file serialises there): it reads their records and the moments their flags were
last raised (``agent_flag``, migration 0006), asks the domain which flags to raise
(:func:`~ccms.domain.flags.to_raise`: those the agent has now that were not raised with the
same moment), takes as many change numbers and writes a ``flag`` entry to the change log
for each. Two processes whose timers fire together raise each flag once: the second finds
it raised.

After a reload of the thresholds, :func:`clear_flags` takes back, the same way, the flags
raised that the agents no longer have (:func:`~ccms.domain.flags.to_clear`): a ``flag``
entry with ``raised`` false each, and the ``agent_flag`` row kept with the moment
:data:`~ccms.domain.flags.CLEARED` and the entry's number (the change feed's catch-up
finds the agent by that number; a flag given again later is raised again).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.changes import AgentChange
from ccms.domain.flags import (
    CLEARED,
    Flag,
    FlagRaise,
    FlagsOf,
    to_clear,
    to_raise,
)
from ccms.store.changes import encode_flag, encode_record, flag_of
from ccms.store.sqlite import views

_RAISED = (
    "SELECT work_no, flag, since FROM agent_flag WHERE cc_id = ? AND vdn = ?"
    " AND work_no IN (SELECT value FROM json_each(?))"
)
# The flags raised, with the entry that raised them (its level), while the log holds it.
_RAISED_WITH = (
    "SELECT f.work_no, f.flag, f.since, c.flag FROM agent_flag AS f"
    " LEFT JOIN agent_change AS c ON c.seq = f.seq WHERE f.cc_id = ? AND f.vdn = ?"
    " AND f.work_no IN (SELECT value FROM json_each(?))"
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
        entries = _log(conn, due, now_ms, raised=True)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return entries


def clear_flags(
    conn: sqlite3.Connection,
    keys: Sequence[AgentKey],
    flags_of: FlagsOf,
    now_ms: int,
    load: Callable[[sqlite3.Connection, Iterable[AgentKey]], dict[AgentKey, AgentRecord]],
) -> list[AgentChange]:
    """Take back the flags raised for ``keys`` that they no longer have at ``now_ms``, in
    one write transaction; the entries written (``raised`` false, at ``now_ms``, in key
    order)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        records = load(conn, keys)
        raised = _raised_with(conn, records)
        ended: list[tuple[AgentRecord, Flag]] = []
        for key in sorted(records):
            record, held = records[key], raised.get(key, {})
            since = {name: flag.since for name, flag in held.items()}
            ended.extend((record, held[n]) for n in to_clear(record, since, flags_of, now_ms))
        entries = _log(conn, ended, now_ms, raised=False)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return entries


def _log(
    conn: sqlite3.Connection, flags: list[tuple[AgentRecord, Flag]], now_ms: int, raised: bool
) -> list[AgentChange]:
    """Number and write the entries of ``flags`` raised (at their moment) or taken back (at
    ``now_ms``), and what ``agent_flag`` keeps of them; the entries."""
    if not flags:
        return []
    base = views.take_changes(conn, len(flags)) - len(flags)
    entries = [
        AgentChange(base + n, f.since if raised else now_ms, "", None, r,
                    FlagRaise(f, raised=raised))
        for n, (r, f) in enumerate(flags, start=1)
    ]  # fmt: skip
    conn.executemany(_INSERT_ENTRY, [_entry_row(e, now_ms) for e in entries])
    conn.executemany(_UPSERT_RAISED, [_raised_row(e) for e in entries])
    return entries


def _raised_with(
    conn: sqlite3.Connection, keys: Iterable[AgentKey]
) -> dict[AgentKey, dict[str, Flag]]:
    """The flags last raised (or taken back: ``since`` CLEARED) of ``keys``, each with the
    level of the entry that raised it (the flag's default once the log dropped it)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for key in keys:
        groups.setdefault((key.cc_id, key.vdn), []).append(key.work_no)
    found: dict[AgentKey, dict[str, Flag]] = {}
    for (cc_id, vdn), work_nos in groups.items():
        rows = conn.execute(_RAISED_WITH, (cc_id, vdn, orjson.dumps(work_nos).decode()))
        for work_no, name, since, entry in rows:
            found.setdefault(AgentKey(cc_id, vdn, work_no), {})[name] = flag_of(name, since, entry)
    return found


def _entry_row(entry: AgentChange, now_ms: int) -> tuple[Any, ...]:
    cur, raised = entry.cur, entry.flag
    assert raised is not None
    return (entry.seq, now_ms, entry.at, cur.cc_id, cur.vdn, cur.work_no, encode_record(cur),
            encode_flag(raised.flag, raised.raised))  # fmt: skip


def _raised_row(entry: AgentChange) -> tuple[Any, ...]:
    cur, raised = entry.cur, entry.flag
    assert raised is not None
    since = raised.flag.since if raised.raised else CLEARED
    return (cur.cc_id, cur.vdn, cur.work_no, raised.flag.name, since, entry.seq)


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
