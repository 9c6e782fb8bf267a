"""Routes as data: a table of routes with their own handlers, signed GETs, streamed answers."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import INGEST_AK, INGEST_SK, QUERY_AK, QUERY_SK, FrozenClock, test_keys
from tests.integration.client.client_support import serve_in_thread
from tests.integration.http.test_agent_routes import envelope_error

from ccms.auth import format_timestamp, sign
from ccms.http import create_app, envelope
from ccms.http.app import App
from ccms.http.routing import Answer, Auth, Body, Context, Request, Route, RouteTable
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SIGNED_GET = "/test/signed"
STREAM = "/test/stream"


async def echo(ctx: Context, request: Request) -> Answer:
    """What the handler of a signed GET route receives."""
    data = {
        "method": request.method,
        "ak": request.signed_key.ak,
        "query": request.query,
        "queryString": request.query_string,
        "host": request.headers["host"],
        "body": request.body,
    }
    return Answer(envelope.success(data))


class Chunks:
    """A stream's chunks: ``count`` of them (None: for ever); ``closed`` once closed."""

    def __init__(self, count: int | None, fail_after: int | None = None) -> None:
        self.count = count
        self.fail_after = fail_after
        self.closed = threading.Event()
        self.sent = 0

    async def __call__(self) -> AsyncIterator[bytes]:
        try:
            while self.count is None or self.sent < self.count:
                if self.fail_after is not None and self.sent == self.fail_after:
                    raise RuntimeError("the stream's source failed")
                self.sent += 1
                yield f"data: {self.sent}\n\n".encode()
                await asyncio.sleep(0)  # let the loop serve the connection between chunks
        finally:
            self.closed.set()


def stream_route(chunks: Chunks) -> Route:
    async def stream(ctx: Context, request: Request) -> Answer:
        return Answer(chunks(), content_type=b"text/event-stream", code="")

    return Route("GET", STREAM, stream, auth=Auth.NONE, body=Body.NONE)


def app_with(db: Path, clock: FrozenClock, *routes: Route) -> App:
    signed = Route("GET", SIGNED_GET, echo, role="query", body=Body.NONE)
    return create_app(load_settings({}), SQLiteStore(str(db), clock=clock), test_keys(), clock,
                      routes=[signed, *routes])  # fmt: skip


