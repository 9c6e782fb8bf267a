"""The wallboard in Chromium against a real ``ccms serve``: what it shows, and how."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import SRC, Server, wait_until
from tests.e2e.wallboard.conftest import (
    board_url,
    floor_events,
    open_board,
    post_all,
    view_token,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AGENTS = 40


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("wallboard")).start()
    post_all(server, floor_events("floor", AGENTS))
    yield server
    server.stop()


def tile(page: Any, work_no: int) -> Any:
    return page.locator(f'#tiles > li[data-work="{work_no}"]')


def states(page: Any) -> dict[str, str]:
    return dict(page.locator("#tiles > li").evaluate_all(
        "tiles => tiles.map(t => [t.dataset.work, t.querySelector('.tile-state').textContent])"))  # fmt: skip


def drawn(page: Any) -> None:
    """After the next animation frame: the board has drawn what was just chosen."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def header(page: Any) -> dict[str, int]:
    return {
        item.get_attribute("data-state"): int(item.locator(".count-value").inner_text())
        for item in page.locator("#counts > li").all()
    }


def test_the_url_of_wallboard_url_opens_the_floor(live: Server, page: Any) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.update(CCMS_URL=live.url, CCMS_AK=ADMIN_AK, CCMS_SK=ADMIN_SK)
    done = subprocess.run(
        [sys.executable, "-m", "ccms", "wallboard-url", "1", "1", "--ttl", "600"],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith(f"{live.url}/wallboard#ccId=1&vdn=1&token=")
    open_board(page, url, AGENTS)
    assert page.locator("#live").inner_text() == "live"
    assert "Agent 101" in tile(page, 101).inner_text()
    # every tile's state word is real text, with its icon
    assert tile(page, 101).locator(".tile-state").text_content() == "Idle"
    assert tile(page, 103).locator(".tile-state").text_content() == "Talking"
    assert tile(page, 103).locator("svg.icon-talking").count() == 1
    assert "1 call" in tile(page, 103).inner_text()


def test_an_event_changes_its_tile_within_a_second(
    live: Server, page: Any, figures: Callable[[str], None]
) -> None:
    open_board(page, board_url(live, view_token(live)), AGENTS)
    before = states(page)
    event = {"eventId": "one-change", "ccId": 1, "vdn": 1, "agentId": 102,
             "at": int(time.time() * 1000), "ctiStatus": 8, "reason": 3, "skills": [2]}  # fmt: skip
    assert live.events([event]).json()["resultCode"] == "0100000"
    started = time.monotonic()
    page.wait_for_function(
        "() => document.querySelector('#tiles > li[data-work=\"102\"] .tile-state')"
        ".textContent === 'Rest'",
        timeout=1000,
    )
    figures(f"event acknowledged -> tile changed: {1000 * (time.monotonic() - started):.0f} ms")
    assert "Reason 3" in tile(page, 102).inner_text()  # a code without a name
    assert re.fullmatch(r"00:0[0-2]", tile(page, 102).locator(".tile-time").inner_text())
    after = states(page)  # that tile alone changed
    assert {n for n in after if after[n] != before[n]} == {"102"}


def test_the_header_counts_equal_the_apis(live: Server, page: Any) -> None:
    open_board(page, board_url(live, view_token(live)), AGENTS)
    states = live.post("/rest/cmsapp/v1/openapi/vdn/totalagentstate", {"ccId": 1, "vdn": 1})
    ids = [agent["agentId"] for agent in states.json()["resultDesc"]]
    team = live.post(
        "/rest/cmsapp/v1/openapi/agentgroup/teamagentstatusinfo",
        {"queryParam": {"ccId": 1, "vdn": 1, "agentIds": ids}},
    ).json()["resultDesc"]
    expected = {
        "signedin": team["loginEd"], "idle": team["idle"],
        "ringing": team["occupy"] + team["answering"],
        "talking": team["preoccupy"] + team["talking"],
        "wrapup": team["workSubstateBegin"] + team["lateAdjust"], "busy": team["setBusy"],
        "rest": team["rest"], "study": team["studying"],
    }  # fmt: skip
    wait_until(lambda: header(page) == expected, timeout=5)
    assert expected["signedin"] == AGENTS and min(expected.values()) > 0


def test_filters_search_and_sort(live: Server, page: Any) -> None:
    open_board(page, board_url(live, view_token(live)), AGENTS)
    page.select_option("#skill", "2")
    drawn(page)
    shown = [int(n) for n in page.locator("#tiles > li").evaluate_all(
        "tiles => tiles.map(t => t.dataset.work)")]  # fmt: skip
    assert shown and all(n % 2 == 0 for n in shown)  # queue 2: the even work numbers
    page.select_option("#skill", "")
    drawn(page)
    page.select_option("#state", "busy")
    drawn(page)
    assert {t.text_content() for t in page.locator("#tiles .tile-state").all()} == {"Busy"}
    page.select_option("#state", "")
    drawn(page)
    page.fill("#search", "Agent 117")
    drawn(page)
    assert page.locator("#tiles > li").count() == 1
    page.fill("#search", "")
    drawn(page)
    page.select_option("#sort", "workNo")
    page.wait_for_function("() => document.querySelector('#tiles > li').dataset.work === '101'")


def test_the_tiles_are_reached_with_tab_and_arrows(live: Server, page: Any) -> None:
    open_board(page, board_url(live, view_token(live)), AGENTS)
    page.select_option("#sort", "workNo")
    page.wait_for_function("() => document.querySelector('#tiles > li').dataset.work === '101'")
    page.locator("#tiles > li").first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.work") == "102"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.work") == str(100 + AGENTS)
    tab_stops = page.locator('#tiles > li[tabindex="0"]').count()
    assert tab_stops == 1  # one Tab stop for the whole grid


