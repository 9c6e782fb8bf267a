"""The live stream's benchmark (``run.py --only stream``): delivery latency, memory per idle
subscriber, and the query routes' throughput while streams are open.

Every figure comes from this run. A scenario starts fresh servers on a store of one VDN of
1,000 agents, opens the subscribers (``stream_load.py`` processes: raw sockets, one event
loop each), measures the servers' RSS before and after they connected, then posts status
changes at a fixed rate, one event a request, noting when each was acknowledged. The
latency of a change for a subscriber is the time from its acknowledgement to the arrival of
its bytes (a change that arrived before the poster read its acknowledgement counts 0 ms);
every subscriber must get every change. Everything runs on loopback and stops by itself.

With ``--against REV``, the same scenario at 1,000 subscribers and 50 changes/s also runs
on the servers of revision REV, alternating with this tree's on the same store, so that
memory and latency compare side by side in one run.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from run import (
    COMMANDS,
    HERE,
    Server,
    baseline_server,
    ccms_server,
    check_requests,
    export_revision,
    log,
    median_of,
    pg_drop,
    pg_store,
    post_events,
    requests_file,
    revision_server,
    run_wrk,
    signed,
)

from ccms.client import Client

AGENTS = 1_000
EVENTS_PATH = "/ccms/v1/events"
TOKENS_PATH = "/ccms/v1/tokens"
# Server settings for the run: room for a thousand streams of one key.
SERVER_FLAGS: list[str] = []
SERVER_ENV = {"CCMS_STREAM_MAX_PER_KEY": "5000"}
READY_DEADLINE_S = 120.0
TAIL_S = 5.0  # after the last post: the changes still arriving, until none came for this long
POSTER_CONNECTIONS = 32


def _floor(url: str, sk: str) -> None:
    """1,000 agents in VDN 1, signed in and idle."""
    at = int(time.time() * 1000) - 60_000
    events = [
        {"eventId": f"floor-{n}", "ccId": 1, "vdn": 1, "agentId": 101 + n, "at": at,
         "ctiStatus": 1, "name": f"Agent {101 + n}", "skills": [1 + n % 4]}
        for n in range(AGENTS)
    ]  # fmt: skip
    post_events(url, sk, events)


def _token(url: str, ak: str, sk: str) -> str:
    with Client(url, ak, sk) as cms:
        return cms.create_view_token(cc_id=1, vdn=1, ttl_s=3600).token


class Load:
    """``processes`` subscriber processes sharing ``count`` subscribers over ``urls``."""

    def __init__(
        self, work: Path, urls: list[str], count: int, token: str, name: str, query: str = ""
    ) -> None:
        self.outs: list[Path] = []
        self.procs: list[subprocess.Popen[str]] = []
        self.retried = 0  # connections refused with 429 or 503, then tried again
        processes = 2 if count >= 200 else 1
        target = f"/ccms/v1/stream?ccId=1&vdn=1{query}&token={token}"
        for index in range(processes):
            share = count // processes + (1 if index < count % processes else 0)
            out = work / f"{name}-{index}.json"
            command = [sys.executable, str(HERE / "stream_load.py"), "--count", str(share),
                       "--target", target, "--out", str(out), "--max-seconds", "600",
                       *(item for url in urls for item in ("--url", url))]  # fmt: skip
            COMMANDS.append(" ".join(command).replace(token, "TOKEN"))
            self.outs.append(out)
            self.procs.append(
                subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            )

    def ready(self) -> float:
        """Seconds until every subscriber had its snapshot."""
        started = time.monotonic()
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if not line.startswith("READY"):
                self.stop()
                raise RuntimeError(f"subscribers failed: {line or 'no answer'}")
            self.retried += int(line.split()[3])
            if time.monotonic() - started > READY_DEADLINE_S:
                self.stop()
                raise RuntimeError("subscribers were not ready in time")
        return time.monotonic() - started

    def received(self) -> int:
        """Changes received so far, by every subscriber."""
        total = 0
        for proc in self.procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("count\n")
            proc.stdin.flush()
            total += int(proc.stdout.readline().split()[1])
        return total

    def drain(self, expected: int, quiet_s: float = TAIL_S, limit_s: float = 60.0) -> float:
        """Wait until ``expected`` changes arrived, or none for ``quiet_s`` (at most
        ``limit_s``); the seconds it took."""
        started = last_change = time.monotonic()
        count = self.received()
        while count < expected and time.monotonic() - started < limit_s:
            time.sleep(0.2)
            now_count = self.received()
            if now_count != count:
                count, last_change = now_count, time.monotonic()
            elif time.monotonic() - last_change > quiet_s:
                break
        return time.monotonic() - started

    def stop(self) -> list[dict[str, Any]]:
        """End the subscribers; what each received."""
        received: list[dict[str, Any]] = []
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc, out in zip(self.procs, self.outs, strict=True):
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if out.exists():
                received += orjson.loads(out.read_bytes()).get("subscribers", [])
                out.unlink()
        return received


class Poster:
    """Status changes at a fixed rate, one event a request: each flips its agent between
    idle and talking (a repeated status would be no change), across scenarios. An agent's
    next event waits for the acknowledgement of its last: requests in flight together may
    be applied in any order, and a feed keeps an agent's events in order."""

    def __init__(self) -> None:
        self.status = dict.fromkeys(range(101, 101 + AGENTS), 1)  # as _floor leaves them
        self.count = 0
        self.elapsed = 0.0  # seconds the last run took to have every change acknowledged

    async def run(
        self, urls: list[str], sk: str, rate: float, seconds: float
    ) -> dict[int, tuple[float, float]]:
        """``at`` of each change -> (sent, acknowledged), monotonic seconds."""
        marks: dict[int, tuple[float, float]] = {}
        base = int(time.time() * 1000)
        hosts = [httpx.URL(url).netloc.decode() for url in urls]
        limits = httpx.Limits(max_connections=POSTER_CONNECTIONS)
        timeout = httpx.Timeout(30, pool=None)  # a post waits its turn: the rate is measured
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

            async def post(
                n: int, work_no: int, status: int, after: asyncio.Task[None] | None
            ) -> None:
                if after is not None:  # an agent's events in order, as a feed sends them
                    await after
                url, host = urls[n % len(urls)], hosts[n % len(hosts)]
                event = {"eventId": f"chg-{base}-{n}", "ccId": 1, "vdn": 1, "agentId": work_no,
                         "at": base + n, "ctiStatus": status}  # fmt: skip
                body, authorization = signed(sk, EVENTS_PATH, host, {"events": [event]})
                headers = {"content-type": "application/json", "authorization": authorization}
                sent = time.monotonic()
                try:
                    answer = await client.post(url + EVENTS_PATH, content=body, headers=headers)
                except httpx.TransportError:  # a keep-alive connection the server had closed
                    answer = await client.post(url + EVENTS_PATH, content=body, headers=headers)
                marks[base + n] = (sent, time.monotonic())
                desc = answer.json().get("resultDesc")
                # sent again after a cut: idempotent by eventId, a duplicate if it was applied
                # (a refusal, 429 or 503 under load, has a text for resultDesc)
                if not isinstance(desc, dict) or (
                    desc.get("accepted", 0) + desc.get("duplicates", 0) != 1
                ):
                    raise RuntimeError(f"intake refused a change: {answer.text}")

            started = time.monotonic()
            last: dict[int, asyncio.Task[None]] = {}
            for n in range(int(rate * seconds)):
                work_no = 101 + self.count % AGENTS
                self.count += 1
                self.status[work_no] = 5 if self.status[work_no] == 1 else 1
                delay = started + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = post(n, work_no, self.status[work_no], last.get(work_no))
                last[work_no] = asyncio.create_task(task)
            await asyncio.gather(*last.values())
        self.elapsed = time.monotonic() - started
        return marks


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _latencies(
    marks: dict[int, tuple[float, float]], received: list[dict[str, Any]]
) -> dict[str, Any]:
    acked: list[float] = []
    sent: list[float] = []
    early = missing = extra = resets = 0
    for sub in received:
        resets += sub["resets"]
        seen = dict(zip(sub["ats"], sub["times"], strict=True))
        for at, (posted, ack) in marks.items():
            got = seen.get(at)
            if got is None:
                missing += 1
                continue
            if got < ack:
                early += 1
            acked.append(max(0.0, got - ack) * 1000)
            sent.append((got - posted) * 1000)
        extra += len(sub["ats"]) - len(set(sub["ats"]))
    expected = len(marks) * len(received)

    def pct(values: list[float], share: float) -> float | None:
        return _percentile(values, share) if values else None

    return {
        "p50_ms": pct(acked, 0.5), "p99_ms": pct(acked, 0.99),
        "max_ms": max(acked) if acked else None,
        "sent_p50_ms": pct(sent, 0.5), "sent_p99_ms": pct(sent, 0.99),
        "delivered": len(acked), "expected": expected, "missing": missing,
        "duplicates": extra, "before_ack": early, "resets": resets,
    }  # fmt: skip


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of rounds of a scenario: the medians of its figures, the sums of its counts,
    the memory figures of the first round, and each round's latencies."""
    if len(rounds) == 1:
        return {**rounds[0], "rounds": 1}
    row = dict(rounds[0])
    for key in ("p50_ms", "p99_ms", "max_ms", "sent_p50_ms", "sent_p99_ms", "achieved_rate"):
        values = [r[key] for r in rounds if r[key] is not None]
        row[key] = statistics.median(values) if values else None
    for key in ("delivered", "expected", "missing", "duplicates", "before_ack", "resets",
                "connect_retries", "changes"):  # fmt: skip
        row[key] = sum(r[key] for r in rounds)
    row["rounds"] = len(rounds)
    row["each"] = [{k: r[k] for k in ("p50_ms", "p99_ms", "achieved_rate", "kb_per_subscriber")}
                   for r in rounds]  # fmt: skip
    return row


