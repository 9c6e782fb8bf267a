"""The simulated event stream: only real CTI transitions, valid intake events, plausible."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import pytest
from simulator_runs import DAY_MS, Run

from ccms.simulator import ALLOWED_TRANSITIONS
from ccms.simulator.traffic import HOUR_MS, peak_hour

pytestmark = pytest.mark.unit

Key = tuple[object, object, object]
TALK = {2, 3, 4, 5}
WRAP = {6, 10}
REQUIRED = {"eventId", "ccId", "vdn", "agentId", "at", "ctiStatus"}
OPTIONAL = {"reason", "name", "phoneNumber", "mediaType", "skills", "calls"}


def key(event: dict[str, object]) -> Key:
    return event["ccId"], event["vdn"], event["agentId"]


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def intake_errors(event: dict[str, object]) -> list[str]:
    """What DECISIONS.md ("Event intake") would refuse in one event (empty: valid)."""
    errors = [f"missing {name}" for name in REQUIRED - event.keys()]
    errors += [f"unknown {name}" for name in event.keys() - REQUIRED - OPTIONAL]
    event_id = event.get("eventId")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 128:
        errors.append("eventId")
    for name, low, high in (
        ("ccId", 1, 65535),
        ("vdn", 1, 5000),
        ("agentId", 101, 59999),
        ("ctiStatus", 0, 10),
    ):
        value = event.get(name)
        if not is_int(value) or not low <= value <= high:  # type: ignore[operator]
            errors.append(name)
    at = event.get("at")
    if not is_int(at) or at < 0:  # type: ignore[operator]
        errors.append("at")
    if "reason" in event:
        reason = event["reason"]
        if not is_int(reason) or not 0 <= reason <= 65535:  # type: ignore[operator]
            errors.append("reason")
    if "skills" in event:
        skills = event["skills"]
        if not isinstance(skills, list) or not all(is_int(s) and 1 <= s <= 10000 for s in skills):
            errors.append("skills")
    if "calls" in event:
        calls = event["calls"]
        if not isinstance(calls, list) or not all(
            isinstance(c, str) and 1 <= len(c) <= 32 for c in calls
        ):
            errors.append("calls")
    for name in ("name", "phoneNumber"):
        if name in event and not isinstance(event[name], str):
            errors.append(name)
    if "mediaType" in event and event["mediaType"] not in (5, 51, 53):
        errors.append("mediaType")
    return errors


def transitions(events: Iterable[dict[str, object]]) -> Counter[tuple[int, int]]:
    last: dict[Key, int] = {}
    pairs: Counter[tuple[int, int]] = Counter()
    for event in events:
        status = event["ctiStatus"]
        assert isinstance(status, int)
        previous = last.get(key(event), 0)  # an agent is signed out until it says otherwise
        pairs[previous, status] += 1
        last[key(event)] = status
    return pairs


def time_in_status(events: Sequence[dict[str, object]], start: int, end: int) -> Counter[int]:
    """Agent-milliseconds spent in each CTI status within [start, end), from events only."""
    current: dict[Key, tuple[int, int]] = {}
    spent: Counter[int] = Counter()

    def add(status: int, since: int, until: int) -> None:
        low, high = max(since, start), min(until, end)
        if high > low:
            spent[status] += high - low

    for event in events:
        at = event["at"]
        status = event["ctiStatus"]
        assert isinstance(at, int) and isinstance(status, int)
        if at >= end:
            break
        if key(event) in current:
            add(*current[key(event)], at)
        current[key(event)] = (status, at)
    for status, since in current.values():
        add(status, since, end)
    return spent


def test_every_status_change_is_an_allowed_transition(week: Run) -> None:
    pairs = transitions(week.events)
    bad = {pair: n for pair, n in pairs.items() if pair[1] not in ALLOWED_TRANSITIONS[pair[0]]}
    assert bad == {}


def test_a_week_uses_every_edge_but_those_documented_as_unused(week: Run) -> None:
    produced = set(transitions(week.events))
    graph = {(old, new) for old, targets in ALLOWED_TRANSITIONS.items() for new in targets}
    assert graph - produced == {(6, 7), (10, 7), (9, 0)}  # see docs/simulator.md


def test_the_graph_covers_every_status_and_has_no_self_loops() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(range(11))
    for old, targets in ALLOWED_TRANSITIONS.items():
        assert old not in targets
        assert targets <= set(range(11))


def test_times_never_go_back_and_ids_are_unique(week: Run) -> None:
    times = [event["at"] for event in week.events]
    assert times == sorted(times)  # type: ignore[type-var]
    assert times[0] >= week.config.start_ms  # type: ignore[operator]
    assert times[-1] <= week.config.start_ms + 7 * DAY_MS  # type: ignore[operator]
    ids = [event["eventId"] for event in week.events]
    assert len(set(ids)) == len(ids)


def test_every_event_is_valid_for_the_intake(week: Run) -> None:
    invalid = [(event, errors) for event in week.events if (errors := intake_errors(event))]
    assert invalid[:3] == []


def test_each_agent_sends_its_attributes_at_sign_in(week: Run) -> None:
    previous: dict[Key, int] = {}
    for event in week.events:
        signing_in = previous.get(key(event), 0) == 0
        carried = {"name", "phoneNumber", "mediaType", "skills"} <= event.keys()
        assert carried == signing_in, event
        if signing_in:
            assert event["skills"], event
        if event["ctiStatus"] == 0:
            assert event.get("skills") == [], event
        previous[key(event)] = event["ctiStatus"]  # type: ignore[assignment]
    assert len(previous) == week.config.agents


def test_calls_are_listed_exactly_while_handling_a_call(week: Run) -> None:
    transferred = {e["callId"] for e in week.calls if e["callEvent"] == "transfer"}
    calls: dict[Key, list[str]] = {}
    talked: set[str] = set()
    dialled: set[str] = set()
    for event in week.events:
        if "calls" in event:
            calls[key(event)] = event["calls"]  # type: ignore[assignment]
        handling = calls.get(key(event), [])
        if event["ctiStatus"] in TALK:
            assert len(handling) == 1, event
        else:
            assert handling == [], event
        if event["ctiStatus"] in (2, 3):  # a call starts with the offer or the dial
            assert "calls" in event, event
        if event["ctiStatus"] == 2:  # an outbound dial is a new call
            assert handling[0] not in dialled | talked, event
            dialled.add(handling[0])
        if event["ctiStatus"] == 5:  # a call is talked once (a rung-out offer is re-offered),
            assert handling[0] not in talked or handling[0] in transferred, event  # transfer
            talked.add(handling[0])
    assert len(talked) > 10_000


def test_reason_codes_come_only_with_rest_and_busy(week: Run) -> None:
    reasons = Counter(
        (event["ctiStatus"], event["reason"]) for event in week.events if "reason" in event
    )
    assert {status for status, _ in reasons} == {7, 8}
    assert all(event.get("reason") is not None for event in week.events if event["ctiStatus"] == 8)


def test_every_status_appears_in_a_simulated_day(day: Run) -> None:
    counts = Counter(event["ctiStatus"] for event in day.events)
    assert set(counts) == set(range(11))
    assert counts[9] >= 1  # study is rare but happens for 200 agents
    assert counts[6] > counts[10] > 0  # voice wrap-up is "working", chat's "adjusting"


def test_the_busy_hour_occupancy_is_plausible(day: Run) -> None:
    start = day.config.start_ms + peak_hour() * HOUR_MS
    spent = time_in_status(day.events, start, start + HOUR_MS)
    signed_in = sum(ms for status, ms in spent.items() if status != 0)
    handling = sum(spent[status] for status in TALK | WRAP)
    occupancy = handling / signed_in
    print(f"busy-hour occupancy {occupancy:.3f}")
    assert 0.50 <= occupancy <= 0.95
    assert signed_in >= 0.5 * day.config.agents * HOUR_MS  # most of the floor is on shift


def test_the_quiet_night_hour_is_less_occupied_than_the_busy_hour(week: Run) -> None:
    def occupancy(hour: int) -> float:
        start = week.config.start_ms + DAY_MS + hour * HOUR_MS
        spent = time_in_status(week.events, start, start + HOUR_MS)
        signed_in = sum(ms for status, ms in spent.items() if status != 0)
        return sum(spent[s] for s in TALK | WRAP) / signed_in

    assert occupancy(3) < occupancy(peak_hour()) - 0.1


def test_no_agent_repeats_its_status(week: Run) -> None:
    last: dict[Key, object] = {}
    for event in week.events:
        assert last.get(key(event)) != event["ctiStatus"], event
        last[key(event)] = event["ctiStatus"]
