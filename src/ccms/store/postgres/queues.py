"""Skill queues now on PostgreSQL (the SQL is :mod:`ccms.store.queues`, shared with
SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.call import CallRecord
from ccms.domain.queue_status import QueueNow
from ccms.store import calls as call_sql
from ccms.store import queues as queue_sql
from ccms.store.listing import Dialect

_PG = Dialect.POSTGRES
_QUEUES_NOW = {window: queue_sql.queues_now(_PG, window) for window in (False, True)}
_QUEUED_CALLS = queue_sql.queued_calls(_PG)


async def queues_now(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int | None
) -> list[QueueNow]:
    params: list[Any] = [cc_id, vdn, list(dict.fromkeys(skill_ids))]
    if start is not None:
        params.append(start)
    rows = await conn.fetch(_QUEUES_NOW[start is not None], *params)
    return queue_sql.figures(rows, skill_ids)


async def queued_calls(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int]
) -> list[CallRecord]:
    rows = await conn.fetch(_QUEUED_CALLS, cc_id, vdn, list(dict.fromkeys(skill_ids)))
    return [call_sql.record(r) for r in rows]
