"""Fixtures of the HTTP tests that run on every store backend."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Api, FrozenClock, test_keys
from tests.integration.store.conftest import make_schema

from ccms.http import create_app
from ccms.http.app import App
from ccms.settings import load_settings
from ccms.store.base import Store
from ccms.store.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[App]:
    """The app on a store of each backend; the clock stays near the real one (the store's
    pruning keeps its own)."""
    schema = None
    clock = FrozenClock(float(int(time.time())))
    store: Store
    if request.param == "sqlite":
        store = SQLiteStore(str(tmp_path / "ccms.db"), clock=clock)
    else:
        from ccms.store.postgres import PostgresStore

        schema = make_schema()
        store = PostgresStore(schema.url, clock=clock)
    app = create_app(load_settings({}), store, test_keys(), clock)
    await app.startup()
    try:
        yield app
    finally:
        await app.shutdown()
        if schema is not None:
            schema.drop()


@pytest.fixture
async def list_api(backend: App) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=backend)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(http, backend.clock)  # type: ignore[arg-type]
