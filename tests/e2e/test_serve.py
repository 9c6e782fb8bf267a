"""``ccms serve`` as a real process: durability, store failures, workers, start-up rules."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import CREDENTIALS, SRC, Server, batch, free_port, wait_until

from ccms import __version__

pytestmark = pytest.mark.e2e


def test_acknowledged_events_survive_sigkill(server_factory: Any) -> None:
    server: Server = server_factory().start()
    acknowledged = []
    for round_no in range(5):
        events = batch(f"r{round_no}", 200, status=1 + round_no % 3, first=101 + round_no * 200)
        response = server.events(events)
        assert response.json()["resultDesc"] == {"accepted": 200, "duplicates": 0}
        acknowledged.extend(events)
    server.kill()  # right after the last answer
    server.start()
    for event in acknowledged[::37] + acknowledged[-3:]:
        body = server.agent(event["agentId"]).json()
        assert body["resultCode"] == "0100000", body
        assert body["resultDesc"]["citStatus"] == event["ctiStatus"]
        assert body["resultDesc"]["name"] == event["name"]
    # the whole of the last batch is known as applied: posting it again changes nothing
    again = server.events(acknowledged[-200:]).json()["resultDesc"]
    assert again == {"accepted": 0, "duplicates": 200}
    assert server.stop() == 0


def test_store_file_removed_gives_503_then_recovers(server_factory: Any, tmp_path: Path) -> None:
    server: Server = server_factory().start()
    assert server.events(batch("a", 3))
    aside = tmp_path / "aside"
    aside.mkdir()
    names = [p.name for p in tmp_path.glob("ccms.db*")]
    for name in names:
        os.rename(tmp_path / name, aside / name)

    def unavailable() -> bool:
        response = server.agent(101)
        return response.status_code == 503 and response.json()["resultCode"] == "0100001"

    wait_until(unavailable)
    response = server.events(batch("b", 2))
    assert response.status_code == 503
    assert response.json() == {
        "result": "0100001",
        "resultCode": "0100001",
        "resultDesc": "the store is unavailable, try again later",
    }
    assert server.post("/healthz", {}).status_code == 405
    for name in names:
        os.rename(aside / name, tmp_path / name)
    wait_until(lambda: server.agent(101).status_code == 200)
    assert server.agent(101).json()["resultDesc"]["name"] == "a 0"
    assert server.events(batch("b", 2)).json()["resultDesc"]["accepted"] == 2
    assert not (tmp_path / "ccms.db").is_symlink()


def test_a_deleted_wal_file_loses_nothing_acknowledged(server_factory: Any, tmp_path: Path) -> None:
    """The WAL file deleted under a serving store: no batch is acknowledged into the deleted
    file (503 until its content is saved into the main file), and after a SIGKILL every
    acknowledged event is there."""
    server: Server = server_factory().start()
    acknowledged = batch("before", 100)
    assert server.events(acknowledged).json()["resultDesc"] == {"accepted": 100, "duplicates": 0}
    (tmp_path / "ccms.db-wal").unlink()
    refused = 0
    for n in range(10):
        events = batch(f"after{n}", 20, status=2 + n % 3, first=300 + n * 20)
        response = server.events(events)
        if response.status_code == 200:
            assert response.json()["resultDesc"] == {"accepted": 20, "duplicates": 0}
            acknowledged.extend(events)
        else:
            assert (response.status_code, response.json()["resultCode"]) == (503, "0100001")
            refused += 1
    assert refused < 10  # the store recovered by itself
    server.kill()
    server.start()
    # every acknowledged batch is there (each batch was about agents of its own)...
    wanted = sorted(e["agentId"] for e in acknowledged)
    found = server.post(
        "/rest/cmsapp/v1/openapi/agentgroup/agentstatusinfobyagentids",
        {"ccId": 1, "vdn": 1, "agentIds": wanted},
    ).json()["resultDesc"]
    assert [a["agentId"] for a in found] == wanted
    for event in acknowledged[::23] + acknowledged[-3:]:  # ...with its statuses
        assert (
            server.agent(event["agentId"]).json()["resultDesc"]["citStatus"] == event["ctiStatus"]
        )
    assert "ccms.db-wal was deleted" in server.log.read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="prlimit on another process is Linux only")
def test_disk_full_gives_503_then_recovers(server_factory: Any, tmp_path: Path) -> None:
    server: Server = server_factory("--sqlite-synchronous", "FULL").start()
    assert server.proc is not None
    pid = server.proc.pid
    assert server.events(batch("warm", 5)).json()["resultCode"] == "0100000"
    wal = tmp_path / "ccms.db-wal"
    limit = wal.stat().st_size + 4096  # the WAL may grow by one page at the most
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))
    try:
        big = batch("full", 2000, first=1000)
        response = server.events(big)
        assert response.status_code == 503, response.text
        assert response.json()["resultCode"] == "0100001"
        # reads still answer while writes cannot
        read = server.agent(101)
        assert read.status_code == 200, (read.text, server.log.read_text())
        assert read.json()["resultDesc"]["name"] == "warm 0"
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))
    # the failed batch left nothing behind, and the retry applies all of it
    assert server.agent(1000).json()["resultCode"] == "0100001"
    response = wait_until(lambda: (r := server.events(big)).status_code == 200 and r)
    assert response.json()["resultDesc"] == {"accepted": 2000, "duplicates": 0}
    assert server.agent(1000).json()["resultDesc"]["name"] == "full 0"


def test_two_workers_share_the_store_and_the_port(server_factory: Any) -> None:
    server: Server = server_factory("--workers", "2").start()
    assert server.events(batch("w", 50)).json()["resultDesc"]["accepted"] == 50
    # whichever worker answers, it reads what the other wrote
    for n in range(40):
        assert server.agent(101 + n % 50).json()["resultCode"] == "0100000"
    metrics = wait_until(lambda: (t := __import__("httpx").get(server.url + "/metrics").text) and t)
    assert 'route="agent/agentbyworkno"' in metrics

    def answered_queries() -> float:
        text = __import__("httpx").get(server.url + "/metrics").text
        pattern = r'^ccms_requests_total\{[^}]*route="agent/agentbyworkno"[^}]*\} (\S+)$'
        return sum(float(v) for v in re.findall(pattern, text, re.M))

    # whichever worker a scrape reaches, it counts the requests of both
    assert [answered_queries() for _ in range(6)] == [40.0] * 6
    assert server.stop() == 0


def test_workers_stop_when_their_supervisor_is_killed(server_factory: Any) -> None:
    """A SIGKILLed ``ccms serve --workers 2`` takes its workers with it: none goes on
    serving on the port, and a new server binds it at once."""
    server: Server = server_factory("--workers", "2").start()
    assert server.proc is not None
    workers = wait_until(lambda: len(kids := children(server.proc.pid)) == 2 and kids)
    os.kill(server.proc.pid, signal.SIGKILL)  # the supervisor alone, as a crash would
    server.proc.wait(10)
    wait_until(lambda: not any(alive(pid) for pid in workers), timeout=15)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", server.port))  # free: no worker holds it any more


def children(pid: int) -> list[int]:
    """The worker processes of the server ``pid`` (Linux /proc; multiprocessing's
    resource tracker left out: it is not a worker and ends by itself)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"resource_tracker" not in command:
                found.append(int(child))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has stopped; only its parent (init) is left to reap it


