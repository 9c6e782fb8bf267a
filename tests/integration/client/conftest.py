"""Fixtures of the client tests: the real app in-process, reached by both clients.

``connect`` is parametrized: the AsyncClient talks to the app through
``httpx.ASGITransport``; the sync Client (httpx's sync client cannot use an ASGI
transport) talks to the same kind of app served by uvicorn in a thread on 127.0.0.1.
The server clock is fixed so that ``currentStateTime`` is exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from client_support import SK, Api, ApiFactory, ServerClock, make_app, serve_in_thread

from ccms.client import AsyncClient, Client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server_clock() -> ServerClock:
    return ServerClock()


@pytest.fixture(params=["async", "sync"])
async def connect(
    request: pytest.FixtureRequest, tmp_path: Path, server_clock: ServerClock
) -> AsyncIterator[ApiFactory]:
    """``connect(ak="admin", sk=SK)``: a client of the parametrized kind, no retries."""
    app = make_app(tmp_path / "ccms.db", server_clock)
    if request.param == "async":
        await app.startup()
        transport = httpx.ASGITransport(app=app)
        async_clients: list[AsyncClient] = []

        def make_async(ak: str = "admin", sk: str = SK) -> Api:
            client = AsyncClient("http://testserver", ak, sk, transport=transport,
                                 retry_deadline=0)  # fmt: skip
            async_clients.append(client)
            return Api(client)

        yield make_async
        for client in async_clients:
            await client.close()
        await app.shutdown()
    else:
        with serve_in_thread(app) as url:
            clients: list[Client] = []

            def make_sync(ak: str = "admin", sk: str = SK) -> Api:
                client = Client(url, ak, sk, retry_deadline=0)
                clients.append(client)
                return Api(client)

            yield make_sync
            for client in clients:
                client.close()
