"""Ctrl-C while the ``ccms`` command is still loading its modules: one line and exit code
130, never an import's traceback (the demo and serve take about half a second to start)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

# A Python that sends itself SIGINT in the middle of ``ccms.cli``'s imports (when
# ``ccms.cli.demo`` is about to load), as a Ctrl-C right after pressing Enter does.
INTERRUPTED_WHILE_LOADING = """
import importlib.abc, os, signal, sys

class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "ccms.cli.demo":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
from ccms.cli import main
sys.exit(main(["--version"]))
"""


def test_ctrl_c_while_the_command_loads_is_one_line_and_exit_130() -> None:
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_LOADING],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert done.stderr == "ccms: interrupted\n"
    assert done.stdout == ""


def test_once_loaded_the_command_keeps_pythons_own_ctrl_c() -> None:
    code = "import signal; from ccms.cli import main; print(signal.getsignal(signal.SIGINT))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert "default_int_handler" in done.stdout
