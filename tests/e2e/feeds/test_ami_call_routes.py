"""The queue calls of the recorded transcript, end to end: the fake Asterisk plays it live
to a real ``ccms adapter ami`` process, which posts to a real ``ccms serve`` (SQLite); the
call routes then answer the transcript's three calls (two answered, one abandoned),
field by field against what the transcript says (``ami_oracle.CALL_EVENTS``, read from it
by hand).

The fake moves the fixture's times (and the seconds of its channel ids) by ``ami.shift``
seconds: every expected moment and call id is the oracle's moved by as much.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from ami_oracle import ALICE, BOB, CALL_1, CALL_2, CALL_3, CALL_EVENTS, CAUSES
from fake_ami import FakeAsterisk
from test_ami_adapter import AdapterProcess, detail, ready, rig  # noqa: F401 (rig: a fixture)
from tests.e2e.conftest import Server, wait_until

from ccms import wire
from ccms.domain.call import DAY_MS, CallRecord
from ccms.store.sqlite import SQLiteStore

pytestmark = pytest.mark.e2e

SPEED = 10.0
OK = "0100000"


class Moved:
    """The oracle's calls, moved by the fake's shift."""

    def __init__(self, shift: int) -> None:
        self.shift = shift

    def call_id(self, call: str) -> str:
        seconds, sequence = call.split("-")
        return f"{int(seconds) + self.shift}-{sequence}"

    def moments(self, call: str) -> dict[str, int | None]:
        events = [(kind, at + self.shift * 1000) for kind, at, _ in CALL_EVENTS[call]]

        def first(kind: str) -> int | None:
            return next((at for k, at in events if k == kind), None)

        return {"arrive": first("arrive"), "queue": first("queue"), "offer": first("offer"),
                "answer": first("answer"), "end": events[-1][1]}  # fmt: skip

    def record(self, call: str) -> dict[str, Any]:
        """The ``vdn/querycalls`` item the transcript implies for ``call``."""
        m = self.moments(call)
        caller = CALL_EVENTS[call][0][2]["callerNo"]
        leave = CALL_EVENTS[call][-1][2]["leaveReason"]
        return {"logDate": m["end"], "callerNo": caller, "calleeNo": "",
                "callId": self.call_id(call), "callType": 0, "waitBegin": m["queue"],
                "ackBegin": m["offer"], "callBegin": m["answer"] or 0, "callEnd": m["end"],
                "vdn": 1, "leaveReason": leave, "mediaType": 5, "subMediaType": -1}  # fmt: skip

    def window(self, start: int) -> dict[str, Any]:
        """``skill/currentcallstateinfo`` for skill 11 over the calls, from ``start``."""
        counts = {"allCallCount": 0, "cnnedCallCount": 0, "abanCallCount": 0,
                  "callEndCount": 0, "cnnedIn20sCallCount": 0}  # fmt: skip
        ivr_ms = 0
        for call in CALL_EVENTS:
            m = self.moments(call)
            queued, answered, ended = m["queue"], m["answer"], m["end"]
            assert queued is not None and ended is not None and m["arrive"] is not None
            if queued >= start:
                counts["allCallCount"] += 1
                ivr_ms += queued - m["arrive"]
            if answered is not None and answered >= start:
                counts["cnnedCallCount"] += 1
                counts["cnnedIn20sCallCount"] += answered - queued <= 20_000
            if ended >= start:
                counts["callEndCount"] += 1
                counts["abanCallCount"] += answered is None
        return {"id": 11, "startTime": start, **counts, "talkTimeOnIvr": ivr_ms // 1000,
                "clearUpCallCount": 0, "clearUpTime": 0}  # fmt: skip


def basic(server: Server, call_id: str) -> dict[str, Any]:
    return dict(server.post(wire.BASIC_CALL_INFO, {"ccId": 1, "vdn": 1, "callId": call_id}).json())


def in_progress(server: Server, call_id: str) -> dict[str, Any]:
    """The call's ``querybasiccallinfo`` object; {} while it is not in progress."""
    answer = basic(server, call_id)
    return dict(answer["resultDesc"]) if answer["resultCode"] == OK else {}


