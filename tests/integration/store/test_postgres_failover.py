"""PostgreSQL failures seen through the API: HTTP 503 with the envelope, never a 500,
nothing acknowledged lost, and the service back by itself once the server is.

The shared server is never restarted: its connections are terminated with
``pg_terminate_backend``, or the way to it is cut by a proxy (``pg_proxy``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from tests.conftest import Api, test_keys
from tests.integration.store.conftest import PgSchema, TcpProxy

from ccms.http import create_app
from ccms.settings import load_settings
from ccms.store.postgres import PostgresStore

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.anyio]

UNAVAILABLE = {
    "result": "0100001",
    "resultCode": "0100001",
    "resultDesc": "the store is unavailable, try again later",
}


@contextlib.asynccontextmanager
async def running_app(url: str, **store_options: Any) -> AsyncIterator[tuple[Api, PostgresStore]]:
    store = PostgresStore(url, **store_options)
    app = create_app(load_settings({}), store, test_keys())
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http, time.time), store  # type: ignore[arg-type]
    finally:
        await app.shutdown()


async def poll(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


def batch(tag: str, size: int = 20, first: int = 101, status: int = 1) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [
        {"eventId": f"{tag}-{n}", "ccId": 1, "vdn": 1, "agentId": first + n, "at": now,
         "ctiStatus": status, "name": tag}
        for n in range(size)
    ]  # fmt: skip


def answered(response: httpx.Response) -> bool:
    """True for a success; asserts that anything else is the store-unavailable 503."""
    body = response.json()
    if response.status_code == 200 and body["resultCode"] == "0100000":
        return True
    assert (response.status_code, body) == (503, UNAVAILABLE)
    assert response.headers["retry-after"] == "1"
    return False


async def query_works(api: Api) -> bool:
    response = await api.agent()
    return response.status_code == 200 and response.json()["resultCode"] == "0100000"


async def test_terminated_connections_give_503_never_500(pg_schema: PgSchema) -> None:
    async with running_app(pg_schema.url, pool_size=4, command_timeout=2.0) as (api, store):
        assert answered(await api.events(batch("first")))
        acknowledged: list[list[dict[str, Any]]] = []
        outcomes: Counter[str] = Counter()
        stop = asyncio.Event()

        async def write(writer: int) -> None:
            for n in range(10_000):
                if stop.is_set():
                    return
                events = batch(f"w{writer}-{n}", first=101 + writer * 20, status=1 + n % 8)
                response = await api.events(events)
                if answered(response):
                    assert response.json()["resultDesc"] == {"accepted": 20, "duplicates": 0}
                    acknowledged.append(events)
                outcomes[f"write {response.status_code}"] += 1

        async def read() -> None:
            while not stop.is_set():
                response = await api.agent(agent_id=101)
                answered(response)
                outcomes[f"read {response.status_code}"] += 1

        async def terminate() -> int:
            """Rounds of: terminate every connection of the app, then wait until a batch
            was acknowledged again (the app recovers by itself between the rounds)."""

            async def more_acknowledged(than: int) -> bool:
                return len(acknowledged) > than

            killed = 0
            for _ in range(15):
                acked = len(acknowledged)
                killed += await asyncio.to_thread(pg_schema.terminate)
                await poll(functools.partial(more_acknowledged, acked))
            stop.set()
            return killed

        *_, killed = await asyncio.gather(
            *(write(w) for w in range(3)), *(read() for _ in range(2)), terminate()
        )
        assert killed >= 15
        assert outcomes["write 503"] + outcomes["read 503"] > 0, outcomes  # there was an outage
        assert len(acknowledged) >= 15 and outcomes["read 200"] > 0, outcomes
        # back by itself, and every acknowledged event is there
        await poll(lambda: query_works(api))
        assert answered(await api.events(batch("after")))
        wanted = {e["eventId"] for events in acknowledged for e in events}
        found = set()
        for agent in range(101, 161):
            found.update(h.event_id for h in await store.history(1, 1, agent, 100_000))
        assert wanted <= found
        for events in acknowledged[-5:]:
            again = (await api.events(events)).json()["resultDesc"]
            assert again == {"accepted": 0, "duplicates": 20}


async def test_server_gone_gives_503_fast_then_recovers(
    pg_schema: PgSchema, pg_proxy: TcpProxy
) -> None:
    url = pg_schema.url_via(pg_proxy.port)
    async with running_app(url, pool_size=3, command_timeout=1.0) as (api, _store):
        before = batch("before")
        assert answered(await api.events(before))
        await pg_proxy.down()
        started = time.monotonic()
        assert not answered(await api.agent())
        assert not answered(await api.events(batch("during")))
        health = await api.http.get("/healthz")
        assert (health.status_code, health.json()) == (503, UNAVAILABLE)
        assert time.monotonic() - started < 5.0
        await pg_proxy.up()
        await poll(lambda: query_works(api))
        body = (await api.agent(agent_id=110)).json()
        assert body["resultDesc"]["name"] == "before"
        assert answered(await api.events(batch("after")))
        again = (await api.events(before)).json()["resultDesc"]
        assert again == {"accepted": 0, "duplicates": 20}


async def test_partition_times_out_with_503_not_a_hang(
    pg_schema: PgSchema, pg_proxy: TcpProxy
) -> None:
    url = pg_schema.url_via(pg_proxy.port)
    async with running_app(url, pool_size=2, command_timeout=0.5) as (api, _store):
        assert answered(await api.events(batch("before")))
        pg_proxy.freeze()
        started = time.monotonic()
        assert not answered(await api.agent())
        assert not answered(await api.events(batch("during")))
        assert time.monotonic() - started < 5.0  # a few command timeouts, not forever
        await pg_proxy.up()
        await poll(lambda: query_works(api))
        assert answered(await api.events(batch("after")))
        body = (await api.agent(agent_id=101)).json()
        assert body["resultDesc"]["name"] == "after"
