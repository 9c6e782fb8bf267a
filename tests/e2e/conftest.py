"""Real ``ccms serve`` and ``ccms demo`` processes on loopback, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK

from ccms.auth import format_timestamp, sign
from ccms.client import Client

SRC = str(Path(__file__).resolve().parents[2] / "src")
CREDENTIALS = f"""
[[access_key]]
ak = "{ADMIN_AK}"
sk = "{ADMIN_SK}"
roles = ["admin"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


WINDOW_MS = 300_000


def mid_window_ms(since_s: float = 12.0, left_s: float = 30.0) -> int:
    """Now (ms), once the current 5-minute window of the queue figures began at least
    ``since_s`` ago and has at least ``left_s`` left: events dated up to ``since_s`` back
    and the reads that follow fall in one window, whatever the wall clock said when the
    test began (it sleeps at most ``since_s + left_s``)."""
    while True:
        now = int(time.time() * 1000)
        into = now % WINDOW_MS
        if into < since_s * 1000:
            time.sleep((since_s * 1000 - into) / 1000 + 0.01)
        elif into > WINDOW_MS - left_s * 1000:
            time.sleep((WINDOW_MS - into + since_s * 1000) / 1000 + 0.01)
        else:
            return now


def batch(tag: str, count: int, status: int = 1, first: int = 101) -> list[dict[str, Any]]:
    """``count`` events of one status for agents ``first``.., at now, ids ``tag-n``."""
    now = int(time.time() * 1000)
    return [
        {"eventId": f"{tag}-{n}", "ccId": 1, "vdn": 1, "agentId": first + n, "at": now,
         "ctiStatus": status, "name": f"{tag} {n}"}
        for n in range(count)
    ]  # fmt: skip


class Server:
    """One ``ccms serve`` subprocess; ``start`` may be called again after ``kill``."""

    def __init__(self, workdir: Path, *extra: str, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.db = workdir / "ccms.db"
        self.extra = list(extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"server-{self.port}.log"
        creds = workdir / "credentials.toml"
        creds.write_text(CREDENTIALS, encoding="utf-8")
        creds.chmod(0o600)  # a file of secrets: the server refuses one others may read
        self.credentials = creds

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "ccms", "serve", "--port", str(self.port),
            "--store", f"sqlite:///{self.db}", "--credentials", str(self.credentials),
            "--log-level", "warning", *self.extra,
        ]  # fmt: skip

    def start(self, wait: bool = True) -> Server:
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        with self.log.open("ab") as log:
            # a session of its own: a kill takes the worker processes of --workers too
            self.proc = subprocess.Popen(
                self.command(), cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        if wait:
            wait_until(lambda: httpx.get(self.url + "/healthz", timeout=1).status_code == 200)
        return self

    def kill(self) -> None:
        """SIGKILL the server and every process of it (the workers of ``--workers``)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):  # a worker the server left behind
            os.killpg(self.proc.pid, signal.SIGKILL)
        return int(self.proc.returncode)

    def post(self, path: str, payload: Any) -> httpx.Response:
        body = orjson.dumps(payload)
        stamp = format_timestamp(datetime.now(UTC))
        host = f"127.0.0.1:{self.port}"
        headers = {
            "content-type": "application/json",
            "authorization": sign(ADMIN_AK, ADMIN_SK, "POST", path, {"host": host}, body, stamp),
        }
        return httpx.post(self.url + path, content=body, headers=headers, timeout=10)

    def agent(self, work_no: int, vdn: int = 1) -> httpx.Response:
        return self.post(
            "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
            {"queryParam": {"ccId": 1, "vdn": vdn, "agentId": work_no}},
        )

    def events(self, events: list[dict[str, Any]]) -> httpx.Response:
        return self.post("/ccms/v1/events", {"events": events})


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def make(*extra: str, workdir: Path | None = None, port: int | None = None) -> Server:
        server = Server(workdir or tmp_path, *extra, port=port)
        servers.append(server)
        return server

    yield make
    for server in servers:
        if server.proc is not None:
            server.kill()  # its workers too, even when the server itself has exited


class Demo:
    """One ``ccms demo`` process, with a HOME and a client configuration of its own."""

    def __init__(self, tmp: Path, *extra: str, port: int | None = None,
                 data: Path | None = None) -> None:  # fmt: skip
        self.tmp = tmp
        self.port = port or free_port()
        self.data = data or tmp / "demo-data"
        home = tmp / "home"
        self.profile = home / ".config" / "ccms" / "client.toml"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CCMS_")},
            "PYTHONPATH": SRC, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        }  # fmt: skip
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.out = tmp / f"demo-{self.port}.out"
        self.err = tmp / f"demo-{self.port}.err"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "ccms", "demo", "--port", str(self.port),
                "--data-dir", str(self.data), *self.extra]  # fmt: skip

    def start(self) -> Demo:
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.tmp, env=self.env, stdout=out, stderr=err
            )
        wait_until(lambda: "Ctrl-C stops the demo." in self.banner(), timeout=30)
        return self

    def run(self) -> subprocess.CompletedProcess[str]:
        """Run a demo that is expected to refuse at once."""
        return subprocess.run(
            self.command(), cwd=self.tmp, env=self.env, capture_output=True, text=True,
            timeout=30, check=False,
        )  # fmt: skip

    def banner(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def client(self) -> Client:
        key = tomllib.loads((self.data / "credentials.toml").read_text())["access_key"][0]
        return Client(self.url, key["ak"], key["sk"], retry_deadline=0)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)


@pytest.fixture
def demo_factory(tmp_path: Path) -> Iterator[Any]:
    demos: list[Demo] = []

    def make(*extra: str, **options: Any) -> Demo:
        demo = Demo(tmp_path, *extra, **options)
        demos.append(demo)
        return demo

    yield make
    for demo in demos:
        if demo.proc is not None and demo.proc.poll() is None:
            demo.stop()


def run_as_typed(line: str, cwd: Path, env: dict[str, str], until: str) -> tuple[int, str]:
    """Run a shell line; one that runs until Ctrl-C (``watch``) gets it once it printed
    ``until``. Its exit code and output."""
    output = cwd / "command.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", line], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    if " watch " in line and "--once" not in line:
        wait_until(lambda: until in output.read_text(encoding="utf-8"), timeout=20)
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return int(proc.returncode), output.read_text(encoding="utf-8")


def ccms_on_path(folder: Path) -> dict[str, str]:
    """A ``ccms`` command in ``folder`` that runs this checkout, as an install would give;
    the PATH that finds it."""
    folder.mkdir(parents=True)
    script = folder / "ccms"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ccms "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
