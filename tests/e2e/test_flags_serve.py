"""Flags against real ``ccms serve`` processes on loopback: a flag raised by time alone,
within a second of its threshold, once with two workers and with two PostgreSQL nodes,
cleared by the agent's next state; a flags file refused at start and on SIGHUP, and a
SIGHUP that ends a raised flag takes it back in the log once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import SRC, Server, wait_until
from tests.integration.http.stream_support import Signer, SseReader, agent_events

pytestmark = pytest.mark.e2e

STREAM = "/ccms/v1/stream"
CHANGES = "/ccms/v1/changes"
TENANT = [("ccId", "1"), ("vdn", "1")]
RINGING = 3
IDLE = 1


def flags_file(folder: Path, text: str) -> Path:
    path = folder / "flags.toml"
    path.write_text(text, encoding="utf-8")
    return path


def now_ms() -> int:
    return int(time.time() * 1000)


def log_entries(server: Server) -> list[dict[str, Any]]:
    """Every entry of the change log, through the long-poll route."""
    signer, cursor, found = Signer(server.url), 0, []
    while True:
        params = [*TENANT, ("since", str(cursor))]
        page = signer.get(CHANGES, params).json()["resultDesc"]
        found += page["changes"]
        if not page["changes"]:
            return found
        cursor = page["nextSeq"]


def metrics(server: Server) -> str:
    return httpx.get(server.url + "/metrics", timeout=5).text


def flag_entries(server: Server) -> list[dict[str, Any]]:
    return [e for e in log_entries(server) if e.get("kind") == "flag"]


def test_a_flag_is_raised_by_time_alone_within_a_second_and_cleared_by_the_next_state(
    server_factory: Any, tmp_path: Path
) -> None:
    path = flags_file(tmp_path, "ringing_s = 2\nenabled = { no-skill = false }\n")
    server = server_factory("--flags-file", str(path)).start()
    signer = Signer(server.url)
    reader = SseReader(server.url, STREAM, TENANT, signer.get_headers(STREAM, TENANT))
    try:
        reader.snapshot()
        at = now_ms()
        signer.events(agent_events("ring", [101], at, RINGING, skills=[1]))
        change = reader.until(lambda b: b.kind == "change").pop().json
        assert change["cur"]["flags"] == []  # not yet: nothing is due at the ring's start
        block = reader.until(lambda b: b.kind == "flag", timeout=10).pop()
        received = now_ms()
        flag = block.json
        assert flag["flag"] == {"name": "ringing-long", "level": "warning", "since": at + 2000}
        assert (flag["at"], flag["raised"], flag["key"]) == (
            at + 2000, True, {"ccId": 1, "vdn": 1, "agentId": 101},
        )  # fmt: skip
        assert block.id == str(flag["seq"]) == str(change["seq"] + 1)
        assert at + 2000 <= received < at + 2000 + 1000, received - at  # within 1 s, no event
        # a snapshot now shows it, and the next state clears it
        _, agents = SseReader(
            server.url, STREAM, TENANT, signer.get_headers(STREAM, TENANT)
        ).snapshot()
        assert agents[0]["flags"] == [flag["flag"]]
        wait_until(lambda: 'ccms_agents_flagged{flag="ringing-long"} 1.0' in metrics(server))
        assert 'ccms_agents{state="ringing",vdn="1/1"} 1.0' in metrics(server)
        signer.events(agent_events("idle", [101], now_ms(), IDLE, skills=[1]))
        cleared = reader.until(lambda b: b.kind == "change").pop().json
        assert cleared["prev"]["flags"] == [flag["flag"]] and cleared["cur"]["flags"] == []
        time.sleep(0.5)  # nothing more is raised for the idle agent
        assert [e["seq"] for e in flag_entries(server)] == [flag["seq"]]
        scraped = metrics(server)
        assert 'ccms_agents_flagged{flag="ringing-long"} 0.0' in scraped
        assert 'ccms_state_duration_seconds_count{state="ringing"} 1.0' in scraped
        assert 'ccms_state_duration_seconds_bucket{le="1.0",state="ringing"} 0.0' in scraped
    finally:
        reader.close()


def raise_many(servers: list[Server], count: int) -> list[dict[str, Any]]:
    """``count`` agents ringing at once (posted to the first server): the flag entries
    the log holds once their threshold (1 s) passed, as each server answers."""
    at = now_ms()
    Signer(servers[0].url).events(agent_events("r", range(101, 101 + count), at, RINGING,
                                               skills=[1]))  # fmt: skip
    time.sleep(2.5)  # every timer of every process had its chance
    seen = [flag_entries(server) for server in servers]
    assert all(s == seen[0] for s in seen), "every server answers the same log"
    return seen[0]


def test_two_workers_raise_each_flag_once(server_factory: Any, tmp_path: Path) -> None:
    path = flags_file(tmp_path, "ringing_s = 1\n")
    server = server_factory("--workers", "2", "--flags-file", str(path)).start()
    entries = raise_many([server], 50)
    assert sorted(e["key"]["agentId"] for e in entries) == list(range(101, 151))
    assert {e["flag"]["name"] for e in entries} == {"ringing-long"}
    for _ in range(4):  # either worker's scrape: the floor's count, not a sum over workers
        assert 'ccms_agents_flagged{flag="ringing-long"} 50.0' in metrics(server)


@pytest.mark.postgres
def test_two_postgresql_nodes_raise_each_flag_once(server_factory: Any, tmp_path: Path) -> None:
    from tests.integration.store.conftest import make_schema

    schema = make_schema()
    try:
        path = flags_file(tmp_path, "ringing_s = 1\n")
        a = server_factory("--store", schema.url, "--flags-file", str(path))
        b = server_factory("--store", schema.url, "--flags-file", str(path))
        for node in (a, b):
            node.start(wait=False)
        for node in (a, b):
            wait_until(lambda s=node: httpx.get(s.url + "/healthz", timeout=1).status_code == 200)
        entries = raise_many([a, b], 50)
        assert sorted(e["key"]["agentId"] for e in entries) == list(range(101, 151))
        for node in (a, b):
            node.stop()
    finally:
        schema.drop()


def serve_once(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ccms", "serve", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def test_a_flags_file_with_an_error_stops_serve_at_start_with_one_line(
    server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory()  # its credentials file
    path = flags_file(tmp_path, "ringing_s = 20\nrest_s = -5\n")
    done = serve_once("--credentials", str(server.credentials), "--port", str(server.port),
                      "--store", f"sqlite:///{server.db}", "--flags-file", str(path), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ccms: {path} line 2: rest_s must be an integer from 1 to 86400, got -5"
    ]
    assert not server.db.exists()  # refused before anything was touched


@pytest.fixture(params=[1, 2], ids=["one-process", "two-workers"])
def workers(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def test_sighup_reads_the_flags_file_again_and_a_file_refused_keeps_the_thresholds(
    server_factory: Any, tmp_path: Path, workers: int
) -> None:
    path = flags_file(tmp_path, "ringing_s = 3600\n")
    server = server_factory("--workers", str(workers), "--flags-file", str(path),
                            "--log-level", "info").start()  # fmt: skip
    signer = Signer(server.url)
    at = now_ms()
    signer.events(agent_events("ring", [101], at, RINGING, skills=[1]))
    assert server.proc is not None

    def snapshots() -> list[list[Any]]:  # as several requests (any worker) answer
        return [signer.get(CHANGES, TENANT).json()["resultDesc"]["snapshot"]["agents"][0]["flags"]
                for _ in range(8)]  # fmt: skip

    # every worker is up (healthy means one is): a signal must not find one still starting
    wait_until(lambda: server.log.read_text().count("Application startup complete") >= workers)
    path.write_text("ringing_s = 1\nlevels = { ringing-long = 'red' }\n", encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: server.log.read_text().count("flags file not reloaded") >= workers)
    assert "levels: ringing-long must be one of warning, alert, got 'red'" in server.log.read_text()
    time.sleep(1.5)
    assert snapshots() == [[]] * 8  # the old thresholds stay: no flag after 1.5 s
    assert flag_entries(server) == []
    path.write_text("ringing_s = 1\nlevels = { ringing-long = 'alert' }\n", encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    wanted = {"name": "ringing-long", "level": "alert", "since": at + 1000}
    wait_until(lambda: [e["flag"] for e in flag_entries(server)] == [wanted], timeout=10)
    # every worker took the new thresholds (each says so; one raising the flag is not all)
    wait_until(lambda: server.log.read_text().count(f"flags file {path} reloaded") >= workers)
    assert snapshots() == [[wanted]] * 8
    # the old file again: the flag raised is taken back in the log, once whatever the workers
    path.write_text("ringing_s = 3600\n", encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: server.log.read_text().count(f"flags file {path} reloaded") >= 2 * workers)
    wait_until(lambda: len(flag_entries(server)) >= 2, timeout=10)
    time.sleep(0.5)  # every worker had its chance
    entries = flag_entries(server)
    assert [(e["flag"], e["raised"]) for e in entries] == [(wanted, True), (wanted, False)]
    assert entries[1]["at"] >= entries[0]["at"] and entries[1]["seq"] == entries[0]["seq"] + 1
    assert snapshots() == [[]] * 8
    assert server.proc.poll() is None  # the same server: nothing restarted
