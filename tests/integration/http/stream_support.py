"""Helpers of the stream tests: signed requests to a served app, and an SSE reader.

The reader parses the stream in a thread of its own into blocks (``Block``: one SSE event,
comment or id-only block) that the test takes with a deadline, so that a test never sleeps
for an effect and a stream that goes quiet fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
from tests.conftest import ADMIN_AK, ADMIN_SK

from ccms.auth import format_timestamp, sign


@dataclass
class Block:
    """One SSE block: the fields it had (``None``: absent) and its comment lines."""

    event: str | None = None
    id: str | None = None
    data: str | None = None
    retry: str | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        assert self.data is not None, self
        return orjson.loads(self.data)

    @property
    def kind(self) -> str:
        """``snapshot``, ``change``, ``reset``, ``error``, ``retry``, ``heartbeat`` or
        ``bookmark`` (an id-only block)."""
        if self.event is not None:
            return self.event
        if self.retry is not None:
            return "retry"
        if self.id is not None and self.data is None:
            return "bookmark"
        return "heartbeat" if self.comments else "?"


def parse_blocks(lines: Iterator[str], out: Callable[[Block | None], None]) -> None:
    block = Block()
    for line in lines:
        if line == "":
            out(block)
            block = Block()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            block.comments.append(value)
        elif name == "data":
            block.data = value if block.data is None else block.data + "\n" + value
        elif name in ("event", "id", "retry"):
            setattr(block, name, value)
    out(None)  # the stream ended


class Signer:
    """Signed requests to one served app, at the time of ``clock``."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.host = urlsplit(url).netloc
        self.clock = clock

    def _stamp(self) -> str:
        return format_timestamp(datetime.fromtimestamp(self.clock(), UTC))

    def get_headers(self, path: str, params: Sequence[tuple[str, str]], ak: str = ADMIN_AK,
                    sk: str = ADMIN_SK, method: str = "GET") -> dict[str, str]:  # fmt: skip
        authorization = sign(ak, sk, method, path, {"host": self.host}, b"", self._stamp(),
                             query=list(params))  # fmt: skip
        return {"authorization": authorization}

    def post(self, path: str, payload: Any, ak: str = ADMIN_AK,
             sk: str = ADMIN_SK) -> httpx.Response:  # fmt: skip
        body = orjson.dumps(payload)
        authorization = sign(ak, sk, "POST", path, {"host": self.host}, body, self._stamp())
        headers = {"content-type": "application/json", "authorization": authorization}
        return httpx.post(self.url + path, content=body, headers=headers, timeout=30)

    def events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        answer = self.post("/ccms/v1/events", {"events": events}).json()
        assert answer["resultCode"] == "0100000", answer
        return dict(answer["resultDesc"])

    def get(self, path: str, params: Sequence[tuple[str, str]], ak: str = ADMIN_AK,
            sk: str = ADMIN_SK, signed: bool = True) -> httpx.Response:  # fmt: skip
        headers = self.get_headers(path, params, ak, sk) if signed else {}
        target = f"{self.url}{path}?{urlencode(list(params))}" if params else self.url + path
        return httpx.get(target, headers=headers, timeout=60)

    def token(self, ak: str = ADMIN_AK, sk: str = ADMIN_SK, **fields: Any) -> dict[str, Any]:
        answer = self.post("/ccms/v1/tokens", fields, ak, sk).json()
        assert answer["resultCode"] == "0100000", answer
        return dict(answer["resultDesc"])


class SseReader:
    """``GET`` a stream and read its blocks in a thread: ``next()``, ``until(...)``."""

    def __init__(self, url: str, path: str, params: Sequence[tuple[str, str]],
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.client = httpx.Client(timeout=httpx.Timeout(30, read=None))
        target = f"{url}{path}?{urlencode(list(params))}" if params else url + path
        request = self.client.build_request("GET", target, headers=headers)
        self.response = self.client.send(request, stream=True)
        self.blocks: queue.Queue[Block | None] = queue.Queue()
        self.ended = threading.Event()
        self.seen: list[Block] = []
        if self.response.status_code == 200 and self.response.headers.get(
            "content-type", ""
        ).startswith("text/event-stream"):
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        else:
            self.response.read()
            self.ended.set()

    @property
    def status(self) -> int:
        return self.response.status_code

    def _read(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            parse_blocks(self.response.iter_lines(), self.blocks.put)
        self.blocks.put(None)
        self.ended.set()

    def next(self, timeout: float = 15.0) -> Block | None:
        """The next block; ``None`` once the stream ended."""
        try:
            block = self.blocks.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no block within {timeout} s") from None
        if block is None:
            self.blocks.put(None)  # stays ended
        else:
            self.seen.append(block)
        return block

    def until(self, done: Callable[[Block], bool], timeout: float = 15.0) -> list[Block]:
        """The blocks up to and including the first for which ``done`` is true."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            block = self.next(max(0.0, deadline - time.monotonic()))
            if block is None:
                raise AssertionError(f"the stream ended before the block: {got[-5:]}")
            got.append(block)
            if done(block):
                return got

    def rest(self, timeout: float = 15.0) -> list[Block]:
        """Every block until the stream ends."""
        deadline = time.monotonic() + timeout
        got = []
        while (block := self.next(max(0.0, deadline - time.monotonic()))) is not None:
            got.append(block)
        return got

    def changes(self, count: int, timeout: float = 15.0) -> list[Block]:
        """The next ``count`` change events (other blocks skipped)."""
        got: list[Block] = []
        self.until(lambda b: b.kind == "change" and got.append(b) is None and len(got) == count,
                   timeout)  # fmt: skip
        return got

    def snapshot(self, timeout: float = 15.0) -> tuple[int, list[dict[str, Any]]]:
        """The next whole snapshot: ``(seq, agents)``."""
        agents: list[dict[str, Any]] = []
        parts = self.until(lambda b: b.kind == "snapshot" and b.id is not None, timeout)
        for block in parts:
            if block.kind == "snapshot":
                agents += block.json["agents"]
        return int(parts[-1].id or 0), agents

    def close(self) -> None:
        """Close the connection. A socket a thread is reading from is shut down first: a
        close alone would leave the connection open until that read returns."""
        stream = self.response.extensions.get("network_stream")
        sock = None if stream is None else stream.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self.client.close()


def stalled_stream(url: str, target: str, headers: dict[str, str]) -> socket.socket:
    """A stream request from a client that never reads (a small receive buffer)."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    head = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock.sendall((head + "\r\n").encode("latin-1"))
    return sock


def agent_events(tag: str, work_nos: Sequence[int], at_ms: int, status: int = 1,
                 vdn: int = 1, **fields: Any) -> list[dict[str, Any]]:  # fmt: skip
    return [
        {"eventId": f"{tag}-{n}", "ccId": 1, "vdn": vdn, "agentId": work_no, "at": at_ms,
         "ctiStatus": status, **fields}
        for n, work_no in enumerate(work_nos)
    ]  # fmt: skip
