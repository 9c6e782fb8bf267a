"""The delivery every feed shares: batches, retries until acknowledged, a clean stop.

The sources here are the smallest an adapter could write; the feed posts to the app
in-process through the real client. Failures are injected at the HTTP transport (the
process boundary) before it forwards to the app.
"""

from __future__ import annotations

import asyncio
import io
import ssl
import time
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import orjson
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, FrozenClock

from ccms.client import AsyncClient, ServerError, TransportError
from ccms.feeds import Event, Feed
from ccms.http.app import App

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

HANG = Exception("no answer, ever")
REFUSED = httpx.ConnectError("[Errno 111] Connection refused")
UNAVAILABLE = {"result": "0100001", "resultCode": "0100001", "resultDesc": "store unavailable"}


@pytest.fixture(autouse=True)
def real_time(clock: FrozenClock) -> None:
    clock.now = time.time()  # the client signs with the real clock


def events(tag: str, count: int) -> list[dict[str, object]]:
    at = int(time.time() * 1000)
    return [
        {"eventId": f"{tag}-{n}", "ccId": 1, "vdn": 1, "agentId": 101 + n, "at": at,
         "ctiStatus": 1, "name": f"{tag} {n}"}
        for n in range(count)
    ]  # fmt: skip


class ListSource:
    """Runs given in advance; then the end, or a wait that never ends (``then_wait``)."""

    def __init__(self, *runs: Sequence[Event], then_wait: bool = False) -> None:
        self._runs = runs
        self._then_wait = then_wait
        self.closed = False

    async def runs(self) -> AsyncIterator[Sequence[Event]]:
        try:
            for run in self._runs:
                yield run
            if self._then_wait:
                await asyncio.Event().wait()
        finally:
            self.closed = True

    def summary(self) -> str:
        return f"{len(self._runs)} runs"


Fault = int | type[Exception] | Exception


class Wire(httpx.AsyncBaseTransport):
    """Forwards to the app; records each batch posted; ``faults`` answer the first ones
    (an HTTP status, an httpx exception, or ``HANG``: an answer that never comes)."""

    def __init__(self, app: App, faults: Sequence[Fault] = ()) -> None:
        self._app = httpx.ASGITransport(app=app)
        self.faults = list(faults)
        self.posted: list[list[str]] = []
        self.attempts = 0
        self.on_post: Callable[[], None] = lambda: None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ccms/v1/events":
            self.attempts += 1
            self.on_post()
            if self.faults:
                fault = self.faults.pop(0)
                if fault is HANG:
                    await asyncio.Event().wait()
                if isinstance(fault, int):
                    return httpx.Response(fault, json=UNAVAILABLE)
                if isinstance(fault, Exception):
                    raise fault
                raise fault("injected", request=request)
            body = orjson.loads(await request.aread())
            self.posted.append([event["eventId"] for event in body["events"]])
        return await self._app.handle_async_request(request)


def client(wire: httpx.AsyncBaseTransport) -> AsyncClient:
    return AsyncClient("http://testserver", ADMIN_AK, ADMIN_SK, transport=wire, retry_deadline=0)


async def test_runs_go_out_in_order_in_batches(app: App) -> None:
    wire = Wire(app)
    first, second = events("a", 5), events("b", 1)
    progress = io.StringIO()
    async with client(wire) as cms:
        source = ListSource(first, [], second)
        stats = await Feed(cms, source, batch=2, progress=progress).run()
        agent = await cms.agent_detail(1, 1, 105)

    assert wire.posted == [["a-0", "a-1"], ["a-2", "a-3"], ["a-4"], ["b-0"]]
    assert (stats.events, stats.accepted, stats.duplicates, stats.retries) == (6, 6, 0, 0)
    assert agent.name == "a 4"
    assert progress.getvalue().splitlines()[-1].startswith("6 events (")
    assert progress.getvalue().endswith(", 0 duplicates, 0 retries) | 3 runs\n")
    assert source.closed


async def test_a_batch_is_retried_until_acknowledged(app: App) -> None:
    wire = Wire(app, faults=[503, httpx.ConnectError, 429])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with client(wire) as cms:
        stats = await Feed(cms, ListSource(events("r", 3)), sleep=sleep).run()
        again = await Feed(cms, ListSource(events("r", 3))).run()

    assert wire.posted == [["r-0", "r-1", "r-2"]] * 2
    assert (stats.events, stats.accepted, stats.retries) == (3, 3, 3)
    assert (again.accepted, again.duplicates) == (0, 3)  # a resend is a no-op
    # exponential backoff with jitter: attempt n waits 0.1 * 2**n s, times 0.5 to 1
    for attempt, wait in enumerate(waits, 1):
        assert 0.05 * 2**attempt <= wait <= 0.1 * 2**attempt
    assert len(waits) == 3


async def test_a_server_error_other_than_503_ends_the_feed(app: App) -> None:
    """Waiting cures 503 and 429, not a 500: the feed stops with the error, never loops."""
    wire = Wire(app, faults=[500])
    async with client(wire) as cms:
        feed = Feed(cms, ListSource(events("x", 2)))
        with pytest.raises(ServerError):
            await feed.run()
    assert wire.posted == []
    assert feed.stats.events == 0


