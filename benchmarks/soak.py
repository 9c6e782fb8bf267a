"""The soak: ``ccms serve`` under steady load for a long time. Run by ``make soak``, never
by ``make test``.

    python benchmarks/soak.py [--minutes 30] [--agents 10000] [--out benchmarks/SOAK.md]

One server (1 worker, SQLite) holding ``--agents`` agents loaded through the intake. While
an intake poster sends a batch of events every half second for the whole run, wrk measures
the query capacity (unpaced, 10 s), then holds 70% of it, pacing each connection, for
``--minutes``, in windows of 5 minutes (1 minute for runs under 10 minutes). Each window
has its own pre-signed requests (a signature lives 900 s) and reports its rate, p50 and
p99, its errors (socket errors, non-2xx answers, answers that are not a success envelope,
failed intake batches) and the server's RSS at its end, whole and its anonymous part (the
process's own memory, without the store's file mapped for reading). The report,
``SOAK.md``, holds the figures of this run and the targets: no error, growth of the
process's own memory under 5% (from the end of the first window to the end of the last),
last window's p99 within 20% of the first's. ``--report soak.json`` writes the report of a
run again.

Loopback only, every step bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import run  # the benchmarks' own helpers (benchmarks/run.py)
from run import (
    AK,
    EVENTS_PATH,
    HERE,
    QUERY_PATH,
    ccms_server,
    check_requests,
    load_through_intake,
    log,
    machine,
    requests_file,
    signed,
)

from ccms.settings import Settings

MMAP_MB = Settings().sqlite_mmap_mb  # the server runs with the default
CONNECTIONS = 16
CAPACITY_S = 10
CALIBRATE_S = 10
LOAD_SHARE = 0.7
INTAKE_BATCH = 100
INTAKE_EVERY_S = 0.5


@dataclass
class Intake:
    """Posts a batch of ``INTAKE_BATCH`` events every ``INTAKE_EVERY_S`` until stopped;
    counts the batches and the failures (anything but ``0100000``, or no answer)."""

    url: str
    sk: str
    agents: int
    batches: int = 0
    failures: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        host = httpx.URL(self.url).netloc.decode()
        n = 0
        with httpx.Client(timeout=10) as client:
            while not self.stop.wait(INTAKE_EVERY_S):
                events = []
                for _ in range(INTAKE_BATCH):
                    agent = n % self.agents
                    events.append({"eventId": f"soak-{n}", "ccId": 1, "vdn": run.vdn_of(agent),
                                   "agentId": run.work_no(agent), "at": int(time.time() * 1000),
                                   "ctiStatus": 1 + n % 7})  # fmt: skip
                    n += 1
                body, authorization = signed(self.sk, EVENTS_PATH, host, {"events": events})
                headers = {"content-type": "application/json", "authorization": authorization}
                try:
                    answer = client.post(self.url + EVENTS_PATH, content=body, headers=headers)
                    ok = answer.status_code == 200 and answer.json()["resultCode"] == "0100000"
                except (httpx.HTTPError, ValueError):
                    ok = False
                self.batches += 1
                self.failures += not ok

    def snapshot(self) -> tuple[int, int]:
        return self.batches, self.failures


def anon_rss_mb(pid: int) -> float:
    """The anonymous part of RSS (the heap; RSS also counts the SQLite file's mapped pages)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used, from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, requests: Path, seconds: float, delay_ms: float) -> dict[str, float]:
    env = {
        **os.environ, "CCMS_BENCH_REQUESTS": str(requests), "CCMS_BENCH_PATH": QUERY_PATH,
        "CCMS_BENCH_HOST": httpx.URL(url).netloc.decode(), "CCMS_SOAK_DELAY_MS": f"{delay_ms:.3f}",
    }  # fmt: skip
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--timeout", "5s",
               "-s", str(HERE / "soak.lua"), url]  # fmt: skip
    output = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    line = next(x for x in output.stdout.splitlines() if x.startswith("CCMS_RESULT "))
    raw = json.loads(line.removeprefix("CCMS_RESULT "))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["socket_errors"] + raw["non_2xx"] + raw["failed"],
    }


