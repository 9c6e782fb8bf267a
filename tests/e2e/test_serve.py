"""``ccms serve`` as a real process: durability, store failures, workers, start-up rules."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import SRC, Server, batch, wait_until

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
    assert server.stop() == 0


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
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


def test_a_store_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    creds = _credentials(tmp_path, "Yq3oV0c_Rr8wq6GZ3c1o7y9LZkSg0Pdd")
    store = tmp_path / "no-such-dir" / "ccms.db"
    result = run_cli(
        "serve", "--credentials", str(creds), "--store", f"sqlite:///{store}", cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"ccms: the directory {store.parent} of the store sqlite:///{store} does not exist\n"
    )
    assert not store.parent.exists()
