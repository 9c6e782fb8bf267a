"""Latency of the monitoring routes, in-process (the ASGI app called directly).

Part of ``make bench`` (section ``monitor``, on SQLite and on PostgreSQL); by hand it prints
the medians of a SQLite store:

    python benchmarks/monitor_routes.py [--agents 100000] [--rounds 50]

The store holds ``--agents`` agents split over VDN 1 and VDN 2 (built through the store's
intake path). Measured: a 6,000-agent ``agentstatusinfobyagentids`` and a 1,000-agent page
of ``totalagentdynamicinfo`` deep inside VDN 1, plus the other list routes for context.
"""

from __future__ import annotations

import argparse
import asyncio
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

from ccms.auth import AccessKey, format_timestamp, sign
from ccms.domain.agent import AgentEvent
from ccms.http import create_app
from ccms.settings import load_settings
from ccms.store.base import Store
from ccms.store.sqlite import SQLiteStore

AK = "bench"
OPENAPI = "/rest/cmsapp/v1/openapi"


async def build(db: Path, agents: int) -> float:
    return await build_into(SQLiteStore(str(db), synchronous="NORMAL"), agents)


async def build_into(store: Store, agents: int) -> float:
    """Fill a store (not yet opened) with ``agents`` agents over VDN 1 and VDN 2."""
    started = time.monotonic()
    await store.open()
    at = int(time.time() * 1000) - 60_000
    rng = random.Random(7)
    per_vdn = agents // 2
    batch: list[AgentEvent] = []
    for n in range(agents):
        vdn, work_no = 1 + n // per_vdn, 101 + n % per_vdn
        skills = tuple(sorted({rng.randint(1, 20), rng.randint(1, 20)}))
        batch.append(AgentEvent(f"b{n}", 1, vdn, work_no, at - rng.randint(0, 3_600_000),
                                rng.randint(0, 10), None, f"Agent {work_no}", None, False, 5,
                                skills, ()))  # fmt: skip
    await apply_in_batches(store, batch)
    await store.close()
    return time.monotonic() - started


async def apply_in_batches(store: Store, events: list[AgentEvent], size: int = 20_000) -> None:
    """Feed an opened store through its own intake path, ``size`` events a batch."""
    for start in range(0, len(events), size):
        await store.apply_events(events[start : start + size])


async def call(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """One POST through an ASGI app, in-process; returns the HTTP status."""
    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"",
             "headers": headers}  # fmt: skip
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def request(sk: str, name: str, payload: Any) -> tuple[str, bytes, list[tuple[bytes, bytes]]]:
    path = f"{OPENAPI}/{name}"
    body = orjson.dumps(payload)
    stamp = format_timestamp(datetime.now(UTC))
    authorization = sign(AK, sk, "POST", path, {"host": "bench"}, body, stamp)
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
               (b"authorization", authorization.encode())]  # fmt: skip
    return path, body, headers


async def measure(db: Path, agents: int, rounds: int) -> dict[str, float]:
    return await measure_on(SQLiteStore(str(db)), agents, rounds)


async def measure_on(store: Store, agents: int, rounds: int) -> dict[str, float]:
    """Median ms of each case over ``rounds`` calls, through the app on ``store``."""
    sk = secrets.token_hex(16)
    keys = {AK: AccessKey(AK, sk, frozenset({"query"}))}
    app = create_app(load_settings({}), store, keys)
    per_vdn = agents // 2
    rng = random.Random(11)
    cases = {
        "agentstatusinfobyagentids 6000": request(sk, "agentgroup/agentstatusinfobyagentids", {
            "ccId": 1, "vdn": 1, "agentIds": rng.sample(range(101, 101 + per_vdn), 6000)}),
        "teamagentstatusinfo 6000": request(sk, "agentgroup/teamagentstatusinfo", {
            "ccId": 1, "vdn": 1, "agentIds": rng.sample(range(101, 101 + per_vdn), 6000)}),
        "totalagentdynamicinfo 1000 @40000": request(sk, "vdn/totalagentdynamicinfo", {
            "ccId": 1, "vdn": 1, "offset": min(40_000, per_vdn - 1000), "limit": 1000}),
        "totalagentabstractex3 1000 @40000": request(sk, "vdn/totalagentabstractex3", {
            "ccId": 1, "vdn": 1, "offset": min(40_000, per_vdn - 1000), "limit": 1000}),
        "queryAgentByStatus 1000 status 1": request(sk, "vdn/queryAgentByStatus", {
            "ccId": 1, "vdn": 1, "status": 1, "offset": 1000, "limit": 1000}),
        "systemstate 100": request(sk, "agentgroup/systemstate", {
            "ccId": 1, "vdn": 1, "offset": 20_000, "limit": 100}),
        "agentsinskill 20 queues": request(sk, "realindex/agent/agentsinskill", {
            "ccId": 1, "vdn": 1, "skillIds": list(range(1, 21))}),
        "agentbyconfigedskill 1 queue": request(sk, "skill/agentbyconfigedskill", {
            "ccId": 1, "vdn": 1, "skillId": 3}),
    }  # fmt: skip

    async def one(path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        return await call(app, path, body, headers)

    await app.startup()
    medians = {}
    try:
        for label, (path, body, headers) in cases.items():
            for _ in range(3):  # warm-up
                assert await one(path, body, headers) == 200
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                await one(path, body, headers)
                timings.append((time.perf_counter() - started) * 1000)
            medians[label] = statistics.median(timings)
    finally:
        await app.shutdown()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ccms-monitor-") as work:
        db = Path(work) / "monitor.db"
        built = asyncio.run(build(db, args.agents))
        print(f"store of {args.agents:,} agents built in {built:.1f} s")
        for label, median in asyncio.run(measure(db, args.agents, args.rounds)).items():
            print(f"{label:40s} p50 {median:7.2f} ms")


if __name__ == "__main__":
    main()
