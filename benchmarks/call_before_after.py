"""PostgreSQL's intake of call events, before and after, side by side in one run.

One store of call records (built through this tree's intake as ``call_bench.py`` builds
it, on a fresh schema: a table that PostgreSQL has not analyzed, unless autovacuum did)
takes batches from two intake paths in turns, so that the machine's drift hits both
alike:

- before: revision ``--before`` (default 33cd7d2)'s ``ccms.store.postgres.intake`` and
  ``calls`` (the transaction of a batch: its statements and round trips), read from git
  and loaded beside this tree's;
- after: this tree's.

Both sides run on the same store object (its pool, session settings and retries), only
the batch's transaction differs. Two kinds of batch of 1,000 call events through
``Store.apply_events``, at the 500 signed-in agents of the store: ``new``, 200 new calls
of five events each (``call_bench.py``'s intake); ``mixed``, the three last events of the
200 calls of the side's previous batch and the two first of 200 new ones (calls already
kept and new ones, as a feed's batches are). Reported: the events per second of each
side's median batch and over all its batches, and the ratio after / before. The figures
are printed as JSON; ``--write`` keeps them in ``results.json`` (section ``calls``,
``before_after``).

With ``--fresh N``, each side fills a fresh store of its own instead, N batches of new
calls in turns: the events per second of each side's first and last ten batches (a
table that grows and is not analyzed).

    python benchmarks/call_before_after.py [--records 100000] [--batches 30] [--write]
    python benchmarks/call_before_after.py --fresh 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import call_bench
import run
from run import pg_drop, pg_store

from ccms.domain.call import CallEvent
from ccms.store.postgres import intake as this_intake
from ccms.store.postgres import store as store_module
from ccms.store.postgres.store import PostgresStore


def revision_module(rev: str, path: str, name: str) -> types.ModuleType:
    """The module at ``path`` (under ``src/``) as revision ``rev`` has it, named ``name``."""
    text = subprocess.run(
        ["git", "-C", str(HERE.parent), "show", f"{rev}:src/{path}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    module = types.ModuleType(name)
    module.__file__ = f"{rev}:src/{path}"
    sys.modules[name] = module
    exec(compile(text, module.__file__, "exec"), module.__dict__)
    return module


def before_batch(rev: str) -> Any:
    """Revision ``rev``'s ``apply_batch``, with its own ``apply_calls``."""
    calls = revision_module(rev, "ccms/store/postgres/calls.py", "before_calls")
    intake = revision_module(rev, "ccms/store/postgres/intake.py", "before_intake")
    intake.apply_calls = calls.apply_calls  # type: ignore[attr-defined]
    return intake.apply_batch  # type: ignore[attr-defined]


def batch_events(kind: str, number: int, previous: int | None, now: int) -> list[CallEvent]:
    """1,000 events: ``new``, 200 new calls; ``mixed``, the ends of the 200 calls begun
    by batch ``previous`` and the beginnings of 200 new ones."""
    events: list[CallEvent] = []
    for n in range(200):
        life = call_bench.life(number * 1_000 + n, now - 100_000)
        if kind == "new":
            events += life
            continue
        events += life[:2]
        if previous is not None:
            events += call_bench.life(previous * 1_000 + n, now - 100_000)[2:]
    return events


async def measure(url: str, records: int, batches: int, rev: str) -> dict[str, Any]:
    paths = {"before": before_batch(rev), "after": this_intake.apply_batch}
    store = PostgresStore(url, command_timeout=60.0)
    await store.open()
    figures: dict[str, Any] = {}
    try:
        now = int(time.time() * 1000)
        load_s = await call_bench.build(store, records, now)
        base = 40_000 + now % 10_000 * 100
        number = base
        for kind in ("new", "mixed"):
            spent: dict[str, list[float]] = {"before": [], "after": []}
            previous: dict[str, int | None] = {"before": None, "after": None}
            for b in range(batches + (kind == "mixed")):
                for side in ("before", "after") if b % 2 else ("after", "before"):
                    number += 1
                    events = batch_events(kind, number, previous[side], now)
                    previous[side] = number
                    store_module.apply_batch = paths[side]
                    started = time.perf_counter()
                    result = await store.apply_events([], events)
                    elapsed = time.perf_counter() - started
                    assert result.accepted == len(events), result
                    if kind == "new" or b:  # a mixed side's first batch is all new
                        spent[side].append(elapsed)
            figures[kind] = {
                side: {
                    "median_batch": round(1_000 / statistics.median(v)),
                    "all_batches": round(1_000 * len(v) / sum(v)),
                }
                for side, v in spent.items()
            }
            for f in ("median_batch", "all_batches"):
                figures[kind][f"ratio_{f}"] = round(
                    figures[kind]["after"][f] / figures[kind]["before"][f], 2
                )
    finally:
        store_module.apply_batch = this_intake.apply_batch
        await store.close()
    return {"records": records, "batches": batches, "load_s": round(load_s, 1),
            "before": rev, "events_per_s": figures}  # fmt: skip


async def fresh(urls: dict[str, str], batches: int, rev: str) -> dict[str, Any]:
    """Each side on a fresh store of its own (``urls``), filled by its own path in turns,
    ``batches`` batches of 200 new calls each: the events per second of each side's
    first and last ten batches (a table growing and never analyzed)."""
    paths = {"before": before_batch(rev), "after": this_intake.apply_batch}
    stores = {side: PostgresStore(url, command_timeout=60.0) for side, url in urls.items()}
    spent: dict[str, list[float]] = {"before": [], "after": []}
    now = int(time.time() * 1000)
    try:
        for store in stores.values():
            await store.open()
        for b in range(batches):
            for side in ("before", "after") if b % 2 else ("after", "before"):
                store_module.apply_batch = paths[side]
                events = batch_events("new", b, None, now)
                started = time.perf_counter()
                await stores[side].apply_events([], events)
                spent[side].append(time.perf_counter() - started)
    finally:
        store_module.apply_batch = this_intake.apply_batch
        for store in stores.values():
            await store.close()
    return {
        "batches": batches,
        "before": rev,
        "events_per_s": {
            side: {"first_10": round(10_000 / sum(v[:10])), "last_10": round(10_000 / sum(v[-10:]))}
            for side, v in spent.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=30, help="per side and kind")
    parser.add_argument("--before", default="33cd7d2", help="the revision measured before")
    parser.add_argument("--write", action="store_true", help="keep the figures in results.json")
    parser.add_argument("--fresh", type=int, metavar="N", help="N batches on fresh stores")
    args = parser.parse_args()
    if args.fresh:
        names = {side: f"ccms_bench_calls_{side}_{os.getpid()}" for side in ("before", "after")}
        urls = {side: pg_store(args.postgres, name) for side, name in names.items()}
        try:
            found = asyncio.run(fresh(urls, args.fresh, args.before))
        finally:
            for name in names.values():
                pg_drop(args.postgres, name)
        print(json.dumps({**found, "load_average": list(os.getloadavg())}))
        return
    schema = f"ccms_bench_calls_ba_{os.getpid()}"
    url = pg_store(args.postgres, schema)
    try:
        figures = asyncio.run(measure(url, args.records, args.batches, args.before))
    finally:
        pg_drop(args.postgres, schema)
    figures["machine"] = {**run.machine(), "load_average": list(os.getloadavg())}
    if args.write:
        path = HERE / "results.json"
        results = json.loads(path.read_text(encoding="utf-8"))
        results.setdefault("calls", {})["before_after"] = figures
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