def records(server: Server) -> dict[str, Any]:
    today = int(time.time() * 1000) // DAY_MS
    body = {"ccId": 1, "vdn": 1, "beginDate": (today - 1) * DAY_MS,
            "endDate": (today + 1) * DAY_MS - 1, "isCallIn": "true", "limit": 100}  # fmt: skip
    answer = server.post(wire.VDN_CALLS_V2, body).json()
    assert answer["resultCode"] == OK, answer
    return dict(answer["resultDesc"])


def window(server: Server) -> dict[str, Any]:
    answer = server.post(wire.SKILL_CALL_COUNTS, {"ccId": 1, "vdn": 1, "skillIds": [11]}).json()
    assert answer["resultCode"] == OK, answer
    return dict(answer["resultDesc"][0])


def stored_calls(server: Server, call_ids: list[str]) -> list[CallRecord | None]:
    async def read() -> list[CallRecord | None]:
        store = SQLiteStore(str(server.db))
        await store.open()
        try:
            return [await store.get_call(1, 1, c) for c in call_ids]
        finally:
            await store.close()

    return asyncio.run(read())


def test_the_transcripts_calls_answer_on_the_call_routes_as_the_transcript_says(rig: Any) -> None:  # noqa: F811
    ami, server, adapter = rig
    feed = adapter().start()
    ready(feed, server)
    moved = Moved(0)

    # t < 3: Cust One is in the queue, ringing at Bob and then Alice (ringall).
    ami.play(end=3.0, speed=SPEED)
    moved.shift = ami.shift
    one = moved.call_id(CALL_1)
    m1 = moved.moments(CALL_1)
    wait_until(lambda: basic(server, one)["resultCode"] == OK, timeout=20)
    info = basic(server, one)["resultDesc"]
    assert {k: info[k] for k in ("time", "keyId", "callingNum", "calledNum", "deviceType",
                                 "deviceNo", "callSkill", "partyNum", "orgiCalledNum",
                                 "mediaType", "waitTime", "enterReason")} == {
        "time": m1["arrive"], "keyId": one, "callingNum": "5551001", "calledNum": "",
        "deviceType": 2, "deviceNo": ALICE, "callSkill": "11", "partyNum": 3,
        "orgiCalledNum": "", "mediaType": 5, "waitTime": 0, "enterReason": 0,
    }  # fmt: skip

    # The agents' calls lists say the same: both are rung for it.
    for agent in (ALICE, BOB):
        wait_until(lambda a=agent: detail(server, a)["agent"]["calls"] == [one], timeout=20)

    # t < 6: Alice answered (t=4.011); the queue's window counts one answered call.
    ami.play(start=3.0, end=6.0, speed=SPEED)
    wait_until(lambda: window(server)["cnnedCallCount"] == 1, timeout=20)
    assert basic(server, one)["resultDesc"]["deviceNo"] == ALICE
    wait_until(lambda: detail(server, BOB)["agent"]["calls"] == [], timeout=20)  # lost it
    assert detail(server, ALICE)["agent"]["calls"] == [one]
    assert records(server) == {"data": [], "count": 0}  # no call has ended yet

    # t < 33: call 1 and 2 ended; Cust Three rang out at Alice (t=32.524) and waits again.
    ami.play(start=6.0, end=33.0, speed=SPEED)
    three = moved.call_id(CALL_3)
    wait_until(lambda: in_progress(server, three).get("deviceType") == 1, timeout=20)
    info = basic(server, three)["resultDesc"]
    assert (info["deviceNo"], info["partyNum"], info["callingNum"]) == (11, 3, "5551003")
    assert info["waitTime"] == 0  # from the queueing to the first offer: the same ms

    # The rest: the caller hangs up (QueueCallerAbandon, then QueueCallerLeave).
    ami.play(start=33.0, speed=SPEED)
    wait_until(lambda: records(server)["count"] == 3, timeout=20)
    got = records(server)
    assert got["data"] == [moved.record(call) for call in CALL_EVENTS]
    assert [r["callBegin"] > 0 for r in got["data"]] == [True, True, False]  # answered?
    # none is in progress any more
    for call in CALL_EVENTS:
        assert basic(server, moved.call_id(call))["resultCode"] == "0100001"
    counts = window(server)
    assert counts == moved.window(counts["startTime"])
    assert [detail(server, a)["agent"]["calls"] for a in (ALICE, BOB)] == [[], []]
    assert feed.metric("ccms_ami_call_events_total") == sum(len(e) for e in CALL_EVENTS.values())
    assert feed.metric("ccms_ami_live_calls") == 0
    assert feed.stop() == 0


