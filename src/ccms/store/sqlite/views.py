"""The SQLite side of the monitoring views: narrow agent-state reads, the skill-queue index.

The monitoring routes list thousands of agents at a time, mostly for their status alone,
so these reads fetch the seven columns of an :class:`AgentState` instead of building a
full record (with its JSON lists) per row. The ``agent_skill`` table (migration 0002)
indexes the skill queues each agent is signed in to; :func:`sync_skills` keeps it equal to
``agent.skills`` inside the batch transaction that changes them.

Each function takes the connection of the thread it runs on; :class:`SQLiteStore` runs
them on its reader pool (reads) or its writer thread (:func:`sync_skills`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

import orjson

from ccms.domain.agent import AgentKey, AgentState, SkillMember
from ccms.domain.batch import AgentUpdate
from ccms.store.changes import ChangeSet

_STATE_COLUMNS = (
    "work_no, cti_status, coalesce(status_at, created_at), prev_status, prev_duration_ms,"
    " login_at, reason"
)
_SELECT_STATES = (
    f"SELECT {_STATE_COLUMNS} FROM agent WHERE cc_id = ? AND vdn = ?"
    " AND work_no IN (SELECT value FROM json_each(?)) ORDER BY work_no"
)
# Work numbers of the agents signed in to any of a JSON list of skill queues.
SKILL_MEMBERS = (
    "SELECT work_no FROM agent_skill WHERE cc_id = ? AND vdn = ?"
    " AND skill_id IN (SELECT value FROM json_each(?))"
)
_SELECT_MEMBERSHIPS = (
    "SELECT s.skill_id, s.work_no, a.cti_status FROM agent_skill AS s JOIN agent AS a"
    " ON a.cc_id = s.cc_id AND a.vdn = s.vdn AND a.work_no = s.work_no"
    " WHERE s.cc_id = ? AND s.vdn = ? AND s.skill_id IN (SELECT value FROM json_each(?))"
    " ORDER BY s.skill_id, s.work_no"
)
# The agents changed after a number, and those whose flags were raised after it.
_CHANGES_SINCE = (
    "SELECT cc_id, vdn, work_no, change_seq FROM agent WHERE change_seq > ?"
    " UNION ALL SELECT cc_id, vdn, work_no, seq FROM agent_flag WHERE seq > ?"
)
# The same from the change log (agent changes and flag entries), while it holds them all.
_LOGGED_SINCE = (
    "SELECT cc_id, vdn, work_no, max(seq) FROM agent_change WHERE seq > ?"
    " GROUP BY cc_id, vdn, work_no"
)
_PRUNED = "SELECT pruned FROM change_window"
_TAKE_CHANGES = "UPDATE change_counter SET seq = seq + ? RETURNING seq"
_RETURNING = sqlite3.sqlite_version_info >= (3, 35)  # one statement instead of two
_DELETE_SKILL = (
    "DELETE FROM agent_skill WHERE cc_id = ? AND vdn = ? AND skill_id = ? AND work_no = ?"
)
_INSERT_SKILL = (
    "INSERT OR IGNORE INTO agent_skill (cc_id, vdn, skill_id, work_no) VALUES (?, ?, ?, ?)"
)


def agent_states(
    conn: sqlite3.Connection, cc_id: int, vdn: int, work_nos: Sequence[int]
) -> list[AgentState]:
    ids = orjson.dumps(list(work_nos)).decode()
    return list(map(AgentState._make, conn.execute(_SELECT_STATES, (cc_id, vdn, ids))))


def skill_memberships(
    conn: sqlite3.Connection, cc_id: int, vdn: int, skill_ids: Sequence[int]
) -> list[SkillMember]:
    ids = orjson.dumps(list(skill_ids)).decode()
    return list(map(SkillMember._make, conn.execute(_SELECT_MEMBERSHIPS, (cc_id, vdn, ids))))


def list_agent_states(
    conn: sqlite3.Connection,
    cc_id: int,
    vdn: int,
    offset: int,
    limit: int | None,
    cti_status: int | None,
) -> tuple[int, list[AgentState]]:
    where = "cc_id = ? AND vdn = ?"
    params: tuple[int, ...] = (cc_id, vdn)
    if cti_status is not None:
        where += " AND cti_status = ?"
        params += (cti_status,)
    page = (-1 if limit is None else limit, offset)
    # One read transaction: the count and the page come from the same snapshot.
    conn.execute("BEGIN")
    try:
        count: int = conn.execute(f"SELECT count(*) FROM agent WHERE {where}", params).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_STATE_COLUMNS} FROM agent WHERE {where} ORDER BY work_no LIMIT ? OFFSET ?",
            params + page,
        )
        states = list(map(AgentState._make, rows))
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return count, states


def newest_change(conn: sqlite3.Connection) -> int:
    """The newest committed change number (0: none yet)."""
    return int(conn.execute("SELECT seq FROM change_counter").fetchone()[0])


def take_changes(conn: sqlite3.Connection, count: int) -> int:
    """Take the next ``count`` change numbers, inside the batch's write transaction; the
    newest of them. SQLite lets one connection write at a time, so numbers are gap-free
    and in commit order."""
    if _RETURNING:
        return int(conn.execute(_TAKE_CHANGES, (count,)).fetchone()[0])
    conn.execute("UPDATE change_counter SET seq = seq + ?", (count,))
    return newest_change(conn)


def changes_since(conn: sqlite3.Connection, seq: int) -> ChangeSet:
    """The agents changed (or flagged) after change number ``seq``, in one read
    transaction: from the change log (a range of its numbers) while it holds every change
    after ``seq``, else from ``agent.change_seq`` (not indexed: a scan of the agents) and
    ``agent_flag``."""
    conn.execute("BEGIN")
    try:
        (pruned,) = conn.execute(_PRUNED).fetchone()
        if seq >= pruned:
            rows = conn.execute(_LOGGED_SINCE, (seq,)).fetchall()
        else:
            rows = conn.execute(_CHANGES_SINCE, (seq, seq)).fetchall()
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    newest = max((r[3] for r in rows), default=seq)
    return ChangeSet(newest, frozenset(AgentKey(r[0], r[1], r[2]) for r in rows))


def sync_skills(conn: sqlite3.Connection, changes: Iterable[AgentUpdate]) -> None:
    """Bring ``agent_skill`` in line with the skills of the agents a batch changed."""
    removed: list[tuple[int, int, int, int]] = []
    added: list[tuple[int, int, int, int]] = []
    for before, record in changes:
        old = () if before is None else before.skills
        if record.skills == old:
            continue
        cc_id, vdn, work_no = record.cc_id, record.vdn, record.work_no
        old_set, new_set = set(old), set(record.skills)
        removed.extend((cc_id, vdn, skill, work_no) for skill in old_set - new_set)
        added.extend((cc_id, vdn, skill, work_no) for skill in new_set - old_set)
    if removed:
        conn.executemany(_DELETE_SKILL, removed)
    if added:
        conn.executemany(_INSERT_SKILL, added)
