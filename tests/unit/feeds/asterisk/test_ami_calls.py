"""Queue calls from AMI frames to call events (``ccms.feeds.asterisk.calls``).

Two sources of frames: the real Asterisk 22 transcript (its three queue calls, against the
oracle read from it by hand, ``tests/e2e/feeds/ami_oracle.py``), and SYNTHETIC frames for
what the transcript does not show (a call the adapter did not see join, an unanswered
leave, a transfer, an unmapped queue or agent, a restart): those are built by
:func:`caller` and :func:`member_call` from the field lists the spec documents
(``QueueCallerJoin``: ``Position``, ``Count``; ``QueueCallerAbandon``: ``Position``,
``OriginalPosition``, ``HoldTime``; ``AgentConnect``: ``HoldTime``, ``RingTime``;
``AgentComplete``: ``HoldTime``, ``TalkTime``, ``Reason``; each with the caller's channel
fields and the member's ``Interface``, ``MemberName``), shaped like the transcript's frames.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.e2e.feeds.ami_oracle import ALICE, BOB, CALL_1, CALL_EVENTS, CAUSES
from tests.unit.feeds.asterisk.test_ami_fixture import ENTRIES, TEXT, replay

from ccms.domain.call import valid_call_id
from ccms.feeds.asterisk.calls import arrival_ms, call_id_of
from ccms.feeds.asterisk.config import parse_config
from ccms.feeds.asterisk.protocol import Frame
from ccms.feeds.asterisk.tracker import Tracker
from ccms.ingest.calls import parse_call_event

pytestmark = pytest.mark.unit

DOCS = Path(__file__).parents[4] / "docs" / "adapters" / "asterisk.md"
T0 = 1_800_000_000.0
LINKED = "1800000000.42"
CALL = "1800000000-42"
EXTRA_QUEUE = "\n[queues.support]\nskill = 12\n\n[queues.vip]\nskill = 13\nccId = 2\nvdn = 7\n"


def call_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if "callId" in e]


def expected(cause: bool) -> list[dict[str, Any]]:
    """The oracle's call events as the adapter writes them."""
    out = []
    for call_id, events in CALL_EVENTS.items():
        seen: set[str] = set()
        for kind, at, fields in events:
            once = kind in ("arrive", "end", "abandon") or kind not in seen
            seen.add(kind)
            event_id = f"ami:1:1:call:{call_id}:{kind}"
            if not once:
                event_id += f":{at}"
            if kind == "offer":
                event_id = f"ami:1:1:call:{call_id}:offer:{at}:{fields['agentId']}"
            event = {"eventId": event_id, "ccId": 1, "vdn": 1, "callId": call_id, "at": at,
                     "callEvent": kind, **fields}  # fmt: skip
            if cause and kind in ("end", "abandon") and call_id in CAUSES:
                event["releaseCause"] = CAUSES[call_id]
            out.append(event)
    return out


# -- the recorded transcript -------------------------------------------------------------


def test_the_transcripts_three_calls_give_the_call_events_read_from_it() -> None:
    events, tracker = replay(ENTRIES)
    got = call_events(events)
    assert sorted(got, key=lambda e: (e["callId"], e["at"])) == sorted(
        expected(cause=True), key=lambda e: (e["callId"], e["at"])
    )
    assert tracker.calls.calls == {}  # every call ended; none left live
    # each is a valid intake call event
    for index, event in enumerate(got):
        parse_call_event(event, index, ((101, 59999),), 2**53)


def test_without_the_call_class_the_ends_wait_and_carry_no_release_cause() -> None:
    # `[ami] events = "system,agent"` (the default): no Hangup reaches the adapter.
    without = [e for e in ENTRIES if e.frame is None or e.frame.event != "Hangup"]
    events, _ = replay(without)
    assert sorted(call_events(events), key=lambda e: (e["callId"], e["at"])) == sorted(
        expected(cause=False), key=lambda e: (e["callId"], e["at"])
    )


def test_the_leave_before_the_connect_makes_no_end_and_the_abandon_one() -> None:
    events, _ = replay(ENTRIES)
    ends = [e for e in call_events(events) if e["callEvent"] in ("end", "abandon")]
    assert [(e["callId"], e["callEvent"]) for e in ends] == [
        (call, kinds[-1][0]) for call, kinds in CALL_EVENTS.items()
    ]


