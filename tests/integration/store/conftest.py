"""The store contract suite runs against every backend through the ``store`` fixture.

PostgreSQL: the server named by ``CCMS_TEST_POSTGRES_URL``. Unset: the PostgreSQL tests
are skipped; set but unreachable: they fail (CI sets it). Each test gets a schema of its
own (``t_<random>``, chosen by the URL's ``search_path``) and an ``application_name`` that
names it, so that a test can terminate its own server connections and no other's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
from tests.conftest import FrozenClock

from ccms.store.base import Store
from ccms.store.sqlite import SQLiteStore

PG_ENV = "CCMS_TEST_POSTGRES_URL"


class PgSchema:
    """A schema of its own on the test server, and admin actions on it."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = "t_" + secrets.token_hex(6)
        self.application_name = "ccms-" + self.name

    @property
    def url(self) -> str:
        """The store URL: this schema on the search_path, this application name, and no
        TLS unless the server URL asks for it (a loopback test server has none; asyncpg's
        default "prefer" tries TLS first, and a connection cut during that attempt leaves
        an unretrieved future that would fail an unrelated test)."""
        sep = "&" if "?" in self.server_url else "?"
        url = (
            f"{self.server_url}{sep}options=-csearch_path%3D{self.name}"
            f"&application_name={self.application_name}"
        )
        return url if "sslmode=" in url else url + "&sslmode=disable"

    def url_via(self, port: int) -> str:
        """The store URL through a proxy listening on 127.0.0.1:``port``."""
        parts = urllib.parse.urlsplit(self.url)
        user = parts.netloc.rpartition("@")[0]
        return parts._replace(
            netloc=f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
        ).geturl()

    def admin(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement on a separate admin connection (autocommit)."""
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql, params or None)
            return cur.fetchall() if cur.description else []

    def terminate(self, role: str = "") -> int:
        """``pg_terminate_backend`` every connection of this test (``role``: only those of
        ``<application_name>-<role>``, e.g. ``listen``); the number terminated."""
        name = f"{self.application_name}-{role}" if role else self.application_name
        rows = self.admin(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE starts_with(application_name, %s) AND pid <> pg_backend_pid()",
            name,
        )
        return int(rows[0][0])

    def create(self) -> None:
        self.admin(f"CREATE SCHEMA {self.name}")

    def drop(self) -> None:
        self.terminate()
        self.admin(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")


class TcpProxy:
    """A TCP proxy on loopback in front of the PostgreSQL server, to cut the way to it.

    ``down()``: connections reset and new ones refused (the server is gone);
    ``freeze()``: nothing goes through and nothing is closed (a network partition);
    ``up()``: back to normal (frozen connections are reset, as after a partition).
    """

    def __init__(self, server_url: str) -> None:
        parts = urllib.parse.urlsplit(server_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._transports: set[asyncio.BaseTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._transports.add(writer.transport)
        await self._flowing.wait()
        if writer.transport.is_closing():
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._transports.add(up_writer.transport)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            while data := await source.read(65536):
                await self._flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.transport.abort()

    def _reset_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            # reset first: since Python 3.12 wait_closed() waits for open connections
            self._reset_all()
            await self._server.wait_closed()
            self._server = None
        self._reset_all()

    def freeze(self) -> None:
        self._flowing.clear()

    async def up(self) -> None:
        if not self._flowing.is_set():
            self._reset_all()
            self._flowing.set()
        if self._server is None:
            await self.start()

    async def aclose(self) -> None:
        self._flowing.set()
        await self.down()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def postgres_server_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: the PostgreSQL tests need a server")
    return url


def make_schema() -> PgSchema:
    """A new schema on the test server; fails the test when the server is unreachable."""
    schema = PgSchema(postgres_server_url())
    try:
        schema.create()
    except psycopg.OperationalError as exc:
        pytest.fail(f"{PG_ENV} is set but the server is unreachable: {exc}")
    return schema


@pytest.fixture
def pg_schema() -> Iterator[PgSchema]:
    schema = make_schema()
    yield schema
    schema.drop()


@pytest.fixture
async def pg_proxy(pg_schema: PgSchema) -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy(pg_schema.server_url).start()
    yield proxy
    await proxy.aclose()


class StoreMaker(Protocol):
    def __call__(self, **options: Any) -> Awaitable[Store]: ...


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[StoreMaker]:
    """Opens store objects of one backend on one storage (one SQLite file, one PostgreSQL
    schema), as several server processes or nodes would; closes them at the end.
    ``options``: constructor options both backends take (``stream_window_s``...)."""
    opened: list[Store] = []

    async def make(**options: Any) -> Store:
        backend: Store
        if request.param == "sqlite":
            backend = SQLiteStore(str(tmp_path / "contract.db"), clock=clock, **options)
        elif request.param == "postgres":
            from ccms.store.postgres import PostgresStore

            schema: PgSchema = request.getfixturevalue("pg_schema")
            backend = PostgresStore(schema.url, clock=clock, **options)
        else:  # pragma: no cover - a backend without a fixture
            raise AssertionError(request.param)
        await backend.open()
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        await backend.close()


@pytest.fixture
async def store(stores: StoreMaker) -> Store:
    """The store the contract suite runs against, on every backend."""
    return await stores()
