"""End to end: ``ccms queues`` against a real ``ccms serve`` on loopback: the table of a
VDN's queues from the stream's queue figures, ``--skills``, and mistakes as one line with
their exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import Server, mid_window_ms

from ccms.cli import main
from ccms.cli.queues import queue_table
from ccms.client.stream import StreamQueue, StreamQueues

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("queues")).start()
    now = mid_window_ms()  # the answer and the abandon in the figures' current 5 minutes
    agents = [{"eventId": f"a{w}", "ccId": 1, "vdn": 1, "agentId": w, "ctiStatus": 1,
               "at": now - 60_000, "skills": [1, 2]} for w in (101, 102)]  # fmt: skip

    def call(event_id: str, call_id: str, at: int, kind: str, **fields: object) -> dict[str, Any]:
        return {"eventId": event_id, "ccId": 1, "vdn": 1, "callId": call_id, "at": at,
                "callEvent": kind, **fields}  # fmt: skip

    calls = [
        call("c1", "1790000000-1", now - 95_000, "queue", skillId=1),  # waits 95 s
        call("c2", "1790000000-2", now - 4_000, "queue", skillId=2),
        call("c3", "1790000000-3", now - 3_000, "queue", skillId=2),
        call("c4", "1790000000-3", now - 1_000, "answer", agentId=101),
        call("c5", "1790000000-4", now - 2_000, "queue", skillId=2),
        call("c6", "1790000000-4", now - 1_000, "abandon"),
    ]
    assert running.events(agents).json()["resultDesc"]["accepted"] == 2
    assert running.events(calls).json()["resultDesc"]["accepted"] == len(calls)
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


def table(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    assert lines[0].startswith("call center 1, VDN 1: queues at "), lines[0]
    return {line.split()[0]: line.split()[1:] for line in lines[2:]}


def test_the_queues_of_a_vdn(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = ccms(server, capsys, "queues", "1", "1", "--once")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split() == [
        "QUEUE", "WAITING", "LONGEST", "ENTERED", "ANSWERED", "SL", "20s", "ABANDONED"
    ]  # fmt: skip
    rows = table(out)
    assert list(rows) == ["1", "2", "total"]
    waiting, longest = rows["1"][0], " ".join(rows["1"][1:3])
    assert waiting == "1" and longest.startswith("1m 3") and "s" in longest, rows["1"]
    # queue 2: one waits (4 s), one answered within 20 s, one abandoned: SL 50 %
    assert rows["2"][0] == "1" and rows["2"][-3:] == ["1", "50%", "1"], rows["2"]
    assert rows["total"][0] == "2" and rows["total"][-3:] == ["1", "50%", "1"]


def test_skills_narrow_the_table(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = ccms(server, capsys, "queues", "1", "1", "--once", "--skills", "2")
    assert code == 0 and list(table(out)) == ["2", "total"]


def test_no_call_data_and_mistakes_are_one_line(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ccms(server, capsys, "queues", "1", "7", "--once", "--wait", "1.5")
    assert (code, out) == (1, "")
    assert err == (
        "ccms: no queue figures for call center 1, VDN 7 within 1.5 s (no call data yet?)\n"
    )
    with pytest.raises(SystemExit) as usage:
        main(["queues", "1", "1", "--skills", "x"], {})
    assert usage.value.code == 2
    assert "must be skill queue ids" in capsys.readouterr().err


def test_the_table_counts_the_wait_up_to_now() -> None:
    queue = StreamQueue(3, 2, 1_000_000 - 125_000, 5, 4, 3, 1, 5)
    figures = StreamQueues(1_000_000, 900_000, 20, (queue,))
    lines = queue_table(figures, 1_000_000 + 10_000).splitlines()
    assert lines[1].split() == ["3", "2", "2m", "15s", "5", "4", "60%", "1"]
    assert lines[2].split() == ["total", "2", "2m", "15s", "5", "4", "60%", "1"]