def _rss_kb(servers: list[Server]) -> float:
    return sum(sum(server.worker_rss_mb()) for server in servers) * 1024


def _scenario(
    servers: list[Server], work: Path, sk: str, token: str, name: str,
    subscribers: int, rate: float, seconds: float, poster: Poster,
) -> dict[str, Any]:  # fmt: skip
    urls = [f"http://127.0.0.1:{server.port}" for server in servers]
    time.sleep(1.0)
    rss_before = _rss_kb(servers)
    load = Load(work, urls, subscribers, token, name)
    try:
        connect_s = load.ready()
        time.sleep(2.0)  # the snapshots written out, the subscribers idle
        rss_after = _rss_kb(servers)
        marks = asyncio.run(poster.run(urls[:1], sk, rate, seconds))
        drain_s = load.drain(len(marks) * subscribers)
    finally:
        received = load.stop()
    time.sleep(2.0)
    rss_gone = _rss_kb(servers)  # the subscribers gone: what the process kept anyway
    figures = _latencies(marks, received)
    snapshot_kb = sum(sub["snapshot_bytes"] for sub in received) / max(1, len(received)) / 1024
    result = {
        "name": name, "subscribers": subscribers, "rate": rate, "seconds": seconds,
        "changes": len(marks), "achieved_rate": len(marks) / poster.elapsed,
        "connect_retries": load.retried, "drain_s": drain_s, "connect_s": connect_s, "rss_before_kb": rss_before,
        "rss_after_kb": rss_after, "kb_per_subscriber": (rss_after - rss_before) / subscribers,
        "rss_gone_kb": rss_gone, "snapshot_kb": snapshot_kb,
        **figures,
    }  # fmt: skip
    log(
        f"stream {name}: {subscribers} subscribers, {rate:g} changes/s: p50 "
        f"{figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, {figures['delivered']}/"
        f"{figures['expected']} delivered, {figures['resets']} resets, {load.retried} connections"
        f" retried, {result['achieved_rate']:.0f} changes/s acknowledged,"
        f" {result['kb_per_subscriber']:.1f} KB a subscriber"
    )
    return result