def test_the_docs_example_is_the_first_calls_events() -> None:
    text = DOCS.read_text(encoding="utf-8")
    shown = [json.loads(line) for line in re.findall(r'^(\{"eventId": "ami:1:1:call:.*\})$',
                                                     text, re.M)]  # fmt: skip
    events, _ = replay(ENTRIES)
    assert shown and shown == [e for e in call_events(events) if e["callId"] == CALL_1]


# -- call ids ------------------------------------------------------------------------------


def test_call_ids_are_the_linkedid_in_the_vendors_form() -> None:
    assert call_id_of("1762523104.538", T0) == "1762523104-538"
    assert call_id_of("pbx-eu-1-1762523104.538", T0) == "1762523104-538"  # systemname dropped
    long = call_id_of("1762523104.12345678901", T0)
    assert long == "1762523104-345678901" and len(long) == 20
    other = call_id_of("3c1f0a8e-6f52-4b8e-9d0b-2d3f8c1e7a55", T0)
    assert other.startswith("1800000000-") and valid_call_id(other)
    assert other == call_id_of("3c1f0a8e-6f52-4b8e-9d0b-2d3f8c1e7a55", T0)


@given(st.text(max_size=80), st.floats(min_value=1e9, max_value=4e9))
def test_every_linkedid_makes_a_valid_call_id(linkedid: str, at: float) -> None:
    assert valid_call_id(call_id_of(linkedid, at))


def test_the_arrival_is_the_linkedids_second_within_an_hour_before_the_queue() -> None:
    assert arrival_ms("1800000000.42", 1_800_000_001_500) == 1_800_000_000_000
    assert arrival_ms("1800000000.42", 1_800_003_601_000) == 1_800_003_601_000  # too old
    assert arrival_ms("1800000009.42", 1_800_000_001_500) == 1_800_000_001_500  # after it
    assert arrival_ms("a-uuid", 1_800_000_001_500) == 1_800_000_001_500


# -- synthetic frames (shaped from the spec's field lists, not recorded) ------------------


def tracker(extra: str = EXTRA_QUEUE) -> Tracker:
    config = parse_config(TEXT + extra)
    return Tracker(config.rules, config.directory())


def caller(
    event: str, queue: str = "sales", uniqueid: str = "1800000000.43", **fields: str
) -> Frame:
    """A caller-side event (SYNTHETIC): the caller's channel fields, then the event's."""
    return Frame.of(Event=event, Privilege="agent,all", Channel="PJSIP/trunk-00000001",
                    CallerIDNum="5550100", CallerIDName="Caller", Exten="6505", Context="from-trunk",
                    Uniqueid=uniqueid, Linkedid=LINKED, Queue=queue, **fields)  # fmt: skip


def member_call(event: str, agent: int = ALICE, queue: str = "sales", **fields: str) -> Frame:
    """A member-side call event (SYNTHETIC): the caller's fields, the member's."""
    return Frame.of(Event=event, Privilege="agent,all", Channel="PJSIP/trunk-00000001",
                    CallerIDNum="5550100", Uniqueid="1800000000.43", Linkedid=LINKED,
                    DestChannel=f"Local/{agent}@agents-00000009;1", Queue=queue,
                    Interface=f"Local/{agent}@agents/n", MemberName=f"Agent {agent}",
                    **fields)  # fmt: skip


def hangup(uniqueid: str = "1800000000.43", cause: str = "16") -> Frame:
    return Frame.of(Event="Hangup", Privilege="call,all", Channel="PJSIP/trunk-00000001",
                    Uniqueid=uniqueid, Linkedid=LINKED, Cause=cause)  # fmt: skip


def run(t: Tracker, *frames: tuple[float, Frame], until: float | None = None) -> list[Any]:
    out: list[dict[str, Any]] = []
    for offset, frame in frames:
        out += t.frame(frame, T0 + offset)
    if until is not None:
        out += t.advance(T0 + until)
    return [(e["callEvent"], e["at"] - int(T0 * 1000), {k: v for k, v in e.items() if k in
             ("agentId", "skillId", "leaveReason", "releaseCause", "callerNo", "calleeNo")})
            for e in call_events(out)]  # fmt: skip


