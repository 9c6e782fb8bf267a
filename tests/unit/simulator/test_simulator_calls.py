"""The simulator's call events: valid for the intake, conserved (every call that entered a
queue is answered, abandoned, transferred or still there), in step with the agent events,
and with the abandon and transfer rates of the figures."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulator_runs import DAY_MS, Run, simulate

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.batch import (
    AT_AGENT,
    new_calls,
    new_events,
    plan_batch,
    plan_call_batch,
    with_call_moves,
)
from ccms.domain.call import CallKey, CallRecord, CallState, valid_call_id
from ccms.ingest.validation import parse_batch
from ccms.simulator import SimulationConfig
from ccms.simulator.traffic import HOUR_MS

pytestmark = pytest.mark.unit

Visit = tuple[str, int]  # a call's stay in one skill queue: (call id, skill)


def outcomes(calls: tuple[dict[str, object], ...]) -> dict[str, Counter[Visit]]:
    """Per inbound call's visit of a queue, how it left it: the stream's own bookkeeping.

    Fails on any event out of its place in a call's life."""
    entered: Counter[Visit] = Counter()
    left: dict[str, Counter[Visit]] = defaultdict(Counter)
    where: dict[str, int] = {}  # call id -> the skill queue it is in now
    state: dict[str, str] = {}
    for e in calls:
        call, kind = str(e["callId"]), str(e["callEvent"])
        previous = state.get(call)
        if kind == "arrive":
            assert previous is None, e
        elif kind == "queue":  # a new call queues; a rung-out offer queues again
            assert previous in ("arrive", "offer"), e
            if previous == "arrive":
                entered[call, int(e["skillId"])] += 1  # type: ignore[call-overload]
            where[call] = int(e["skillId"])  # type: ignore[call-overload]
        elif kind == "offer":
            assert previous in ("arrive", "queue", "transfer"), e
        elif kind == "answer":
            assert previous == "offer", e
        elif kind == "transfer":
            assert previous == "answer", e
            left["transferred"][call, where[call]] += 1
            where[call] = int(e["skillId"])  # type: ignore[call-overload]
            entered[call, where[call]] += 1
        elif kind in ("end", "abandon"):
            assert previous is not None and previous not in ("end", "abandon"), e
            if call in where:
                outcome = "answered" if previous == "answer" else "abandoned"
                assert kind == ("end" if outcome == "answered" else "abandon"), e
                left[outcome][call, where[call]] += 1
        state[call] = kind
    for call, skill in where.items():
        if state[call] not in ("end", "abandon"):
            left["waiting" if state[call] in ("queue", "transfer", "offer") else "talking"][
                call, skill
            ] += 1
    left["entered"] = entered
    return left


def assert_conserved(calls: tuple[dict[str, object], ...]) -> dict[str, int]:
    left = outcomes(calls)
    entered = left.pop("entered")
    total: Counter[Visit] = Counter()
    for outcome in left.values():
        total.update(outcome)
    assert total == entered  # each visit left once, by one way, or is still going on
    return {name: sum(c.values()) for name, c in left.items()} | {"entered": len(entered)}


def test_every_call_event_is_valid_for_the_intake(day: Run) -> None:
    batch = parse_batch({"events": list(day.stream[:10_000])}, 10_000, False)
    assert len(batch.calls) == sum(1 for e in day.stream[:10_000] if "callId" in e)
    assert all(valid_call_id(e["callId"]) for e in day.calls)
    kinds = Counter(e["callEvent"] for e in day.calls)
    assert set(kinds) == {"arrive", "queue", "offer", "answer", "transfer", "end", "abandon"}


def test_a_day_of_calls_is_conserved_with_the_figures_rates(day: Run) -> None:
    counts = assert_conserved(day.calls)
    inbound = counts["entered"]
    assert inbound > 5_000
    # Abandonment (figures §3): 5.6 % mean in the UK 2016, 9.1 % in 2023, "5-8 %" quoted.
    abandoned = counts["abandoned"] / inbound
    assert 0.01 < abandoned < 0.12, abandoned
    # Transfers: `transfer_share` of the answered voice calls (a rule of thumb).
    answered = counts["answered"] + counts["transferred"]
    assert 0.03 < counts["transferred"] / answered < 0.07


