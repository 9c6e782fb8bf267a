"""Call events and the agents' ``calls`` lists (``docs/calls.md``, "Agents' calls"): the
batch plan every store follows, on a store in memory that executes it as they do."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord
from ccms.domain.batch import (
    AT_AGENT,
    MAX_AGENT_CALLS,
    CallMove,
    new_calls,
    new_events,
    plan_batch,
    plan_call_batch,
    with_call_moves,
)
from ccms.domain.call import (
    CallEvent,
    CallKey,
    CallKind,
    CallRecord,
    CallState,
    apply_call_event,
)
from ccms.domain.changes import AgentChange

pytestmark = pytest.mark.unit

T0 = 1_789_999_000_000
X, Y = "1789999000-1", "1789999000-2"
A, B = AgentKey(1, 1, 101), AgentKey(1, 1, 102)


@dataclass
class Book:
    """A store in memory: agent events planned first, then the call events and their
    moves, as both backends do."""

    agents: dict[AgentKey, AgentRecord] = field(default_factory=dict)
    calls: dict[CallKey, CallRecord] = field(default_factory=dict)
    log: list[AgentChange] = field(default_factory=list)

    def apply(self, events: list[AgentEvent], calls: Sequence[CallEvent] = ()) -> None:
        new = new_events(events, set())
        plan = plan_batch(new, {k: self.agents.get(k) for k in new.keys})
        fresh, _ = new_calls(list(calls), set(), new.event_keys)
        call_plan = plan_call_batch(
            fresh, {c.key: self.calls[c.key] for c in fresh if c.key in self.calls}
        )
        known = {k: self.agents[k] for k in {*new.keys, *call_plan.agents} if k in self.agents}
        plan = with_call_moves(plan, known, call_plan.moves)
        for key, update in plan.changes.items():
            assert update.before == self.agents.get(key)
            self.agents[key] = update.after
        self.log += plan.log
        self.calls.update(call_plan.changed)

    def calls_of(self, key: AgentKey) -> tuple[str, ...]:
        return self.agents[key].calls


def sign_in(*keys: AgentKey, at: int = T0 - 1_000) -> list[AgentEvent]:
    return [AgentEvent(f"in{k.work_no}", k.cc_id, k.vdn, k.work_no, at, 1) for k in keys]


def cev(n: str, at: int, kind: CallKind, call_id: str = X, **kw: object) -> CallEvent:
    return CallEvent(n, 1, 1, call_id, at, kind, **kw)  # type: ignore[arg-type]


def test_an_offer_puts_the_call_in_the_agents_list_and_its_end_takes_it_out() -> None:
    book = Book()
    book.apply(sign_in(A))
    book.apply([], [cev("q", T0, CallKind.QUEUE, skill_id=3)])
    assert book.calls_of(A) == ()
    book.apply([], [cev("o", T0 + 5_000, CallKind.OFFER, work_no=101)])
    assert book.calls_of(A) == (X,)
    assert book.agents[A].calls_at is None  # set by agent events only
    book.apply([], [cev("a", T0 + 8_000, CallKind.ANSWER)])
    assert book.calls_of(A) == (X,)  # still the agent's: no change, nothing logged
    book.apply([], [cev("e", T0 + 60_000, CallKind.END)])
    assert book.calls_of(A) == ()
    changes = [(c.event_id, c.at, c.prev.calls if c.prev else None, c.cur.calls) for c in book.log]
    assert changes == [
        ("in101", T0 - 1_000, None, ()),
        ("o", T0 + 5_000, (), (X,)),
        ("e", T0 + 60_000, (X,), ()),
    ]


def test_a_transfer_moves_the_call_between_agents_and_to_a_queue() -> None:
    book = Book()
    book.apply(sign_in(A, B))
    book.apply([], [cev("o", T0, CallKind.OFFER, work_no=101), cev("a", T0 + 1, CallKind.ANSWER)])
    book.apply([], [cev("t", T0 + 9_000, CallKind.TRANSFER, work_no=102)])
    assert (book.calls_of(A), book.calls_of(B)) == ((), (X,))
    book.apply([], [cev("t2", T0 + 19_000, CallKind.TRANSFER, skill_id=2)])
    assert (book.calls_of(A), book.calls_of(B)) == ((), ())


def test_an_answer_by_another_agent_and_an_abandon_while_ringing() -> None:
    book = Book()
    book.apply(sign_in(A, B))
    book.apply(
        [],
        [
            cev("o", T0, CallKind.OFFER, work_no=101),
            cev("a", T0 + 3_000, CallKind.ANSWER, work_no=102),  # picked up elsewhere
            cev("o2", T0 + 4_000, CallKind.OFFER, Y, work_no=101),
            cev("ab", T0 + 6_000, CallKind.ABANDON, Y),  # the caller hung up while it rang
        ],
    )
    assert (book.calls_of(A), book.calls_of(B)) == ((), (X,))
    assert [c.event_id for c in book.log[2:]] == ["o", "a", "a", "o2", "ab"]


def test_a_call_event_never_creates_an_agent() -> None:
    book = Book()
    book.apply([], [cev("o", T0, CallKind.OFFER, work_no=101)])
    assert book.agents == {} and book.log == []
    assert book.calls[CallKey(1, 1, X)].work_no == 101


def test_an_agent_created_in_the_same_batch_gets_the_call() -> None:
    book = Book()
    book.apply(sign_in(A), [cev("o", T0, CallKind.OFFER, work_no=101)])
    assert book.calls_of(A) == (X,)
    assert [c.event_id for c in book.log] == ["in101", "o"]
    assert book.log[1].prev == book.log[0].cur  # logged after the agent event's change


def test_a_newer_list_from_the_cti_stands_and_an_equal_at_lets_the_call_event_count() -> None:
    book = Book()
    book.apply(sign_in(A))
    book.apply([AgentEvent("l", 1, 1, 101, T0 + 10_000, None, calls=(Y,))])
    book.apply([], [cev("o", T0 + 9_000, CallKind.OFFER, work_no=101)])  # older than the list
    assert book.calls_of(A) == (Y,)
    book.apply([], [cev("e", T0 + 10_000, CallKind.END)])  # at the list's moment: counts
    assert book.calls_of(A) == (Y,)  # X was not there: nothing to take out
    book.apply([], [cev("o2", T0 + 10_000, CallKind.OFFER, Y, work_no=101)])
    book.apply([], [cev("e2", T0 + 12_000, CallKind.END, Y)])
    assert book.calls_of(A) == ()
    # The CTI's own list, newer than the call event, replaces it.
    book.apply([], [cev("o3", T0 + 20_000, CallKind.OFFER, "1789999000-3", work_no=101)])
    book.apply([AgentEvent("l2", 1, 1, 101, T0 + 20_001, None, calls=())])
    assert book.calls_of(A) == ()


def test_a_late_event_of_an_ended_call_takes_it_out_of_a_list_the_cti_left_it_in() -> None:
    book = Book()
    book.apply(sign_in(A))
    book.apply([], [cev("e", T0 + 20_000, CallKind.END)])  # the end came first
    book.apply([AgentEvent("l", 1, 1, 101, T0 + 15_000, 5, calls=(X,))])
    assert book.calls_of(A) == (X,)
    book.apply([], [cev("o", T0 + 10_000, CallKind.OFFER, work_no=101)])  # late offer
    assert book.calls_of(A) == ()  # the call ended at T0 + 20 s, after the CTI's list


def test_a_full_list_takes_no_more_calls() -> None:
    book = Book()
    full = tuple(f"1789999000-{n}" for n in range(100, 100 + MAX_AGENT_CALLS))
    book.apply([AgentEvent("l", 1, 1, 101, T0, 1, calls=full)])
    book.apply([], [cev("o", T0 + 1, CallKind.OFFER, work_no=101)])
    assert book.calls_of(A) == full


def test_moves_name_each_agent_concerned_once() -> None:
    events = [
        cev("o", T0, CallKind.OFFER, work_no=101),
        cev("t", T0 + 5, CallKind.TRANSFER, work_no=102),
        cev("a", T0 + 9, CallKind.ANSWER, work_no=102),
    ]
    plan = plan_call_batch(events, {})
    assert plan.moves == [
        CallMove("o", T0, A, X, True),
        CallMove("t", T0 + 5, A, X, False),
        CallMove("t", T0 + 5, B, X, True),
        CallMove("a", T0 + 9, B, X, True),
    ]
    assert plan.agents == [A, B]
    assert list(plan.changed) == [CallKey(1, 1, X)]


_call_events = st.lists(
    st.tuples(
        st.integers(0, 3),  # which call
        st.sampled_from(list(CallKind)),
        st.integers(0, 60),  # at, in seconds: ties happen
        st.sampled_from([101, 102, 103]),  # agent
        st.booleans(),  # whether an answer or a transfer names the agent
    ),
    min_size=1,
    max_size=40,
)


@given(raw=_call_events, cuts=st.lists(st.integers(0, 40), max_size=4))
def test_lists_equal_the_calls_at_each_agent_for_any_batching(
    raw: list[tuple[int, CallKind, int, int, bool]], cuts: list[int]
) -> None:
    """Call events sent in the order they happened (by ``at``), in batches of any size:
    each agent's list holds the calls ringing at it or talking to it, each once, and no
    other but a call that rang at it while it was offered to another agent too (ring-all:
    the first keeps it until its own next list says otherwise)."""
    events = []
    for n, (call, kind, at, agent, named) in enumerate(sorted(raw, key=lambda r: r[2])):
        fields: dict[str, object] = {}
        if kind is CallKind.QUEUE or (kind is CallKind.TRANSFER and not named):
            fields["skill_id"] = 1 + agent % 3
        if kind is CallKind.OFFER or (kind in (CallKind.ANSWER, CallKind.TRANSFER) and named):
            fields["work_no"] = agent
        events.append(cev(f"e{n}", T0 + at * 1000, kind, f"1789999000-{call}", **fields))
    book = Book()
    book.apply(sign_in(*(AgentKey(1, 1, w) for w in (101, 102, 103))))
    bounds = [0, *sorted(cuts), len(events)]
    for lo, hi in itertools.pairwise(bounds):
        if events[lo:hi]:
            book.apply([], events[lo:hi])
    rung_with_others: set[tuple[str, int]] = set()
    model: dict[str, CallRecord] = {}
    for event in events:
        before = model.get(event.call_id)
        model[event.call_id] = after = apply_call_event(before, event)
        if (
            event.kind is CallKind.OFFER
            and before is not None
            and before.state == CallState.RINGING == after.state
            and before.work_no is not None
        ):
            rung_with_others.add((event.call_id, before.work_no))
    assert model == {r.call_id: r for r in book.calls.values()}
    for key, agent in book.agents.items():
        expected = {
            r.call_id
            for r in book.calls.values()
            if r.state in AT_AGENT and r.work_no == key.work_no
        }
        assert len(set(agent.calls)) == len(agent.calls)
        assert expected <= set(agent.calls)
        extra = set(agent.calls) - expected
        assert all((call_id, key.work_no) in rung_with_others for call_id in extra), extra
    for change in book.log[3:]:  # every logged change changed the list
        assert change.prev is not None and change.prev.calls != change.cur.calls


@pytest.mark.parametrize("first", [0, 1])
def test_calls_of_one_agent_do_not_outrank_each_other(first: int) -> None:
    """Two feeds (or two nodes) ring two calls at one agent; whichever batch commits
    first, both are listed, and each end takes out its own."""
    offers = [
        cev("o1", T0, CallKind.OFFER, X, work_no=101),
        cev("o2", T0 + 5_000, CallKind.OFFER, Y, work_no=101),
    ]
    book = Book()
    book.apply(sign_in(A))
    book.apply([], [offers[first]])
    book.apply([], [offers[1 - first]])
    assert sorted(book.calls_of(A)) == [X, Y]
    book.apply([], [cev("e2", T0 + 9_000, CallKind.END, Y)])
    book.apply([], [cev("e1", T0 + 7_000, CallKind.END, X)])
    assert book.calls_of(A) == ()


def test_a_ring_all_offer_rings_at_both_agents() -> None:
    """A call offered to a second agent while it rings at the first (a ring-all queue)
    is in both lists; answered by the second, it stays the second's."""
    book = Book()
    book.apply(sign_in(A, B))
    book.apply([], [cev("o1", T0, CallKind.OFFER, work_no=101)])
    book.apply([], [cev("o2", T0 + 1, CallKind.OFFER, work_no=102)])
    assert book.calls_of(A) == (X,) and book.calls_of(B) == (X,)
    book.apply([], [cev("a", T0 + 5, CallKind.ANSWER, work_no=102)])
    assert book.calls_of(B) == (X,)
