"""The SQL of skill queues now (``docs/calls.md``), for both backends: the figures of
queues in one statement (:func:`ccms.domain.queue_status.recount` is the definition) and
the calls queued in them.

A queue's calls now are its live calls (the ``call_live`` index); its calls of the current
5 minutes are those and the ended calls that moved in the window (the ``call_queue``
index). The two halves are disjoint (live, ended), so one grouped aggregate over their
union counts each call once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.call import CallState
from ccms.domain.queue_status import QueueNow
from ccms.domain.queues import SERVICE_LEVEL_MS
from ccms.store import calls as call_sql
from ccms.store.listing import Dialect

_QUEUED = int(CallState.QUEUED)
_HANDLING = f"({int(CallState.RINGING)}, {int(CallState.TALKING)})"
_PAD = 20  # digits of a moment in the "oldest" key: (moment, call id) as one string


def _parts(dialect: Dialect) -> dict[str, str]:
    if dialect is Dialect.SQLITE:
        return {
            "cc": ":cc", "vdn": ":vdn", "start": ":start", "cast": "",
            "among": "skill_id IN (SELECT value FROM json_each(:skills))",
            "live_among": "skill_id IN (SELECT value FROM json_each(:skills))",
            # without statistics SQLite would read the VDN's every call by its key
            "live_index": " INDEXED BY call_live", "moved_index": " INDEXED BY call_queue",
            "key": f"printf('%0{_PAD}d', state_at) || call_id",
            "least": "min", "greatest": "max", "collate": "",
        }  # fmt: skip
    return {
        "cc": "$1", "vdn": "$2", "start": "$4", "cast": "::bigint",
        "among": "skill_id = ANY($3::integer[])", "live_among": "skill_id = ANY($3::integer[])",
        "live_index": "", "moved_index": "",
        "key": f"lpad(state_at::text, {_PAD}, '0') || call_id",
        "least": "least", "greatest": "greatest", "collate": ' COLLATE "C"',
    }  # fmt: skip


def queues_now(dialect: Dialect, window: bool) -> str:
    """The figures of skill queues: one statement of the call center, the VDN, the queues
    (a JSON array on SQLite, an array on PostgreSQL) and, with ``window``, the window's
    start; named on SQLite (``cc``, ``vdn``, ``skills``, ``start``). Each row: the skill
    id, then the fields of :class:`QueueNow` after it, the oldest call as its key."""
    p = _parts(dialect)
    s, cast = p["start"], p["cast"]
    columns = "skill_id, state, state_at, call_id, queued_at, offered_at, answered_at, ended_at"
    live = (
        f"SELECT {columns} FROM call{p['live_index']} WHERE cc_id = {p['cc']}"
        f" AND vdn = {p['vdn']} AND ended_at IS NULL AND {p['live_among']}"
    )
    if window:
        live += (
            f" UNION ALL SELECT {columns} FROM call{p['moved_index']} WHERE cc_id = {p['cc']}"
            f" AND vdn = {p['vdn']} AND {p['among']} AND moved_at >= {s}"
            " AND ended_at IS NOT NULL"
        )

    def count(condition: str, value: str = "1", of_window: bool = False) -> str:
        if of_window and not window:
            return "0"  # a figure of the window, not asked
        return f"coalesce(sum(CASE WHEN {condition} THEN {value} ELSE 0 END), 0){cast}"

    # the wait of an answered call: from its first queueing to its first offer, answer or
    # end (an end sent with an earlier moment than the answer still ends the wait)
    stop = (
        f"{p['least']}(coalesce(offered_at, answered_at), answered_at,"
        " coalesce(ended_at, answered_at))"
    )
    wait = f"{p['greatest']}(0, {stop} - queued_at)"
    waited = f"answered_at >= {s} AND queued_at IS NOT NULL"
    talked = f"ended_at >= {s} AND answered_at IS NOT NULL"
    figures = [
        count(f"state = {_QUEUED}"),
        f"min(CASE WHEN state = {_QUEUED} THEN state_at END)",
        f"min((CASE WHEN state = {_QUEUED} THEN {p['key']} END){p['collate']})",
        count(f"state IN {_HANDLING}"),
        count(f"queued_at >= {s}", of_window=True),
        count(f"answered_at >= {s}", of_window=True),
        count(f"{waited} AND answered_at - queued_at <= {SERVICE_LEVEL_MS}", of_window=True),
        count(f"answered_at >= {s} OR state IN {_HANDLING}", of_window=True),
        count(waited, wait, of_window=True),
        f"coalesce(max(CASE WHEN {waited} THEN {wait} END), 0){cast}" if window else "0",
        count(talked, of_window=True),
        count(talked, f"{p['greatest']}(0, ended_at - answered_at)", of_window=True),
    ]
    return f"SELECT skill_id, {', '.join(figures)} FROM ({live}) AS c GROUP BY skill_id"


def figures(rows: Sequence[Sequence[Any]], skill_ids: Sequence[int]) -> list[QueueNow]:
    """Each of ``skill_ids`` (in order, each once; zeros without calls)."""
    found: dict[int, QueueNow] = {}
    for r in rows:
        skill, queued, oldest_at, key, *rest = r
        oldest = None if key is None else str(key)[_PAD:]
        found[int(skill)] = QueueNow(
            int(skill), int(queued), None if oldest_at is None else int(oldest_at), oldest,
            *(int(x) for x in rest),
        )  # fmt: skip
    return [found.get(skill, QueueNow(skill)) for skill in dict.fromkeys(skill_ids)]


def queued_calls(dialect: Dialect) -> str:
    """The calls queued now in skill queues, by queue, longest waiting first: a statement
    of the call center, the VDN and the queues (a JSON array on SQLite), rows of
    :data:`ccms.store.calls.COLUMNS`."""
    p = _parts(dialect)
    cc, vdn = ("?", "?") if dialect is Dialect.SQLITE else ("$1", "$2")
    among = (
        "skill_id IN (SELECT value FROM json_each(?))"
        if dialect is Dialect.SQLITE
        else "skill_id = ANY($3::integer[])"
    )
    return (
        f"SELECT {call_sql.COLUMNS} FROM call{p['live_index']} WHERE cc_id = {cc} AND vdn = {vdn}"
        f" AND ended_at IS NULL AND state = {_QUEUED} AND {among}"
        f" ORDER BY skill_id, state_at, call_id{p['collate']}"
    )