def test_a_join_arrives_and_queues_a_call_seen_for_the_first_time() -> None:
    t = tracker()
    got = run(t, (1.5, caller("QueueCallerJoin", Position="1", Count="1")))
    assert got == [("arrive", 0, {"callerNo": "5550100", "calleeNo": "6505"}),
                   ("queue", 1500, {"skillId": 11})]  # fmt: skip
    assert CALL in {key[2] for key in t.calls.calls}


def test_a_queue_not_configured_is_ignored_and_counted() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin", queue="billing")),
              (2, member_call("AgentConnect", queue="billing", HoldTime="1", RingTime="1")),
              (9, member_call("AgentComplete", queue="billing", HoldTime="1", TalkTime="7",
                              Reason="caller")), until=20)  # fmt: skip
    assert got == []
    assert "billing" in t.stats.ignored_queues


def test_a_queue_without_a_vdn_sends_no_calls() -> None:
    # The identity's ccId comes from the member's name: no one VDN for the calls.
    text = TEXT.replace("ccId = 1\nvdn = 1\n", "vdn = 1\n").replace(
        "(?P<agentId>", "(?P<ccId>1)?(?P<agentId>"
    )
    config = parse_config(text)
    assert config.rules.queues["sales"].cc_id is None
    t = Tracker(config.rules, config.directory())
    assert run(t, (1, caller("QueueCallerJoin"))) == []


def test_queues_take_their_own_vdn_or_the_directorys_one() -> None:
    config = parse_config(TEXT + EXTRA_QUEUE)
    queues = config.rules.queues
    assert [(q.cc_id, q.vdn) for q in (queues["sales"], queues["support"], queues["vip"])] == [
        (1, 1), (1, 1), (2, 7),
    ]  # fmt: skip
    t = tracker()
    got = t.frame(caller("QueueCallerJoin", queue="vip"), T0)
    assert {(e["ccId"], e["vdn"], e["callEvent"]) for e in got if "callId" in e} == {
        (2, 7, "arrive"), (2, 7, "queue"),
    }  # fmt: skip


def test_leave_then_connect_is_one_answer_and_its_complete_the_end() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin")),
              (2, member_call("AgentCalled")),
              (4, caller("QueueCallerLeave", Position="1", Count="0")),
              (4.0002, member_call("AgentConnect", HoldTime="3", RingTime="2")),
              (9, member_call("AgentComplete", HoldTime="3", TalkTime="5", Reason="caller")),
              until=30)  # fmt: skip
    assert [g[:2] for g in got] == [("arrive", 0), ("queue", 1000), ("offer", 2000),
                                    ("answer", 4000), ("end", 9000)]  # fmt: skip
    assert got[-1][2] == {"leaveReason": 15}


def test_a_leave_neither_answered_nor_abandoned_ends_after_the_settle_time() -> None:
    t = tracker()
    run(t, (1, caller("QueueCallerJoin")), (31, caller("QueueCallerLeave")))
    assert t.next_due() == T0 + 32.0
    assert run(t, until=31.9) == []
    assert run(t, until=32.0) == [("end", 31000, {"leaveReason": 2})]
    # a late frame of the ended call changes nothing
    assert run(t, (33, member_call("AgentConnect", HoldTime="30", RingTime="1"))) == []


def test_an_abandon_and_its_leave_are_one_abandon_with_the_hangups_cause() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin")), (2, member_call("AgentCalled")),
              (10, caller("QueueCallerAbandon", Position="1", OriginalPosition="1",
                          HoldTime="9")),
              (10.0001, caller("QueueCallerLeave")), (10.0002, hangup(cause="17")),
              until=60)  # fmt: skip
    assert got[-1] == ("abandon", 10000, {"leaveReason": 89, "releaseCause": 17})
    assert [g[0] for g in got].count("abandon") == 1 and "end" not in [g[0] for g in got]


def test_agent_complete_without_agent_connect_is_answered_talk_time_before() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin")), (2, member_call("AgentCalled", agent=BOB)),
              (30, member_call("AgentComplete", agent=BOB, HoldTime="4", TalkTime="25",
                               Reason="agent")), until=40)  # fmt: skip
    assert got[2:] == [("offer", 2000, {"agentId": BOB, "skillId": 11}),
                       ("answer", 5000, {"agentId": BOB}), ("end", 30000, {"leaveReason": 16})]  # fmt: skip


