"""What ``ccms agent --why`` prints: the agent, its cause, its flags and its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ccms.client import AgentFlag, AgentHistory, AgentItem, AgentStatus, CtiStatus, StatusEvent
from ccms.client.why import history_table, moment_text, why_panel

pytestmark = pytest.mark.unit

CET = timezone(timedelta(hours=1), "CET")
T = int(datetime(2024, 5, 1, 8, 12, 3, 250_000, tzinfo=UTC).timestamp() * 1000)


def resting(flags: tuple[AgentFlag, ...] = ()) -> AgentHistory:
    item = AgentItem(
        work_no=101, name="Ann", cti_status=CtiStatus.REST, status=AgentStatus.REST, since=T,
        seconds_in_state=75, reason=4, skills=(11, 12), calls=("c-1",), flags=flags,
    )  # fmt: skip
    history = (
        StatusEvent(T, CtiStatus.REST, 4, True, "ami:1", "asterisk-ami", "sales: Paused=1 (Lunch)"),
        StatusEvent(T - 5_000, CtiStatus.BUSY, None, False, "pbx-9", None, ""),
    )
    return AgentHistory(item, T - 60_000, "+4930", 5, "asterisk-ami", "sales: Paused=1 (Lunch)",
                        history)  # fmt: skip


def test_moment_to_the_millisecond() -> None:
    assert moment_text(T, CET) == "2024-05-01 09:12:03.250"


def test_the_panel_says_why_and_lists_the_history() -> None:
    flag = AgentFlag("rest-long", "warning", T + 900_000)
    plain = why_panel(resting((flag,)), 1, 1, colour=False, tz=CET)
    assert plain.splitlines() == [
        "Agent 101  Ann",
        "  call center 1, VDN 1",
        "  status      rest",
        "  CTI status  8 rest, reason 4",
        "  in state    1m 15s (since 2024-05-01 09:12:03.250)",
        "  signed in   2024-05-01 09:11:03 CET",
        "  phone       +4930",
        "  media type  5",
        "  skills      11, 12",
        "  calls       c-1",
        "  flags       rest-long (warning since 2024-05-01 09:27:03.250)",
        "  source      asterisk-ami",
        "  raw state   sales: Paused=1 (Lunch)",
        "",
        "History, newest first (2 status events):",
        "  AT                       CTI STATUS      REASON  APPLIED     SOURCE        EVENT  RAW STATE",
        "  2024-05-01 09:12:03.250  8 rest          4       yes         asterisk-ami  ami:1  sales: Paused=1 (Lunch)",
        '  2024-05-01 09:11:58.250  7 showing busy  -       no (older)  -             pbx-9  ""',
    ]  # fmt: skip
    assert "\x1b[35mrest\x1b[0m" in why_panel(resting(), 1, 1, colour=True, tz=CET)


def test_no_cause_and_no_history() -> None:
    found = resting()
    bare = AgentHistory(found.agent, None, None, 0, None, None, ())
    text = why_panel(bare, 1, 1, colour=False, tz=CET)
    assert "  source      -" in text and "  raw state   -" in text and "signed out" in text
    assert text.endswith("no status events kept")
    assert history_table((), CET) == "no status events kept"
