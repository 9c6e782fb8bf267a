"""What people read: durations, statuses in words and colours, the panel, the table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ccms.client import AgentDetail, AgentStatus, CtiStatus
from ccms.client.display import (
    WatchRow,
    agent_panel,
    duration,
    plural,
    sign_in_time,
    watch_counts,
    watch_table,
)
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
        WatchRow.of(agent(104, CtiStatus.IDLE, 30, "Idle Short")),
        WatchRow.of(agent(105, CtiStatus.SIGNED_OUT, 9000, "Gone")),
        WatchRow(999),
        WatchRow.of(agent(101, CtiStatus.TALKING, 65, "Talk Short")),
        WatchRow.of(agent(103, CtiStatus.IDLE, 300, "Idle Long")),
        WatchRow.of(agent(102, CtiStatus.ANSWERING, 400, "Talk Long")),
    ]

    table = watch_table(rows, now_ms=LOGIN + 3_600_000, colour=False, tz=CET)

    lines = table.splitlines()
    assert lines[0].split() == ["AGENT", "NAME", "STATUS", "CTI", "IN", "STATE", "SIGNED", "IN"]
    assert [line.split()[0] for line in lines[1:]] == ["102", "101", "103", "104", "105", "999"]
    assert lines[1].split() == ["102", "Talk", "Long", "talking", "4", "answering", "6m", "40s",
                                "09:12:03"]  # fmt: skip
    assert "signed out" in lines[5] and lines[5].endswith("-")
    assert lines[6].split() == ["999", "-", "unknown"]
    assert len({line.index("STATUS") for line in lines[:1]}) == 1
    assert all(line[line.index(" ") :].startswith("  ") for line in lines)  # aligned columns


def test_table_colours_the_status_cell() -> None:
    table = watch_table([WatchRow.of(agent(101, CtiStatus.BUSY, 5))], now_ms=LOGIN, colour=True)

    assert "\x1b[31mbusy\x1b[0m" in table


def test_every_status_has_words() -> None:
    for status in AgentStatus:
        row = WatchRow.of(AgentDetail(1, 1, CtiStatus.IDLE, None, None, None, 0, 0, status))
        assert watch_table([row], now_ms=0, colour=False).splitlines()[1]


def floor(count: int) -> list[WatchRow]:
    """``count`` agents: a third talking, a third idle, a third signed out; 101 longest."""
    statuses = (CtiStatus.TALKING, CtiStatus.IDLE, CtiStatus.SIGNED_OUT)
    return [
        WatchRow.of(agent(101 + n, statuses[n % 3], 1000 - n, f"Agent Number {101 + n}"))
        for n in range(count)
    ]


def test_a_table_longer_than_its_room_ends_with_how_many_more() -> None:
    rows = floor(30)

    lines = watch_table(rows, now_ms=LOGIN, colour=False, tz=CET, room=10).splitlines()

    assert len(lines) == 10
    assert lines[0].split()[:2] == ["AGENT", "NAME"]  # the header stays
    shown = [int(line.split()[0]) for line in lines[1:9]]
    assert shown == [101, 104, 107, 110, 113, 116, 119, 122]  # talking, longest in state first
    assert lines[9] == "+22 more"


def test_a_table_within_its_room_has_every_row() -> None:
    lines = watch_table(floor(8), now_ms=LOGIN, colour=False, room=9).splitlines()

    assert len(lines) == 9
    assert "more" not in lines[-1]


def test_a_table_fits_the_width_of_the_terminal() -> None:
    wide = watch_table(floor(6), now_ms=LOGIN, colour=True, tz=CET)
    narrow = watch_table(floor(6), now_ms=LOGIN, colour=True, tz=CET, width=44)

    def visible(line: str) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", line)

    assert max(len(visible(line)) for line in wide.splitlines()) > 44
    assert all(len(visible(line)) <= 44 for line in narrow.splitlines())
    # the sign-in time and the CTI status give way first, then the names shorten
    assert visible(narrow.splitlines()[0]).split() == ["AGENT", "NAME", "STATUS", "IN", "STATE"]
    assert visible(narrow.splitlines()[1]).split()[:4] == ["101", "Agent", "Number", "1…"]
    assert narrow.count("\x1b[36mtalking\x1b[0m") == 2  # colour stays whole


def test_counts_per_status_in_the_order_of_the_table() -> None:
    rows = [*floor(5), WatchRow(999), WatchRow(998)]

    assert watch_counts(rows, colour=False) == "2 talking, 2 idle, 1 signed out, 2 unknown"
    assert watch_counts(rows, colour=True).startswith("2 \x1b[36mtalking\x1b[0m, ")
    assert watch_counts([], colour=False) == "no agents"


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 events"), (1, "1 event"), (2, "2 events"), (1200, "1,200 events")]
)
def test_plural(count: int, text: str) -> None:
    assert plural(count, "event") == text
    assert plural(count, "batch", "batches").endswith("batch" if count == 1 else "batches")
