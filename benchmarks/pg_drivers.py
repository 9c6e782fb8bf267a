"""asyncpg vs psycopg 3 on loopback: a prepared primary-key lookup and a batch write.

Usage: python benchmarks/pg_drivers.py [URL] ; prints medians of RUNS runs per driver, side by side.
Each run: LOOKUPS sequential prepared PK lookups (per-op round trip), and BATCHES batch
writes of BATCH rows (one transaction each, executemany / pipeline).
"""

from __future__ import annotations

import statistics
import sys
import time

import asyncpg
import psycopg
import uvloop

URL = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"
RUNS, LOOKUPS, BATCHES, BATCH = 15, 2000, 20, 500
SCHEMA = "bench_drivers"
SETUP = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.agent (cc_id int, vdn int, work_no int, name text, skills int[],
  status_at bigint, PRIMARY KEY (cc_id, vdn, work_no));
INSERT INTO {SCHEMA}.agent SELECT 1, 1, g, 'agent ' || g, '{{1,2}}', 0 FROM generate_series(101, 10100) g;
CREATE TABLE {SCHEMA}.hist (id bigserial primary key, cc_id int, vdn int, work_no int, at bigint, st int, ev text);
"""
LOOKUP = f"SELECT cc_id, vdn, work_no, name, skills, status_at FROM {SCHEMA}.agent WHERE cc_id = $1 AND vdn = $2 AND work_no = $3"
INSERT = (
    f"INSERT INTO {SCHEMA}.hist (cc_id, vdn, work_no, at, st, ev) VALUES ($1, $2, $3, $4, $5, $6)"
)


def rows(run: int, b: int) -> list[tuple[int, int, int, int, int, str]]:
    return [
        (1, 1, 101 + i, run * 10**6 + b * 1000 + i, i % 10, f"e{run}-{b}-{i}") for i in range(BATCH)
    ]


async def asyncpg_run(run: int) -> tuple[float, float]:
    conn = await asyncpg.connect(URL)
    stmt = await conn.prepare(LOOKUP)
    t = time.perf_counter()
    for i in range(LOOKUPS):
        await stmt.fetchrow(1, 1, 101 + i % 10000)
    lookup = (time.perf_counter() - t) / LOOKUPS
    t = time.perf_counter()
    for b in range(BATCHES):
        async with conn.transaction():
            await conn.executemany(INSERT, rows(run, b))
    batch = (time.perf_counter() - t) / BATCHES
    await conn.close()
    return lookup, batch


async def psycopg_run(run: int) -> tuple[float, float]:
    conn = await psycopg.AsyncConnection.connect(URL.replace("$", ""), autocommit=True)
    q = LOOKUP.replace("$1", "%s").replace("$2", "%s").replace("$3", "%s")
    ins = INSERT
    for n in range(6, 0, -1):
        ins = ins.replace(f"${n}", "%s")
    async with conn.cursor() as cur:
        t = time.perf_counter()
        for i in range(LOOKUPS):
            await cur.execute(q, (1, 1, 101 + i % 10000), prepare=True)
            await cur.fetchone()
        lookup = (time.perf_counter() - t) / LOOKUPS
    t = time.perf_counter()
    for b in range(BATCHES):
        async with conn.transaction(), conn.cursor() as cur:
            await cur.executemany(ins, rows(run, b))
    batch = (time.perf_counter() - t) / BATCHES
    await conn.close()
    return lookup, batch


async def main() -> None:
    setup = await asyncpg.connect(URL)
    await setup.execute(SETUP)
    results: dict[str, list[tuple[float, float]]] = {"asyncpg": [], "psycopg": []}
    for run in range(RUNS):  # interleave the drivers so drift hits both alike
        results["asyncpg"].append(await asyncpg_run(run * 2))
        results["psycopg"].append(await psycopg_run(run * 2 + 1))
    await setup.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    await setup.close()

    def line(label: str, index: int, scale: float, unit: str) -> str:
        cells = []
        for name in ("asyncpg", "psycopg"):
            values = sorted(r[index] * scale for r in results[name])
            cells.append(f"{statistics.median(values):8.1f} ({values[0]:.1f}-{values[-1]:.1f})")
        a = statistics.median(r[index] for r in results["asyncpg"])
        p = statistics.median(r[index] for r in results["psycopg"])
        return f"{label + ' (' + unit + ')':24}{cells[0]:>24}{cells[1]:>24}{p / a:8.2f}"

    print(
        f"asyncpg {asyncpg.__version__}, psycopg {psycopg.__version__}, uvloop;"
        f" median (min-max) of {RUNS} runs, drivers interleaved"
    )
    print(f"{'':24}{'asyncpg':>24}{'psycopg 3':>24}{'ratio':>8}")
    print(line("prepared PK lookup", 0, 1e6, "us"))
    print(line(f"batch of {BATCH} rows", 1, 1e3, "ms"))


uvloop.run(main())
