"""The ccms command as a process: what every command shares (``ccms.cli.main``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.conftest import SRC

pytestmark = pytest.mark.e2e


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """``ccms ... | head -1``: the output's reader closes the pipe before ccms writes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ccms", "completion", "bash"], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": SRC}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before Python has started and written anything

    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(30) == 0, err
    assert err == ""
