"""SQLite only: the store's file and its directory, as ``ccms serve`` and ``ccms db`` find
them (a store is never created where the operator did not mean one)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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
