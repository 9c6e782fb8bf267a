"""The HTTP limits of a real ``ccms serve`` on loopback: what no client may hold or send
before any signature is checked (``docs/security.md``, "HTTP limits")."""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import Server, batch, wait_until

from ccms.auth import format_timestamp, sign

pytestmark = pytest.mark.e2e

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc, runs prlimit")


def connect(server: Server, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or the socket's timeout passes)."""
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return out
        if not chunk:
            return out
        out += chunk


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def envelope_of(answer: bytes) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(answer.partition(b"\r\n\r\n")[2])
    return body


def trickle(sock: socket.socket, data: bytes, every: float, deadline: float) -> bytes:
    """Send ``data`` a byte at a time, one each ``every`` s, until the server answers or
    closes (what it sent) or ``deadline`` passes (``b""``)."""
    sock.settimeout(every)
    for byte in data:
        if time.monotonic() > deadline:
            return b""
        try:
            sock.sendall(bytes([byte]))
            chunk = sock.recv(65536)
        except TimeoutError:
            continue  # nothing yet: the next byte
        except (BrokenPipeError, ConnectionResetError):
            return b"closed"
        sock.settimeout(2)
        return chunk + read_all(sock)
    return b""


def signed_head(server: Server, path: str, body: bytes) -> bytes:
    stamp = format_timestamp(datetime.now(UTC))
    host = f"127.0.0.1:{server.port}"
    authorization = sign(ADMIN_AK, ADMIN_SK, "POST", path, {"host": host}, body, stamp)
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: {authorization}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()


class GoodClient(threading.Thread):
    """Asks ``/healthz`` in a loop until stopped; records the slowest answer."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.url = server.url + "/healthz"
        self.stop = threading.Event()
        self.slowest = 0.0
        self.answers: list[int] = []

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set() and len(self.answers) < 10_000:
                started = time.monotonic()
                self.answers.append(client.get(self.url).status_code)
                self.slowest = max(self.slowest, time.monotonic() - started)


def test_large_headers_get_431_at_once_and_do_not_stall_other_clients(
    server_factory: Any,
) -> None:
    server: Server = server_factory().start()
    good = GoodClient(server)
    good.start()
    try:
        with connect(server) as sock:
            started = time.monotonic()
            sock.sendall(
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
            )
            answer = read_all(sock)
            took = time.monotonic() - started
        assert status_of(answer) == 431, answer[:200]
        assert b"connection: close" in answer.lower()
        assert envelope_of(answer) == {
            "result": "0100002",
            "resultCode": "0100002",
            "resultDesc": "request line and headers are larger than 16384 bytes",
        }
        assert took < 2.0
        # a header that never ends (32 MiB sent as fast as the server reads) is cut short
        with connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
            sent = 0
            try:
                while sent < 32 << 20:
                    sock.sendall(b"a" * (1 << 20))
                    sent += 1 << 20
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = read_all(sock)
        assert answer == b"" or status_of(answer) == 431
        wait_until(lambda: len(good.answers) >= 20)
    finally:
        good.stop.set()
        good.join(15)
    assert set(good.answers) == {200}
    assert good.slowest < 2.0, f"a good client waited {good.slowest:.2f} s"
    assert "request headers larger than 16384 bytes refused" in server.log.read_text()
    # headers just below the limit are served
    assert httpx.get(server.url + "/healthz", headers={"x-pad": "a" * 15_000}).status_code == 200


def statuses_of(answers: bytes) -> list[int]:
    """The HTTP statuses of the answers read from one connection, in order."""
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answers)]


def test_the_header_limit_counts_headers_not_the_body_sent_with_them(server_factory: Any) -> None:
    """The limit is checked from the size of the chunks read; a chunk past the limit that
    holds small headers and a large body, or a second request of the chunk that ended
    the first (pipelining), is counted header by header."""
    server: Server = server_factory().start()
    body = b"x" * 60_000
    small = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 15_000
    large = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 17_000
    with connect(server) as sock:  # headers under the limit, with a body past it: served
        sock.sendall(small + b"\r\nContent-Length: 60000\r\n\r\n" + body)
        assert statuses_of(read_all(sock)) == [200]
    with connect(server) as sock:  # headers past the limit, sent with a small body
        sock.sendall(large + b"\r\nContent-Length: 10\r\n\r\n" + b"x" * 10)
        assert statuses_of(read_all(sock)) == [431]
    with connect(server) as sock:  # pipelined: the second request's headers begin in the
        # chunk that ends the first, and end in a chunk of their own under the limit
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + large[:10_000])
        time.sleep(0.5)
        sock.sendall(large[10_000:] + b"\r\n\r\n")
        assert statuses_of(read_all(sock)) == [200, 431]


@pytest.mark.parametrize(
    "request_head",
    [
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
)
def test_a_request_that_is_not_http_gets_400_in_the_envelope(
    server_factory: Any, request_head: bytes
) -> None:
    server: Server = server_factory().start()
    with connect(server) as sock:
        sock.sendall(request_head)
        answer = read_all(sock)
    assert status_of(answer) == 400, answer[:200]
    assert b"connection: close" in answer.lower()
    assert envelope_of(answer) == {
        "result": "0100002",
        "resultCode": "0100002",
        "resultDesc": "the request is not valid HTTP/1.1",
    }
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_a_slow_loris_is_closed_within_the_header_timeout(server_factory: Any) -> None:
    server: Server = server_factory("--header-timeout", "1").start()
    with connect(server) as sock:
        started = time.monotonic()
        partial = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: 1\r\n" * 100
        answer = trickle(sock, partial, every=0.1, deadline=started + 10)
        took = time.monotonic() - started
    assert answer not in (b"", b"closed"), "the connection was held for 10 s"
    assert status_of(answer) == 408
    assert envelope_of(answer)["resultDesc"] == "request headers not complete in 1.0 s"
    assert 0.9 < took < 3.0
    # a connection that sends nothing at all is closed too, without an answer
    with connect(server) as sock:
        started = time.monotonic()
        assert read_all(sock) == b""
        assert time.monotonic() - started < 3.0
    # and so is a keep-alive connection whose next request never completes
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        answer = trickle(sock, partial, every=0.1, deadline=time.monotonic() + 10)
    assert status_of(answer) == 408


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer with a Content-Length (the connection stays open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed in the middle of an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of an answer's body"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    server_factory: Any,
) -> None:
    server: Server = server_factory("--keep-alive-timeout", "1").start()
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_answer(sock)
        answered = time.monotonic()
        assert status_of(answer) == 200
        assert b"connection: close" not in answer.lower()  # kept alive
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):  # nothing, not even the close, in the first 0.3 s
            sock.recv(1)
        sock.settimeout(5)
        try:
            closed = sock.recv(1)
        except TimeoutError:
            pytest.fail("the idle connection was still open 5 s after its answer")
        took = time.monotonic() - answered
    assert closed == b"", closed
    assert 0.8 < took < 3.0, f"closed {took:.2f} s after the answer"


def test_a_trickling_body_is_cut_with_408(server_factory: Any) -> None:
    server: Server = server_factory("--body-timeout", "1").start()
    body = orjson.dumps({"events": []}) + b" " * 200
    with connect(server) as sock:
        sock.sendall(signed_head(server, "/ccms/v1/events", body))
        started = time.monotonic()
        answer = trickle(sock, body, every=0.1, deadline=started + 10)
        took = time.monotonic() - started
    assert answer not in (b"", b"closed"), "the body was awaited for 10 s"
    assert status_of(answer) == 408
    assert envelope_of(answer) == {
        "result": "0100001",
        "resultCode": "0100001",
        "resultDesc": "request body not complete in 1.0 s",
    }
    assert 0.9 < took < 3.0
    # a body sent at once is not affected
    assert server.events(batch("whole", 1)).json()["resultCode"] == "0100000"


def test_past_the_connection_cap_new_connections_get_503(server_factory: Any) -> None:
    server: Server = server_factory("--max-connections", "8").start()
    held = [connect(server) for _ in range(8)]
    try:
        for sock in held[:4]:  # some idle, some in the middle of their headers
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")

        def refused() -> httpx.Response | None:
            response = httpx.get(server.url + "/healthz", timeout=2)
            return response if response.status_code == 503 else None

        response = wait_until(refused, timeout=10)
        assert response.headers["retry-after"] == "1"
        assert response.headers["connection"] == "close"
        assert response.json() == {
            "result": "0100001",
            "resultCode": "0100001",
            "resultDesc": "too many connections, try again later",
        }
    finally:
        for sock in held:
            sock.close()
    wait_until(lambda: httpx.get(server.url + "/healthz", timeout=2).status_code == 200)
    log = server.log.read_text()
    assert "connection refused with HTTP 503: 8 connections open" in log
    assert log.count("connection refused with HTTP 503") == 1  # not a line per connection


class LimitedServer(Server):
    """``ccms serve`` started under ``prlimit --nofile=SOFT:HARD``."""

    nofile = "128:128"

    def command(self) -> list[str]:
        return ["prlimit", f"--nofile={self.nofile}", *super().command()]


def open_files_limit(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-files line")


@linux_only
def test_out_of_file_descriptors_the_server_sheds_logs_and_recovers(tmp_path: Path) -> None:
    server = LimitedServer(tmp_path)
    server.start()
    try:
        assert server.proc is not None
        assert open_files_limit(server.proc.pid) == (128, 128)
        idle = []
        for _ in range(200):  # more than the process has descriptors
            try:
                idle.append(connect(server, timeout=2))
            except OSError:
                break
        try:
            during = httpx.get(server.url + "/healthz", timeout=5)
            assert during.status_code == 503
        except httpx.TransportError:
            pass  # dropped: acceptable while every descriptor is taken
        finally:
            for sock in idle:
                sock.close()
        wait_until(lambda: httpx.get(server.url + "/healthz", timeout=2).status_code == 200)
        for _ in range(20):  # and it goes on answering
            assert httpx.get(server.url + "/healthz", timeout=2).status_code == 200
        log = server.log.read_text()
        assert "max_connections lowered from 1024 to 64: the file-descriptor limit is 128" in log
        assert "lowered from max_connections by the file-descriptor limit 128" in log
    finally:
        server.stop()


@linux_only
def test_serve_raises_its_soft_file_descriptor_limit(tmp_path: Path) -> None:
    server = LimitedServer(tmp_path, "--log-level", "info")
    server.nofile = "256:2048"
    server.start()
    try:
        assert server.proc is not None
        assert open_files_limit(server.proc.pid) == (1088, 2048)  # max_connections + 64
        log = server.log.read_text()
        assert "file-descriptor limit raised from 256 to 1088 (hard limit 2048)" in log
        assert "max_connections lowered" not in log
    finally:
        server.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@linux_only
def test_bodies_of_unknown_keys_are_not_held_in_memory(server_factory: Any) -> None:
    """64 connections each sending 8 MiB with an unknown key id: answered 401 from the
    headers alone, and the server holds none of the bodies (found: RSS 41 -> 569 MB)."""
    server: Server = server_factory().start()
    assert server.proc is not None
    before = rss_mb(server.proc.pid)
    body = b"x" * (8 << 20)
    authorization = "auth-v2/nobody/2025-01-01T00:00:00Z/content-type;host/" + "0" * 64
    head = (
        f"POST /ccms/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: {authorization}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    socks = []
    try:
        for _ in range(64):
            sock = connect(server)
            sock.sendall(head)
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.send(body)  # as much as the socket takes; the rest stays unsent
            socks.append(sock)
        peak = rss_mb(server.proc.pid)
        for sock in socks[:4]:
            sock.settimeout(5)
            assert status_of(sock.recv(65536)) == 401
        peak = max(peak, rss_mb(server.proc.pid))
    finally:
        for sock in socks:
            sock.close()
    assert peak - before < 64, f"RSS grew from {before:.0f} to {peak:.0f} MB"


def test_worker_processes_keep_the_limits(server_factory: Any) -> None:
    server: Server = server_factory("--workers", "2", "--max-header-bytes", "2048").start()
    for _ in range(4):  # whichever worker takes the connection
        with connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
            assert status_of(read_all(sock)) == 431
    assert httpx.get(server.url + "/healthz", headers={"x-pad": "a" * 1000}).status_code == 200
    assert server.stop() == 0
