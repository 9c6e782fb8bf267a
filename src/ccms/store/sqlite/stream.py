"""The SQLite side of the live stream: the change log, snapshots, view tokens.

The change log (``agent_change``, migration 0004) has one row per applied change, keyed by
its number (the table's rowid, so entries are appended in order). The batch that makes the
changes writes them in its own transaction (:func:`log_changes`, after
:func:`~ccms.store.sqlite.views.take_changes` took their block of numbers); :func:`prune`
drops what fell out of the replay window and records in ``change_window`` the newest number
dropped, so that a reader knows whether the log still holds every change after its cursor.

Reads run in one read transaction each: a page of changes and the newest number, or a
VDN's agents and the newest number, come from the same snapshot of the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from ccms.domain.agent import AgentRecord
from ccms.domain.changes import AgentChange, ChangePage, Snapshot, ViewToken
from ccms.store.changes import decode_flag, decode_record, encode_record

_INSERT_CHANGE = (
    "INSERT INTO agent_change (seq, logged_at, at, event_id, cc_id, vdn, work_no, prev, cur)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CHANGE_COLUMNS = "seq, at, event_id, prev, cur, flag"
_READ_ALL = f"SELECT {_CHANGE_COLUMNS} FROM agent_change WHERE seq > ? ORDER BY seq LIMIT ?"
_READ_CC = (
    f"SELECT {_CHANGE_COLUMNS} FROM agent_change WHERE cc_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_READ_VDN = (
    f"SELECT {_CHANGE_COLUMNS} FROM agent_change WHERE cc_id = ? AND vdn = ? AND seq > ?"
    " ORDER BY seq LIMIT ?"
)
_READ_VDN_ANY_CC = (
    f"SELECT {_CHANGE_COLUMNS} FROM agent_change WHERE vdn = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_POSITION = "SELECT c.seq, w.pruned FROM change_counter AS c, change_window AS w"
# The first entry still inside the time window: the entries before it are those to drop
# (appended in number order with the time of their commit), so the scan costs what the
# deletion does.
_FIRST_RECENT = "SELECT seq FROM agent_change WHERE logged_at >= ? ORDER BY seq LIMIT 1"
_PRUNE = "DELETE FROM agent_change WHERE seq < ?"
_MARK_PRUNED = "UPDATE change_window SET pruned = max(pruned, ?)"
_PUT_TOKEN = (
    "INSERT OR REPLACE INTO view_token (token_hash, ak, cc_id, vdn, expires_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
GET_TOKEN = (
    "SELECT token_hash, ak, cc_id, vdn, expires_at FROM view_token"
    " WHERE token_hash = ? AND expires_at > ?"
)
_PRUNE_TOKENS = "DELETE FROM view_token WHERE expires_at <= ?"


def log_changes(
    conn: sqlite3.Connection, log: Sequence[AgentChange], base: int, now_ms: int
) -> None:
    """Write a batch's changes, numbered ``base + change.seq``, in its transaction."""
    conn.executemany(
        _INSERT_CHANGE,
        [
            (base + c.seq, now_ms, c.at, c.event_id, c.cur.cc_id, c.cur.vdn, c.cur.work_no,
             None if c.prev is None else encode_record(c.prev), encode_record(c.cur))
            for c in log
        ],
    )  # fmt: skip


def _change(row: Sequence[Any]) -> AgentChange:
    prev = None if row[3] is None else decode_record(row[3])
    return AgentChange(row[0], row[1], row[2], prev, decode_record(row[4]), decode_flag(row[5]))


def read_changes(
    conn: sqlite3.Connection, since: int, limit: int, cc_id: int | None, vdn: int | None
) -> ChangePage:
    """The changes after ``since`` (of the tenant when given), in one read transaction."""
    params: tuple[int, ...]
    if cc_id is not None and vdn is not None:
        sql, params = _READ_VDN, (cc_id, vdn, since, limit)
    elif cc_id is not None:
        sql, params = _READ_CC, (cc_id, since, limit)
    elif vdn is not None:
        sql, params = _READ_VDN_ANY_CC, (vdn, since, limit)
    else:
        sql, params = _READ_ALL, (since, limit)
    conn.execute("BEGIN")
    try:
        newest, pruned = conn.execute(_POSITION).fetchone()
        expired = since < pruned or since > newest
        rows = [] if expired or limit <= 0 else conn.execute(sql, params).fetchall()
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return ChangePage([_change(r) for r in rows], int(newest), expired)


def snapshot(
    conn: sqlite3.Connection,
    select_vdn: str,
    record: Callable[[Sequence[Any]], AgentRecord],
    cc_id: int,
    vdn: int,
) -> Snapshot:
    """A VDN's agents (``select_vdn``: their rows by work number) and the newest change
    number, from one read transaction."""
    conn.execute("BEGIN")
    try:
        seq = int(conn.execute("SELECT seq FROM change_counter").fetchone()[0])
        agents = [record(r) for r in conn.execute(select_vdn, (cc_id, vdn))]
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return Snapshot(seq, agents)


def prune(conn: sqlite3.Connection, now_ms: int, window_ms: int, window_changes: int) -> None:
    """Drop the changes older than ``window_ms`` or beyond the newest ``window_changes``,
    inside a write transaction."""
    newest, pruned = conn.execute(_POSITION).fetchone()
    recent = conn.execute(_FIRST_RECENT, (now_ms - window_ms,)).fetchone()
    keep = max(newest + 1 if recent is None else int(recent[0]), newest - window_changes + 1)
    if keep - 1 > pruned:
        conn.execute(_PRUNE, (keep,))
        conn.execute(_MARK_PRUNED, (keep - 1,))


def put_token(conn: sqlite3.Connection, token: ViewToken, now_ms: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_PUT_TOKEN, tuple(token))
        conn.execute(_PRUNE_TOKENS, (now_ms,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def prune_tokens(conn: sqlite3.Connection, now_ms: int) -> None:
    conn.execute(_PRUNE_TOKENS, (now_ms,))


def token(row: Sequence[Any] | None) -> ViewToken | None:
    return None if row is None else ViewToken(*row)
