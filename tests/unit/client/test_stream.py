"""The typed items of the stream and the long-poll route, read from their wire JSON, and the
view that folds them into the agents as they are now."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from stream_support import SIGNED_OUT, agent

from ccms.client import (
    AgentStatus,
    ChangesPage,
    CtiStatus,
    StreamAgent,
    StreamChange,
    StreamFlag,
    StreamFlagChange,
    StreamReset,
    StreamSnapshot,
    StreamStatus,
    StreamView,
    TransportError,
    ViewToken,
)
from ccms.client.subscription import stream_error
from ccms.domain.agent import AgentKey

pytestmark = pytest.mark.unit


def test_an_agent_reads_with_python_names() -> None:
    flag = {"name": "talking-long", "level": "warning", "since": 1_600_000}
    wire = agent(101, 5, since=1_000_000, reason=3, skills=[1, 2], calls=["c-1"], flags=[flag])
    read = StreamAgent.from_wire(wire)
    assert read.key == AgentKey(1, 1, 101)
    assert (read.cti_status, read.status) == (CtiStatus.TALKING, AgentStatus.TALKING)
    assert (read.since, read.reason, read.skills, read.calls, read.flags) == (
        1_000_000, 3, (1, 2), ("c-1",), (StreamFlag("talking-long", "warning", 1_600_000),),
    )  # fmt: skip
    assert read.login_date == 1_000_000 and read.signed_in
    assert read.seconds_in_state(1_065_500) == 65
    assert read.seconds_in_state(0) == 0
    assert read.raw == wire


def test_a_signed_out_agent_has_no_sign_in_time_and_an_unknown_status_reads_unknown() -> None:
    read = StreamAgent.from_wire(agent(102, 0, status=9))
    assert read.login_date is None and not read.signed_in
    assert read.status is AgentStatus.UNKNOWN
    assert agent(102, 0)["loginDate"] == SIGNED_OUT


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"citStatus": 11}, "citStatus must be a CTI status code"),
        ({"since": None}, "since must be an integer"),
        ({"skills": ["1"]}, "skills must be integers"),
        ({"calls": [1]}, "calls must be strings"),
        ({"name": 5}, "name must be a string or null"),
    ],
)
def test_an_agent_that_does_not_fit_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StreamAgent.from_wire({**agent(101), **change})
    missing = agent(101)
    del missing["ccId"]
    with pytest.raises(ValueError, match="ccId is missing"):
        StreamAgent.from_wire(missing)


def test_a_change_reads_its_key_and_both_states() -> None:
    wire = {"seq": 9, "at": 5, "key": {"ccId": 1, "vdn": 1, "agentId": 101}, "prev": None,
            "cur": agent(101)}  # fmt: skip
    read = StreamChange.from_wire(wire)
    assert (read.seq, read.at, read.key, read.prev) == (9, 5, AgentKey(1, 1, 101), None)
    assert read.cur.work_no == 101


def test_the_long_poll_answer_reads_changes_or_a_reset_with_its_snapshot() -> None:
    change = {"seq": 9, "at": 5, "key": {"ccId": 1, "vdn": 1, "agentId": 101},
              "prev": agent(101), "cur": agent(101, 5)}  # fmt: skip
    page = ChangesPage.from_wire({"changes": [change], "nextSeq": 9, "reset": False})
    assert page.next_seq == 9 and not page.reset and page.snapshot is None
    assert [c.seq for c in page.changes] == [9]
    snap = {"seq": 40, "serverTime": 7, "agents": [agent(101), agent(102)]}
    reset = ChangesPage.from_wire({"changes": [], "nextSeq": 40, "reset": True, "snapshot": snap})
    assert reset.reset and reset.snapshot is not None
    assert reset.snapshot.seq == 40 and [a.work_no for a in reset.snapshot.agents] == [101, 102]
    with pytest.raises(ValueError, match="a reset without a snapshot"):
        ChangesPage.from_wire({"changes": [], "nextSeq": 40, "reset": True})
    with pytest.raises(ValueError, match="reset must be true or false"):
        ChangesPage.from_wire({"changes": [], "nextSeq": 40, "reset": "no"})


def test_a_view_token_never_shows_itself() -> None:
    token = ViewToken.from_wire({"token": "secret-token-value", "expiresAt": 99})
    assert token.token == "secret-token-value" and token.expires_at == 99
    assert "secret" not in repr(token) and "secret" not in str(token)
    with pytest.raises(ValueError, match="token must be a non-empty string"):
        ViewToken.from_wire({"token": "", "expiresAt": 99})


def test_an_error_event_that_is_not_json_is_an_unexpected_answer() -> None:
    error = stream_error("<html>")
    assert error.result_code is None and "not JSON" in error.message
    plain = stream_error(orjson.dumps({"resultCode": "0100001"}).decode())
    assert plain.message == "the server ended the stream"


def test_the_view_folds_snapshot_and_changes_into_the_current_agents() -> None:
    now = [1_000.0]
    view = StreamView(clock=lambda: now[0])
    assert not view.live and not view.synced
    assert view.apply(StreamStatus("live"))
    snap = StreamSnapshot(7, 1_000_500, 900, (StreamAgent.from_wire(agent(101)),
                                              StreamAgent.from_wire(agent(102))))  # fmt: skip
    assert view.apply(snap)
    assert view.synced and view.seq == 7 and sorted(view.agents) == [101, 102]
    assert view.clock_offset_ms == 500 and view.server_now_ms() == 1_000_500
    moved = StreamChange(8, 1, AgentKey(1, 1, 102), snap.agents[1],
                         StreamAgent.from_wire(agent(102, 5)))  # fmt: skip
    assert view.apply(moved)
    assert view.agents[102].cti_status is CtiStatus.TALKING and view.seq == 8
    assert not view.apply(StreamStatus("live"))  # nothing a screen shows changed
    down = StreamStatus("reconnecting", TransportError("x", url="u", retryable=True), 1.5, 1)
    assert view.apply(down) and not view.live and view.status is down
    assert view.apply(StreamReset("slow-consumer", 90)) and not view.synced
    fresh = StreamSnapshot(95, 1_000_000, 900, (StreamAgent.from_wire(agent(103)),))
    view.apply(fresh)
    assert sorted(view.agents) == [103]  # a snapshot replaces, it does not merge


def flag_wire(seq: int, work_no: int, name: str = "ringing-long", since: int = 20_000) -> Any:
    return {"seq": seq, "at": since, "key": {"ccId": 1, "vdn": 1, "agentId": work_no},
            "kind": "flag", "flag": {"name": name, "level": "warning", "since": since},
            "raised": True}  # fmt: skip


def test_the_view_raises_a_flag_on_its_agent_and_the_next_change_clears_it() -> None:
    view = StreamView(clock=lambda: 0.0)
    ringing = agent(101, 3, since=0)
    view.apply(StreamSnapshot(5, 0, 900, (StreamAgent.from_wire(ringing),)))
    raised = StreamFlagChange.from_wire(flag_wire(6, 101))
    assert raised == StreamFlagChange(6, 20_000, AgentKey(1, 1, 101),
                                      StreamFlag("ringing-long", "warning", 20_000))  # fmt: skip
    assert view.apply(raised) is True
    assert view.agents[101].flags == (raised.flag,) and view.seq == 6
    assert view.apply(raised) is False  # the same flag again changes nothing
    assert view.apply(StreamFlagChange.from_wire(flag_wire(7, 999))) is False  # not in view
    assert view.seq == 7
    answered = StreamChange.from_wire({"seq": 8, "at": 25_000,
                                       "key": {"ccId": 1, "vdn": 1, "agentId": 101},
                                       "prev": ringing, "cur": agent(101, 5, since=25_000)})  # fmt: skip
    view.apply(answered)
    assert view.agents[101].flags == ()  # cleared by the next state


def test_a_long_poll_page_holds_its_flags_apart_and_in_order_with_the_changes() -> None:
    change = {"seq": 8, "at": 25_000, "key": {"ccId": 1, "vdn": 1, "agentId": 102},
              "prev": None, "cur": agent(102, 1)}  # fmt: skip
    page = ChangesPage.from_wire(
        {"changes": [flag_wire(7, 101), change, flag_wire(9, 102, "no-skill")],
         "nextSeq": 9, "reset": False}
    )  # fmt: skip
    assert [c.seq for c in page.changes] == [8]
    assert [f.seq for f in page.flags] == [7, 9]
    assert [item.seq for item in page.items()] == [7, 8, 9]
