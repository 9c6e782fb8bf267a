"""``ccms simulate`` and ``ccms demo`` against real server processes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import IO, Any

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
    retries = [int(n) for n in re.findall(r"(\d+) retr(?:y|ies)\b", err)]
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


class Lines:
    """The lines of a process's pipe, read by a thread as they come."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        with pipe:
            for line in pipe:
                self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30) -> str:
        def seen() -> str | None:
            return next((line for line in self.lines if re.search(pattern, line)), None)

        found: str = wait_until(seen, timeout=timeout)
        return found

    def rest(self) -> list[str]:
        self._thread.join(10)
        return self.lines


def finish(run: subprocess.Popen[str], timeout: float) -> int:
    """The exit code, within ``timeout`` seconds (else the process is killed: a failure)."""
    try:
        return run.wait(timeout)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait(10)
        raise AssertionError(f"still running {timeout} s after the signal") from None
    finally:
        if run.stdout is not None:
            run.stdout.close()


def simulate_against(url: str, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    return ccms("simulate", "--url", url, "--ak", ADMIN_AK, "--sk", ADMIN_SK, "--speed", "max",
                "--agents", "30", *extra, cwd=cwd)  # fmt: skip


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_simulate_without_a_server_shows_its_retries_and_stops_at_once(
    tmp_path: Path, stop: signal.Signals
) -> None:
    run = simulate_against(f"http://127.0.0.1:{free_port()}", tmp_path)
    assert run.stderr is not None
    err = Lines(run.stderr)
    line = err.wait_for(r"retrying: ")
    assert re.search(r"^0 events \(0/s, 0 duplicates, 1 retry\) \| retrying: connection refused"
                     r" \(attempt 1\)", line), line  # fmt: skip

    run.send_signal(stop)
    code = finish(run, timeout=3)

    lines = err.rest()
    assert code == 3, lines
    assert not any("Traceback" in line for line in lines), lines
    assert re.fullmatch(r"ccms: stopped: [\d,]+ events were not delivered; last attempt: "
                        r"connection refused \(http://127\.0\.0\.1:\d+/ccms/v1/events\)",
                        lines[-1]), lines  # fmt: skip


@contextmanager
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A server that reads a request and never answers; the event is set once it has one."""
    listener = socket.create_server(("127.0.0.1", 0))
    asked = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        with suppress(OSError):
            conn, _ = listener.accept()
            held.append(conn)
            conn.recv(65536)
            asked.set()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", asked
    finally:
        listener.close()
        for conn in held:
            conn.close()


def test_simulate_stops_within_its_grace_while_a_request_has_no_answer(tmp_path: Path) -> None:
    with silent_server() as (url, asked):
        run = simulate_against(url, tmp_path)
        assert run.stderr is not None
        err = Lines(run.stderr)
        assert asked.wait(30)

        run.send_signal(signal.SIGINT)
        code = finish(run, timeout=4)  # a second of grace for the answer, then it gives up

    lines = err.rest()
    assert code == 3, lines
    assert re.fullmatch(r"ccms: stopped: [\d,]+ events were not delivered; no answer from "
                        r"http://127\.0\.0\.1:\d+ yet", lines[-1]), lines  # fmt: skip


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@contextmanager
def tls_server(folder: Path) -> Iterator[tuple[str, list[int]]]:
    """A TLS server with a self-signed certificate; the list counts its handshakes."""
    cert, key = _self_signed(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    handshakes: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            handshakes.append(1)
            with conn, suppress(OSError):
                context.wrap_socket(conn, server_side=True).close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", handshakes
    finally:
        listener.close()


def test_simulate_does_not_retry_an_untrusted_certificate(tmp_path: Path) -> None:
    with tls_server(tmp_path) as (url, handshakes):
        run = simulate_against(url, tmp_path)
        _, err = run.communicate(timeout=30)

    assert run.returncode == 3, err
    assert err.count("\n") == 1, err  # one line, no progress, no retry
    assert err.startswith(f"ccms: TLS with {url}/ccms/v1/events failed: "), err
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert "--ca-bundle" in err
    assert handshakes == [1]