def test_call_events_go_with_the_agent_events_of_the_agent_offered(day: Run) -> None:
    """An offer is at the moment its agent goes occupied (or preoccupied: a dial) with the
    call listed, an answer when it starts talking, an end when it stops."""
    agent_at: dict[tuple[object, object, int], list[dict[str, object]]] = defaultdict(list)
    for e in day.events:
        agent_at[e["vdn"], e["agentId"], e["at"]].append(e)  # type: ignore[index]
    at_agent: dict[str, object] = {}
    checked = Counter()
    for e in day.calls:
        call, kind = e["callId"], e["callEvent"]
        if kind in ("offer", "answer"):
            at_agent[call] = e["agentId"]  # type: ignore[index]
        agent = at_agent.get(call)  # type: ignore[call-overload]
        if agent is None:
            continue
        statuses = {a["ctiStatus"] for a in agent_at[e["vdn"], agent, e["at"]]}  # type: ignore[index]
        if kind == "offer":
            mine = agent_at[e["vdn"], agent, e["at"]]  # type: ignore[index]
            assert statuses & {2, 3} and any(a.get("calls") == [call] for a in mine), e
        elif kind == "answer":
            assert 5 in statuses, e
        elif kind in ("end", "transfer"):
            assert statuses & {1, 6, 10}, e  # wrap-up, or idle without it
        elif kind in ("abandon", "queue"):
            assert 1 in statuses, e  # the offer withdrawn or rung out: back to idle
        checked[kind] += 1
        if kind in ("end", "abandon", "transfer", "queue"):
            at_agent.pop(call, None)  # type: ignore[call-overload]
    assert min(checked[k] for k in ("offer", "answer", "end", "transfer", "queue")) > 10


def fold(stream: tuple[dict[str, object], ...], size: int) -> tuple[
    dict[AgentKey, AgentRecord], dict[CallKey, CallRecord]
]:  # fmt: skip
    """The agents and calls a store makes of the stream, in batches of ``size``."""
    agents: dict[AgentKey, AgentRecord] = {}
    calls: dict[CallKey, CallRecord] = {}
    for lo in range(0, len(stream), size):
        batch = parse_batch({"events": list(stream[lo : lo + size])}, size, False)
        new = new_events(batch.agents, set())
        plan = plan_batch(new, {k: agents.get(k) for k in new.keys})
        fresh, _ = new_calls(batch.calls, set(), new.event_keys)
        call_plan = plan_call_batch(fresh, {c.key: calls[c.key] for c in fresh if c.key in calls})
        wanted = {*new.keys, *call_plan.agents}
        plan = with_call_moves(plan, {k: agents[k] for k in wanted if k in agents}, call_plan.moves)
        agents.update((k, u.after) for k, u in plan.changes.items())
        calls.update(call_plan.changed)
    return agents, calls


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    agents=st.integers(4, 40),
    start_hour=st.integers(0, 23),
    size=st.sampled_from([1, 37, 1000]),
)
def test_any_floor_conserves_calls_and_agrees_with_the_call_model(
    seed: int, agents: int, start_hour: int, size: int
) -> None:
    config = SimulationConfig(
        seed=seed, agents=agents, vdns=1, skills=3, transfer_share=0.2,
        start_ms=1_767_225_600_000 + start_hour * HOUR_MS,
    )  # fmt: skip
    run = simulate(config, 6 * HOUR_MS)
    assert_conserved(run.calls)
    folded_agents, folded_calls = fold(run.stream, size)
    snapshot = run.simulator.agents()
    for key, record in folded_agents.items():
        assert record.calls == snapshot[key].calls  # the CTI's lists and the calls agree
        at_it = [
            c.call_id
            for c in folded_calls.values()
            if c.state in AT_AGENT and c.work_no == key.work_no
        ]
        assert sorted(record.calls) == sorted(at_it)
    live = [c for c in folded_calls.values() if c.state is not CallState.ENDED]
    assert all(c.live for c in live)


def test_call_events_can_be_switched_off_and_leave_the_agents_stream_alone() -> None:
    on = simulate(SimulationConfig(agents=30, vdns=1), DAY_MS // 4)
    off = simulate(SimulationConfig(agents=30, vdns=1, call_events=False), DAY_MS // 4)
    assert off.calls == () and len(on.calls) > 100
    strip = [{k: v for k, v in e.items() if k != "eventId"} for e in on.events]
    assert strip == [{k: v for k, v in e.items() if k != "eventId"} for e in off.events]