FLAGGED_STREAM = [
    ("snapshot", "7", {"seq": 7, "part": 1, "parts": 1, "serverTime": None, "replayWindowS": 900,
     "agents": "AGENTS"}),
    ("change", "8", {"seq": 8, "at": 0, "key": {"ccId": 1, "vdn": 1, "agentId": 3},
     "prev": None, "cur": "AGENT3"}),
    ("flag", "9", {"seq": 9, "at": 0, "key": {"ccId": 1, "vdn": 1, "agentId": 4},
     "flag": {"name": "ringing-long", "level": "warning", "since": 0}, "raised": True}),
    ("surprise", "10", {"anything": "a kind this page does not know"}),
]  # fmt: skip


def sse_agent(work_no: int, cti: int, since: int, flags: list[dict[str, Any]]) -> dict[str, Any]:
    return {"workNo": work_no, "vdnId": 1, "ccId": 1, "citStatus": cti, "name": f"Agent {work_no}",
            "since": since, "reason": None, "skills": [1], "calls": [], "flags": flags}  # fmt: skip


def test_flags_from_the_agents_flags_field_and_flag_blocks(context: Any, live: Server) -> None:
    """The flags of the contract (``flags`` on each agent, flag blocks on the stream), fed
    to the page through the browser's network layer: the server raises none yet."""
    now = int(time.time() * 1000)
    alert = {"name": "talking-long", "level": "alert", "since": now - 5000}
    agents = [sse_agent(1, 1, now - 60_000, []), sse_agent(2, 5, now - 700_000, [alert]),
              sse_agent(3, 1, now - 1000, []), sse_agent(4, 3, now - 30_000, [])]  # fmt: skip
    cur3 = sse_agent(3, 8, now, [{"name": "rest-long", "level": "warning", "since": now}])
    blocks = []
    for event, seq, data in FLAGGED_STREAM:
        text = orjson.dumps(data).decode()
        text = text.replace('"AGENTS"', orjson.dumps(agents).decode())
        text = text.replace('"AGENT3"', orjson.dumps(cur3).decode()).replace(
            '"serverTime":null', f'"serverTime":{now}'
        )
        blocks.append(f"event: {event}\nid: {seq}\ndata: {text}\n\n")
    served: list[str | None] = []

    def fulfil(route: Any) -> None:
        served.append(route.request.headers.get("last-event-id"))
        body = "retry: 200\n\n" + ("".join(blocks) if len(served) == 1 else ": hb\n\n")
        route.fulfill(status=200, body=body, headers={"content-type": "text/event-stream"})

    page = context.new_page()
    page.route("**/ccms/v1/stream?*", fulfil)
    open_board(page, board_url(live, "any-token"), 4)
    page.wait_for_function("() => window.wallboard.stats.ignored === 1")
    order = page.locator("#tiles > li").evaluate_all("tiles => tiles.map(t => t.dataset.work)")
    assert order[0] == "2"  # the alert first, then the warnings
    assert set(order[1:3]) == {"3", "4"}
    assert "f-alert" in (tile(page, 2).get_attribute("class") or "")
    assert tile(page, 2).locator(".tile-flags").text_content() == "Alert: Talking too long"
    assert tile(page, 2).locator("svg.icon-alert").count() == 1
    assert "Rest too long" in tile(page, 3).inner_text()
    assert "Ringing too long" in tile(page, 4).inner_text()
    page.check("#flagged")
    page.wait_for_function("() => document.querySelectorAll('#tiles > li').length === 3")
    assert page.evaluate("window.wallboard.floor.seq") == 9
    # the unknown kind moved the cursor: a reconnection resumes after it
    page.wait_for_function("() => window.wallboard.link.connections >= 2", timeout=5000)
    assert served[1] == "10"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation(live: Server, page: Any, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    open_board(page, board_url(live, view_token(live)), AGENTS)
    found = axe_violations(page)
    assert found == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in found]
    page.select_option("#layout", "dense")
    found = axe_violations(page)
    assert found == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in found]


