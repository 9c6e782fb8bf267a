"""The README's examples run as written: the credentials recipe, the server, the snippet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import SRC, Demo, Server, ccms_on_path, run_as_typed

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_quick_start_names_the_two_commands() -> None:
    quick = blocks("sh")[0]
    assert "make demo" in quick
    assert "make test" in quick


def test_serve_section_runs_as_written(server_factory: Any, tmp_path: Path) -> None:
    (recipe,) = (block for block in blocks("sh") if "cat > credentials.toml <<EOF" in block)
    make_credentials, serve_line = recipe.rstrip("\n").rsplit("\n", 1)
    subprocess.run(["bash", "-c", make_credentials + "\n"], cwd=tmp_path, check=True)
    assert "ccms serve --credentials credentials.toml" in serve_line
    assert (tmp_path / "credentials.toml").stat().st_mode & 0o777 == 0o600
    server: Server = server_factory()
    server.credentials = tmp_path / "credentials.toml"  # the file the recipe made
    server.start()
    env = {**os.environ, "PYTHONPATH": SRC, "CCMS_URL": server.url}
    result = subprocess.run(
        [sys.executable, "-c", blocks("python")[0]], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    accepted, detail = result.stdout.splitlines()
    assert accepted == "{'accepted': 1, 'duplicates': 0}"
    assert detail.startswith("{'workNo': 101, 'vdnId': 1, 'citStatus': 1, 'name': 'Ann'")
    assert detail.endswith("'mediaType': 0, 'status': 4}")
    client = subprocess.run(
        [sys.executable, "-c", blocks("python")[1]], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert client.returncode == 0, client.stderr
    assert client.stdout == "Ann IDLE True\n"


def test_the_demo_commands_run_as_written(demo_factory: Any, tmp_path: Path) -> None:
    demo: Demo = demo_factory().start()
    clone = tmp_path / "clone"  # where the README's commands are typed: .venv/bin/ccms there
    ccms_on_path(clone / ".venv" / "bin")
    lines = [
        line.split("  #", 1)[0].strip()
        for block in blocks("sh")
        for line in block.splitlines()
        if "--profile demo" in line
    ]

    assert any(line.startswith(".venv/bin/ccms agent 1 1 101 ") for line in lines), lines
    for line in lines:
        code, output = run_as_typed(line, clone, demo.env, until="Agent 101")
        assert code == 0, (line, output)
        assert "Agent 101" in output
