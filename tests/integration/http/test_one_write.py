"""An answer of known length leaves in one write (``ccms.http.protocol.OneWrite``): the
connection's protocol (uvicorn's response cycle under :class:`LimitedProtocol`) driven with
request bytes, its writes recorded where they would reach the socket."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from uvicorn.server import ServerState

from ccms.http.protocol import HttpLimits, LimitedConfig, LimitedProtocol, OneWrite

pytestmark = pytest.mark.integration

BODY = b'{"resultCode":"0100000"}'


class Socket(asyncio.Transport):
    """The socket's side of a transport: what the server wrote, in its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain answer of known length, a chunked one (``/stream``: two chunks), or one of
    known length in two parts (``/parts``), or that head and a failure (``/fails``); the body read first (``Expect: 100-continue``
    makes uvicorn write its interim answer then)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"data: 2\n\n"})
        return
    length = str(len(BODY)).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", length)]})  # fmt: skip
    if path == "/fails":
        raise RuntimeError("the application failed after the answer's head")
    if path == "/parts":
        await send({"type": "http.response.body", "body": BODY[:5], "more_body": True})
        await send({"type": "http.response.body", "body": BODY[5:]})
    else:
        await send({"type": "http.response.body", "body": BODY})


async def served(*requests: bytes) -> list[bytes]:
    """The writes of one connection that received ``requests`` one after the other, and
    whether it was closed."""
    config = LimitedConfig(app, limits=HttpLimits(), lifespan="off", log_level="warning")
    protocol = LimitedProtocol(config, ServerState(), {})
    socket = Socket()
    protocol.connection_made(socket)
    try:
        for request in requests:
            answered = len(socket.writes)
            protocol.data_received(request)
            for _ in range(200):
                await asyncio.sleep(0.005)
                if socket.closed or (protocol.cycle and protocol.cycle.response_complete):
                    break
            assert len(socket.writes) > answered, "no answer"
        closed = socket.closed
    finally:
        protocol.connection_lost(None)
    return socket.writes + ([b"<closed>"] if closed else [])


def request(method: str = "GET", path: str = "/", *extra: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: ccms", *extra]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.anyio
async def test_an_answer_of_known_length_is_one_write() -> None:
    writes = await served(request(), request("POST", body=b"{}"))
    assert len(writes) == 2  # one per answer, each whole
    for write in writes:
        head, _, body = write.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 24" in head
        assert body == BODY


@pytest.mark.anyio
async def test_other_writes_pass_through_in_order() -> None:
    # 100 Continue before the answer, at once; then the answer whole
    continued = await served(request("POST", "/", "Expect: 100-continue", body=b"{}"))
    assert continued[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert continued[1].startswith(b"HTTP/1.1 200 OK") and continued[1].endswith(BODY)
    assert len(continued) == 2
    # a chunked answer's head leaves at once, before its first chunk
    streamed = await served(request(path="/stream"))
    assert streamed[0].startswith(b"HTTP/1.1 200 OK") and streamed[0].endswith(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in streamed[0]
    assert b"".join(streamed[1:]) == b"9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"
    # a HEAD answer has no body to wait for
    (head,) = await served(request("HEAD"))
    assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
    # a body in two parts: the head goes with the first, the second after it
    parts = await served(request(path="/parts"))
    assert parts[0].endswith(b"\r\n\r\n" + BODY[:5]) and parts[1:] == [BODY[5:]]


@pytest.mark.anyio
async def test_a_head_held_leaves_before_the_connection_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The application fails after the head of an answer of known length: uvicorn closes
    the connection, and the head goes out first, as it did unheld."""
    caplog.set_level("CRITICAL", logger="uvicorn.error")
    head, closed = await served(request(path="/fails"))
    assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
    assert closed == b"<closed>"


@pytest.mark.anyio
async def test_an_answered_cycle_is_freed_without_the_garbage_collector() -> None:
    """The cycle holds its ``OneWrite`` as its transport; once the answer is written the
    ``OneWrite`` no longer holds the cycle, so the two are not a reference cycle and the
    request's cycle (its scope, its headers) is freed when the next one replaces it."""
    config = LimitedConfig(app, limits=HttpLimits(), lifespan="off", log_level="warning")
    protocol = LimitedProtocol(config, ServerState(), {})
    socket = Socket()
    protocol.connection_made(socket)
    gc.disable()
    try:
        cycles = []
        for n in range(2):
            protocol.data_received(request())
            cycle = protocol.cycle
            assert isinstance(cycle.transport, OneWrite)
            cycles.append(weakref.ref(cycle))
            del cycle
            for _ in range(200):
                await asyncio.sleep(0.005)
                if len(socket.writes) > n:
                    break
        assert len(socket.writes) == 2
        for _ in range(200):  # the first cycle's task ends, and with it its last reference
            if cycles[0]() is None:
                break
            await asyncio.sleep(0.005)
        assert cycles[0]() is None, "the first request's cycle is kept alive by a cycle"
    finally:
        gc.enable()
        protocol.connection_lost(None)