def soak(minutes: float, agents: int, work: Path) -> dict[str, Any]:
    sk = secrets.token_urlsafe(32)
    creds = work / "credentials.toml"
    creds.write_text(f'[[access_key]]\nak = "{AK}"\nsk = "{sk}"\nroles = ["admin"]\n', "utf-8")
    creds.chmod(0o600)
    window_s = 300 if minutes >= 10 else 60
    windows = max(1, round(minutes * 60 / window_s))
    with ccms_server(work, work / "soak.db", creds, workers=1) as server:
        assert server.proc is not None
        url = f"http://127.0.0.1:{server.port}"
        host = httpx.URL(url).netloc.decode()
        log(f"soak: loading {agents:,} agents through the intake")
        load_through_intake(url, sk, agents)
        intake = Intake(url, sk, agents)
        poster = threading.Thread(target=intake.run, daemon=True)
        poster.start()
        try:
            requests = requests_file(work / "requests.txt", sk, host, agents)
            check_requests(url, requests)
            capacity = wrk(url, requests, CAPACITY_S, 0)
            target = capacity["rps"] * LOAD_SHARE
            log(
                f"soak: capacity {capacity['rps']:,.0f} req/s with the intake; target {target:,.0f}"
            )
            # pacing: rate = connections / (delay + latency); one calibration run
            delay_ms = CONNECTIONS / target * 1000
            calibration = wrk(url, requests, CALIBRATE_S, delay_ms)
            latency_ms = CONNECTIONS / calibration["rps"] * 1000 - delay_ms
            delay_ms = max(0.0, CONNECTIONS / target * 1000 - latency_ms)
            log(
                f"soak: {calibration['rps']:,.0f} req/s at {CONNECTIONS / target * 1000:.2f} ms; delay now {delay_ms:.2f} ms"
            )
            rss_start = server.worker_rss_mb()[0]
            cpu_start = cpu_seconds(server.proc.pid)
            results = []
            for number in range(1, windows + 1):
                requests = requests_file(work / "requests.txt", sk, host, agents)
                before = intake.snapshot()
                figures = wrk(url, requests, window_s, delay_ms)
                after = intake.snapshot()
                figures["intake_batches"] = after[0] - before[0]
                figures["intake_failures"] = after[1] - before[1]
                figures["rss_mb"] = server.worker_rss_mb()[0]
                figures["anon_rss_mb"] = anon_rss_mb(server.proc.pid)
                figures["server_cpu_s"] = cpu_seconds(server.proc.pid)
                figures["load_1m"] = os.getloadavg()[0]
                results.append(figures)
                log(
                    f"soak window {number}/{windows}: {figures['rps']:,.0f} req/s, p99 {figures['p99_ms']:.2f} ms, errors {figures['errors']:.0f}+{figures['intake_failures']}, RSS {figures['rss_mb']:.1f} MB"
                )
        finally:
            intake.stop.set()
            poster.join(15)
    return {
        "machine": machine(), "minutes": minutes, "window_s": window_s, "agents": agents,
        "connections": CONNECTIONS, "capacity": capacity, "target_rps": target,
        "delay_ms": delay_ms, "rss_start_mb": rss_start, "cpu_start_s": cpu_start,
        "windows": results,
        "intake": {"batch": INTAKE_BATCH, "every_s": INTAKE_EVERY_S},
    }  # fmt: skip


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(r: dict[str, Any]) -> str:
    m, windows = r["machine"], r["windows"]
    first, last = windows[0], windows[-1]
    errors = sum(w["errors"] + w["intake_failures"] for w in windows)
    growth = last["rss_mb"] / first["rss_mb"] - 1
    anon = last["anon_rss_mb"] / first["anon_rss_mb"] - 1
    drift = last["p99_ms"] / first["p99_ms"] - 1
    unit = "5-minute" if r["window_s"] == 300 else "1-minute"
    title = "# Soak" if r["minutes"] >= 30 else f"# Soak (short run: {r['minutes']:g} minutes)"
    lines = [
        title,
        "",
        f"Measured {m['date']} by `make soak` on {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gib']} GiB, Linux {m['kernel']}; Python {m['python']}, ccms {m['ccms']}, "
        f"uvicorn {m['uvicorn']}, SQLite {m['sqlite']}, {m['wrk']}. Every figure below is of "
        "this run.",
        "",
        *(
            [
                f"This is a short run ({r['minutes']:g} minutes, `make soak "
                f"SOAK_MINUTES={r['minutes']:g}`), a check that the soak works, not the "
                "30-minute soak the targets are set for.",
                "",
            ]
            if r["minutes"] < 30
            else []
        ),
        f"`ccms serve` (1 worker, SQLite) with {r['agents']:,} agents loaded through the "
        f"intake. An intake poster sends {r['intake']['batch']} events every "
        f"{r['intake']['every_s']} s for the whole run. Query capacity with the intake "
        f"running (wrk, {r['connections']} connections, unpaced, {CAPACITY_S} s): "
        f"**{r['capacity']['rps']:,.0f} req/s** (p99 {r['capacity']['p99_ms']:.2f} ms). The "
        f"soak holds {LOAD_SHARE:.0%} of it, {r['target_rps']:,.0f} req/s, each connection "
        f"waiting {r['delay_ms']:.2f} ms between two requests, in {len(windows)} {unit} "
        "windows, each with freshly signed queries for random agents.",
        "",
        "| window | requests | req/s | p50 ms | p99 ms | query errors | intake batches | intake failures | RSS MB at its end | of it anonymous MB | server CPU s | machine load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    cpu = r["cpu_start_s"]
    for number, w in enumerate(windows, 1):
        lines.append(
            f"| {number} | {w['requests']:,.0f} | {w['rps']:,.0f} | {w['p50_ms']:.2f} | "
            f"{w['p99_ms']:.2f} | {w['errors']:.0f} | {w['intake_batches']} | "
            f"{w['intake_failures']} | {w['rss_mb']:.1f} | {w['anon_rss_mb']:.1f} | "
            f"{w['server_cpu_s'] - cpu:.1f} | "
            f"{w['load_1m']:.1f} |"
        )
        cpu = w["server_cpu_s"]
    lines += [
        "",
        f"RSS before the first window: {r['rss_start_mb']:.1f} MB. RSS counts the pages of "
        "the SQLite file the server reads through memory mapping (`sqlite_mmap_mb`), which "
        "grow with the store; the anonymous part is the process's own memory, where a leak "
        "would show. Server CPU is the CPU time "
        "the server process used in the window; the machine load is the 1-minute load average "
        f"at the window's end, on {m['cores']} cores: the machine may be shared, and a load "
        "above the core count means other processes took CPU from the server and from wrk.",
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
        f"| no error (queries and intake) | {errors:.0f} | {verdict(errors == 0)} |",
        f"| memory growth under 5% (the process's own memory, end of window 1 to end of "
        f"window {len(windows)}) | {anon:+.1%} ({first['anon_rss_mb']:.1f} -> "
        f"{last['anon_rss_mb']:.1f} MB) | {verdict(anon < 0.05)} |",
        f"| last window's p99 within 20% of the first's | {first['p99_ms']:.2f} -> "
        f"{last['p99_ms']:.2f} ms ({drift:+.0%}) | {verdict(abs(drift) <= 0.2)} |",
        "",
        f"The whole RSS grew {growth:+.1%} ({first['rss_mb']:.1f} -> {last['rss_mb']:.1f} MB): "
        "the growth that is not the process's own memory is pages of the store's file, "
        "mapped for reading (`RssFile`), more of them as the file grows with the events the "
        "intake keeps. They are the kernel's page cache, which it takes back when it needs the "
        f"memory, and SQLite maps at most `sqlite_mmap_mb` ({MMAP_MB} MB by default) of the "
        "file: a leak shows in the process's own memory, so the target is judged on it.",
        "",
        "Raw figures: `soak.json`.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=HERE / "SOAK.md")
    parser.add_argument(
        "--report", type=Path, metavar="JSON", help="write the report of a run's soak.json again"
    )
    args = parser.parse_args()
    if args.report is not None:
        args.out.write_text(report(json.loads(args.report.read_text("utf-8"))), encoding="utf-8")
        log(f"soak: wrote {args.out} from {args.report}")
        return 0
    if not 1 <= args.minutes <= 240:
        print("soak: --minutes must be 1 to 240", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ccms-soak-") as tmp:
        results = soak(args.minutes, args.agents, Path(tmp))
    args.out.write_text(report(results), encoding="utf-8")
    args.out.with_name("soak.json").write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    log(f"soak: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
