"""PostgreSQL schema migrations: numbered SQL files, applied once however many nodes start.

The versions applied are rows of ``schema_migrations``. A node migrates under a session
advisory lock keyed by the schema (``pg_advisory_lock``), so when several nodes start at
once one applies the pending migrations, each in its own transaction, and the others find
nothing left to do. The lock goes with the session: a node that dies mid-migration rolls
its migration back and frees the lock.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from ccms.store.migrations import migrations

log = logging.getLogger(__name__)

MIGRATIONS = "ccms.store.postgres.migrations"
LOCK_KEY = 0x6363  # pg_advisory_lock(LOCK_KEY, hashtext(schema)): one migrator per schema


def latest_version() -> int:
    return max(m.version for m in migrations(MIGRATIONS))


async def current_schema(conn: Any) -> str | None:
    """The schema tables are created in: the first existing one of the search_path."""
    schema = await conn.fetchval("SELECT current_schema()")
    return None if schema is None else str(schema)


async def schema_version(conn: Any) -> int:
    """The newest version applied (0: none); changes nothing."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def migrate(conn: Any, schema: str) -> list[int]:
    """Apply the pending migrations on ``conn`` (an asyncpg connection of its own, closed
    by the caller afterwards); the versions applied."""
    # Waiting for another node's migration may take longer than a query: no timeout.
    await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", LOCK_KEY, schema, timeout=None)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for number, _name, sql in migrations(MIGRATIONS):
            if number in done:
                continue
            async with conn.transaction():
                await conn.execute(sql, timeout=None)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
            applied.append(number)
            log.info("PostgreSQL schema %s migrated to version %d", schema, number)
        return applied
    finally:
        with contextlib.suppress(Exception):  # a dead session holds no lock any more
            await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", LOCK_KEY, schema)
