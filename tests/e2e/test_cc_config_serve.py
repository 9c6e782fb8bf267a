"""The configuration file (``cc_config_file``) against real ``ccms serve`` processes on
loopback: a file refused at start with one line, read again on SIGHUP, and a file refused
then keeping the configuration in use."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import Server, wait_until
from tests.e2e.test_flags_serve import serve_once
from tests.integration.http.stream_support import Signer

pytestmark = pytest.mark.e2e

CONFIG = "/rest/cmsapp/v1/openapi/skill/skillcfginfo"


def config_file(folder: Path, text: str) -> Path:
    path = folder / "cc.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_configuration_file_with_an_error_stops_serve_at_start_with_one_line(
    server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory()  # its credentials file
    path = config_file(tmp_path, "max_call_num = 10\nmax_wait_time = -1\n")
    done = serve_once("--credentials", str(server.credentials), "--port", str(server.port),
                      "--store", f"sqlite:///{server.db}", "--cc-config-file", str(path),
                      cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ccms: {path} line 2: max_wait_time must be an integer from 0 to 2147483647, got -1"
    ]
    assert not server.db.exists()  # refused before anything was touched


def test_sighup_reads_the_configuration_file_again(server_factory: Any, tmp_path: Path) -> None:
    path = config_file(tmp_path, "max_call_num = 10\n")
    server: Server = server_factory("--cc-config-file", str(path), "--log-level", "info").start()
    signer = Signer(server.url)

    def max_calls() -> int:
        answer = signer.post(CONFIG, {"ccId": 1, "vdn": 1, "skillIds": [1]}).json()
        return int(answer["resultDesc"][0]["maxCallNum"])

    assert max_calls() == 10
    assert server.proc is not None
    wait_until(lambda: "Application startup complete" in server.log.read_text())
    path.write_text("max_call_num = 'many'\n", encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "configuration file not reloaded" in server.log.read_text())
    assert max_calls() == 10
    path.write_text("max_call_num = 30\n", encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: max_calls() == 30)
    assert server.proc.poll() is None  # the same server: nothing restarted
