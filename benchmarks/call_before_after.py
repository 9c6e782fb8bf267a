"""Calls on PostgreSQL, before and after the records per minute, side by side in one run.

One store of call records (built through the intake as ``call_bench.py`` builds it, or an
existing schema with ``--schema``) is read and written by two store objects in turns, so
that the machine's drift hits both alike:

- before: the paths of revision bccf4cd, kept here: the count of a page of call records
  counts the index (``count(*)`` then the page, in one ``REPEATABLE READ`` transaction),
  a batch writes its calls with one statement per call (``executemany``) and no minutes,
  and the sessions run with PostgreSQL's default ``jit = on``;
- after: this tree's store.

Measured: the median ms of the page-and-count read of ``vdn/querycalls`` (100 at offset
0, the day's records) and the call events per second of batches of 1,000 (200 new calls,
five events each) through ``Store.apply_events``: events over the whole time of each
side's batches, and from each side's median batch. Writes the figures into
``results.json`` (section ``calls``) and rewrites ``RESULTS.md``.

    python benchmarks/call_before_after.py [--schema NAME] [--rounds 50] [--batches 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import call_bench
import run
from run import pg_drop, pg_store

from ccms.domain.call import DAY_MS, CallRecord, RecordQuery
from ccms.store import calls as call_sql
from ccms.store.listing import Dialect
from ccms.store.postgres import calls as pg_calls
from ccms.store.postgres import record_counts
from ccms.store.postgres import store as pg_store_module
from ccms.store.postgres.store import PostgresStore

_PG = Dialect.POSTGRES
_NAMES = [c.strip() for c in call_sql.WRITE_COLUMNS.split(",")]
_OLD_UPSERT = (
    f"INSERT INTO call ({call_sql.WRITE_COLUMNS})"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(_NAMES) + 1))})"
    " ON CONFLICT (cc_id, vdn, call_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _NAMES[3:])
)


async def old_records(conn: Any, cc_id: int, vdn: int, q: RecordQuery) -> tuple[int, list[Any]]:
    page, count, params = call_sql.records(_PG, cc_id, vdn, q)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        total = int(await conn.fetchval(count, *params))
        rows = await conn.fetch(page, *params, q.limit, q.offset)
    return total, [call_sql.record(r) for r in rows]


async def old_write(conn: Any, calls: Sequence[CallRecord]) -> None:
    await conn.executemany(_OLD_UPSERT, [call_sql.row(r, _PG) for r in calls])


async def no_minutes(conn: Any, delta: Any) -> None:
    return None


NEW_WRITE, NEW_MINUTES = pg_calls.write_calls, record_counts.write_changes


def use(before: bool) -> None:
    """The write paths of the next batch."""
    pg_calls.write_calls = old_write if before else NEW_WRITE
    record_counts.write_changes = no_minutes if before else NEW_MINUTES


async def measure(url: str, build: int, rounds: int, batches: int) -> dict[str, Any]:
    after = PostgresStore(url, command_timeout=60.0)
    await after.open()
    session, pg_store_module._SESSION = pg_store_module._SESSION, {}  # before: jit as default
    before = PostgresStore(url, command_timeout=60.0)
    await before.open()
    pg_store_module._SESSION = session
    try:
        now = int(time.time() * 1000)
        if build:
            await call_bench.build(after, build, now)
        # the minutes as the records are (a store built before them, or by both sides)
        await after._read(
            lambda c: c.execute(
                "DELETE FROM call_record_minute;"
                f" INSERT INTO call_record_minute {record_counts.RECOUNT}"
            )
        )
        q = RecordQuery(now // DAY_MS * DAY_MS - DAY_MS, now, True, limit=100)
        reads = {
            "before": lambda: before._read(lambda c: old_records(c, 1, 1, q)),
            "after": lambda: after.call_records(1, 1, q),
        }
        first = {side: await read() for side, read in reads.items()}
        assert first["before"] == first["after"], "the two reads differ"
        page: dict[str, list[float]] = {"before": [], "after": []}
        for i in range(rounds):
            for side in ("before", "after") if i % 2 else ("after", "before"):
                started = time.perf_counter()
                await reads[side]()
                page[side].append((time.perf_counter() - started) * 1000)
        spent: dict[str, list[float]] = {"before": [], "after": []}
        base = 30_000_000 + now % 1_000_000 * 1_000
        for b in range(batches):
            for side in ("before", "after") if b % 2 else ("after", "before"):
                use(side == "before")
                events = []
                for n in range(200):
                    number = base + (2 * b + (side == "before")) * 200 + n
                    events += call_bench.life(number, now - 100_000)
                store = before if side == "before" else after
                started = time.perf_counter()
                result = await store.apply_events([], events)
                spent[side].append(time.perf_counter() - started)
                assert result.accepted == 1_000
        use(False)
    finally:
        use(False)
        await before.close()
        await after.close()
    return {
        "records": first["after"][0],
        "rounds": rounds,
        "batches": batches,
        "page_ms": {s: round(statistics.median(v), 2) for s, v in page.items()},
        "events_per_s": {s: round(1_000 * len(v) / sum(v)) for s, v in spent.items()},
        "events_per_s_median_batch": {
            s: round(1_000 / statistics.median(v)) for s, v in spent.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--schema", help="a schema of call records already built (kept)")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    if args.schema:
        sep = "&" if "?" in args.postgres else "?"
        url = f"{args.postgres}{sep}options=-csearch_path%3D{args.schema}&sslmode=disable"
        figures = asyncio.run(measure(url, 0, args.rounds, args.batches))
    else:
        schema = "ccms_bench_calls_ba"
        url = pg_store(args.postgres, schema)
        try:
            figures = asyncio.run(measure(url, args.records, args.rounds, args.batches))
        finally:
            pg_drop(args.postgres, schema)
    figures["machine"] = run.machine()
    path = HERE / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    results.setdefault("calls", {})["before_after"] = figures
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS.md").write_text(run.report(results), encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
