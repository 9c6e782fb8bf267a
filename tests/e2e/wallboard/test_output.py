"""What the wallboard's tests measure reaches the output of a test run as ``make test``
runs it (``python -m pytest -q``, pytest capturing what passing tests print)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.wallboard.conftest import REPORT_TITLE, chromium

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
MEASURED = "tests/e2e/wallboard/test_board.py::test_an_event_changes_its_tile_within_a_second"


def test_the_figures_are_printed_by_a_quiet_run_that_captures_output() -> None:
    if chromium() is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; CI installs it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", MEASURED],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=100, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    title = [n for n, line in enumerate(lines) if REPORT_TITLE in line and line.startswith("=")]
    assert title, done.stdout
    after = lines[title[0] + 1 :]
    assert any(
        line.startswith("test_an_event_changes_its_tile_within_a_second: event acknowledged")
        and line.endswith(" ms")
        for line in after
    ), done.stdout
