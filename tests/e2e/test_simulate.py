"""``ccms simulate`` and ``ccms demo`` against real server processes."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tomllib
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import SRC, Server, free_port, wait_until

from ccms.client import Client

pytestmark = pytest.mark.e2e


def ccms(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "ccms", *args], cwd=cwd, env=full_env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def simulate(server: Server, state: Path, *extra: str) -> subprocess.Popen[str]:
    return ccms(
        "simulate", "--url", server.url, "--ak", ADMIN_AK, "--sk", ADMIN_SK, "--speed", "max",
        "--agents", "60", "--vdns", "2", "--seed", "3", "--state-out", str(state), *extra,
        cwd=server.workdir,
    )  # fmt: skip


def assert_server_matches(server: Server, state_file: Path) -> int:
    """Every agent the simulator knows: the server's answer equals its final state."""
    expected: dict[str, dict[str, Any]] = json.loads(state_file.read_text())
    assert len(expected) >= 40
    with Client(server.url, ADMIN_AK, ADMIN_SK) as client:
        for key, agent in expected.items():
            cc, vdn, work_no = (int(x) for x in key.split("/"))
            detail = client.agent_detail(cc, vdn, work_no)
            assert detail.cti_status == agent["citStatus"], key
            assert detail.name == agent["name"]
            assert detail.phone_number == agent["phoneNumber"]
            assert detail.media_type == agent["mediaType"]
            assert detail.login_date == agent["loginDate"]
    return len(expected)


def test_simulate_at_max_speed_leaves_the_simulators_state(
    server_factory: Any, tmp_path: Path
) -> None:
    server: Server = server_factory().start()
    state = tmp_path / "state.json"
    run = simulate(server, state, "--duration", "86400")
    _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "events" in err  # the progress line
    assert assert_server_matches(server, state) == 60


def test_simulate_survives_a_server_killed_mid_run(server_factory: Any, tmp_path: Path) -> None:
    port = free_port()
    server: Server = server_factory(port=port).start()
    state = tmp_path / "state.json"
    # small batches over a whole day: the run is still going when the server dies
    run = simulate(server, state, "--duration", "86400", "--batch", "20")

    def applied() -> int:
        with closing(sqlite3.connect(server.db)) as conn:
            return int(conn.execute("SELECT count(*) FROM applied_event").fetchone()[0])

    wait_until(lambda: applied() > 200, timeout=60)
    assert run.poll() is None
    server.kill()
    server.start()  # same port, same store: the feed retries until it is back
    _, err = run.communicate(timeout=180)
    assert run.returncode == 0, err
    retries = [int(n) for n in re.findall(r"(\d+) retries", err)]
    assert retries[-1] > 0, err  # it did meet the dead server, and went on
    assert assert_server_matches(server, state) >= 40
    # an undisturbed run of the same simulation ends in the same state
    (tmp_path / "b").mkdir()
    other: Server = server_factory(workdir=tmp_path / "b").start()
    state_b = tmp_path / "state-b.json"
    run_b = simulate(other, state_b, "--duration", "86400", "--batch", "500")
    run_b.communicate(timeout=180)
    assert run_b.returncode == 0

    def timeless(path: Path) -> dict[str, Any]:  # the two runs' clocks differ, nothing else
        states = json.loads(path.read_text())
        return {
            k: {f: v for f, v in s.items() if f not in ("loginDate", "since")}
            for k, s in states.items()
        }

    assert timeless(state) == timeless(state_b)
    assert_server_matches(other, state_b)


def test_demo_answers_within_10_s_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "demo-data"
    demo = ccms("demo", "--port", str(port), "--data-dir", str(data), "--agents", "40",
                cwd=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "config")})  # fmt: skip
    try:
        credentials = data / "credentials.toml"
        url = f"http://127.0.0.1:{port}"

        def answered() -> bool:
            key = tomllib.loads(credentials.read_text())["access_key"][0]
            with Client(url, key["ak"], key["sk"], retry_deadline=0) as client:
                for work_no in range(101, 121):
                    try:
                        detail = client.agent_detail(1, 1, work_no)
                    except Exception:
                        continue
                    return detail.cti_status != 0
            return False

        wait_until(answered, timeout=10)
        profile = (tmp_path / "config" / "ccms" / "client.toml").read_text()
        assert "[profile.demo]" in profile
        assert httpx.get(url + "/healthz").status_code == 200
    finally:
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=30)
    assert demo.returncode == 0, err
    assert "ccms demo is running on" in out
    assert "--profile demo" in out
    assert "stopped" in out
    with closing(sqlite3.connect(data / "demo.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM agent").fetchone()[0] > 0


def test_simulate_stops_cleanly_on_ctrl_c(server_factory: Any, tmp_path: Path) -> None:
    server: Server = server_factory().start()
    run = ccms(
        "simulate", "--url", server.url, "--ak", ADMIN_AK, "--sk", ADMIN_SK, "--agents", "30",
        "--speed", "1", "--warmup", "3600", cwd=tmp_path,
    )  # fmt: skip

    def fed() -> bool:
        with closing(sqlite3.connect(server.db)) as conn:
            return int(conn.execute("SELECT count(*) FROM agent").fetchone()[0]) > 0

    wait_until(fed, timeout=30)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    assert "Traceback" not in err
    sent = [int(n.replace(",", "")) for n in re.findall(r"^([\d,]+) events", err, re.M)]
    with closing(sqlite3.connect(server.db)) as conn:
        stored = int(conn.execute("SELECT count(*) FROM applied_event").fetchone()[0])
    assert sent[-1] == stored  # every batch it reported sent was acknowledged and kept
