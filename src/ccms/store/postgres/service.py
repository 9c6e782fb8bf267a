"""Service quality and the calls per access code on PostgreSQL (the SQL is
:mod:`ccms.store.service`, shared with SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.service import AccessCodeCalls, ServiceQuality
from ccms.store import service as service_sql
from ccms.store.listing import Dialect

_QUALITY = service_sql.quality(Dialect.POSTGRES)
_ACCESS_CALLS = service_sql.access_calls(Dialect.POSTGRES)


async def service_quality(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
) -> list[ServiceQuality]:
    rows = await conn.fetch(_QUALITY, cc_id, vdn, list(dict.fromkeys(skill_ids)), start)
    return service_sql.qualities(rows, skill_ids, start)


async def access_code_calls(
    conn: Any, cc_id: int, vdn: int, codes: Sequence[tuple[int, str]], now_ms: int
) -> list[AccessCodeCalls]:
    wanted = list(dict.fromkeys(code for _, code in codes))
    rows = await conn.fetch(_ACCESS_CALLS, cc_id, vdn, wanted, now_ms)
    return service_sql.access_counts(rows, codes)