async def test_stop_lets_the_run_in_flight_go_out_whole(app: App) -> None:
    wire = Wire(app)
    async with client(wire) as cms:
        source = ListSource(events("w", 5), events("later", 2))
        feed = Feed(cms, source, batch=2)
        wire.on_post = feed.stop  # stopped while the first batch is on the wire
        stats = await feed.run()

    assert wire.posted == [["w-0", "w-1"], ["w-2", "w-3"], ["w-4"]]
    assert stats.events == 5
    assert source.closed


async def test_stop_does_not_wait_for_a_waiting_source(app: App) -> None:
    async with client(Wire(app)) as cms:
        source = ListSource(events("s", 3), then_wait=True)
        feed = Feed(cms, source)
        running = asyncio.create_task(feed.run())
        deadline = time.monotonic() + 10
        while feed.stats.events < 3:  # poll with a deadline for the first run to be acknowledged
            assert time.monotonic() < deadline and not running.done()
            await asyncio.sleep(0.01)
        assert not running.done()  # the source waits, so does the feed

        feed.stop()
        stats = await asyncio.wait_for(running, timeout=5)

    assert stats.events == 3
    assert source.closed


async def test_a_batch_holds_at_least_one_event(app: App) -> None:
    async with client(Wire(app)) as cms:
        with pytest.raises(ValueError, match="batch must be at least 1"):
            Feed(cms, ListSource(), batch=0)


async def poll(check: Callable[[], bool], running: asyncio.Task[object]) -> None:
    """Wait, with a deadline, until ``check()`` holds while ``running`` still runs."""
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline and not running.done()
        await asyncio.sleep(0.01)


async def test_stop_ends_a_retry_wait_at_once(app: App) -> None:
    """A server that never comes back: a stop does not wait for it (nor for the backoff)."""
    wire = Wire(app, faults=[REFUSED] * 1000)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # a backoff that would never end
        waits.append(seconds)
        await asyncio.Event().wait()

    progress = io.StringIO()
    async with client(wire) as cms:
        source = ListSource(events("q", 3), events("never", 2))
        feed = Feed(cms, source, sleep=sleep, progress=progress)
        running = asyncio.create_task(feed.run())
        await poll(lambda: len(waits) == 1, running)
        feed.stop()
        stats = await asyncio.wait_for(running, timeout=5)

    assert (stats.events, stats.undelivered, stats.retries) == (0, 3, 1)
    assert stats.failure == "last attempt: connection refused (http://testserver/ccms/v1/events)"
    assert wire.posted == []
    assert source.closed
    lines = progress.getvalue().splitlines()
    assert "| retrying: connection refused (attempt 1)" in lines[0]


async def test_stop_gives_an_unanswered_request_a_grace_period_only(app: App) -> None:
    wire = Wire(app, faults=[HANG])
    async with client(wire) as cms:
        feed = Feed(cms, ListSource(events("h", 2), events("g", 1)), grace=0.05)
        running = asyncio.create_task(feed.run())
        await poll(lambda: wire.attempts == 1, running)
        feed.stop()
        stats = await asyncio.wait_for(running, timeout=5)

    assert (stats.events, stats.undelivered, wire.attempts) == (0, 2, 1)
    assert stats.failure == "no answer from http://testserver yet"


async def test_after_a_stop_a_failed_attempt_is_not_retried(app: App) -> None:
    wire = Wire(app, faults=[REFUSED])
    async with client(wire) as cms:
        feed = Feed(cms, ListSource(events("f", 3)), batch=2)
        wire.on_post = feed.stop
        stats = await feed.run()

    assert (stats.events, stats.undelivered, wire.attempts) == (0, 3, 1)


async def test_an_untrusted_certificate_ends_the_feed_without_a_retry(app: App) -> None:
    refused = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    refused.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    wire = Wire(app, faults=[refused])
    progress = io.StringIO()
    async with client(wire) as cms:
        feed = Feed(cms, ListSource(events("t", 2)), progress=progress)
        with pytest.raises(TransportError) as caught:
            await feed.run()

    assert caught.value.retryable is False
    assert (wire.attempts, feed.stats.retries) == (1, 0)
    assert progress.getvalue() == ""  # the error is the one line the command prints


async def test_the_progress_line_shows_each_retry_and_its_reason(app: App) -> None:
    wire = Wire(app, faults=[REFUSED, 503, 429])

    async def sleep(seconds: float) -> None:
        pass

    progress = Terminal()
    async with client(wire) as cms:
        await Feed(cms, ListSource(events("p", 1)), sleep=sleep, progress=progress).run()

    frames = progress.getvalue().split("\r\x1b[2K")[1:]
    assert [frame.split(" | ")[1] for frame in frames[:3]] == [
        "retrying: connection refused (attempt 1)",
        "retrying: server unavailable, HTTP 503 (attempt 2)",
        "retrying: rate limited, HTTP 429 (attempt 3)",
    ]
    assert frames[-1].startswith("1 event (")  # delivered: the retry words are gone
    assert frames[-1].endswith(", 0 duplicates, 3 retries) | 1 runs\n")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
