"""``ccms watch`` against the real app in-process: what it shows, and what it asks for.

The watch loop runs with the client's transport forwarding to the app and counting each
request by route; its ``sleep`` ends the loop after a number of refreshes.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_support import SK, ServerClock, make_app

from ccms.cli import build_parser, main
from ccms.cli.watch import CLEAR, Screen, watch
from ccms.client import AsyncClient, ClientConfig
from ccms.http.app import App

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

URL = "http://testserver"
CONFIG = ClientConfig(URL, "admin", SK)


class Counting(httpx.AsyncBaseTransport):
    """Forwards to the app and counts the requests by route (the path after openapi/)."""

    def __init__(self, app: App) -> None:
        self._app = httpx.ASGITransport(app=app)
        self.requests: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests[request.url.path.split("/openapi/", 1)[-1]] += 1
        return await self._app.handle_async_request(request)


@pytest.fixture
async def app(tmp_path: Path, server_clock: ServerClock) -> AsyncIterator[App]:
    app = make_app(tmp_path / "ccms.db", server_clock)
    await app.startup()
    yield app
    await app.shutdown()


async def seed(app: App, events: list[dict[str, Any]]) -> None:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(URL, "admin", SK, transport=transport, retry_deadline=0) as client:
        await client.post_events(events)


def event(clock: ServerClock, n: int, work_no: int, status: int, ago_s: int, **extra: Any) -> Any:
    return {"eventId": f"w{n}", "ccId": 1, "vdn": extra.pop("vdn", 1), "agentId": work_no,
            "at": clock.now_ms - ago_s * 1000, "ctiStatus": status, **extra}  # fmt: skip


class Refreshes:
    """The loop's ``sleep``: lets ``count`` refreshes happen, then ends the loop."""

    class Done(Exception):
        pass

    def __init__(self, count: int) -> None:
        self.left = count

    async def __call__(self, seconds: float) -> None:
        self.left -= 1
        if self.left <= 0:
            raise self.Done


def screen(columns: int = 100, lines: int = 60, colour: bool = False) -> Screen:
    return Screen(colour=colour, redraw=True, size=lambda: os.terminal_size((columns, lines)))


async def run_watch(app: App, argv: list[str], view: Screen, refreshes: int = 1) -> Any:
    """Run ``ccms watch ARGV`` (live) for ``refreshes`` frames: (frames, requests)."""
    counting = Counting(app)
    frames: list[str] = []
    args = build_parser().parse_args(["watch", "--poll", *argv])
    sleep = Refreshes(refreshes)
    with pytest.raises(Refreshes.Done):
        await watch(args, CONFIG, view, frames.append, sleep=sleep, transport=counting)
    return frames, counting.requests


async def test_unknown_agents_are_shown_once_and_cost_no_requests_of_their_own(
    app: App, server_clock: ServerClock
) -> None:
    await seed(app, [
        event(server_clock, 1, 101, 5, 70, name="Ann"),
        event(server_clock, 2, 102, 1, 30, name="Bo"),
        event(server_clock, 3, 103, 1, 90, name="Cy"),
    ])  # fmt: skip
    unknown = [str(n) for n in range(201, 230)]  # 29 work numbers the server does not know

    frames, requests = await run_watch(app, ["1", "1", "101", "102", "103", *unknown],
                                       screen(), refreshes=5)  # fmt: skip

    assert len(frames) == 5
    # one batch request a refresh; each known agent's name read once; nothing else
    assert requests == {"agentgroup/agentstatusinfobyagentids": 5, "agent/agentbyworkno": 3}
    lines = frames[-1].splitlines()
    assert lines[1] == "1 talking, 2 idle, 29 unknown"
    rows = lines[3:]
    assert [row.split()[:3] for row in rows[:3]] == [
        ["101", "Ann", "talking"], ["103", "Cy", "idle"], ["102", "Bo", "idle"]
    ]  # fmt: skip
    assert [row.split() for row in rows[3:]] == [[n, "-", "unknown"] for n in unknown]


