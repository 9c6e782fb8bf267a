"""Latency of the agent list (``POST /ccms/v1/agents/query``), in-process (the ASGI app
called directly), as the monitoring routes are measured.

Part of ``make bench`` (section ``list``, on SQLite and on PostgreSQL); by hand it prints
the medians of a SQLite store:

    python benchmarks/agent_list.py [--agents 100000] [--in-vdn 20000] [--rounds 50]

The store holds ``--agents`` agents, ``--in-vdn`` of them in VDN 1 and the others spread
over VDNs 2 to 9 (built through the store's intake path). The target case: the first page
of 1,000 of VDN 1, sorted by time in state (longest first) with a status filter (idle).
The other cases, for context: a page deep in the paging (after a cursor), every signed-in
agent without a status filter, a search, and ``flagged`` (every agent of the filter judged
by a stand-in for thresholds: rest over 15 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from monitor_routes import apply_in_batches, call

from ccms.auth import AccessKey, format_timestamp, sign
from ccms.domain.agent import AgentEvent, AgentRecord
from ccms.domain.flags import WARNING, Flag
from ccms.http import create_app
from ccms.settings import load_settings
from ccms.store.base import Store
from ccms.store.sqlite import SQLiteStore

AK = "bench"
PATH = "/ccms/v1/agents/query"
TARGET = "first page 1000, -secondsInState, statuses [4]"


async def build_into(store: Store, agents: int, in_vdn: int) -> float:
    """Fill a store (not yet opened): ``in_vdn`` agents in VDN 1, the rest in VDNs 2..9."""
    started = time.monotonic()
    await store.open()
    at = int(time.time() * 1000) - 60_000
    rng = random.Random(7)
    batch: list[AgentEvent] = []
    for n in range(agents):
        vdn, work_no = (1, 101 + n) if n < in_vdn else (2 + n % 8, 101 + n // 8)
        skills = tuple(sorted({rng.randint(1, 20), rng.randint(1, 20)}))
        batch.append(AgentEvent(f"l{n}", 1, vdn, work_no, at - rng.randint(0, 3_600_000),
                                rng.randint(0, 10), None, f"Agent {work_no}", None, False, 5,
                                skills, ()))  # fmt: skip
    await apply_in_batches(store, batch, size=5_000)  # within pg_command_timeout under load
    await store.close()
    return time.monotonic() - started


def request(sk: str, payload: Any) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = orjson.dumps(payload)
    stamp = format_timestamp(datetime.now(UTC))
    authorization = sign(AK, sk, "POST", PATH, {"host": "bench"}, body, stamp)
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
               (b"authorization", authorization.encode())]  # fmt: skip
    return body, headers


def rest_over_15_min(record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
    since = record.state_start + 900_000
    return (
        (Flag("rest-long", WARNING, since),) if record.cti_status == 8 and now_ms >= since else ()
    )


async def measure_on(store: Store, rounds: int) -> dict[str, float]:
    """Median ms of each case over ``rounds`` calls, through the app on ``store``."""
    sk = secrets.token_hex(16)
    keys = {AK: AccessKey(AK, sk, frozenset({"query"}))}
    app = create_app(load_settings({}), store, keys)
    base = {"ccId": 1, "vdn": 1, "limit": 1000}
    cases: dict[str, dict[str, Any]] = {
        TARGET: {**base, "sort": "-secondsInState", "statuses": [4]},
        "page 2 after its cursor": {**base, "sort": "-secondsInState", "statuses": [4]},
        "first page 1000, -secondsInState, signed in": {**base, "sort": "-secondsInState"},
        "first page 1000, name, search 'agent 1'": {**base, "sort": "name", "search": "agent 1"},
        "flagged (rest over 15 min)": {**base, "flagged": True, "statuses": [8]},
    }
    await app.startup()
    app.context = dataclasses.replace(app.context, flags=rest_over_15_min)
    medians = {}
    try:
        first = await one_answer(app, sk, cases[TARGET])
        cases["page 2 after its cursor"]["cursor"] = first["resultDesc"]["nextCursor"]
        for label, payload in cases.items():
            body, headers = request(sk, payload)
            for _ in range(3):  # warm-up
                assert await call(app, PATH, body, headers) == 200
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                await call(app, PATH, body, headers)
                timings.append((time.perf_counter() - started) * 1000)
            medians[label] = statistics.median(timings)
    finally:
        await app.shutdown()
    return medians


async def one_answer(app: Any, sk: str, payload: Any) -> dict[str, Any]:
    body, headers = request(sk, payload)
    scope = {"type": "http", "method": "POST", "path": PATH, "query_string": b"",
             "headers": headers}  # fmt: skip
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer: dict[str, Any] = orjson.loads(b"".join(chunks))
    assert answer["resultCode"] == "0100000", answer
    assert len(answer["resultDesc"]["agents"]) == 1000, "the VDN has too few idle agents"
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--in-vdn", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ccms-list-") as work:
        db = Path(work) / "list.db"
        built = asyncio.run(build_into(SQLiteStore(str(db), synchronous="NORMAL"), args.agents,
                                       args.in_vdn))  # fmt: skip
        print(f"store of {args.agents:,} agents ({args.in_vdn:,} in VDN 1) built in {built:.1f} s")
        for label, median in asyncio.run(measure_on(SQLiteStore(str(db)), args.rounds)).items():
            print(f"{label:50s} p50 {median:7.2f} ms")


if __name__ == "__main__":
    main()
