"""Fixtures shared by every tier: access keys, a fresh SQLite file per test, the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ccms.auth import AccessKey, format_timestamp, sign
from ccms.http.app import App
from ccms.server import build_app
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

ADMIN_AK = "admin-ak"
ADMIN_SK = "5nTNjpyP0nprfsoUhT1g0DBaPIidKFLm"
QUERY_AK = "query-ak"
QUERY_SK = "iOIGJQoNUhvq7S8BOxhxVffx9tmZtN41"
INGEST_AK = "ingest-ak"
INGEST_SK = "-4EbYw5awILc440a5rG_P1atN0uOKKrg"
SCOPED_AK = "scoped-ak"
SCOPED_SK = "C-_IW7YJqKl0U63867PPbspzIQTDkgeW"


def test_keys() -> dict[str, AccessKey]:
    return {
        ADMIN_AK: AccessKey(ADMIN_AK, ADMIN_SK, frozenset({"admin"})),
        QUERY_AK: AccessKey(QUERY_AK, QUERY_SK, frozenset({"query"})),
        INGEST_AK: AccessKey(INGEST_AK, INGEST_SK, frozenset({"ingest"})),
        SCOPED_AK: AccessKey(
            SCOPED_AK, SCOPED_SK, frozenset({"query", "ingest"}), frozenset({(1, 1)}), frozenset()
        ),
    }


test_keys.__test__ = False  # type: ignore[attr-defined]


class FrozenClock:
    """A clock the test moves by hand (the clock is a process boundary)."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ccms.db"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def app(
    db_path: Path, clock: FrozenClock, settings_overrides: dict[str, Any]
) -> AsyncIterator[App]:
    settings = load_settings({}, settings_overrides)
    store = SQLiteStore(str(db_path), clock=clock)
    application = build_app(settings, test_keys(), store=store, clock=clock)
    await application.startup()
    yield application
    await application.shutdown()


class Api:
    """Raw signed HTTP against the in-process app: for tests of the wire itself."""

    def __init__(self, http: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.http = http
        self.clock = clock

    def headers(
        self, path: str, body: bytes, ak: str = ADMIN_AK, sk: str = ADMIN_SK
    ) -> dict[str, str]:
        stamp = format_timestamp(datetime.fromtimestamp(self.clock(), UTC))
        authorization = sign(ak, sk, "POST", path, {"host": "testserver"}, body, stamp)
        return {"content-type": "application/json;charset=UTF-8", "authorization": authorization}

    async def post(
        self, path: str, payload: Any, ak: str = ADMIN_AK, sk: str = ADMIN_SK
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        return await self.http.post(path, content=body, headers=self.headers(path, body, ak, sk))

    async def get(
        self, path: str, query: list[tuple[str, str]], ak: str = ADMIN_AK, sk: str = ADMIN_SK
    ) -> httpx.Response:
        """A GET signed over its query string."""
        stamp = format_timestamp(datetime.fromtimestamp(self.clock(), UTC))
        authorization = sign(ak, sk, "GET", path, {"host": "testserver"}, b"", stamp, query)
        return await self.http.get(path, params=query, headers={"authorization": authorization})

    async def events(self, events: list[dict[str, Any]], **kw: str) -> httpx.Response:
        return await self.post("/ccms/v1/events", {"events": events}, **kw)

    async def agent(
        self, cc_id: Any = 1, vdn: Any = 1, agent_id: Any = 101, **kw: str
    ) -> httpx.Response:
        payload = {"queryParam": {"ccId": cc_id, "vdn": vdn, "agentId": agent_id}}
        return await self.post("/rest/cmsapp/v1/openapi/agent/agentbyworkno", payload, **kw)


class SyncApp:
    """The app on a fresh SQLite file, driven from synchronous code through its own event
    loop: for Hypothesis tests, which run many examples against one app."""

    def __init__(self, db: Path) -> None:
        self.clock = FrozenClock()
        self.loop = asyncio.new_event_loop()
        store = SQLiteStore(str(db), clock=self.clock)
        self.app = build_app(load_settings({}), test_keys(), store=store, clock=self.clock)
        self.loop.run_until_complete(self.app.startup())
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )
        self.api = Api(self.http, self.clock)

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self.app.shutdown())
        self.loop.close()


@pytest.fixture
async def api(app: App, clock: FrozenClock) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(http, clock)


EventFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def event(clock: FrozenClock) -> EventFactory:
    """Build an intake event; ``at`` defaults to ``offset_s`` seconds before the clock."""
    counter = iter(range(1, 10**9))

    def make(offset_s: float = 0, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "eventId": f"e{next(counter)}",
            "ccId": 1,
            "vdn": 1,
            "agentId": 101,
            "at": int((clock() - offset_s) * 1000),
        }
        base.update(fields)
        return base

    return make
