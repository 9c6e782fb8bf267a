"""The simulator's API: determinism, chunked runs, and snapshots that match the events."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulator_runs import DAY_MS, Run, simulate

from ccms.domain.agent import AgentEvent, AgentRecord, apply_event
from ccms.simulator import AgentSnapshot, SimulationConfig, Simulator, is_allowed
from ccms.simulator.traffic import HOUR_MS

pytestmark = pytest.mark.unit


def dump(events: Iterable[dict[str, object]]) -> str:
    return json.dumps(list(events), sort_keys=True)


def fold(events: Iterable[dict[str, object]]) -> dict[tuple[int, int, int], AgentSnapshot]:
    """A tiny reference server: the newest event carrying a field sets it.

    The status start is the ``at`` of the status event; the sign-in time is set by a change
    from 0 and cleared by a change to 0; the reason belongs to the status event it came with.
    """
    state: dict[tuple[int, int, int], dict[str, object]] = {}
    for event in events:
        k = (int(event["ccId"]), int(event["vdn"]), int(event["agentId"]))  # type: ignore[call-overload]
        agent = state.setdefault(
            k,
            {
                "cti_status": 0,
                "status_since_ms": 0,
                "login_ms": None,
                "name": None,
                "phone_number": None,
                "media_type": 0,
                "skills": (),
                "calls": (),
                "reason": None,
            },
        )
        status = event["ctiStatus"]
        if agent["cti_status"] == 0 and status != 0:
            agent["login_ms"] = event["at"]
        if status == 0:
            agent["login_ms"] = None
        agent["cti_status"] = status
        agent["status_since_ms"] = event["at"]
        agent["reason"] = event.get("reason")
        for src, dst in (("name", "name"), ("phoneNumber", "phone_number"), ("mediaType", "media_type")):  # fmt: skip
            if src in event:
                agent[dst] = event[src]
        for name in ("skills", "calls"):
            if name in event:
                agent[name] = tuple(event[name])  # type: ignore[call-overload]
    return {
        k: AgentSnapshot(cc_id=k[0], vdn=k[1], work_no=k[2], **fields)  # type: ignore[arg-type]
        for k, fields in state.items()
    }


def test_same_seed_and_config_give_the_same_events(day: Run) -> None:
    again = simulate(SimulationConfig(), DAY_MS)
    assert dump(again.events) == dump(day.events)
    assert again.simulator.agents() == day.simulator.agents()


def test_another_seed_gives_other_events(day: Run) -> None:
    other = simulate(SimulationConfig(seed=2), DAY_MS)
    assert dump(other.events) != dump(day.events)
    assert other.events[0]["eventId"] != day.events[0]["eventId"]


def test_advancing_in_chunks_gives_the_same_stream_as_one_advance() -> None:
    config = SimulationConfig(agents=60)
    whole = simulate(config, 2 * DAY_MS)
    chunked = Simulator(config)
    events: list[dict[str, object]] = []
    step = 7 * HOUR_MS + 12_345
    until = config.start_ms
    while until < config.start_ms + 2 * DAY_MS:
        until = min(until + step, config.start_ms + 2 * DAY_MS)
        events += chunked.advance(until)
        assert chunked.now_ms == until
        events += chunked.advance(until)  # advancing to "now" again adds nothing
    assert dump(events) == dump(whole.stream)
    assert chunked.agents() == whole.simulator.agents()


def test_advance_includes_the_events_at_its_end_time(day: Run) -> None:
    for event in (day.events[0], day.events[len(day.events) // 2]):
        at = event["at"]
        assert isinstance(at, int)
        events = Simulator(day.config).advance(at)
        assert events[-1]["at"] == at
        assert event in events
        assert dump(events) == dump(e for e in day.stream if e["at"] <= at)  # type: ignore[operator]


def test_agents_is_what_the_events_say(week: Run) -> None:
    assert week.simulator.agents() == fold(week.events)


def test_agents_is_what_the_domain_makes_of_the_events(day: Run) -> None:
    records: dict[tuple[int, int, int], AgentRecord] = {}
    for e in day.events:
        event = AgentEvent(
            event_id=str(e["eventId"]),
            cc_id=int(e["ccId"]),  # type: ignore[call-overload]
            vdn=int(e["vdn"]),  # type: ignore[call-overload]
            work_no=int(e["agentId"]),  # type: ignore[call-overload]
            at=int(e["at"]),  # type: ignore[call-overload]
            cti_status=int(e["ctiStatus"]),  # type: ignore[call-overload]
            reason=e.get("reason"),  # type: ignore[arg-type]
            name=e.get("name"),  # type: ignore[arg-type]
            phone_number=e.get("phoneNumber"),  # type: ignore[arg-type]
            has_phone_number="phoneNumber" in e,
            media_type=e.get("mediaType"),  # type: ignore[arg-type]
            skills=tuple(e["skills"]) if "skills" in e else None,  # type: ignore[call-overload]
            calls=tuple(e["calls"]) if "calls" in e else None,  # type: ignore[call-overload]
        )
        k = (event.cc_id, event.vdn, event.work_no)
        records[k], _ = apply_event(records.get(k), event)
    snapshots = day.simulator.agents()
    assert snapshots.keys() == records.keys()
    for k, record in records.items():
        assert snapshots[k] == AgentSnapshot(
            cc_id=record.cc_id,
            vdn=record.vdn,
            work_no=record.work_no,
            cti_status=record.cti_status,
            status_since_ms=record.state_start,
            login_ms=record.login_at,
            name=record.name,
            phone_number=record.phone_number,
            media_type=record.media_type,
            skills=record.skills,
            calls=record.calls,
            reason=record.reason,
        )


def test_only_agents_with_events_are_listed_and_counted() -> None:
    config = SimulationConfig(agents=50)
    simulator = Simulator(config)
    assert simulator.now_ms == config.start_ms
    assert simulator.agents() == {}
    assert sum(simulator.status_counts().values()) == 0
    events = simulator.advance(config.start_ms + 8 * HOUR_MS)
    seen = {(e["ccId"], e["vdn"], e["agentId"]) for e in events if "callId" not in e}
    assert set(simulator.agents()) == seen
    assert 0 < len(seen) < config.agents  # the afternoon shifts have not signed in yet
    counts = simulator.status_counts()
    assert set(counts) == set(range(11))
    assert sum(counts.values()) == len(seen)
    assert counts == {
        s: sum(1 for a in simulator.agents().values() if a.cti_status == s) for s in range(11)
    }


def test_advance_refuses_to_go_back_in_time() -> None:
    simulator = Simulator(SimulationConfig(agents=10))
    simulator.advance(simulator.now_ms + HOUR_MS)
    with pytest.raises(ValueError, match="back in time"):
        simulator.advance(simulator.now_ms - 1)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    agents=st.integers(1, 40),
    vdns=st.integers(1, 4),
    skills=st.integers(1, 6),
    chat_share=st.sampled_from([0.0, 0.3, 1.0]),
    cuts=st.lists(st.integers(0, 12 * HOUR_MS), max_size=4),
    start_hour=st.integers(0, 23),
)
def test_any_small_floor_is_deterministic_valid_and_chunkable(
    seed: int,
    agents: int,
    vdns: int,
    skills: int,
    chat_share: float,
    cuts: list[int],
    start_hour: int,
) -> None:
    config = SimulationConfig(
        seed=seed,
        agents=max(agents, vdns),
        vdns=vdns,
        skills=skills,
        chat_queues=min(1, skills - 1),
        chat_share=chat_share,
        start_ms=1_767_225_600_000 + start_hour * HOUR_MS + 777,
    )
    end = config.start_ms + 12 * HOUR_MS
    whole = Simulator(config).advance(end)
    chunked = Simulator(config)
    events: list[dict[str, object]] = []
    for cut in sorted(cuts):
        events += chunked.advance(config.start_ms + cut)
    events += chunked.advance(end)
    assert dump(events) == dump(whole)
    whole = [e for e in whole if "callId" not in e]  # the agent events
    last: dict[object, int] = {}
    for e in whole:
        k = (e["vdn"], e["agentId"])
        status = e["ctiStatus"]
        assert isinstance(status, int)
        assert is_allowed(last.get(k, 0), status), e
        last[k] = status
        assert 101 <= e["agentId"] <= 59999  # type: ignore[operator]
        assert all(1 <= s <= 10000 for s in e.get("skills", []))  # type: ignore[attr-defined]
    assert chunked.agents() == fold(whole)