def _servers(
    work: Path, store: Path | str, creds: Path, backend: str, src: Path | None = None
) -> list[Server]:
    """SQLite: one server of 2 workers; PostgreSQL: two nodes. ``src``: another revision's
    source tree (``--against``), else this tree."""
    env = SERVER_ENV

    def one(workers: int) -> Server:
        if src is not None:
            return revision_server(work, src, store, creds, workers, env=env)
        return ccms_server(work, store, creds, workers=workers, extra=SERVER_FLAGS, env=env)

    if backend == "sqlite":
        return [one(2)]
    return [one(1) for _ in range(2)]


def run(
    work: Path, ak: str, sk: str, creds: Path, pg_url: str | None, quick: bool,
    against: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    seconds = 3.0 if quick else 10.0
    # (subscribers, changes/s, rounds): the targets' row three times, its medians reported
    plans = [(1_000, 50.0, 3), (100, 50.0, 1), (1_000, 200.0, 1)]
    if quick:
        plans = [(200, 50.0, 1), (50, 50.0, 1), (200, 200.0, 1)]
    results: dict[str, Any] = {"agents": AGENTS, "seconds": seconds, "scenarios": []}
    before_src = None
    if against:
        before_src = export_revision(against, work / "before")
        label = subprocess.run(
            ["git", "-C", str(HERE.parent), "rev-parse", "--short", against],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        results["before_after"] = {"revision": label, "rows": []}
    backends = ["sqlite", "postgresql"] if pg_url else ["sqlite"]
    for backend in backends:
        store: Path | str
        if backend == "sqlite":
            store = work / "stream.db"
        else:
            store = pg_store(pg_url or "", "ccms_bench_stream")
        with ccms_server(work, store, creds, workers=1, env=SERVER_ENV) as first:
            _floor(f"http://127.0.0.1:{first.port}", sk)
        poster = Poster()
        for subscribers, rate, repeats in plans:
            rounds = []
            for round_no in range(repeats):
                servers = _servers(work, store, creds, backend)
                for server in servers:
                    server.__enter__()
                try:
                    token = _token(f"http://127.0.0.1:{servers[0].port}", ak, sk)
                    name = f"{backend}-{subscribers}-{rate:g}-{round_no + 1}"
                    rounds.append(_scenario(servers, work, sk, token, name, subscribers, rate,
                                            seconds, poster))  # fmt: skip
                finally:
                    for server in servers:
                        server.__exit__()
            results["scenarios"].append({"backend": backend, **_medians(rounds)})
        if before_src is not None:
            results["before_after"]["rows"] += _before_after(
                work, sk, ak, creds, store, backend, before_src, poster, seconds, quick
            )
        if backend == "sqlite":
            results["idle_one_agent"] = _idle_memory(
                work, ak, sk, creds, store, 200 if quick else 1_000
            )
            results["memory_rounds"] = _memory_rounds(
                work, ak, sk, creds, store, 200 if quick else 1_000
            )
            results["query"] = _query_with_streams(work, sk, ak, creds, store, quick)
        else:
            pg_drop(pg_url or "", "ccms_bench_stream")
    return results


def _before_after(
    work: Path, sk: str, ak: str, creds: Path, store: Path | str, backend: str,
    before_src: Path, poster: Poster, seconds: float, quick: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """The targets' scenario on revision ``--against``'s servers and on this tree's,
    alternating round by round on the same store; the medians of each."""
    subscribers, rate, repeats = (200, 50.0, 1) if quick else (1_000, 50.0, 2)
    rounds: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for round_no in range(repeats):
        for name in rounds:
            servers = _servers(
                work, store, creds, backend, before_src if name == "before" else None
            )
            for server in servers:
                server.__enter__()
            try:
                token = _token(f"http://127.0.0.1:{servers[0].port}", ak, sk)
                label = f"{backend}-{name}-{subscribers}-{rate:g}-{round_no + 1}"
                rounds[name].append(_scenario(servers, work, sk, token, label, subscribers,
                                              rate, seconds, poster))  # fmt: skip
            finally:
                for server in servers:
                    server.__exit__()
    return [{"backend": backend, "server": name, **_medians(found)}
            for name, found in rounds.items()]  # fmt: skip


def _idle_memory(
    work: Path, ak: str, sk: str, creds: Path, store: Path | str, count: int
) -> dict[str, Any]:
    """RSS per idle subscriber of a stream filtered to one agent: the cost of an open
    stream itself, without the 1,000-agent snapshot each subscriber of the VDN is sent."""
    with ccms_server(work, store, creds, workers=2, extra=SERVER_FLAGS, env=SERVER_ENV) as server:
        url = f"http://127.0.0.1:{server.port}"
        time.sleep(1.0)
        before = _rss_kb([server])
        load = Load(work, [url], count, _token(url, ak, sk), "idle", "&agents=101")
        try:
            load.ready()
            time.sleep(2.0)
            after = _rss_kb([server])
        finally:
            load.stop()
    figure = (after - before) / count
    log(f"stream idle, one agent each: {count} subscribers, {figure:.1f} KB a subscriber")
    return {"subscribers": count, "rss_before_kb": before, "rss_after_kb": after,
            "kb_per_subscriber": figure}  # fmt: skip


def _memory_rounds(
    work: Path, ak: str, sk: str, creds: Path, store: Path | str, count: int, rounds: int = 3
) -> dict[str, Any]:
    """RSS (KB) at start, then with ``count`` subscribers of the whole VDN and after they
    left, ``rounds`` times on one server: growth that comes back each round is held per
    subscriber; growth that does not is memory the process keeps and uses again."""
    steps: list[tuple[str, float]] = []
    with ccms_server(work, store, creds, workers=2, extra=SERVER_FLAGS, env=SERVER_ENV) as server:
        url = f"http://127.0.0.1:{server.port}"
        time.sleep(1.0)
        steps.append(("start", _rss_kb([server])))
        token = _token(url, ak, sk)
        for round_no in range(1, rounds + 1):
            load = Load(work, [url], count, token, f"memory-{round_no}")
            try:
                load.ready()
                time.sleep(2.0)
                steps.append((f"connected {round_no}", _rss_kb([server])))
            finally:
                load.stop()
            time.sleep(2.0)
            steps.append((f"left {round_no}", _rss_kb([server])))
    log("stream memory rounds: " + ", ".join(f"{n} {kb / 1024:.0f} MB" for n, kb in steps))
    return {"subscribers": count, "steps": steps}


def _query_with_streams(
    work: Path, sk: str, ak: str, creds: Path, store: Path | str, quick: bool
) -> dict[str, Any]:
    """Agent-detail throughput: the raw baseline, ccms, and ccms with streams open (idle),
    alternating for a few rounds; medians."""
    seconds, rounds = (3, 1) if quick else (8, 3)
    streams = 200 if quick else 1_000
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "ccms": [], "ccms_streams": []}
    still_open = []
    for _ in range(rounds):
        with baseline_server(work, 2) as base:
            url = f"http://127.0.0.1:{base.port}"
            host = httpx.URL(url).netloc.decode()
            requests = requests_file(work / "stream-q-base.txt", sk, host, AGENTS)
            run_wrk(url, requests, 2)
            runs["baseline"].append(run_wrk(url, requests, seconds))
        with ccms_server(work, store, creds, workers=2, extra=SERVER_FLAGS, env=SERVER_ENV) as ccms:
            url = f"http://127.0.0.1:{ccms.port}"
            requests = requests_file(work / "stream-q.txt", sk, httpx.URL(url).netloc.decode(),
                                     AGENTS)  # fmt: skip
            check_requests(url, requests)
            run_wrk(url, requests, 2)
            runs["ccms"].append(run_wrk(url, requests, seconds))
            load = Load(work, [url], streams, _token(url, ak, sk), "query")
            try:
                load.ready()
                time.sleep(2.0)
                runs["ccms_streams"].append(run_wrk(url, requests, seconds))
            finally:
                received = load.stop()
            still_open.append(sum(1 for sub in received if not sub["closed"]))
    medians = {name: median_of(values) for name, values in runs.items()}
    result = {
        "streams": streams, "seconds": seconds, "rounds": rounds, "still_open": min(still_open),
        "runs": runs, **medians,
        "ratio": medians["ccms"]["rps"] / medians["baseline"]["rps"],
        "ratio_streams": medians["ccms_streams"]["rps"] / medians["baseline"]["rps"],
    }  # fmt: skip
    log(
        f"stream query: baseline {medians['baseline']['rps']:.0f}, ccms "
        f"{medians['ccms']['rps']:.0f}, with {streams} streams "
        f"{medians['ccms_streams']['rps']:.0f} req/s"
    )
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(stream: dict[str, Any], verdict: Any) -> list[str]:
    """The "Live stream" section of RESULTS.md."""
    lines = [
        "## Live stream",
        "",
        f"One VDN of {stream['agents']:,} agents. Subscribers: `stream_load.py` processes "
        "(raw sockets, one event loop each; two processes from 200 subscribers) holding the "
        "streams of a view token; a poster sends one status change a request at a fixed rate "
        f"for {stream['seconds']:g} s, each flipping an agent between idle and talking. "
        "Latency: from the poster reading the change's acknowledgement to the change's bytes "
        "reaching a subscriber (a change that arrived first counts 0 ms), over every change "
        'and every subscriber; "from send" counts from the moment the poster sent the '
        "event, so it includes the intake's commit. SQLite: `ccms serve --workers 2`; "
        "PostgreSQL: two `ccms serve` nodes on one database (same machine), the subscribers "
        "split over both, the poster on the first. Fresh servers for each row. Memory: the "
        "servers' RSS once the subscribers had their snapshots and sat idle for 2 s, minus "
        "before they connected, per subscriber. After the last post the run waits until no "
        f'change arrived for {TAIL_S:g} s (at most 60 s): "delivered" counts what arrived '
        'by then. "Changes/s" is the rate asked for, and in brackets the rate the intake '
        "acknowledged (a post waits for one of 32 connections). Everything shares the "
        "machine's cores.",
        "",
        "| store | subscribers | changes/s (acknowledged) | p50 ms | p99 ms | max ms | from send "
        "p50 / p99 ms | arrived before the ack | delivered | slow-consumer resets | connections "
        "retried (429, 503) | KB per subscriber |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in stream["scenarios"]:
        share = s["before_ack"] / s["delivered"] if s["delivered"] else 0.0
        lines.append(
            f"| {s['backend']} | {s['subscribers']:,} | {s['rate']:g} "
            f"({s['achieved_rate']:.0f}) | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | "
            f"{_ms(s['max_ms'])} | {_ms(s['sent_p50_ms'])} / {_ms(s['sent_p99_ms'])} | "
            f"{share:.0%} | {s['delivered']:,} of {s['expected']:,} | {s['resets']} | "
            f"{s['connect_retries']} | {s['kb_per_subscriber']:.1f} |"
        )
    lines.append("")
    for s in stream["scenarios"]:
        if s.get("rounds", 1) > 1:
            each = "; ".join(f"p50 {_ms(r['p50_ms'])}, p99 {_ms(r['p99_ms'])} ms"
                             for r in s["each"])  # fmt: skip
            lines += [
                f"{s['backend']}, {s['subscribers']:,} subscribers at {s['rate']:g} changes/s: "
                f"medians of {s['rounds']} rounds (fresh servers each), one by one: {each}.",
                "",
            ]
    for s in stream["scenarios"]:
        if s["subscribers"] != 1_000 or s["rate"] != 50:
            continue
        ok_p50 = s["p50_ms"] is not None and s["p50_ms"] <= 50
        ok_p99 = s["p99_ms"] is not None and s["p99_ms"] <= 250
        complete = s["delivered"] == s["expected"] and not s["duplicates"]
        lines += [
            f"{s['backend']}, 1,000 subscribers at 50 changes/s: p50 {_ms(s['p50_ms'])} ms "
            f"(target at most 50: {verdict(ok_p50)}), p99 {_ms(s['p99_ms'])} ms (target at "
            f"most 250: {verdict(ok_p99)}); every change to every subscriber, once: "
            f"{verdict(complete)}; {s['kb_per_subscriber']:.1f} KB per idle subscriber "
            f"(target at most 64: {verdict(s['kb_per_subscriber'] <= 64)}).",
            "",
        ]
    for s in stream["scenarios"]:
        if s["achieved_rate"] < 0.9 * s["rate"]:
            lines += [
                f"{s['backend']}, {s['subscribers']:,} subscribers at {s['rate']:g} changes/s "
                f"asked: the intake acknowledged {s['achieved_rate']:.0f} a second. Each "
                f"change is {s['subscribers']:,} writes for the servers and as many reads for "
                "the subscriber processes, on the same cores as the intake: the machine is "
                "saturated, and the latencies of this row are those of a saturated machine.",
                "",
            ]
    for s in stream["scenarios"]:
        if s["subscribers"] == 1_000 and s["rate"] == 50:
            kept = (s["rss_gone_kb"] - s["rss_before_kb"]) / 1024
            grown = (s["rss_after_kb"] - s["rss_before_kb"]) / 1024
            lines += [
                f"{s['backend']}: the servers grew by {grown:,.0f} MB with the 1,000 "
                f"subscribers and were still {kept:,.0f} MB above their start 2 s after all "
                "of them had left.",
                "",
            ]
    lines += _before_after_report(stream)
    idle = stream.get("idle_one_agent")
    if idle:
        lines += [
            f"Idle subscribers of a stream filtered to one agent (a snapshot of one agent): "
            f"{idle['kb_per_subscriber']:.1f} KB each at {idle['subscribers']:,} (SQLite, "
            "`--workers 2`): what an open stream itself costs, apart from the snapshot the "
            "server writes to each subscriber of the whole VDN.",
            "",
        ]
    rounds = stream.get("memory_rounds")
    if rounds:
        mb = [(name, kb / 1024) for name, kb in rounds["steps"]]
        lines += [
            f"The same server, {rounds['subscribers']:,} subscribers of the whole VDN "
            "connecting and leaving again, RSS (SQLite, `--workers 2`): "
            + ", ".join(f"{name} {value:,.0f} MB" for name, value in mb)
            + ".",
            "",
        ]
    q = stream.get("query")
    if q:
        lines += [
            f"Agent-detail throughput (wrk as in the query section: 32 connections, "
            f"{q['seconds']} s a run, medians of {q['rounds']} alternating rounds) on the "
            f"SQLite store above, with {q['streams']:,} idle streams open on the same server:",
            "",
            "| server | requests/s | p50 ms | p99 ms | ratio to baseline |",
            "|---|---|---|---|---|",
            f"| raw ASGI baseline | {q['baseline']['rps']:,.0f} | "
            f"{q['baseline']['p50_ms']:.2f} | {q['baseline']['p99_ms']:.2f} | 1.00 |",
            f"| ccms, no stream | {q['ccms']['rps']:,.0f} | {q['ccms']['p50_ms']:.2f} | "
            f"{q['ccms']['p99_ms']:.2f} | {q['ratio']:.2f} |",
            f"| ccms, {q['streams']:,} streams open | {q['ccms_streams']['rps']:,.0f} | "
            f"{q['ccms_streams']['p50_ms']:.2f} | {q['ccms_streams']['p99_ms']:.2f} | "
            f"{q['ratio_streams']:.2f} |",
            "",
            f"With the streams open the ratio moves by {q['ratio_streams'] - q['ratio']:+.2f} "
            f"(target unchanged, within a tenth: {verdict(q['ratio_streams'] >= 0.9 * q['ratio'])};"
            f" {q['still_open']:,} of {q['streams']:,} streams still open at the end of each "
            "round).",
            "",
        ]
    return lines


def _before_after_report(stream: dict[str, Any]) -> list[str]:
    ba = stream.get("before_after")
    if not ba or not ba["rows"]:
        return []
    rev = ba["revision"]
    lines = [
        f"Before and after, side by side in this run: revision {rev} (before) and this tree "
        "(after), the same scenario on the same store, fresh servers for each round, the "
        "rounds alternating; medians of the rounds, the KB of each round in brackets.",
        "",
        "| store | server | subscribers | changes/s | p50 ms | p99 ms | delivered | KB per "
        "subscriber (each round) | MB still held 2 s after they left | seconds until every "
        "snapshot arrived |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ba["rows"]:
        kbs = [e["kb_per_subscriber"] for e in r.get("each", [r])]
        r["kb_median"] = statistics.median(kbs)
        each = ", ".join(f"{kb:.1f}" for kb in kbs)
        kept = (r["rss_gone_kb"] - r["rss_before_kb"]) / 1024
        server = f"before ({rev})" if r["server"] == "before" else "after"
        lines.append(
            f"| {r['backend']} | {server} | {r['subscribers']:,} | {r['rate']:g} | "
            f"{_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {r['delivered']:,} of "
            f"{r['expected']:,} | {r['kb_median']:.1f} ({each}) | {kept:,.0f} | "
            f"{r['connect_s']:.1f} |"
        )
    lines.append("")
    by = {(r["backend"], r["server"]): r for r in ba["rows"]}
    for backend in dict.fromkeys(r["backend"] for r in ba["rows"]):
        before, after = by.get((backend, "before")), by.get((backend, "after"))
        if before and after and after["kb_median"] > 0:
            ratio = before["kb_median"] / after["kb_median"]
            lines += [
                f"{backend}: {before['kb_median']:.1f} KB per idle subscriber before, "
                f"{after['kb_median']:.1f} after ({ratio:.1f} times less; target at most 64: "
                f"{'met' if after['kb_median'] <= 64 else '**missed**'}).",
                "",
            ]
    return lines


def analysis(stream: dict[str, Any]) -> list[str]:
    """Why a missed target of the stream is missed, from this run's figures."""
    lines: list[str] = []
    for s in stream["scenarios"]:
        if s["subscribers"] != 1_000 or s["rate"] != 50:
            continue
        name = "SQLite" if s["backend"] == "sqlite" else "PostgreSQL"
        if s["p99_ms"] is not None and s["p99_ms"] > 250:
            lines += [
                f"**Stream p99, {name}, {s['p99_ms']:.0f} ms at 1,000 subscribers (target "
                "250).** 50 changes a second to 1,000 subscribers is 50,000 event writes a "
                "second for the servers and as many reads for the subscriber processes, and "
                "both, with the poster, share the machine's cores; the changes come in bursts "
                "(each fans out to every subscriber at once), so the last subscribers of a "
                "burst wait for the CPU. The intake waits too: from the moment the poster sent "
                f"an event its change took {_ms(s['sent_p50_ms'])} ms at the median and "
                f"{_ms(s['sent_p99_ms'])} ms at p99. Next: measure with the subscribers on "
                "another machine, and let a worker write one change to all its subscribers in "
                "one pass of the event loop.",
                "",
            ]
        if s["kb_per_subscriber"] > 64:
            kept = (s["rss_gone_kb"] - s["rss_before_kb"]) / 1024
            rounds = stream.get("memory_rounds")
            grow_again = None
            if rounds and len(rounds["steps"]) >= 4:
                grow_again = (rounds["steps"][3][1] - rounds["steps"][2][1]) / 1024
            idle = stream.get("idle_one_agent", {}).get("kb_per_subscriber")
            lines += [
                f"**Memory per subscriber, {name}, {s['kb_per_subscriber']:.0f} KB (target "
                f"64).** Each subscriber of the whole VDN is sent a snapshot of "
                f"{s['snapshot_kb']:.0f} KB (read and encoded once for the subscribers that "
                "ask together, but copied into each connection's write buffer by the HTTP "
                "server), and the 1,000 subscribers connect together. What the process keeps "
                f"of that burst: {kept:,.0f} MB were still held 2 s after every subscriber had "
                "left"
                + (
                    f", and the next {rounds['subscribers']:,} subscribers grew it by only "
                    f"{grow_again:,.0f} MB"
                    if grow_again is not None
                    else ""
                )
                + (
                    f", and an idle stream with a snapshot of one agent costs {idle:.0f} KB"
                    if idle
                    else ""
                )
                + ". Next: measure the servers' heap with tracemalloc against their RSS, to "
                "tell the objects each stream holds from memory the allocator keeps.",
                "",
            ]
    q = stream.get("query")
    if q and q["ratio_streams"] < 0.9 * q["ratio"]:
        lines += [
            f"**Queries with {q['streams']:,} streams open, ratio {q['ratio_streams']:.2f} "
            f"against {q['ratio']:.2f} without.** Idle streams cost a heartbeat each every "
            "15 s; a difference larger than that is the shared machine's noise or the "
            "event loop's bookkeeping of the open connections.",
            "",
        ]
    return lines
