"""What people read: durations, statuses in words and colours, the panel, the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ccms.client import AgentDetail, AgentStatus, CtiStatus
from ccms.client.display import WatchRow, agent_panel, duration, sign_in_time, watch_table
from ccms.domain.status import agent_status

pytestmark = pytest.mark.unit

CET = timezone(timedelta(hours=1), "CET")
LOGIN = int(datetime(2024, 5, 1, 8, 12, 3, tzinfo=UTC).timestamp() * 1000)


def agent(work_no: int, cti: CtiStatus, seconds: int, name: str | None = "Ann") -> AgentDetail:
    return AgentDetail(
        work_no=work_no, vdn_id=1, cti_status=cti, name=name, phone_number=None,
        login_date=None if cti is CtiStatus.SIGNED_OUT else LOGIN, current_state_time=seconds,
        media_type=0, status=agent_status(cti),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59, "59s"), (60, "1m 00s"), (245, "4m 05s"), (3599, "59m 59s"),
     (3600, "1h 00m"), (3725, "1h 02m"), (93_784, "26h 03m"), (-5, "0s")],
)  # fmt: skip
def test_duration(seconds: int, text: str) -> None:
    assert duration(seconds) == text


def test_sign_in_time_in_the_given_zone() -> None:
    assert sign_in_time(LOGIN, CET) == "2024-05-01 09:12:03 CET"
    assert sign_in_time(None, CET) == "signed out"


def test_panel_in_words_with_colour_only_when_asked() -> None:
    talking = agent(101, CtiStatus.TALKING, 3725)

    plain = agent_panel(talking, 1, colour=False, tz=CET)
    coloured = agent_panel(talking, 1, colour=True, tz=CET)

    assert plain.splitlines() == [
        "Agent 101  Ann",
        "  call center 1, VDN 1",
        "  status      talking",
        "  CTI status  5 talking",
        "  in state    1h 02m",
        "  signed in   2024-05-01 09:12:03 CET",
        "  phone       -",
        "  media type  0",
    ]
    assert "\x1b" not in plain
    assert "\x1b[36mtalking\x1b[0m" in coloured


def test_table_sorted_by_status_then_longest_in_state() -> None:
    rows = [
        WatchRow(104, agent(104, CtiStatus.IDLE, 30, "Idle Short")),
        WatchRow(105, agent(105, CtiStatus.SIGNED_OUT, 9000, "Gone")),
        WatchRow(999, error="agent 999 is not known"),
        WatchRow(101, agent(101, CtiStatus.TALKING, 65, "Talk Short")),
        WatchRow(103, agent(103, CtiStatus.IDLE, 300, "Idle Long")),
        WatchRow(102, agent(102, CtiStatus.ANSWERING, 400, "Talk Long")),
    ]

    table = watch_table(rows, now_ms=LOGIN + 3_600_000, colour=False, tz=CET)

    lines = table.splitlines()
    assert lines[0].split() == ["AGENT", "NAME", "STATUS", "CTI", "IN", "STATE", "SIGNED", "IN"]
    assert [line.split()[0] for line in lines[1:]] == ["102", "101", "103", "104", "105", "999"]
    assert lines[1].split() == ["102", "Talk", "Long", "talking", "4", "answering", "6m", "40s",
                                "09:12:03"]  # fmt: skip
    assert "signed out" in lines[5] and lines[5].endswith("-")
    assert lines[6].split()[:3] == ["999", "-", "error"]
    assert len({line.index("STATUS") for line in lines[:1]}) == 1
    assert all(line[line.index(" ") :].startswith("  ") for line in lines)  # aligned columns


def test_table_colours_the_status_cell() -> None:
    table = watch_table([WatchRow(101, agent(101, CtiStatus.BUSY, 5))], now_ms=LOGIN, colour=True)

    assert "\x1b[31mbusy\x1b[0m" in table


def test_every_status_has_words() -> None:
    for status in AgentStatus:
        row = WatchRow(1, AgentDetail(1, 1, CtiStatus.IDLE, None, None, None, 0, 0, status))
        assert watch_table([row], now_ms=0, colour=False).splitlines()[1]