def run_cli(*args: str, cwd: Path, pythonpath: str = SRC) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return subprocess.run(
        [sys.executable, "-m", "ccms", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip


def _credentials(folder: Path, sk: str, mode: int = 0o600) -> Path:
    creds = folder / "c.toml"
    creds.write_text(f'[[access_key]]\nak="a"\nsk="{sk}"\n', encoding="utf-8")
    creds.chmod(mode)
    return creds


def test_plain_http_on_a_public_address_is_refused(tmp_path: Path) -> None:
    creds = _credentials(tmp_path, "Yq3oV0c_Rr8wq6GZ3c1o7y9LZkSg0Pdd")
    result = run_cli("serve", "--host", "0.0.0.0", "--credentials", str(creds), cwd=tmp_path)
    assert result.returncode == 2
    assert "refusing plain HTTP on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("sk", "message"),
    [
        ("a-long-random-secret", "access key a has a placeholder secret (it contains 'secret')"),
        ("passwordpassword", "access key a has a placeholder secret"),
        ("1234567890123456", "access key a has a weak secret (about 13 bits of randomness"),
        (" " * 16, "access key a has a weak secret (1 distinct character"),
    ],
)
def test_weak_secret_is_refused(tmp_path: Path, sk: str, message: str) -> None:
    creds = _credentials(tmp_path, sk)
    result = run_cli("serve", "--credentials", str(creds), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{creds} line 3: {message}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ccms.db").exists()


def test_credentials_open_to_others_are_refused(tmp_path: Path) -> None:
    creds = _credentials(tmp_path, "Yq3oV0c_Rr8wq6GZ3c1o7y9LZkSg0Pdd", mode=0o644)
    result = run_cli("serve", "--credentials", str(creds), cwd=tmp_path)
    assert result.returncode == 2
    assert f"credentials file {creds} is open to group or others (mode 0644)" in result.stderr
    assert f"chmod 600 {creds}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ccms.db").exists()


def test_unknown_key_in_the_credentials_is_refused(tmp_path: Path) -> None:
    creds = _credentials(tmp_path, "Yq3oV0c_Rr8wq6GZ3c1o7y9LZkSg0Pdd")
    creds.write_text(creds.read_text(encoding="utf-8") + 'scope = ["1/1"]\n', encoding="utf-8")
    result = run_cli("serve", "--credentials", str(creds), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{creds} line 4: unknown key 'scope' in [[access_key]] a" in result.stderr
    assert "(did you mean 'scopes'?)" in result.stderr


def test_missing_credentials_is_refused(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert "credentials file is required" in result.stderr


# Every mistake at start is one line on stderr, and nothing is touched.


def credentials(folder: Path) -> str:
    path = folder / "credentials.toml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def test_an_unknown_log_level_is_one_line(tmp_path: Path) -> None:
    result = run_cli(
        "serve", "--credentials", credentials(tmp_path), "--log-level", "LOUD", cwd=tmp_path
    )

    assert result.returncode == 2
    assert result.stderr == (
        "ccms: log_level (--log-level) must be one of debug, info, warning, error, got 'LOUD'\n"
    )
    assert not (tmp_path / "ccms.db").exists()


def test_missing_tls_files_are_named(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"

    def serve() -> subprocess.CompletedProcess[str]:
        return run_cli(
            "serve", "--credentials", credentials(tmp_path), "--tls-cert", str(cert),
            "--tls-key", str(key), cwd=tmp_path,
        )  # fmt: skip

    missing_cert = serve()
    cert.write_text("not a certificate\n", encoding="utf-8")
    missing_key = serve()
    key.write_text("not a key\n", encoding="utf-8")
    unusable = serve()

    assert [r.returncode for r in (missing_cert, missing_key, unusable)] == [2, 2, 2]
    assert missing_cert.stderr == (
        f"ccms: cannot read the TLS certificate file {cert}: No such file or directory\n"
    )
    assert missing_key.stderr == (
        f"ccms: cannot read the TLS key file {key}: No such file or directory\n"
    )
    assert unusable.stderr.startswith(
        f"ccms: cannot use the TLS certificate file {cert} with the key file {key}: "
    )
    assert unusable.stderr.count("\n") == 1
    assert not (tmp_path / "ccms.db").exists()


def test_a_postgres_store_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    without = tmp_path / "without-extra" / "asyncpg"  # what an install without the extra lacks
    without.mkdir(parents=True)
    (without / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'asyncpg'\", name='asyncpg')\n"
    )
    pythonpath = f"{without.parent}{os.pathsep}{SRC}"
    store = "postgresql://ccms:s3cret@127.0.0.1:5432/ccms"

    serve = run_cli("serve", "--credentials", credentials(tmp_path), "--store", store,
                    cwd=tmp_path, pythonpath=pythonpath)  # fmt: skip
    status = run_cli("db", "status", "--store", store, cwd=tmp_path, pythonpath=pythonpath)

    for result in (serve, status):
        assert result.returncode == 2
        assert result.stderr == (
            "ccms: the PostgreSQL store needs the postgres extra:"
            " pip install 'ccms-monitor[postgres]'\n"
        )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_busy_port_is_one_line(tmp_path: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "serve", "--credentials", credentials(tmp_path), "--port", str(port),
            "--workers", workers, cwd=tmp_path,
        )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr == (
        f"ccms: cannot listen on 127.0.0.1:{port}: the address is in use (give --port another"
        " port, or stop what listens there)\n"
    )
    assert not (tmp_path / "ccms.db").exists()


# What the server logs: the start line, an access log when asked, one format.

TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")
ACCESS = '"POST /rest/cmsapp/v1/openapi/agent/agentbyworkno HTTP/1.1" 200'


def served_log(server: Server) -> list[str]:
    """The log of a server that answered one query, after it stopped."""
    server.start()
    assert server.agent(101).status_code == 200
    assert server.stop() == 0
    return server.log.read_text(encoding="utf-8").splitlines()


def test_the_start_line_names_the_version_the_store_and_the_keys(server_factory: Any) -> None:
    server: Server = server_factory("--log-level", "info")

    lines = served_log(server)

    assert any(
        line.endswith(
            f" INFO ccms.server: ccms {__version__} serving {server.url}: store"
            f" sqlite:///{server.db}, 1 access key, 1 worker"
        )
        for line in lines
    ), lines


def test_the_access_log_is_off_by_default_and_on_by_setting(server_factory: Any) -> None:
    quiet: Server = server_factory("--log-level", "info")
    logged: Server = server_factory("--log-level", "info", "--access-log")

    quiet_lines, lines = served_log(quiet), served_log(logged)

    assert not any(ACCESS in line for line in quiet_lines)
    assert any(ACCESS in line and " INFO uvicorn.access: 127.0.0.1:" in line for line in lines)
    assert any(" uvicorn.error: " in line for line in lines)  # uvicorn's own lines
    assert all(TEXT_LINE.match(line) for line in lines), lines  # one format for all


def test_json_logs_by_setting(server_factory: Any) -> None:
    server: Server = server_factory("--log-level", "info", "--access-log", "--log-format", "json")

    records = [json.loads(line) for line in served_log(server)]

    assert all({"time", "level", "logger", "message"} <= set(r) for r in records), records
    loggers = {r["logger"] for r in records}
    assert {"ccms.server", "uvicorn.error", "uvicorn.access"} <= loggers
    (access,) = (r for r in records if r["logger"] == "uvicorn.access" and r["method"] == "POST")
    assert (access["method"], access["path"], access["status"]) == (
        "POST", "/rest/cmsapp/v1/openapi/agent/agentbyworkno", 200
    )  # fmt: skip
    assert access["client"].startswith("127.0.0.1:")


def test_a_store_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    creds = _credentials(tmp_path, "Yq3oV0c_Rr8wq6GZ3c1o7y9LZkSg0Pdd")
    store = tmp_path / "no-such-dir" / "ccms.db"
    result = run_cli(
        "serve", "--credentials", str(creds), "--store", f"sqlite:///{store}",
        "--port", str(free_port()), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        f"ccms: the directory {store.parent} of the store sqlite:///{store} does not exist\n"
    )
    assert not store.parent.exists()