def test_a_call_never_seen_is_filled_in_from_its_durations() -> None:
    # The adapter started while the call was on: AgentComplete alone.
    t = tracker()
    got = run(t, (60, member_call("AgentComplete", HoldTime="10", TalkTime="40",
                                  Reason="caller")), until=70)  # fmt: skip
    assert got == [("arrive", 0, {"callerNo": "5550100"}), ("queue", 10000, {"skillId": 11}),
                   ("answer", 20000, {"agentId": ALICE}), ("end", 60000, {"leaveReason": 15})]  # fmt: skip


def test_a_ring_out_puts_the_call_back_in_the_queue_once_no_agent_rings() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin")), (2, member_call("AgentCalled")),
              (2.001, member_call("AgentCalled", agent=BOB)),
              (7, member_call("AgentRingNoAnswer", RingTime="5000")),
              (7.001, member_call("AgentRingNoAnswer", agent=BOB, RingTime="5000")),
              (7.002, member_call("AgentRingNoAnswer", agent=BOB, RingTime="5000")))  # fmt: skip
    assert [g[:2] for g in got] == [("arrive", 0), ("queue", 1000), ("offer", 2000),
                                    ("offer", 2001), ("queue", 7001)]  # fmt: skip


def test_a_transfer_to_another_queue_continues_the_call() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin")), (3, member_call("AgentConnect", HoldTime="2",
                                                                 RingTime="1")),
              (20, member_call("AgentComplete", HoldTime="2", TalkTime="17", Reason="transfer")),
              (20.5, caller("QueueCallerJoin", queue="support", uniqueid="1800000000.43")),
              (25, member_call("AgentConnect", agent=BOB, queue="support", HoldTime="4",
                               RingTime="1")),
              (40, member_call("AgentComplete", agent=BOB, queue="support", HoldTime="4",
                               TalkTime="15", Reason="caller")), until=60)  # fmt: skip
    assert got == [("arrive", 0, {"callerNo": "5550100", "calleeNo": "6505"}),
                   ("queue", 1000, {"skillId": 11}), ("answer", 3000, {"agentId": ALICE}),
                   ("transfer", 20500, {"skillId": 12}), ("answer", 25000, {"agentId": BOB}),
                   ("end", 40000, {"leaveReason": 15})]  # fmt: skip


def test_a_transfer_out_of_the_configured_queues_ends_the_call_as_transferred() -> None:
    t = tracker()
    got = run(t, (1, caller("QueueCallerJoin")), (3, member_call("AgentConnect", HoldTime="2",
                                                                 RingTime="1")),
              (20, member_call("AgentComplete", HoldTime="2", TalkTime="17", Reason="transfer")),
              (20.5, caller("QueueCallerJoin", queue="billing")), until=60)  # fmt: skip
    assert got[-1] == ("end", 20000, {"leaveReason": 17})


def test_an_agent_not_mapped_gets_no_offer_and_an_answer_without_agent_id() -> None:
    t = tracker()
    stranger = {"Interface": "PJSIP/temp-7", "MemberName": "Temp"}
    called = Frame([(k, stranger.get(k, v)) for k, v in member_call("AgentCalled").pairs])
    connect = Frame([(k, stranger.get(k, v)) for k, v in
                     member_call("AgentConnect", HoldTime="1", RingTime="1").pairs])  # fmt: skip
    got = run(t, (1, caller("QueueCallerJoin")), (2, called), (3, connect))
    assert got[2:] == [("answer", 3000, {})]
    assert t.calls.stats.unmapped_agents == 2


def test_duplicated_frames_make_no_second_event() -> None:
    frames = [(1, caller("QueueCallerJoin")), (2, member_call("AgentCalled")),
              (3, member_call("AgentConnect", HoldTime="2", RingTime="1")),
              (9, member_call("AgentComplete", HoldTime="2", TalkTime="6", Reason="caller"))]  # fmt: skip
    once = run(tracker(), *frames, until=20)
    twice = run(tracker(), *[f for f in frames for _ in (0, 1)], until=20)
    assert twice == once


def test_the_same_frames_make_the_same_event_ids() -> None:
    frames = [
        (1, caller("QueueCallerJoin")),
        (2, member_call("AgentCalled")),
        (4, caller("QueueCallerAbandon", HoldTime="3")),
    ]

    def ids() -> list[str]:
        t = tracker()
        out = [e for offset, f in frames for e in t.frame(f, T0 + offset)] + t.advance(T0 + 9)
        return [e["eventId"] for e in call_events(out)]

    assert ids() == ids()
    assert ids() == [f"ami:1:1:call:{CALL}:arrive", f"ami:1:1:call:{CALL}:queue",
                     f"ami:1:1:call:{CALL}:offer:1800000002000:{ALICE}",
                     f"ami:1:1:call:{CALL}:abandon"]  # fmt: skip


