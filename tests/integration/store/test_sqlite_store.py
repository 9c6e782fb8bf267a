"""SQLite only: the store's files, as ``ccms serve`` and ``ccms db`` find them (a store is
never created where the operator did not mean one), and its WAL file deleted under it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from ccms.domain.agent import AgentEvent
from ccms.errors import StoreUnavailableError
from ccms.store.migrations import migrations
from ccms.store.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

MIGRATIONS = "ccms.store.sqlite.migrations"


def test_status_and_migrate_without_opening(tmp_path: Path) -> None:
    """``ccms db`` on SQLite: the status of a missing file says so and never creates it;
    migrate creates it, once."""
    path = tmp_path / "new.db"
    store = SQLiteStore(str(path))
    with pytest.raises(StoreUnavailableError) as caught:
        asyncio.run(store.schema_status())
    assert caught.value.message == (
        f"no store at sqlite:///{path}: {path} does not exist"
        " (ccms serve or ccms db migrate creates it)"
    )
    assert not path.exists()
    versions = [m.version for m in migrations(MIGRATIONS)]
    assert asyncio.run(store.migrate()) == versions
    assert asyncio.run(store.migrate()) == []
    after = asyncio.run(store.schema_status())
    assert (after.backend, after.current, after.pending) == ("sqlite", versions[-1], ())
    assert store.location == f"sqlite:///{path}"


def test_an_empty_file_is_a_store_at_version_0(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    status = asyncio.run(SQLiteStore(str(path)).schema_status())
    assert (status.current, status.pending) == (0, tuple(m.name for m in migrations(MIGRATIONS)))
    assert path.stat().st_size == 0


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_a_directory_that_does_not_exist_is_refused(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "nowhere"
    if kind == "a file":
        folder.write_text("not a directory")
    path = folder / "ccms.db"
    store = SQLiteStore(str(path))
    reason = "does not exist" if kind == "missing" else "is not a directory"
    for call in (store.open, store.migrate, store.schema_status):
        with pytest.raises(StoreUnavailableError) as caught:
            asyncio.run(call())
        assert caught.value.message == (
            f"the directory {folder} of the store sqlite:///{path} {reason}"
        )
    assert folder.exists() == (kind == "a file")
    assert not path.exists()


def on_disk(path: Path) -> dict[int, int]:
    """The agents (work number: status) that a crash right now would leave: what a copy of
    the main file and of the WAL file, as they are on disk, holds."""
    image = path.parent / "crash-image"
    shutil.rmtree(image, ignore_errors=True)
    image.mkdir()
    shutil.copy(path, image / path.name)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        shutil.copy(wal, image / wal.name)
    conn = sqlite3.connect(image / path.name)
    try:
        return dict(conn.execute("SELECT work_no, cti_status FROM agent").fetchall())
    except sqlite3.OperationalError:  # not even the tables: they were in the WAL
        return {}
    finally:
        conn.close()


def batch(tag: str, agents: range, status: int = 1) -> list[AgentEvent]:
    return [AgentEvent(f"{tag}-{w}", 1, 1, w, 1_000, status) for w in agents]


@pytest.mark.anyio
async def test_a_deleted_wal_file_is_noticed_before_a_batch_is_acknowledged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path), file_check_interval=3600)  # no check while idle
    await store.open()
    try:
        await store.apply_events(batch("a", range(101, 111)))
        assert on_disk(path) == dict.fromkeys(range(101, 111), 1)
        path.with_name("ccms.db-wal").unlink()
        assert on_disk(path) == {}  # the acknowledged batch is in the deleted file only
        with pytest.raises(StoreUnavailableError):
            await store.apply_events(batch("b", range(201, 206), status=3))
        # what the deleted file held is in the main file now; the refused batch is not
        assert on_disk(path) == dict.fromkeys(range(101, 111), 1)
        again = await store.apply_events(batch("b", range(201, 206), status=3))
        assert (again.accepted, again.duplicates) == (5, 0)
        assert on_disk(path) == {
            **dict.fromkeys(range(101, 111), 1),
            **dict.fromkeys(range(201, 206), 3),
        }
        record = await store.get_agent(1, 1, 205)
        assert record is not None and record.cti_status == 3
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_deleted_wal_file_is_saved_while_idle(tmp_path: Path) -> None:
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path), file_check_interval=0.05)
    await store.open()
    try:
        await store.apply_events(batch("a", range(101, 111)))
        path.with_name("ccms.db-wal").unlink()
        deadline = time.monotonic() + 10
        while on_disk(path) != dict.fromkeys(range(101, 111), 1):
            assert time.monotonic() < deadline, "the deleted WAL's content was not saved"
            await asyncio.sleep(0.02)
        # and the store goes on, on a new WAL file
        result = await store.apply_events(batch("b", range(201, 206), status=3))
        assert (result.accepted, result.duplicates) == (5, 0)
        assert on_disk(path)[205] == 3
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_batch_sees_what_another_process_wrote_since_this_one_last_wrote(
    tmp_path: Path,
) -> None:
    """The writer keeps the agents it wrote; another store on the same file (another
    worker) writing in between must still win where its event is newer."""
    path = tmp_path / "ccms.db"
    mine, other = SQLiteStore(str(path)), SQLiteStore(str(path))
    await mine.open()
    await other.open()
    try:
        await mine.apply_events([AgentEvent("m1", 1, 1, 101, 1_000, 1, name="Ann")])
        await other.apply_events([AgentEvent("o1", 1, 1, 101, 3_000, 5)])
        # older than the other's event: kept in the history, changes nothing
        await mine.apply_events([AgentEvent("m2", 1, 1, 101, 2_000, 3)])
        record = await mine.get_agent(1, 1, 101)
        assert record is not None
        assert (record.cti_status, record.status_at, record.name) == (5, 3_000, "Ann")
        await mine.apply_events([AgentEvent("m3", 1, 1, 101, 4_000, 6)])
        record = await other.get_agent(1, 1, 101)
        assert record is not None and (record.cti_status, record.prev_status) == (6, 5)
    finally:
        await mine.close()
        await other.close()


@pytest.mark.anyio
async def test_a_refused_batch_leaves_nothing_of_itself_in_what_the_writer_keeps(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ccms.db"
    store = SQLiteStore(str(path), file_check_interval=3600)
    await store.open()
    try:
        await store.apply_events([AgentEvent("a", 1, 1, 101, 1_000, 1)])
        path.with_name("ccms.db-wal").unlink()
        with pytest.raises(StoreUnavailableError):
            await store.apply_events([AgentEvent("b", 1, 1, 101, 2_000, 5)])
        await store.apply_events([AgentEvent("c", 1, 1, 101, 1_500, 3)])
        record = await store.get_agent(1, 1, 101)
        assert record is not None and (record.cti_status, record.prev_status) == (3, 1)
    finally:
        await store.close()
