"""Subscribers of the live stream, for ``make bench`` (``run.py --only stream``).

One process holds N raw-socket connections to ``GET /ccms/v1/stream`` on one asyncio loop
(uvloop when installed): no threads, no HTTP library, so that a thousand subscribers cost
the load machine little. Each connection de-chunks its answer, and for every ``change``
event notes the event's ``at`` (a unique mark per event, set by the poster) and the
monotonic time its bytes arrived (``time.monotonic`` is CLOCK_MONOTONIC, one clock for every
process of the machine, so the poster's acknowledgement times compare with it).

    python stream_load.py --url http://127.0.0.1:PORT [--url ...] --count 500 \\
        --target '/ccms/v1/stream?ccId=1&vdn=1&token=...' --out received.json

It prints ``READY n seconds retries`` once every connection has its snapshot (or ``FAILED
reason``), then records until its stdin closes or ``--max-seconds`` pass (a line on stdin
asks ``COUNT n``: the changes received so far), writes what it received to ``--out`` and
exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import sys
import time
from array import array
from urllib.parse import urlsplit

import orjson

AT = re.compile(rb'"at"\s*:\s*(\d+)')
CONNECT_CONCURRENCY = 64


class Subscriber(asyncio.Protocol):
    """One stream: the HTTP head, the chunked body, the events' ``at`` and arrival times."""

    def __init__(self, request: bytes, ready: asyncio.Event, failed: list[str]) -> None:
        self.request = request
        self.ready = ready
        self.failed = failed
        self.transport: asyncio.BaseTransport | None = None
        self.busy: float | None = None  # refused with 429 or 503: retry after this many s
        self.raw = b""
        self.head = True
        self.body = b""
        self.synced = False
        self.ats = array("q")
        self.times = array("d")
        self.resets = 0
        self.errors = 0
        self.closed = False
        self.snapshot_bytes = 0  # what arrived before the stream was in sync

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.synced and self.busy is None:
            self.failed.append(f"closed before its snapshot ({exc})")
            self.ready.set()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.synced:
            self.snapshot_bytes += len(data)
        raw = self.raw + data
        if self.head:
            end = raw.find(b"\r\n\r\n")
            if end < 0:
                self.raw = raw
                return
            status = raw[: raw.find(b"\r\n")]
            if status.split(b" ")[1:2] in ([b"429"], [b"503"]):
                after = re.search(rb"(?i)\r\nretry-after: *(\d+)", raw[:end])
                self.busy = float(after[1]) if after else 1.0  # as a client does: wait, retry
                self.ready.set()
                return
            if b" 200 " not in status + b" ":
                self.failed.append(raw[:300].decode("latin-1"))
                self.ready.set()
            raw = raw[end + 4 :]
            self.head = False
        body = self.body
        while True:  # chunked transfer coding
            line = raw.find(b"\r\n")
            if line < 0:
                break
            size = int(raw[:line].split(b";", 1)[0], 16)
            if len(raw) < line + 2 + size + 2:
                break
            body += raw[line + 2 : line + 2 + size]
            raw = raw[line + 4 + size :]
        self.raw = raw
        cut = body.rfind(b"\n\n")
        if cut < 0:
            self.body = body
            return
        events, self.body = body[:cut], body[cut + 2 :]
        for match in AT.finditer(events):
            self.ats.append(int(match[1]))
            self.times.append(now)
        if b"event: reset" in events:
            self.resets += events.count(b"event: reset")
        if b"event: error" in events:
            self.errors += 1
        if not self.synced and (events.startswith(b"id:") or b"\nid:" in events):
            self.synced = True  # the snapshot's last part is the first block with an id
            self.ready.set()


async def run(urls: list[str], count: int, target: str, max_seconds: float) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    failed: list[str] = []
    subscribers: list[Subscriber] = []
    retried = [0]  # answers 429 or 503 before a stream was open
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(index: int) -> None:
        parts = urlsplit(urls[index % len(urls)])
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Accept: text/event-stream\r\nUser-Agent: ccms-bench\r\n\r\n"
        ).encode()
        deadline = time.monotonic() + 120
        while True:
            ready = asyncio.Event()
            sub = Subscriber(request, ready, failed)
            async with limit:
                await loop.create_connection(lambda sub=sub: sub, host, port)
                await asyncio.wait_for(ready.wait(), max(1.0, deadline - time.monotonic()))
            if sub.busy is None:
                subscribers.append(sub)
                return
            assert sub.transport is not None
            sub.transport.close()
            retried[0] += 1
            if time.monotonic() + sub.busy > deadline:
                failed.append("refused with 429 or 503 until the deadline")
                return
            await asyncio.sleep(sub.busy * (0.5 + random.random()))  # spread, as clients do

    started = time.monotonic()
    try:
        await asyncio.gather(*(connect(i) for i in range(count)))
    except (OSError, TimeoutError) as exc:
        failed.append(f"{type(exc).__name__}: {exc}")
    if failed:
        print(f"FAILED {failed[0]!r} ({len(failed)} failures)", flush=True)
        return {"failed": failed[:5]}
    print(f"READY {count} {time.monotonic() - started:.2f} {retried[0]}", flush=True)
    stop = asyncio.Event()

    def command() -> None:  # a line: say how many changes arrived so far; end of input: stop
        if not sys.stdin.readline():
            stop.set()
            return
        print(f"COUNT {sum(len(sub.ats) for sub in subscribers)}", flush=True)

    loop.add_reader(sys.stdin.fileno(), command)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max_seconds)
    return {
        "retried": retried[0],
        "subscribers": [
            {"ats": list(s.ats), "times": list(s.times), "resets": s.resets, "errors": s.errors,
             "closed": s.closed, "snapshot_bytes": s.snapshot_bytes}
            for s in subscribers
        ]
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args()
    work = run(args.url, args.count, args.target, args.max_seconds)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    with open(args.out, "wb") as out:
        out.write(orjson.dumps(result))
    return 0 if "subscribers" in result else 1


if __name__ == "__main__":
    sys.exit(main())