def test_an_asterisk_restart_ends_the_calls_it_had() -> None:
    t = tracker()
    run(t, (1, caller("QueueCallerJoin")), (3, member_call("AgentConnect", HoldTime="2",
                                                           RingTime="1")))  # fmt: skip
    ended = call_events(t.restarted())
    assert [(e["callEvent"], e["leaveReason"], e["at"]) for e in ended] == [
        ("end", 19, int(T0 * 1000) + 3000)
    ]
    assert t.calls.calls == {}


def test_calls_off_sends_none() -> None:
    config = parse_config(TEXT.replace("[adapter]\n", "[adapter]\ncalls = false\n"))
    t = Tracker(config.rules, config.directory())
    assert run(t, (1, caller("QueueCallerJoin"))) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[queues.x]\nskill = 3\nccId = 1\n", "needs both ccId"),
        ("[queues.x]\nskill = 3\nccId = 1\nvdn = 0\n", "needs both ccId"),
    ],
)
def test_a_queue_with_half_a_vdn_is_refused(extra: str, message: str) -> None:
    from ccms.settings import SettingsError

    with pytest.raises(SettingsError, match=message):
        parse_config(TEXT + "\n" + extra)


def test_call_settle_s_is_bounded() -> None:
    from ccms.settings import SettingsError

    with pytest.raises(SettingsError, match="call_settle_s"):
        parse_config(TEXT.replace("[adapter]\n", "[adapter]\ncall_settle_s = 61\n"))


def test_the_spool_remembers_the_newest_call_event_and_a_replay_then_makes_none(
    tmp_path: Path,
) -> None:
    from ccms.feeds.asterisk.spool import Spool

    events, tracker = replay(ENTRIES)
    spool = Spool(tmp_path / "spool", 1 << 20).open()
    assert spool.append(events)
    spool.read(len(events))
    spool.commit()
    spool.close()
    again = Spool(tmp_path / "spool", 1 << 20).open()
    try:
        assert again.calls_mark == max(e["at"] for e in call_events(events))
        assert again.calls_mark == tracker.calls.mark_ms
        assert call_events(replay(ENTRIES, last=again.last, calls_mark=again.calls_mark)[0]) == []
        # the agents' memory is the agent events' alone
        assert set(again.last) == set(tracker.last)
    finally:
        again.close()


# -- any order of (SYNTHETIC) frames ---------------------------------------------------------

KINDS = ("QueueCallerJoin", "AgentCalled", "AgentRingNoAnswer", "AgentConnect",
         "AgentComplete", "QueueCallerAbandon", "QueueCallerLeave", "Hangup")  # fmt: skip


def any_frame(kind: str, call: int, agent: int, queue: str) -> Frame:
    uniqueid = f"180000000{call}.{call}"
    fields = {"Uniqueid": uniqueid, "Linkedid": uniqueid}
    if kind == "Hangup":
        return Frame.of(Event="Hangup", Privilege="call,all", Cause="16", **fields)
    frame = (caller(kind, queue=queue) if kind.startswith("Queue") else
             member_call(kind, agent=agent, queue=queue, HoldTime="3", TalkTime="4",
                         RingTime="2000", Reason="caller"))  # fmt: skip
    return Frame([(k, fields.get(k, v)) for k, v in frame.pairs])


STEP = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 2),
    st.sampled_from((ALICE, BOB)),
    st.sampled_from(("sales", "support", "billing")),
    st.floats(0, 3),
)