def test_tabs_of_one_board_share_one_stream(live: Server, context: Any) -> None:
    url = board_url(live, view_token(live))
    first, second = context.new_page(), context.new_page()
    open_board(first, url, AGENTS)
    open_board(second, url, AGENTS)

    def streams() -> float:
        text = httpx.get(f"{live.url}/metrics").text
        return float(re.search(r"^ccms_streams_open (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]

    assert wait_until(lambda: streams() == 1, timeout=5)
    assert first.evaluate("window.wallboard.link.role") == "leader"
    assert second.evaluate("window.wallboard.link.role") == "follower"
    event = {"eventId": "shared", "ccId": 1, "vdn": 1, "agentId": 110,
             "at": int(time.time() * 1000), "ctiStatus": 7, "reason": 5, "skills": [1]}  # fmt: skip
    assert live.events([event]).json()["resultCode"] == "0100000"
    check = "() => document.querySelector('#tiles > li[data-work=\"110\"] .tile-state').textContent === 'Busy'"
    second.wait_for_function(check, timeout=2000)
    first.close()  # the leader goes: the other tab takes the stream over, from its seq
    second.wait_for_function("() => window.wallboard.link.role === 'leader'", timeout=5000)
    assert second.evaluate("window.wallboard.stats.snapshots") == 1
    event = {**event, "eventId": "shared-2", "ctiStatus": 1, "at": event["at"] + 1}
    assert live.events([event]).json()["resultCode"] == "0100000"
    check = check.replace("'Busy'", "'Idle'")
    second.wait_for_function(check, timeout=5000)
    assert wait_until(lambda: streams() == 1, timeout=5)


def test_the_demos_wallboard_url_opens_onto_the_demos_floor(demo_factory: Any, page: Any) -> None:
    demo = demo_factory("--agents", "30", "--vdns", "1").start()
    urls = re.findall(r"http://\S+/wallboard#\S+", demo.banner())
    assert len(urls) == 1, demo.banner()
    page.goto(urls[0])
    page.wait_for_function(
        "() => document.querySelectorAll('#tiles > li').length > 0", timeout=10_000
    )
    signed_in = int(page.locator('#counts [data-state="signedin"] .count-value').inner_text())
    assert signed_in == page.locator("#tiles > li").count() > 0
    # the demo names the simulator's reason codes (its cc.toml): no busy or rest tile
    # reads "Reason N"
    names = page.evaluate("window.wallboard.floor.reasonNames")
    assert names["rest"] == {"1": "Short break", "2": "Lunch", "3": "Comfort break"}
    assert names["busy"] == {"5": "Phone unavailable", "11": "Personal time",
                             "12": "Coaching", "13": "Preparation"}  # fmt: skip
    details = page.locator("#tiles .tile-detail").all_text_contents()
    assert not [d for d in details if "Reason" in d], details
    assert demo.stop() == 0


def test_a_flag_appears_at_its_threshold_second_with_no_event(
    tmp_path: Path, server_factory: Any, page: Any, figures: Callable[[str], None]
) -> None:
    """A real server's flag timer (ringing over 2 s here): the tile shows the flag within a
    second of the threshold (the contract), while nothing is posted after the ring began.
    The page notes the moment the flag is drawn (a MutationObserver, on the same clock as
    the test's), so the test's own round trips to the browser are not counted."""
    flags_file = tmp_path / "flags.toml"
    flags_file.write_text("ringing_s = 2\n", encoding="utf-8")
    server = server_factory("--flags-file", str(flags_file)).start()
    idle = {"eventId": "idle", "ccId": 1, "vdn": 1, "agentId": 101,
            "at": int(time.time() * 1000) - 1000, "ctiStatus": 1, "name": "Agent 101",
            "skills": [1]}  # fmt: skip
    assert server.events([idle]).json()["resultCode"] == "0100000"
    open_board(page, board_url(server, view_token(server)), 1)
    page.evaluate(FLAG_WATCH)
    at = int(time.time() * 1000)  # the ring starts once the board is open: it sees it all
    ring = {**idle, "eventId": "ring", "at": at, "ctiStatus": 3}
    assert server.events([ring]).json()["resultCode"] == "0100000"
    page.wait_for_function(
        "() => document.querySelector('#tiles > li[data-work=\"101\"] .tile-state')"
        ".textContent === 'Ringing'", timeout=5000,
    )  # fmt: skip
    assert "f-warning" not in (tile(page, 101).get_attribute("class") or "")
    page.wait_for_selector('#tiles > li[data-work="101"].f-warning', timeout=10_000)
    drawn_at = page.evaluate("window.flagDrawnAt")
    late = drawn_at - (at + 2000)
    figures(f"flag threshold -> flag drawn on the tile: {late} ms (at most 1000)")
    # within 1 s of the threshold; 1 ms more for `at`, which the test's clock truncated
    assert 0 <= late <= 1000 + 1, late
    assert tile(page, 101).locator(".tile-flags").text_content() == "Warning: Ringing too long"


# The moment (Date.now(), the machine's clock as time.time() is) agent 101's tile is first
# drawn with a flag: a MutationObserver runs right after the draw that changed the class.
FLAG_WATCH = """() => {
  window.flagDrawnAt = null;
  const seen = () => {
    if (window.flagDrawnAt === null &&
        document.querySelector('#tiles > li[data-work="101"].f-warning')) {
      window.flagDrawnAt = Date.now();
    }
  };
  new MutationObserver(seen).observe(document.querySelector("#tiles"),
    { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
}"""


REASONS_FILE = """\
rest_reasons = { 2 = "Lunch" }

[[vdn]]
cc_id = 1
vdn = 2
rest_reasons = { 2 = "Lunch break" }
"""


def test_a_busy_or_rest_tile_shows_the_name_of_its_reason(
    tmp_path: Path, server_factory: Any, page: Any
) -> None:
    """The names of the configuration file (``cc_config_file``) for the board's VDN; a code
    without one reads ``Reason N``; busy reason 5 is named by default."""
    cc_config = tmp_path / "cc.toml"
    cc_config.write_text(REASONS_FILE, encoding="utf-8")
    server = server_factory("--cc-config-file", str(cc_config)).start()
    now = int(time.time() * 1000)
    base = {"ccId": 1, "vdn": 1, "at": now - 5000, "ctiStatus": 1, "skills": [1]}
    post_all(server, [{**base, "eventId": f"idle-{n}", "agentId": n} for n in (101, 102, 103)])
    open_board(page, board_url(server, view_token(server)), 3)
    moves = [(101, 8, 2), (102, 8, 9), (103, 7, 5)]  # rest "Lunch", rest 9, busy 5
    post_all(server, [{**base, "eventId": f"move-{n}", "agentId": n, "at": now, "ctiStatus": cti,
                       "reason": reason} for n, cti, reason in moves])  # fmt: skip
    page.wait_for_function(
        "() => ['101', '102', '103'].every(n => document.querySelector("
        "`#tiles > li[data-work=\"${n}\"] .tile-detail`).textContent !== '')",
        timeout=5000,
    )
    assert tile(page, 101).locator(".tile-detail").text_content() == "Lunch"
    assert tile(page, 102).locator(".tile-detail").text_content() == "Reason 9"
    assert tile(page, 103).locator(".tile-detail").text_content() == "Phone unavailable"
    assert tile(page, 101).locator(".tile-state").text_content() == "Rest"  # the state too
    # another VDN's board has that VDN's names
    post_all(server, [{**base, "vdn": 2, "eventId": "two", "agentId": 201, "ctiStatus": 8,
                       "reason": 2}])  # fmt: skip
    other = page.context.new_page()
    open_board(other, board_url(server, view_token(server, vdn=2), vdn=2), 1)
    assert tile(other, 201).locator(".tile-detail").text_content() == "Lunch break"