def test_with_the_call_class_the_ends_carry_the_callers_release_cause_and_a_replay_is_a_no_op(
    rig: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    ami: FakeAsterisk
    ami, server, adapter = rig
    feed: AdapterProcess = adapter()
    text = feed.config.read_text(encoding="utf-8")
    feed.config.write_text(text.replace("[ami]\n", '[ami]\nevents = "system,agent,call"\n'))
    recording = tmp_path / "recorded.txt"
    feed.start("--record", str(recording))
    ready(feed, server)
    ami.play(speed=SPEED)
    moved = Moved(ami.shift)
    ids = [moved.call_id(call) for call in CALL_EVENTS]
    wait_until(lambda: all(c is not None and not c.live for c in stored_calls(server, ids)),
               timeout=20)  # fmt: skip
    before = stored_calls(server, ids)
    assert [(c.leave_reason, c.release_cause) for c in before if c is not None] == [
        (CALL_EVENTS[call][-1][2]["leaveReason"], CAUSES.get(call)) for call in CALL_EVENTS
    ]
    assert [(c.answered_at, c.ended_at) for c in before if c is not None] == [
        (moved.moments(call)["answer"], moved.moments(call)["end"]) for call in CALL_EVENTS
    ]
    assert feed.stop() == 0
    # The recording replayed into the same ccms, with a spool of its own (nothing
    # remembered): every call event is one ccms has (the same ids), nothing changes.
    replay = AdapterProcess(tmp_path, ami.port, server.url, spool="spool-replay")
    replay.start("--replay", str(recording), "--speed", "max")
    assert replay.proc is not None and replay.proc.wait(60) == 0, replay.output()
    assert stored_calls(server, ids) == before


def test_a_connection_lost_mid_call_still_gives_the_call_its_answer_and_end(
    rig: Any,  # noqa: F811
) -> None:
    """The socket closes in the middle of Bob's AgentConnect (t=18.516): the adapter never
    reads it, reconnects, and the AgentComplete that follows (TalkTime 5) is the first it
    hears of the answer: answered 5 s before the end (Asterisk's whole seconds)."""
    ami, server, adapter = rig
    feed = adapter(ping_s=0.5).start()
    ready(feed, server)
    ami.play(end=18.5, speed=SPEED)
    connect = ami.events[ami.index_of("AgentConnect", 18.516)][1]
    ami.apply(connect)
    ami.close_mid_frame(connect)
    wait_until(lambda: feed.metric("ccms_ami_partial_frames_total") >= 1, timeout=20)
    feed.wait_healthy()
    ami.play(start=18.52, speed=SPEED)
    moved = Moved(ami.shift)
    wait_until(lambda: records(server)["count"] == 3, timeout=30)
    got = {r["callId"]: r for r in records(server)["data"]}
    for call in CALL_EVENTS:
        want = moved.record(call)
        if call == CALL_2:  # Bob's: its answer inferred from AgentComplete's TalkTime
            want["callBegin"] = want["callEnd"] - 5000
        assert got[moved.call_id(call)] == want
    assert feed.metric("ccms_ami_reconnects_total") >= 1


def test_a_lost_agent_complete_is_made_up_for_by_the_next_snapshot(rig: Any) -> None:  # noqa: F811
    """Bob's AgentComplete (t=23.022) never reaches the adapter; the reconciliation
    (every second here) shows his LastCall, 1796155490, after the answer: the call ended
    then (reason 15: who hung up is what the lost frame said)."""
    ami, server, adapter = rig
    feed = adapter(resync_s=1.0).start()
    ready(feed, server)
    ami.play(speed=SPEED, drop={ami.index_of("AgentComplete", 23.022)})
    moved = Moved(ami.shift)
    wait_until(lambda: records(server)["count"] == 3, timeout=30)
    got = {r["callId"]: r for r in records(server)["data"]}
    want = moved.record(CALL_2)
    end = (1796155490 + ami.shift) * 1000
    want.update(logDate=end, callEnd=end, leaveReason=15)
    assert got[moved.call_id(CALL_2)] == want
    assert [got[moved.call_id(c)] for c in (CALL_1, CALL_3)] == [
        moved.record(c) for c in (CALL_1, CALL_3)
    ]