@given(st.lists(STEP, max_size=40))
def test_any_frames_give_valid_events_and_at_most_one_end_a_call(steps: list[Any]) -> None:
    from ccms.domain.call import CallState, apply_call_event

    t = tracker()
    now, out = T0, []
    for kind, call, agent, queue, gap in steps:
        now += gap
        out += t.frame(any_frame(kind, call, agent, queue), now)
    out += t.calls.settle_all()
    calls = call_events(out)
    assert len({e["eventId"] for e in calls}) == len(calls)
    records: dict[str, Any] = {}
    for index, event in enumerate(calls):
        parsed = parse_call_event(event, index, ((101, 59999),), 2**53)
        records[parsed.call_id] = apply_call_event(records.get(parsed.call_id), parsed)
    ends = [e["callId"] for e in calls if e["callEvent"] in ("end", "abandon")]
    assert len(ends) == len(set(ends))
    # the calls still followed are exactly those live in ccms (nothing waits to end after
    # settle_all), and each call began with its arrival
    live = {r.call_id for r in records.values() if r.state is not CallState.ENDED}
    assert {key[2] for key in t.calls.calls} == live
    assert all(c.pending is None for c in t.calls.calls.values())
    for call_id in records:
        assert next(e for e in calls if e["callId"] == call_id)["callEvent"] == "arrive"


def test_a_call_not_heard_of_for_a_day_is_forgotten_at_a_snapshot() -> None:
    t = tracker()
    run(t, (1, caller("QueueCallerJoin")), (3, member_call("AgentConnect", HoldTime="2",
                                                           RingTime="1")))  # fmt: skip
    t.snapshot([], T0 + 3 + 86_000)
    assert len(t.calls.calls) == 1  # heard of 86,000 s ago: still followed
    t.snapshot([], T0 + 3 + 86_401)
    assert t.calls.calls == {} and t.calls._channels == {}


def queue_member(agent: int, last_call: int, in_call: int = 0) -> Frame:
    """A ``QueueStatus`` answer's member (SYNTHETIC, in its own names: Name, Location)."""
    return Frame.of(Event="QueueMember", Queue="sales", Name=f"Agent {agent}",
                    Location=f"Local/{agent}@agents/n", StateInterface=f"Custom:{agent}",
                    Membership="static", Penalty="0", CallsTaken="1", LastCall=str(last_call),
                    LastPause="0", LoginTime="0", InCall=str(in_call), Status="1", Paused="0",
                    PausedReason="", Wrapuptime="0", ActionID="ccms-3")  # fmt: skip


def test_a_snapshot_ends_an_answered_call_whose_agent_completed_a_call_since() -> None:
    # The AgentComplete was lost while the adapter was away; Alice's LastCall (after the
    # answer) says the call ended then.
    t = tracker()
    run(t, (1, caller("QueueCallerJoin")), (3, member_call("AgentConnect", HoldTime="2",
                                                           RingTime="1")))  # fmt: skip
    still = call_events(t.snapshot([queue_member(ALICE, int(T0), in_call=1)], T0 + 30))
    assert still == [] and len(t.calls.calls) == 1  # her LastCall is before the answer
    assert call_events(t.snapshot([queue_member(ALICE, int(T0) + 20)], T0 + 40)) == []
    ended = call_events(t.advance(T0 + 41))  # call_settle_s later
    assert [(e["callEvent"], e["at"], e["leaveReason"]) for e in ended] == [
        ("end", int(T0 * 1000) + 20_000, 15)
    ]
    assert t.calls.calls == {}


def test_an_agent_complete_after_the_snapshot_that_inferred_the_end_is_the_end() -> None:
    # The member's record (LastCall moved on) and AgentComplete come in either order.
    t = tracker()
    run(t, (1, caller("QueueCallerJoin")), (3, member_call("AgentConnect", HoldTime="2",
                                                           RingTime="1")))  # fmt: skip
    t.snapshot([queue_member(ALICE, int(T0) + 20)], T0 + 20.5)
    got = run(t, (20.6, member_call("AgentComplete", HoldTime="2", TalkTime="17",
                                    Reason="agent")), until=30)  # fmt: skip
    assert got == [("end", 20600, {"leaveReason": 16})]


def test_the_agents_events_list_the_calls_they_ring_for_or_talk_on() -> None:
    events, _ = replay(ENTRIES)
    shown = [(e["agentId"], e["ctiStatus"], e["calls"]) for e in events if "ctiStatus" in e]
    three = list(CALL_EVENTS)[2]
    assert [s for s in shown if s[2]] == [
        (BOB, 4, [CALL_1]), (ALICE, 4, [CALL_1]), (ALICE, 5, [CALL_1]),
        (BOB, 4, [list(CALL_EVENTS)[1]]), (BOB, 5, [list(CALL_EVENTS)[1]]),
        (ALICE, 4, [three]), (ALICE, 4, [three]),
    ]  # fmt: skip
    assert all(calls == [] for _, status, calls in shown if status not in (4, 5))
