"""The SQL of service quality and of the calls per access code (``docs/calls.md``), for
both backends: one statement each, equal to the recounts of :mod:`ccms.domain.service`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.call import CallState
from ccms.domain.queues import WINDOW_MS
from ccms.domain.service import QUICK_MS, SERVICE_MS, AccessCodeCalls, ServiceQuality
from ccms.store.listing import Dialect

_QUALITY_FIGURES = 7
_ACCESS_FIGURES = 5


def quality(dialect: Dialect) -> str:
    """The service quality of skill queues in the window from a moment (5 minutes), in
    one statement of four parameters: call center, VDN, the queues (a JSON array on
    SQLite, an array on PostgreSQL) and the window's start, named on SQLite (``cc``,
    ``vdn``, ``skills``, ``start``)."""
    if dialect is Dialect.SQLITE:
        c, v, s = ":cc", ":vdn", ":start"
        among, cast = "skill_id IN (SELECT value FROM json_each(:skills))", ""
    else:
        c, v, s = "$1", "$2", "$4::bigint"
        among, cast = "skill_id = ANY($3::integer[])", "::bigint"
    e = f"{s} + {WINDOW_MS}"

    def inside(column: str) -> str:
        return f"{column} >= {s} AND {column} < {e}"

    def count(condition: str) -> str:
        return f"coalesce(sum(CASE WHEN {condition} THEN 1 ELSE 0 END), 0){cast}"

    answered = f"{inside('answered_at')} AND queued_at IS NOT NULL"
    lost = f"{inside('ended_at')} AND answered_at IS NULL"
    stop = (
        "CASE WHEN offered_at IS NOT NULL AND offered_at < ended_at THEN offered_at"
        " ELSE ended_at END"
    )

    def lost_within(ms: int) -> str:
        return f"{lost} AND (queued_at IS NULL OR {stop} - queued_at < {ms})"

    figures = ", ".join(
        [
            count(inside("queued_at")),
            count(inside("answered_at")),
            count(lost),
            count(f"{answered} AND answered_at - queued_at <= {QUICK_MS}"),
            count(lost_within(QUICK_MS)),
            count(f"{answered} AND answered_at - queued_at <= {SERVICE_MS}"),
            count(lost_within(SERVICE_MS)),
        ]
    )
    return (
        f"SELECT skill_id, {figures} FROM call WHERE cc_id = {c} AND vdn = {v} AND {among}"
        f" AND moved_at >= {s} GROUP BY skill_id"
    )


def qualities(
    rows: Sequence[Sequence[Any]], skill_ids: Sequence[int], start: int
) -> list[ServiceQuality]:
    """Each of ``skill_ids`` once, in order; zeros for a queue without calls."""
    found = {int(r[0]): tuple(int(x) for x in r[1:]) for r in rows}
    zeros = (0,) * _QUALITY_FIGURES
    return [
        ServiceQuality(skill, start, *found.get(skill, zeros)) for skill in dict.fromkeys(skill_ids)
    ]


def access_calls(dialect: Dialect) -> str:
    """The calls in progress per access code, in one statement of four parameters: call
    center, VDN, the access codes (a JSON array on SQLite, an array on PostgreSQL) and
    now (ms), named on SQLite (``cc``, ``vdn``, ``codes``, ``now``)."""
    if dialect is Dialect.SQLITE:
        c, v, n = ":cc", ":vdn", ":now"
        among, cast = "access_code IN (SELECT value FROM json_each(:codes))", ""
    else:
        c, v, n = "$1", "$2", "$4::bigint"
        among, cast = "access_code = ANY($3::text[])", "::bigint"

    def count(states: Sequence[CallState]) -> str:
        within = ", ".join(str(int(state)) for state in states)
        return f"coalesce(sum(CASE WHEN state IN ({within}) THEN 1 ELSE 0 END), 0){cast}"

    queued = int(CallState.QUEUED)
    longest = (
        f"coalesce(max(CASE WHEN state = {queued} AND state_at < {n} THEN {n} - state_at"
        f" ELSE 0 END), 0){cast}"
    )
    figures = ", ".join(
        [
            f"count(*){cast}",
            count([CallState.VDN]),
            count([CallState.RINGING, CallState.TALKING]),
            count([CallState.QUEUED]),
            longest,
        ]
    )
    return (
        f"SELECT access_code, {figures} FROM call WHERE cc_id = {c} AND vdn = {v}"
        f" AND ended_at IS NULL AND {among} GROUP BY access_code"
    )


def access_counts(
    rows: Sequence[Sequence[Any]], codes: Sequence[tuple[int, str]]
) -> list[AccessCodeCalls]:
    """Each ``(innoId, access code)`` of ``codes``, in order; zeros without calls."""
    found = {str(r[0]): tuple(int(x) for x in r[1:]) for r in rows}
    zeros = (0,) * _ACCESS_FIGURES
    return [AccessCodeCalls(inno_id, *found.get(code, zeros)) for inno_id, code in codes]
