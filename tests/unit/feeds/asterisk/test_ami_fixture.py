"""The real Asterisk 22 transcript through the adapter's pipeline, in-process.

The oracle (``tests/e2e/feeds/ami_oracle.py``) is the CTI sequence of each agent read from
the transcript by hand; here the session, the tracker and the replayer turn the same file
into intake events, at once and at speed, and must agree with it and with themselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.e2e.feeds.ami_oracle import CONFIG, FINAL, SEQUENCE
from tests.e2e.feeds.fake_ami import fixture_entries

from ccms.feeds.asterisk.config import parse_config
from ccms.feeds.asterisk.replay import ReplayClock, Replayer, origin
from ccms.feeds.asterisk.session import AsteriskClock, Session
from ccms.feeds.asterisk.spool import Last
from ccms.feeds.asterisk.tracker import Tracker
from ccms.feeds.asterisk.transcript import Entry

pytestmark = pytest.mark.unit

ENTRIES = fixture_entries()
SK = "Xk3-9vQ_pL2mZr8TgW4yN6hJcB1dF0sA"
TEXT = CONFIG.format(ami_port=5038, ping_s=10, resync_s=300, url="http://127.0.0.1:1",
                     ak="feed", sk=SK, listen_port=28091, spool="spool")  # fmt: skip


def replay(
    entries: list[Entry],
    last: dict[Any, Last] | None = None,
    speed: float | None = None,
    calls_mark: int = 0,
) -> tuple[list[dict[str, Any]], Tracker]:
    config = parse_config(TEXT)
    tracker = Tracker(config.rules, config.directory(), last=last, calls_mark=calls_mark,
                      drop_past=last is not None)  # fmt: skip
    replay_clock = ReplayClock(speed)
    clock = AsteriskClock(local=replay_clock)
    start = origin(ENTRIES)
    assert start is not None
    clock.anchor(*start)
    out: list[dict[str, Any]] = []
    asyncio.run(Replayer(entries, Session(tracker, clock, out.extend), replay_clock).run())
    return out, tracker


def sequences(events: list[dict[str, Any]]) -> dict[int, list[tuple[int, Any, int]]]:
    found: dict[int, list[tuple[int, Any, int]]] = {}
    for event in events:
        if "ctiStatus" in event:
            found.setdefault(event["agentId"], []).append(
                (event["ctiStatus"], event.get("reason"), event["at"])
            )
    return found


def test_the_fixture_gives_the_cti_sequence_read_from_it() -> None:
    events, tracker = replay(ENTRIES)
    found = sequences(events)
    assert set(found) == set(SEQUENCE)
    for agent, expected in SEQUENCE.items():
        got = found[agent]
        assert [(s, r) for s, r, _ in got] == [(s, r) for s, r, _ in expected], agent
        for (_, _, at), (_, _, want) in zip(got, expected, strict=True):
            if want is not None:
                assert at == want, agent
    snapshot_at = found[1001][0][2]
    # A QueueStatus answer has no Timestamp: the snapshot is dated by the last frame that
    # had one (here SuccessfulAuth, t=0.001; the adapter itself pings just before).
    assert snapshot_at == 1796155467056
    for agent, (status, skills) in FINAL.items():
        assert tracker.current[agent_key(agent)].cti_status == status
        assert tracker.current[agent_key(agent)].skills == skills


def agent_key(agent: int) -> Any:
    from ccms.domain.agent import AgentKey

    return AgentKey(1, 1, agent)


def test_every_event_carries_its_source_and_why() -> None:
    events, _ = replay(ENTRIES)
    paused = next(e for e in events if e.get("ctiStatus") == 8)
    assert paused["source"] == "asterisk-ami"
    assert paused["rawState"] == "sales: Status=1 InCall=0 Paused=1 (Lunch) LastCall=1796155475"
    assert paused["skills"] == [11] and paused["name"] == "Alice"
    assert len({e["eventId"] for e in events}) == len(events)


def test_the_events_do_not_depend_on_the_replay_speed() -> None:
    at_once, _ = replay(ENTRIES)
    at_speed, _ = replay(ENTRIES, speed=400.0)
    assert at_speed == at_once


def test_the_two_orders_of_agent_complete_and_member_status_give_the_same_events() -> None:
    # The fixture has both orders (Alice t=8.516: status first; Bob t=23.022: complete
    # first); swapping each pair must not change a single event.
    swapped = list(ENTRIES)
    for first, second in _pairs(swapped):
        swapped[first], swapped[second] = swapped[second], swapped[first]
    original, _ = replay(ENTRIES)
    reordered, _ = replay(swapped)
    assert sequences(reordered) == sequences(original)


def _pairs(entries: list[Entry]) -> list[tuple[int, int]]:
    pairs = []
    for index, entry in enumerate(entries):
        if entry.frame is not None and entry.frame.event == "AgentComplete":
            name = entry.frame.get("MemberName")
            near = [
                i for i in range(max(0, index - 12), min(len(entries), index + 12))
                if entries[i].frame is not None
                and entries[i].frame.event == "QueueMemberStatus"  # type: ignore[union-attr]
                and entries[i].frame.get("MemberName") == name  # type: ignore[union-attr]
            ]  # fmt: skip
            assert near, name
            pairs.append((min(index, near[0]), max(index, near[0])))
    assert len(pairs) == 2
    return pairs


FULL, FULL_TRACKER = replay(ENTRIES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(ENTRIES) - 1))
def test_replaying_any_suffix_after_the_whole_run_makes_no_event(start: int) -> None:
    # The adapter's spool remembers the last event of each agent; a suffix of the run
    # replayed with that memory has nothing newer to say.
    last = {key: Last(v.at, v.cti_status, v.reason, v.skills, v.ordinal)
            for key, v in FULL_TRACKER.last.items()}  # fmt: skip
    events, _ = replay(ENTRIES[start:], last=last, calls_mark=FULL_TRACKER.calls.mark_ms)
    assert events == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(ENTRIES) - 1))
def test_a_suffix_replayed_without_memory_repeats_the_full_runs_events_where_it_can(
    start: int,
) -> None:
    # Without the spool's memory, each agent's events from its first complete record on are
    # those of the full run, ids included (ccms then counts them as duplicates); only the
    # first event of an agent may differ (the suffix saw less of its past). Every call
    # event is one of the full run's, by its id: a call filled in from the middle gets the
    # ids it had (its arrival, first queueing and answer, its end happen once).
    events, _ = replay(ENTRIES[start:])
    full_ids = {e["eventId"] for e in FULL}
    assert {e["eventId"] for e in events if "callId" in e} <= full_ids
    by_agent: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        if "callId" not in event:
            by_agent.setdefault(event["agentId"], []).append(event)
    for agent_events in by_agent.values():
        later = [e for e in agent_events[1:] if e["at"] > agent_events[0]["at"] + 1000]
        assert all(e["eventId"] in full_ids for e in later)
