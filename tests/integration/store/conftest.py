"""The store contract suite runs against every backend through the ``store`` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import FrozenClock

from ccms.store.base import Store
from ccms.store.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Store]:
    backend: Store
    if request.param == "sqlite":
        backend = SQLiteStore(str(tmp_path / "contract.db"), clock=clock)
    else:  # pragma: no cover - more backends come with their issue
        raise AssertionError(request.param)
    await backend.open()
    yield backend
    await backend.close()