@pytest.fixture
async def http(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    app = app_with(tmp_path / "ccms.db", clock)
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.shutdown()


def signed_get(
    clock: FrozenClock, path: str, query: list[tuple[str, str]], ak: str, sk: str
) -> dict[str, str]:
    stamp = format_timestamp(datetime.fromtimestamp(clock(), UTC))
    return {"authorization": sign(ak, sk, "GET", path, {"host": "testserver"}, b"", stamp, query)}


async def test_a_get_route_can_be_signed_over_its_query_string(
    http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    query = [("ccId", "1"), ("vdn", "2"), ("skills", "1,2")]
    headers = signed_get(clock, SIGNED_GET, query, QUERY_AK, QUERY_SK)
    response = await http.get(SIGNED_GET, params=query, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["resultDesc"] == {
        "method": "GET",
        "ak": QUERY_AK,
        "query": {"ccId": "1", "vdn": "2", "skills": "1,2"},
        "queryString": "ccId=1&vdn=2&skills=1%2C2",
        "host": "testserver",
        "body": {},
    }
    # the signature covers the query: another query is refused
    other = await http.get(SIGNED_GET, params=[("ccId", "1"), ("vdn", "3")], headers=headers)
    envelope_error(other, 401, "0100001")
    envelope_error(await http.get(SIGNED_GET, params=query), 401, "0100001")


async def test_head_is_answered_by_the_get_route_and_other_methods_are_405(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(SIGNED_GET)
    envelope_error(response, 405, "0100002")
    assert response.headers["allow"] == "GET, HEAD"
    assert (await http.head(SIGNED_GET)).status_code == 401  # HEAD goes through the GET route


STREAM_SCOPE = {"type": "http", "method": "GET", "path": STREAM, "query_string": b"",
                "headers": [(b"host", b"testserver")]}  # fmt: skip


class Receiver:
    """The client's side of ``receive``: its (empty) request, then a disconnect once
    ``gone`` is set (never, unless a test sets it)."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()
        self.requested = False

    async def receive(self) -> dict[str, Any]:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}


def sent_to(messages: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    return send


async def test_a_streamed_answer_is_sent_chunk_by_chunk(tmp_path: Path, clock: FrozenClock) -> None:
    chunks = Chunks(3)
    app = app_with(tmp_path / "ccms.db", clock, stream_route(chunks))
    sent: list[dict[str, Any]] = []
    await asyncio.wait_for(app(STREAM_SCOPE, Receiver().receive, sent_to(sent)), timeout=10)
    start, *bodies = sent
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"text/event-stream"
    assert b"content-length" not in headers
    assert [body["body"] for body in bodies] == [
        b"data: 1\n\n",
        b"data: 2\n\n",
        b"data: 3\n\n",
        b"",
    ]
    assert [body.get("more_body", False) for body in bodies] == [True, True, True, False]
    assert chunks.closed.is_set()


async def test_a_client_that_goes_away_closes_the_stream(
    tmp_path: Path, clock: FrozenClock
) -> None:
    chunks = Chunks(None)
    app = app_with(tmp_path / "ccms.db", clock, stream_route(chunks))
    client = Receiver()
    sent: list[dict[str, Any]] = []
    record = sent_to(sent)

    async def send(message: dict[str, Any]) -> None:
        await record(message)
        if len(sent) == 3:  # the start and two chunks: then the client leaves
            client.gone.set()

    await asyncio.wait_for(app(STREAM_SCOPE, client.receive, send), timeout=10)
    assert chunks.closed.is_set()
    assert len(sent) >= 3
    assert all(message["more_body"] for message in sent[1:])  # never ended as complete


async def test_a_stream_that_fails_is_cut_short_and_logged(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    chunks = Chunks(None, fail_after=1)
    app = app_with(tmp_path / "ccms.db", clock, stream_route(chunks))
    sent: list[dict[str, Any]] = []
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(app(STREAM_SCOPE, Receiver().receive, sent_to(sent)), timeout=10)
    assert [message.get("body") for message in sent[1:]] == [b"data: 1\n\n"]
    assert sent[-1]["more_body"]  # never ended as complete: the server drops the connection
    assert "a streamed answer failed" in caplog.text
    assert "the stream's source failed" in caplog.text
    assert chunks.closed.is_set()


async def test_a_sent_chunk_is_not_kept_while_the_next_is_awaited(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """An idle stream must not hold the last chunk it wrote (a whole snapshot) for as long
    as it stays open: nothing of the app refers to a chunk once it is sent."""
    waiting = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield bytes(1_000_000)  # held by the app and the test's probe alone
        waiting.set()
        await asyncio.Event().wait()  # idle for ever
        yield b""  # pragma: no cover - never reached

    async def stream(ctx: Context, request: Request) -> Answer:
        return Answer(chunks(), content_type=b"text/event-stream", code="")

    route = Route("GET", STREAM, stream, auth=Auth.NONE, body=Body.NONE)
    app = app_with(tmp_path / "ccms.db", clock, route)
    bodies: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            bodies.append(id(message["body"]))
            probe.append(message["body"])

    probe: list[bytes] = []
    served = asyncio.ensure_future(app(STREAM_SCOPE, Receiver().receive, send))
    try:
        await asyncio.wait_for(waiting.wait(), timeout=10)
        chunk = probe.pop()
        assert len(chunk) == 1_000_000 and bodies == [id(chunk)]
        # the running test's own frame is not a referrer gc can see: nothing else is left
        held_by = [getattr(ref, "__qualname__", type(ref).__name__)
                   for ref in gc.get_referrers(chunk)]  # fmt: skip
        assert held_by == [], held_by
    finally:
        served.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await served


def test_a_stream_over_real_http_ends_when_the_client_leaves(
    tmp_path: Path, clock: FrozenClock
) -> None:
    chunks = Chunks(None)
    app = app_with(tmp_path / "ccms.db", clock, stream_route(chunks))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        with client.stream("GET", STREAM) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers
            first = next(response.iter_raw())
            assert first.startswith(b"data: 1\n\n")
        deadline = time.monotonic() + 10
        while not chunks.closed.wait(0.01):  # polled with a deadline
            assert time.monotonic() < deadline, "the stream was not closed"
    assert chunks.closed.is_set()


def test_a_view_token_route_reads_no_body() -> None:
    RouteTable([Route("GET", "/view", echo, auth=Auth.VIEW_TOKEN, body=Body.NONE)])
    route = Route("POST", "/view", echo, auth=Auth.VIEW_TOKEN, body=Body.JSON)
    with pytest.raises(ValueError, match="a view-token route reads no body"):
        RouteTable([route])


def test_one_route_per_method_and_path() -> None:
    route = Route("GET", "/twice", echo, body=Body.NONE)
    with pytest.raises(ValueError, match="two routes for GET /twice"):
        RouteTable([route, route])


def test_a_route_is_named_by_its_path_unless_told() -> None:
    assert Route("POST", "/rest/cmsapp/v1/openapi/agent/x", echo).name == "agent/x"
    assert Route("POST", "/ccms/v1/events", echo).name == "events"
    assert Route("GET", "/healthz", echo).name == "/healthz"
    assert Route("GET", "/healthz", echo, name="health").name == "health"


def test_what_a_route_derives_follows_its_fields_and_a_replaced_routes() -> None:
    """What the pipeline reads for every request is derived from the route's fields once,
    and again for a route made by ``dataclasses.replace`` (the OpenAPI document's)."""
    signed = Route("POST", "/s", echo, envelope=envelope.Family.VENDOR)
    assert (signed.signed, signed.token, signed.reads_body, signed.parses_json) == (
        True, False, True, True,
    )  # fmt: skip
    assert signed.render is envelope.FAILURES[envelope.Family.VENDOR]
    open_get = Route("GET", "/o", echo, auth=Auth.NONE, body=Body.NONE)
    assert (open_get.signed, open_get.token, open_get.reads_body) == (False, False, False)
    assert open_get.render is envelope.FAILURES[envelope.Family.STANDARD]
    maybe = dataclasses.replace(signed, body=Body.JSON_OR_EMPTY, auth=Auth.VIEW_TOKEN)
    assert (maybe.token, maybe.reads_body, maybe.parses_json) == (True, True, False)
    assert maybe.render is envelope.FAILURES[envelope.Family.VENDOR]


def test_a_request_parses_its_query_once_on_demand() -> None:
    request = Request("GET", "/x", "a=1&b=&a=2", {}, None, b"", {})
    assert request.query == {"a": "2", "b": ""}
    assert request.query is request.query
    with pytest.raises(LookupError, match="not a signed route"):
        request.signed_key  # noqa: B018


async def test_a_signed_get_checks_the_route_role(
    http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    headers = signed_get(clock, SIGNED_GET, [], INGEST_AK, INGEST_SK)
    text = envelope_error(await http.get(SIGNED_GET, headers=headers), 200, "0101003")
    assert text == "access key lacks the role 'query'"
