"""The wallboard's connection in Chromium: stale and back, reset, refused tokens, a busy
floor, and screenshots at the sizes of wall screens and laptops."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.wallboard.conftest import (
    ARTIFACTS,
    board_url,
    floor_events,
    open_board,
    post_all,
    view_token,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
# A page that lost its server waits between tries with a backoff of up to MAX_BACKOFF_MS
# (30 s): after a long outage on a loaded machine its next try may be that far off.
_STREAM_JS = (ROOT / "src/ccms/web/wallboard/stream.js").read_text(encoding="utf-8")
_BACKOFF = re.search(r"MAX_BACKOFF_MS = (\d+);", _STREAM_JS)
assert _BACKOFF, "stream.js no longer says MAX_BACKOFF_MS"
BACK_MS = int(_BACKOFF[1]) + 10_000


def state_of(page: Any, work_no: int) -> str:
    return str(page.locator(f'#tiles > li[data-work="{work_no}"] .tile-state').text_content())


def moves(tag: str, work_nos: range, status: int) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [{"eventId": f"{tag}-{n}", "ccId": 1, "vdn": 1, "agentId": n, "at": now + 1,
             "ctiStatus": status, "skills": [1 + n % 2]} for n in work_nos]  # fmt: skip


def test_stale_while_the_server_is_down_then_resumed_without_a_miss(
    server_factory: Any, page: Any, tmp_path: Path
) -> None:
    server = server_factory().start()
    post_all(server, floor_events("floor", 20))
    open_board(page, board_url(server, view_token(server)), 20)
    assert page.locator("#stale").is_hidden()
    server.stop()
    page.wait_for_selector("#stale", state="visible", timeout=10_000)
    banner = page.locator("#stale").inner_text()
    assert banner.startswith("Stale since ")
    assert page.locator("#live").inner_text().startswith("stale since ")
    # changes made while the page cannot reach its server (another process, same store)
    other = server_factory(workdir=tmp_path).start()
    post_all(other, moves("meanwhile", range(101, 111), 7))
    other.stop()
    assert page.evaluate("window.wallboard.health.status") != "live"
    server.start()
    page.wait_for_selector("#stale", state="hidden", timeout=BACK_MS)
    page.wait_for_function(
        "() => [...Array(10).keys()].every(i => document.querySelector("
        "`#tiles > li[data-work=\"${101 + i}\"] .tile-state`).textContent === 'Busy')",
        timeout=5000,
    )
    stats = page.evaluate("window.wallboard.stats")
    assert stats["snapshots"] == 1 and stats["resets"] == 0  # resumed from its seq
    assert page.evaluate("window.wallboard.link.connections") >= 2
    assert page.locator("#live").inner_text() == "live"


def test_a_reset_redraws_from_the_new_snapshot(
    server_factory: Any, page: Any, tmp_path: Path
) -> None:
    server = server_factory("--stream-window-changes", "5").start()
    post_all(server, floor_events("floor", 10))
    open_board(page, board_url(server, view_token(server)), 10)
    server.stop()
    other = server_factory("--stream-window-changes", "5", workdir=tmp_path).start()
    post_all(other, moves("many", range(101, 111), 8) + floor_events("new", 5, first=201))
    other.stop()
    server.start()
    page.wait_for_function("() => window.wallboard.stats.resets === 1", timeout=BACK_MS)
    page.wait_for_function("() => document.querySelectorAll('#tiles > li').length === 15")
    assert {state_of(page, n) for n in range(101, 111)} == {"Rest"}
    assert page.evaluate("window.wallboard.stats.snapshots") == 2
    assert page.locator("#stale").is_hidden()


def test_an_expired_or_foreign_token_says_so(server_factory: Any, page: Any) -> None:
    server = server_factory().start()
    post_all(server, floor_events("floor", 5))
    post_all(server, floor_events("two", 3, vdn=2))
    page.goto(board_url(server, "no-such-token"))
    page.wait_for_selector("#message", state="visible", timeout=10_000)
    assert "expired or is not valid" in page.locator("#message").inner_text()
    assert "wallboard-url" in page.locator("#message").inner_text()
    page.goto(board_url(server, view_token(server, vdn=2)))  # a token of VDN 2, for VDN 1
    page.reload()
    page.wait_for_selector("#message", state="visible", timeout=10_000)
    assert "does not give access to VDN 1" in page.locator("#message").inner_text()
    page.goto(board_url(server, view_token(server, ttl_s=2)))  # ends while it is open
    page.reload()
    page.wait_for_function("() => window.wallboard.floor.seq !== null", timeout=10_000)
    page.wait_for_selector("#message", state="visible", timeout=10_000)
    assert "expired" in page.locator("#message").inner_text()
    page.goto(f"{server.url}/wallboard")
    page.reload()
    page.wait_for_selector("#message", state="visible", timeout=10_000)
    assert "incomplete" in page.locator("#message").inner_text()


PERF = """() => {
  window.perf = { longTasks: [], frames: [] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.perf.longTasks.push(entry.duration);
  }).observe({ type: "longtask", buffered: false });
  let last = performance.now();
  const frame = (now) => { window.perf.frames.push(now - last); last = now; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def test_500_agents_at_50_changes_a_second(
    server_factory: Any, browser: Any, figures: Callable[[str], None]
) -> None:
    server = server_factory().start()
    post_all(server, floor_events("floor", 500))
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    open_board(page, board_url(server, view_token(server)), 500)
    page.evaluate(PERF)
    seconds, rate = 6, 50
    started = time.monotonic()
    final: dict[int, int] = {}
    sent = 0
    for tick in range(seconds * 10):  # 5 changes every 100 ms, each agent in turn
        batch = []
        for _ in range(rate // 10):
            work_no, status = 101 + sent % 500, (5, 6, 1, 8)[sent // 500 % 4]
            final[work_no] = status
            batch.append({"eventId": f"load-{sent}", "ccId": 1, "vdn": 1, "agentId": work_no,
                          "at": int(time.time() * 1000), "ctiStatus": status,
                          "skills": [1 + work_no % 2]})  # fmt: skip
            sent += 1
        assert server.events(batch).json()["resultCode"] == "0100000"
        time.sleep(max(0.0, started + (tick + 1) * 0.1 - time.monotonic()))
    page.wait_for_function(
        "final => Object.entries(final).every(([n, s]) =>"
        " window.wallboard.floor.agents.get(Number(n)).citStatus === s)",
        arg={str(k): v for k, v in final.items()},
        timeout=10_000,
    )
    changes = page.evaluate("window.wallboard.stats.changes")
    perf = page.evaluate("window.perf")
    frames, tasks = perf["frames"], perf["longTasks"]
    figures(
        f"500 agents, {sent} events in {seconds} s ({sent / seconds:.0f}/s), {changes} changes:"
        f" frames {len(frames)}, frame time p50 {percentile(frames, 0.5):.1f} ms,"
        f" p95 {percentile(frames, 0.95):.1f} ms, max {max(frames, default=0):.1f} ms;"
        f" long tasks {len(tasks)}, longest {max(tasks, default=0):.0f} ms,"
        f" total {sum(tasks):.0f} ms"
    )
    assert changes > 0 and len(frames) > 0
    # responsive: the page still answers input and draws what it is told
    page.fill("#search", "Agent 333")
    page.wait_for_function(
        "() => document.querySelectorAll('#tiles > li').length === 1", timeout=5000
    )
    context.close()


# The names of floor_events' reason codes (1 to 4) in the screenshots' call center.
SHOT_REASONS = """\
rest_reasons = { 1 = "Short break", 2 = "Lunch", 3 = "Comfort break", 4 = "Training" }
busy_reasons = { 1 = "Personal time", 2 = "Coaching", 3 = "Preparation", 4 = "Back office" }
"""


def test_screenshots_light_and_dark_at_two_sizes(
    server_factory: Any, browser: Any, artifacts: Path, figures: Callable[[str], None],
    tmp_path: Path,
) -> None:  # fmt: skip
    cc_config = tmp_path / "cc.toml"
    cc_config.write_text(SHOT_REASONS, encoding="utf-8")
    server = server_factory("--cc-config-file", str(cc_config)).start()
    post_all(server, floor_events("floor", 500))
    post_all(server, floor_events("vdn2", 48, vdn=2))
    token1, token2 = view_token(server), view_token(server, vdn=2)
    shots = []
    for width, height in ((1920, 1080), (1366, 768)):
        for scheme in ("light", "dark"):
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme
            )
            page = context.new_page()
            open_board(page, board_url(server, token1), 500)
            if (width, height) == (1920, 1080):  # dense: 500 agents without scrolling
                assert page.evaluate("document.body.classList.contains('dense')")
                scroll = page.evaluate("document.documentElement.scrollHeight")
                assert scroll <= height, f"{scroll} px tall at {height} px"
            path = artifacts / f"wallboard-500-{width}x{height}-{scheme}.png"
            page.screenshot(path=path)
            page = context.new_page()
            open_board(page, board_url(server, token2, vdn=2), 48)
            path2 = artifacts / f"wallboard-48-{width}x{height}-{scheme}.png"
            page.screenshot(path=path2)
            shots += [path, path2]
            if os.environ.get("CCMS_WALLBOARD_README_SHOT") and (width, scheme) == (1366, "light"):
                page.screenshot(path=ROOT / "docs" / "wallboard.png")
            context.close()
    figures(f"{len(shots)} screenshots in {artifacts}: " + ", ".join(p.name for p in shots))
    assert all(p.stat().st_size > 10_000 for p in shots)
    if not os.environ.get("CCMS_WALLBOARD_ARTIFACTS"):  # the folder docs/wallboard.md names
        assert artifacts == ARTIFACTS
        git = shutil.which("git")
        if git and (ROOT / ".git").exists():  # a clone: the screenshots are not committed
            ignored = subprocess.run([git, "check-ignore", "-q", str(shots[0])], cwd=ROOT,
                                     check=False)  # fmt: skip
            assert ignored.returncode == 0, f"git does not ignore {shots[0]}"
