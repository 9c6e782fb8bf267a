"""End to end: ``ccms agents`` and the clients' agent list against a real ``ccms serve`` on
loopback: the table in the server's order, the filters, --json, the paging helper of both
clients, and mistakes as one line with their exit codes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import Server, free_port

from ccms.cli import main
from ccms.client import AgentQuery, AgentStatus, AsyncClient, Client, CtiStatus

pytestmark = pytest.mark.e2e

# work number, name, CTI status, seconds in it, skills, reason
FLOOR = [
    (101, "Ann Lee", 1, 30, [1], None),
    (102, "Bo Chen", 5, 400, [2], None),
    (103, "Cy Diaz", 8, 1200, [1, 2], 2),
    (104, "Di Ewa", 0, 50, [1], None),
    (105, "Ed Fox", 6, 90, [2], None),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("agents")).start()
    now = int(time.time() * 1000)
    events = [{"eventId": f"a{n}", "ccId": 1, "vdn": 1, "agentId": w, "name": name,
               "ctiStatus": cti, "at": now - seconds * 1000, "skills": skills,
               **({"reason": reason} if reason is not None else {})}
              for n, (w, name, cti, seconds, skills, reason) in enumerate(FLOOR)]  # fmt: skip
    many = [{"eventId": f"m{n}", "ccId": 1, "vdn": 2, "agentId": 1000 + n, "ctiStatus": 1,
             "at": now - n * 1000} for n in range(2500)]  # fmt: skip
    assert running.events(events).status_code == 200
    assert running.events(many).json()["resultDesc"]["accepted"] == 2500
    try:
        yield running
    finally:
        running.stop()


def ccms(server: Server, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    environ = {"CCMS_URL": server.url, "CCMS_AK": ADMIN_AK, "CCMS_SK": ADMIN_SK,
               "HOME": str(server.workdir)}  # fmt: skip
    code = main(argv, environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(out: str) -> list[list[str]]:
    """The table's lines split on runs of two spaces, the header and the counts line aside."""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["AGENT", "NAME", "STATUS"]
    return [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in lines[1:-1]]


def test_the_table_is_in_the_servers_order(server: Server, capsys: Any) -> None:
    code, out, err = ccms(server, capsys, "agents", "1", "1")
    assert (code, err) == (0, "")
    table = rows(out)
    assert [r[0] for r in table] == ["103", "102", "105", "101"]  # longest in state first
    assert table[0][:4] == ["103", "Cy Diaz", "rest", "8 rest"]
    assert table[0][4] in ("20m 00s", "20m 01s", "20m 02s")  # the time the test takes
    assert table[0][5:] == ["2", "1,2", "0", "-"]
    assert out.splitlines()[-1] == "4 agents of 4: 1 talking, 1 wrap-up, 1 rest, 1 idle"


@pytest.mark.parametrize(
    ("argv", "listed"),
    [
        (["--sort", "workNo"], ["101", "102", "103", "105"]),
        (["--sort=-name"], ["105", "103", "102", "101"]),
        (["--status", "idle", "--status", "rest"], ["103", "101"]),
        (["--status", "signed-out"], ["104"]),
        (["--status", "2"], ["104"]),
        (["--skill", "2"], ["103", "102", "105"]),
        (["--search", "CH"], ["102"]),
        (["--search", "10", "--sort=-workNo", "--limit", "2"], ["105", "103"]),
        (["--flagged"], []),  # no thresholds configured
    ],
)  # fmt: skip
def test_filters_and_sorts(server: Server, capsys: Any, argv: list[str], listed: list[str]) -> None:
    code, out, _ = ccms(server, capsys, "agents", "1", "1", *argv)
    assert code == 0
    if listed:
        assert [r[0] for r in rows(out)] == listed
    else:
        assert out == "0 agents of 0: no agents\n"


def test_json_and_limit_over_several_pages(server: Server, capsys: Any) -> None:
    code, out, _ = ccms(server, capsys, "agents", "1", "2", "--json", "--limit", "2100",
                        "--sort", "workNo")  # fmt: skip
    assert code == 0
    answer = json.loads(out)
    assert [a["agentId"] for a in answer["agents"]] == list(range(1000, 3100))
    assert answer["counts"]["4"] == 2500
    assert answer["agents"][0]["status"] == 4 and answer["agents"][0]["flags"] == []


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["agents", "1", "0"], 1, "ccms: vdn must be an integer from 1 to 5000 (resultCode 0100002"),
        (["agents", "1", "1", "--status", "lunch"], 2, "usage: ccms agents"),
        (["agents", "1", "1", "--sort", "time"], 2, "usage: ccms agents"),
        (["agents", "1", "1", "--limit", "0"], 2, "usage: ccms agents"),
        (["agents", "1", "1", "--sk", "wrong-secret-0123456789"], 1,
         "ccms: signature does not match (resultCode 0100001, HTTP 401)"),
        (["agents", "1", "1", "--url", "CLOSED", "--retry-deadline", "0"], 3,
         "ccms: cannot reach http://127.0.0.1:"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_and_an_exit_code(
    server: Server, capsys: Any, argv: list[str], code: int, message: str
) -> None:
    argv = [f"http://127.0.0.1:{free_port()}" if a == "CLOSED" else a for a in argv]
    if code == 2:
        with pytest.raises(SystemExit) as stopped:
            ccms(server, capsys, *argv)
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(message) and "Traceback" not in err
        assert err.splitlines()[-1].startswith("ccms agents: error:")
        return
    result, out, err = ccms(server, capsys, *argv)
    assert (result, out) == (code, "")
    assert err.startswith(message) and err.count("\n") == 1


def test_both_clients_page_through_every_agent(server: Server) -> None:
    query = AgentQuery(sort="-secondsInState")
    with Client(server.url, ADMIN_AK, ADMIN_SK) as cms:
        pages = list(cms.agent_list_pages(1, 2, query, limit=1000))
        first = cms.agent_list(1, 1, AgentQuery(statuses=[AgentStatus.REST]))

    async def pages_async() -> list[int]:
        async with AsyncClient(server.url, ADMIN_AK, ADMIN_SK) as cms:
            return [a.work_no async for p in cms.agent_list_pages(1, 2, query, limit=700)
                    for a in p.agents]  # fmt: skip

    assert [len(p.agents) for p in pages] == [1000, 1000, 500]
    work_nos = [a.work_no for p in pages for a in p.agents]
    assert work_nos == list(range(3499, 999, -1))  # the oldest state first
    assert anyio.run(pages_async) == work_nos
    assert pages[0].counts[AgentStatus.IDLE] == 2500 and pages[-1].next_cursor is None
    (cy,) = first.agents
    assert (cy.work_no, cy.name, cy.cti_status, cy.status) == (103, "Cy Diaz", CtiStatus.REST,
                                                                AgentStatus.REST)  # fmt: skip
    assert (cy.reason, cy.skills, cy.calls, cy.flags) == (2, (1, 2), (), ())
    assert 1200 <= cy.seconds_in_state <= 1260
    assert cy.since == pytest.approx(first.server_time - 1200_000, abs=61_000)


def test_the_command_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "client.md").read_text()
    assert "ccms agents" in docs and "agent_list_pages" in docs
