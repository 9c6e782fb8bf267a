"""The intake's cost in CPU instructions, in-process: the ASGI app of the tree on
``PYTHONPATH`` answers ``POST /ccms/v1/events`` with signed batches of 1,000 status events
for 10,000 agents of one VDN, over a SQLite store (``synchronous=OFF``: the disk is not
measured).

Run under ``valgrind --tool=callgrind`` by ``benchmarks/run.py --against REV``, twice per
tree with a different number of batches: the difference of the two instruction counts,
divided by the events between them, is the cost of one event without start-up and
warm-up. Instructions, unlike seconds, do not depend on what else the machine is doing,
so two trees compare exactly on a shared machine.

The signed bodies are written beforehand by ``python intake_instructions.py --write FILE
BATCHES`` (outside valgrind: signing is the client's cost, not the server's), then
``python intake_instructions.py FILE BATCHES`` applies the first ``BATCHES`` of them after
the warm-up and prints one line.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import UTC, datetime
from typing import Any

import orjson

from ccms.auth import AccessKey, format_timestamp, sign
from ccms.settings import Settings
from ccms.store.sqlite import SQLiteStore

try:  # the tree's composition root: server.build_app now, http.app.create_app before it
    from ccms.server import build_app

    def make_app(settings: Settings, store: SQLiteStore, keys: dict[str, AccessKey]) -> Any:
        return build_app(settings, keys, store=store)

except ImportError:  # pragma: no cover - older trees
    from ccms.http.app import create_app  # type: ignore[attr-defined,no-redef]

    def make_app(settings: Settings, store: SQLiteStore, keys: dict[str, AccessKey]) -> Any:
        return create_app(settings, store, keys)


AK, SK = "bench", "s" * 32
PATH = "/ccms/v1/events"
HOST = "127.0.0.1:1"
WARM_UP = 10  # batches: every agent exists before the counted ones
AGENTS = 10_000


def signed_batch(n: int) -> tuple[bytes, bytes]:
    """Batch ``n``: every event a status change of its agent, each agent once."""
    events = [
        {"eventId": f"i{n}-{i}", "ccId": 1, "vdn": 1, "agentId": 101 + (n * 1000 + i) % AGENTS,
         "at": 1_790_000_000_000 + n * 1000 + i, "ctiStatus": 1 + (n + i) % 7}
        for i in range(1000)
    ]  # fmt: skip
    body = orjson.dumps({"events": events})
    stamp = format_timestamp(datetime.now(UTC))
    return body, sign(AK, SK, "POST", PATH, {"host": HOST}, body, stamp).encode()


async def post(app: Any, body: bytes, authorization: bytes) -> None:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 1),
        "headers": [(b"host", HOST.encode()), (b"content-type", b"application/json"),
                    (b"authorization", authorization),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise RuntimeError(sent)


def write(path: str, batches: int) -> None:
    with open(path, "wb") as file:
        for n in range(WARM_UP + batches):
            body, authorization = signed_batch(n)
            file.write(orjson.dumps([body.decode(), authorization.decode()]) + b"\n")


def read(path: str, batches: int) -> list[tuple[bytes, bytes]]:
    with open(path, "rb") as file:
        rows = [orjson.loads(line) for line in file][: WARM_UP + batches]
    return [(body.encode(), authorization.encode()) for body, authorization in rows]


async def main(path: str, batches: int) -> None:
    bodies = read(path, batches)
    folder = tempfile.mkdtemp(prefix="ccms-instructions-")
    store = SQLiteStore(os.path.join(folder, "ccms.db"), synchronous="OFF")
    app = make_app(Settings(), store, {AK: AccessKey(AK, SK, frozenset({"admin"}))})
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await messages.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    messages.put_nowait({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                       receive, send))  # fmt: skip
    await started.wait()
    for body, authorization in bodies:
        await post(app, body, authorization)
    messages.put_nowait({"type": "lifespan.shutdown"})
    await lifespan
    print(f"{batches} batches of 1,000 events applied after {WARM_UP} of warm-up")


if __name__ == "__main__":
    if sys.argv[1] == "--write":
        write(sys.argv[2], int(sys.argv[3]))
    else:
        asyncio.run(main(sys.argv[1], int(sys.argv[2])))
