"""The distribution: its name is free on the package index, the command is ``ccms``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_the_wheel_is_ccms_monitor_with_the_ccms_command(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(ROOT), "-w",
         str(tmp_path / "dist")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    # "ccms" on the index is an unrelated project: the distribution is ccms-monitor
    assert wheel.name.startswith("ccms_monitor-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
        archive.extractall(tmp_path / "site")
    assert "Name: ccms-monitor\n" in metadata
    assert "ccms = ccms.cli:main" in entry_points
    assert "ccms/py.typed" in names  # the client's types reach mypy in users' projects
    wallboard = {n.rpartition("/")[2] for n in names if n.startswith("ccms/web/wallboard/")}
    assert {"index.html", "app.js", "wallboard.css"} <= wallboard  # the page is served
    # the unpacked wheel runs on its own (dependencies from this environment)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run(
        [sys.executable, "-c", "import ccms, sys; print(ccms.__file__)"],
        env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert done.stdout.strip().startswith(str(tmp_path / "site"))


def test_the_readme_credentials_file_is_never_committed() -> None:
    # README's recipe writes credentials.toml in the clone: git must ignore it
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", "credentials.toml"], cwd=ROOT
    )
    assert done.returncode == 0