async def test_the_whole_vdn_fitted_to_the_terminal(app: App, server_clock: ServerClock) -> None:
    statuses = [5, 1, 0, 8]  # talking, idle, signed out, rest
    await seed(app, [
        event(server_clock, n, 101 + n, statuses[n % 4], 1000 - n, name=f"Agent {101 + n}", vdn=2)
        for n in range(40)
    ] + [event(server_clock, 99, 101, 5, 10, name="Other VDN")])  # fmt: skip

    frames, requests = await run_watch(app, ["1", "2"], screen(columns=80, lines=15))

    lines = frames[0].splitlines()
    assert lines[0].startswith(CLEAR + "call center 1, VDN 2: 40 agents at ")
    assert "(every 1s, Ctrl-C to stop)" in lines[0]
    assert lines[1] == "10 talking, 10 rest, 10 idle, 10 signed out"
    assert lines[2].split()[:3] == ["AGENT", "NAME", "STATUS"]  # the header on top
    rows = lines[3:-1]
    assert len(lines) == 14  # 15 lines, the last one left free
    assert [row.split()[0] for row in rows] == [str(101 + n) for n in range(0, 40, 4)]
    assert all(row.split()[1:4] == ["Agent", row.split()[0], "talking"] for row in rows)
    assert lines[-1] == "+30 more"
    assert requests["vdn/totalagentabstractex3"] == 1
    assert requests["agentgroup/agentstatusinfobyagentids"] == 1
    assert requests["agent/agentbyworkno"] <= 15  # names only for the rows in view


async def test_a_skill_queue(app: App, server_clock: ServerClock) -> None:
    await seed(app, [
        event(server_clock, 1, 101, 5, 70, name="Ann", skills=[1, 2]),
        event(server_clock, 2, 102, 1, 30, name="Bo", skills=[2]),
        event(server_clock, 3, 103, 1, 90, name="Cy", skills=[1]),
        event(server_clock, 4, 104, 0, 90, name="Di"),
    ])  # fmt: skip

    frames, requests = await run_watch(app, ["1", "1", "--skill", "1"], screen(), refreshes=2)

    lines = frames[-1].splitlines()
    assert lines[0].startswith(CLEAR + "call center 1, VDN 1, skill queue 1: 2 agents at ")
    assert lines[1] == "1 talking, 1 idle"
    assert [line.split()[:3] for line in lines[3:]] == [["101", "Ann", "talking"],
                                                        ["103", "Cy", "idle"]]  # fmt: skip
    assert requests == {"skill/agentbyconfigedskill": 2}  # names come with the queue


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("environ", "tty", "colour", "redraw"),
    [
        ({}, True, True, True),
        ({"NO_COLOR": ""}, True, False, True),  # any value, even empty: colour only
        ({"NO_COLOR": "1"}, True, False, True),
        ({"TERM": "dumb"}, True, False, False),
        ({}, False, False, False),
    ],
)
def test_no_color_removes_colour_only(
    environ: dict[str, str], tty: bool, colour: bool, redraw: bool
) -> None:
    stream = Terminal() if tty else io.StringIO()

    view = Screen.of(stream, environ, live=True)

    assert (view.colour, view.redraw, view.size is not None) == (colour, redraw, tty and redraw)


async def test_a_live_table_without_colour_still_redraws(
    app: App, server_clock: ServerClock
) -> None:
    await seed(app, [event(server_clock, 1, 101, 5, 70, name="Ann")])
    view = Screen.of(Terminal(), {"NO_COLOR": "", "COLUMNS": "90", "LINES": "30"}, live=True)

    frames, _ = await run_watch(app, ["1", "1", "101"], view, refreshes=2)

    assert all(frame.startswith(CLEAR) for frame in frames)
    assert not any(re.search(r"\x1b\[\d+m", frame) for frame in frames)


def test_work_numbers_and_a_skill_queue_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["watch", "1", "1", "101", "--skill", "2", "--url", URL, "--ak", "a",
                 "--sk", "b"], {})  # fmt: skip

    assert code == 2
    assert capsys.readouterr().err == "ccms: watch: give work numbers or --skill, not both\n"
