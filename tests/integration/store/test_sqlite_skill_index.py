"""SQLite only: migration 0002 builds the skill-queue index of the agents already stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ccms.domain.agent import AgentEvent
from ccms.store.migrations import migrations
from ccms.store.sqlite import SQLiteStore
from ccms.store.sqlite.store import _statements

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def version_1_file(path: Path) -> None:
    """A store file as version 1 left it: agents with skills, no skill index."""
    conn = sqlite3.connect(path, isolation_level=None)
    first = migrations("ccms.store.sqlite.migrations")[0].sql
    for statement in _statements(first):
        conn.execute(statement)
    rows = [
        (1, 1, 101, 0, 1, "[1,2]", "[]"),
        (1, 1, 102, 0, 1, "[2]", "[]"),
        (1, 1, 103, 0, 0, "[]", "[]"),
        (1, 2, 101, 0, 1, "[1]", "[]"),
    ]
    conn.executemany(
        "INSERT INTO agent (cc_id, vdn, work_no, created_at, cti_status, media_type, skills,"
        " calls) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        rows,
    )
    conn.execute("PRAGMA user_version = 1")
    conn.close()


async def test_migration_indexes_existing_skills(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    version_1_file(path)
    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert [r.work_no for r in await store.agents_in_skills(1, 1, [1])] == [101]
        assert [r.work_no for r in await store.agents_in_skills(1, 1, [2])] == [101, 102]
        assert [r.work_no for r in await store.agents_in_skills(1, 2, [1, 2])] == [101]
        # and the index follows changes from then on
        await store.apply_events([AgentEvent("e", 1, 1, 101, 10, None, skills=(2,))])
        assert await store.agents_in_skills(1, 1, [1]) == []
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        conn.close()
