"""The wallboard in a real browser: Playwright driving the system's Chromium (Debian's
``chromium`` package; ``.ci/run`` installs it), against a real ``ccms serve`` on loopback.

The browser tests skip, saying why, only where no Chromium is installed. Screenshots go to
``artifacts/wallboard/`` in the project (git ignores it), or to the folder
``CCMS_WALLBOARD_ARTIFACTS`` names; the one the README shows is written to
``docs/wallboard.png`` with ``CCMS_WALLBOARD_README_SHOT=1``. What the tests measure (the
frame times and long tasks of a busy floor, the delays of a change and of a flag) and
where the screenshots are is printed at the end of the test run (``wallboard figures``,
before pytest's short summary): pytest captures what a passing test prints, so a
``print`` alone would never be seen.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from tests.e2e.conftest import Server

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "artifacts" / "wallboard"  # in .gitignore
REPORT_TITLE = "wallboard figures"
_FIGURES = pytest.StashKey[list[str]]()


def chromium() -> str | None:
    for path in (os.environ.get("CCMS_CHROMIUM", ""), *CHROMIUM_PATHS):
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for a module's tests, stopped after them: Playwright's sync API runs
    an event loop of its own while it is started, which the async tests that follow in the
    same session must not find running."""
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def artifacts_folder() -> Path:
    """Where the screenshots go: ``CCMS_WALLBOARD_ARTIFACTS``, else ``artifacts/wallboard``."""
    return Path(os.environ.get("CCMS_WALLBOARD_ARTIFACTS") or ARTIFACTS).absolute()


@pytest.fixture
def artifacts() -> Path:
    folder = artifacts_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``figures(line)``: a line of what a test measured, printed (captured, shown if the
    test fails) and kept for the end of the run (:func:`pytest_terminal_summary`)."""
    kept = request.config.stash.setdefault(_FIGURES, [])
    name = request.node.name

    def note(line: str) -> None:
        print(line)
        kept.append(f"{name}: {line}")

    return note


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The figures the wallboard's tests measured, at the end of the run whatever the
    capture and verbosity (``make test`` runs ``pytest -q``)."""
    kept = config.stash.get(_FIGURES, [])
    if kept:
        terminalreporter.write_sep("=", REPORT_TITLE)
        for line in kept:
            terminalreporter.write_line(line)


def view_token(server: Server, ttl_s: int = 3600, cc_id: int = 1, vdn: int = 1) -> str:
    answer = server.post("/ccms/v1/tokens", {"ccId": cc_id, "vdn": vdn, "ttlS": ttl_s}).json()
    assert answer["resultCode"] == "0100000", answer
    return str(answer["resultDesc"]["token"])


def board_url(server: Server, token: str, vdn: int = 1, **extra: Any) -> str:
    return f"{server.url}/wallboard#" + urlencode({"ccId": 1, "vdn": vdn, "token": token, **extra})


def floor_events(tag: str, count: int, first: int = 101, vdn: int = 1) -> list[dict[str, Any]]:
    """``count`` agents signed in to skill queue 1 or 2, in every state of the header."""
    now = int(time.time() * 1000)
    cycle = [1, 1, 5, 5, 5, 6, 7, 8, 3, 9, 4, 2, 10]
    events = []
    for n in range(count):
        status = cycle[n % len(cycle)]
        event: dict[str, Any] = {
            "eventId": f"{tag}-{n}", "ccId": 1, "vdn": vdn, "agentId": first + n,
            "at": now - 1000 * (17 * n % 900), "ctiStatus": status,
            "name": f"Agent {first + n}", "skills": [1 + n % 2],
        }  # fmt: skip
        if status in (7, 8):
            event["reason"] = 1 + n % 4
        if status == 5:
            event["calls"] = [f"call-{tag}-{n}"]
        events.append(event)
    return events


def post_all(server: Server, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 500):
        answer = server.events(events[start : start + 500]).json()
        assert answer["resultCode"] == "0100000", answer


def open_board(page: Any, url: str, agents: int) -> None:
    """Open ``url`` and wait until the board shows ``agents`` tiles."""
    page.goto(url)
    page.wait_for_function(
        "n => window.wallboard && window.wallboard.floor.seq !== null"
        " && document.querySelectorAll('#tiles > li').length === n",
        arg=agents,
        timeout=10_000,
    )
