"""The batch plan every store follows, as properties: how a batch is split does not change
the outcome, duplicates change nothing, an event id is one per call center and VDN, and
"what changed" is exactly the agents whose record differs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, StatusChange, apply_event
from ccms.domain.batch import BatchPlan, EventKey, NewEvents, event_key, new_events, plan_batch
from ccms.domain.changes import replay, state

pytestmark = pytest.mark.unit

events = st.builds(
    AgentEvent,
    event_id=st.sampled_from("abcdefghijkl"),  # few ids: batches repeat some of them
    cc_id=st.sampled_from([1, 7]),
    vdn=st.sampled_from([1, 2]),
    work_no=st.sampled_from([101, 102, 103]),
    at=st.integers(0, 50),
    cti_status=st.one_of(st.none(), st.integers(0, 10)),
    reason=st.one_of(st.none(), st.integers(0, 3)),
    name=st.one_of(st.none(), st.sampled_from(["Ann", "Bo"])),
    skills=st.one_of(st.none(), st.lists(st.integers(1, 4), max_size=2).map(tuple)),
)
batches = st.lists(events, max_size=25)


@dataclass
class Book:
    """A store in memory that executes the plan as the real backends do."""

    agents: dict[AgentKey, AgentRecord] = field(default_factory=dict)
    applied: set[EventKey] = field(default_factory=set)
    history: list[StatusChange] = field(default_factory=list)

    def take(self, batch: list[AgentEvent]) -> tuple[NewEvents, BatchPlan]:
        new = new_events(batch, self.applied)
        loaded = {key: self.agents[key] for key in new.keys if key in self.agents}
        plan = plan_batch(new, loaded)
        self.applied.update(new.event_keys)
        self.history.extend(plan.history)
        for key, change in plan.changes.items():
            assert change.before == self.agents.get(key)
            self.agents[key] = change.after
        return new, plan


@given(batch=batches, cuts=st.lists(st.integers(0, 25), max_size=4))
def test_splitting_a_batch_does_not_change_the_outcome(
    batch: list[AgentEvent], cuts: list[int]
) -> None:
    whole, parts = Book(), Book()
    new, _ = whole.take(batch)
    accepted = duplicates = 0
    bounds = [0, *sorted(min(c, len(batch)) for c in cuts), len(batch)]
    for start, end in itertools.pairwise(bounds):
        part, _ = parts.take(batch[start:end])
        accepted += len(part.events)
        duplicates += part.duplicates
    assert parts.agents == whole.agents
    assert parts.history == whole.history
    assert parts.applied == whole.applied
    assert (accepted, duplicates) == (len(new.events), new.duplicates)
    assert accepted + duplicates == len(batch)


@given(batch=batches, again=batches, data=st.data())
def test_duplicates_change_nothing(
    batch: list[AgentEvent], again: list[AgentEvent], data: st.DataObject
) -> None:
    book = Book()
    book.take(batch)
    agents, history = dict(book.agents), list(book.history)
    # any events under ids applied before, whatever they carry, in any order
    resend = [e for e in again if event_key(e) in book.applied]
    resend += data.draw(st.permutations(batch))
    new, plan = book.take(resend)
    assert new.events == ()
    assert new.duplicates == len(resend)
    assert plan.history == []
    assert plan.changes == {}
    assert (book.agents, book.history) == (agents, history)


@given(before=batches, batch=batches)
def test_what_changed_is_every_agent_whose_record_differs(
    before: list[AgentEvent], batch: list[AgentEvent]
) -> None:
    book = Book()
    book.take(before)
    loaded = dict(book.agents)
    new, plan = book.take(batch)
    expected: dict[AgentKey, AgentRecord] = {}
    for event in new.events:  # the reference: every new event applied in arrival order
        key = event.key
        expected[key], _ = apply_event(expected.get(key, loaded.get(key)), event)
    assert plan.changes.keys() == {k for k, r in expected.items() if r != loaded.get(k)}
    for key, (was, now) in plan.changes.items():
        assert (was, now) == (loaded.get(key), expected[key])
    assert plan.changed == [change.after for change in plan.changes.values()]
    statuses = [e for e in new.events if e.cti_status is not None]
    assert [h.event_id for h in plan.history] == [e.event_id for e in statuses]


applied_keys = st.builds(
    EventKey, st.sampled_from([1, 7]), st.sampled_from([1, 2]), st.sampled_from("abcdefghijkl")
)


@given(batch=batches, applied=st.sets(applied_keys))
def test_new_events_are_first_copies_of_ids_not_applied_in_their_tenant(
    batch: list[AgentEvent], applied: set[EventKey]
) -> None:
    new = new_events(batch, applied)
    keys = [event_key(e) for e in batch]
    first = [batch[i] for i, k in enumerate(keys) if k not in applied and k not in keys[:i]]
    assert list(new.events) == first
    assert new.event_keys == [event_key(e) for e in first]
    assert new.duplicates == len(batch) - len(first)
    assert new.keys == list(dict.fromkeys(e.key for e in first))


def test_one_id_in_two_tenants_is_two_events() -> None:
    batch = [
        AgentEvent("x", 1, 1, 101, 5, 1),
        AgentEvent("x", 7, 170, 101, 5, 1),
        AgentEvent("x", 1, 2, 101, 5, 1),
        AgentEvent("x", 7, 170, 102, 6, 1),  # the same tenant again: a duplicate
    ]
    new = new_events(batch, {EventKey(1, 2, "x")})
    assert new.events == (batch[0], batch[1])
    assert new.duplicates == 2
    assert new.event_keys == [EventKey(1, 1, "x"), EventKey(7, 170, "x")]


def test_an_unknown_agent_is_always_a_change() -> None:
    event = AgentEvent("e", 1, 1, 101, 5)  # no status, no attribute: an agent all the same
    plan = plan_batch([event], {})
    assert plan.changes == {event.key: (None, AgentRecord(1, 1, 101, created_at=5))}
    assert plan.history == []


@given(before=batches, batch=batches)
def test_the_log_is_one_entry_per_event_that_changed_a_state(
    before: list[AgentEvent], batch: list[AgentEvent]
) -> None:
    book = Book()
    book.take(before)
    loaded = dict(book.agents)
    new, plan = book.take(batch)
    current: dict[AgentKey, AgentRecord] = dict(loaded)
    expected = []
    for event in new.events:  # the reference: each event, and whether the state moved
        prev = current.get(event.key)
        current[event.key], _ = apply_event(prev, event)
        if prev is None or state(prev) != state(current[event.key]):
            expected.append((event.event_id, event.at, prev, current[event.key]))
    assert [(c.event_id, c.at, c.prev, c.cur) for c in plan.log] == expected
    assert [c.seq for c in plan.log] == list(range(1, len(plan.log) + 1))
    # the log replayed on the agents loaded gives the state of the rows written
    replayed = dict(loaded)
    replay(replayed, plan.log)
    assert {k: state(r) for k, r in replayed.items()} == {
        k: state(r) for k, r in book.agents.items()
    }
    assert {c.key for c in plan.log} <= plan.changes.keys()
    assert plan.last_changes == {c.key: c.seq for c in plan.log}


def test_the_same_status_again_is_no_change_of_state() -> None:
    idle = AgentEvent("a", 1, 1, 101, 5, 1)
    again = AgentEvent("b", 1, 1, 101, 9, 1)
    plan = plan_batch([idle, again], {})
    assert [c.event_id for c in plan.log] == ["a"]  # the second only moved a time
    (update,) = plan.changes.values()
    assert update.after.status_event_at == 9  # which the row keeps all the same
