"""The store contract for calls (``docs/calls.md``): call events in a batch, the live calls
and the call records, on every backend."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FrozenClock
from tests.integration.store.conftest import StoreMaker

from ccms.domain.agent import AgentEvent
from ccms.domain.call import (
    DAY_MS,
    CallEvent,
    CallKind,
    CallRecord,
    CallState,
    RecordQuery,
    apply_call_event,
)
from ccms.domain.queues import BoardQueue, QueueWindow, board_recount, recount
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000  # within the clock's day (FrozenClock: 1_790_000_000 s)
CALL = "1789999000-17"


def cev(
    event_id: str, at: int, kind: CallKind, call_id: str = CALL, vdn: int = 1, **kw: object
) -> CallEvent:
    return CallEvent(event_id, 1, vdn, call_id, at, kind, **kw)  # type: ignore[arg-type]


def life(call_id: str = CALL, at: int = T0, prefix: str = "c", **arrive: object) -> list[CallEvent]:
    """A call that arrives, queues in skill 3, rings at agent 101, is answered and ends."""
    return [
        cev(f"{prefix}1", at, CallKind.ARRIVE, call_id, caller_no="88881364",
            callee_no="650550", access_code="650550", call_type=0, **arrive),
        cev(f"{prefix}2", at + 1_000, CallKind.QUEUE, call_id, skill_id=3),
        cev(f"{prefix}3", at + 9_000, CallKind.OFFER, call_id, work_no=101),
        cev(f"{prefix}4", at + 12_000, CallKind.ANSWER, call_id),
        cev(f"{prefix}5", at + 60_000, CallKind.END, call_id, leave_reason=16, release_cause=510),
    ]  # fmt: skip


async def test_a_call_through_its_life(store: Store) -> None:
    events = life()
    result = await store.apply_events([], events[:4])
    assert (result.accepted, result.duplicates) == (4, 0)
    live = await store.get_call(1, 1, CALL)
    assert live == CallRecord(
        1, 1, CALL, T0, "88881364", "650550", "650550", call_type=0, call_in=True,
        attrs_at=T0, state=CallState.TALKING, state_at=T0 + 12_000, last_at=T0 + 12_000,
        skill_id=3, work_no=101, devices=2, queued_at=T0 + 1_000, offered_at=T0 + 9_000,
        answered_at=T0 + 12_000,
    )  # fmt: skip
    await store.apply_events([], events[4:])
    ended = await store.get_call(1, 1, CALL)
    assert ended is not None and not ended.live and not ended.abandoned
    assert (ended.ended_at, ended.leave_reason, ended.release_cause) == (T0 + 60_000, 16, 510)
    assert ended.wait_ms(0) == 8_000 and ended.talk_ms(0) == 48_000
    assert await store.get_call(1, 2, CALL) is None  # calls are per tenant


async def test_the_store_follows_the_domain_whatever_the_batches(store: Store) -> None:
    events = life()
    order = [events[3], events[0], events[4], events[1], events[2]]  # out of order
    expected = None
    for event in order:
        expected = apply_call_event(expected, event)
    for event in order:  # one batch per event: each reads what the one before wrote
        await store.apply_events([], [event])
    assert await store.get_call(1, 1, CALL) == expected
    assert expected is not None and expected.state is CallState.ENDED
    assert expected.answered_at == T0 + 12_000 and expected.queued_at == T0 + 1_000


async def test_call_event_ids_are_idempotent_per_tenant(store: Store) -> None:
    first = await store.apply_events([], life())
    again = await store.apply_events([], life())
    assert (first.accepted, again.accepted, again.duplicates) == (5, 0, 5)
    other_vdn = [cev("c1", T0, CallKind.ARRIVE, vdn=2), cev("c1", T0, CallKind.QUEUE, vdn=2)]
    result = await store.apply_events([], other_vdn)
    assert (result.accepted, result.duplicates) == (1, 1)  # another tenant; then earlier
    # an agent event and a call event of one batch with one id: the agent event counts
    shared = await store.apply_events(
        [AgentEvent("x", 1, 1, 101, T0, 1)], [cev("x", T0, CallKind.ARRIVE, "1789999000-18")]
    )
    assert (shared.accepted, shared.duplicates) == (1, 1)
    assert await store.get_call(1, 1, "1789999000-18") is None
    assert await store.get_agent(1, 1, 101) is not None
    # and an agent event's id applied before makes a call event with it a duplicate
    late = await store.apply_events([], [cev("x", T0, CallKind.ARRIVE, "1789999000-19")])
    assert (late.accepted, late.duplicates) == (0, 1)


async def test_agent_and_call_events_in_one_batch(store: Store) -> None:
    result = await store.apply_events([AgentEvent("a1", 1, 1, 101, T0, 1)], life())
    assert (result.accepted, result.duplicates) == (6, 0)
    agent = await store.get_agent(1, 1, 101)
    assert agent is not None and agent.cti_status == 1
    call = await store.get_call(1, 1, CALL)
    assert call is not None and call.state is CallState.ENDED


async def test_call_records_page_filters_and_counts(store: Store) -> None:
    events: list[CallEvent] = []
    for n in range(7):
        events += life(f"17899990{n:02d}-{n}", T0 + n * 100_000, f"r{n}-")
    events += [
        cev("o1", T0, CallKind.ARRIVE, "1789999000-90", call_type=7, caller_no="101"),
        cev("o2", T0 + 5, CallKind.END, "1789999000-90"),
        cev("l1", T0, CallKind.ARRIVE, "1789999000-91"),  # live: not a record yet
        cev("a1", T0 + 50, CallKind.ARRIVE, "1789999000-92", callee_no="777"),
        cev("a2", T0 + 60, CallKind.QUEUE, "1789999000-92", skill_id=1),
        cev("a3", T0 + 90, CallKind.ABANDON, "1789999000-92"),
    ]
    await store.apply_events([], events)
    window = RecordQuery(T0, T0 + 10 * DAY_MS, call_in=True, limit=3)
    count, page = await store.call_records(1, 1, window)
    assert count == 8
    assert [r.call_id for r in page] == ["1789999000-0", "1789999000-92", "1789999001-1"]
    count, rest = await store.call_records(1, 1, window._replace(offset=6))
    assert (count, [r.call_id for r in rest]) == (8, ["1789999005-5", "1789999006-6"])
    count, out = await store.call_records(1, 1, window._replace(call_in=False))
    assert (count, [r.call_id for r in out]) == (1, ["1789999000-90"])
    count, by_callee = await store.call_records(1, 1, window._replace(callee_no="777"))
    assert count == 1 and by_callee[0].abandoned and by_callee[0].leave_reason == 89
    count, by_caller = await store.call_records(1, 1, window._replace(caller_no="88881364"))
    assert count == 7 and all(r.caller_no == "88881364" for r in by_caller)
    narrow = RecordQuery(T0 + 100_000, T0 + 300_000, call_in=True)
    count, mid = await store.call_records(1, 1, narrow)
    assert [r.call_id for r in mid] == ["1789999001-1", "1789999002-2", "1789999003-3"]
    assert count == 3
    assert await store.call_records(1, 2, window) == (0, [])


async def test_call_records_are_kept_for_the_days_set(
    stores: StoreMaker, clock: FrozenClock
) -> None:
    store = await stores(call_record_days=2)
    today = int(clock() * 1000) // DAY_MS * DAY_MS
    yesterday, before = today - DAY_MS + 5, today - DAY_MS - 5
    events = [
        cev("y1", yesterday, CallKind.ARRIVE, "1789900000-1"),
        cev("y2", yesterday + 1, CallKind.END, "1789900000-1"),
        cev("b1", before - 10, CallKind.ARRIVE, "1789900000-2"),
        cev("b2", before, CallKind.END, "1789900000-2"),
        cev("s1", before, CallKind.ARRIVE, "1789900000-3"),  # live, silent since before
    ]
    await store.apply_events([], events)  # the first batch prunes
    assert await store.get_call(1, 1, "1789900000-1") is not None
    assert await store.get_call(1, 1, "1789900000-2") is None
    assert await store.get_call(1, 1, "1789900000-3") is None
    clock.now += 86_400  # the next day: yesterday's record is now two days old
    await store.apply_events([], [cev("t1", today + DAY_MS, CallKind.ARRIVE, "1789990000-4")])
    assert await store.get_call(1, 1, "1789900000-1") is None
    assert await store.get_call(1, 1, "1789990000-4") is not None


async def test_concurrent_batches_about_one_new_call(stores: StoreMaker) -> None:
    """Two store objects (two processes or nodes) take in events of one new call at once:
    both are applied, as if one after the other."""
    one, two = await stores(), await stores()
    events = life()
    await asyncio.gather(
        one.apply_events([], [events[0], events[2]]), two.apply_events([], [events[1]])
    )
    call = await one.get_call(1, 1, CALL)
    assert call is not None
    assert (call.state, call.queued_at, call.offered_at) == (
        CallState.RINGING, T0 + 1_000, T0 + 9_000,
    )  # fmt: skip
    assert call.caller_no == "88881364"


_example = itertools.count(1)
_kinds = st.sampled_from(list(CallKind))
_histories = st.lists(
    st.tuples(
        st.integers(0, 4),  # which call
        _kinds,
        # at, around the window's start; on a 5 s grid, so that the 20 s limit is met
        st.one_of(st.integers(-400_000, 100_000), st.integers(-80, 20).map(lambda k: k * 5_000)),
        st.integers(1, 3),  # skill queue
        st.one_of(st.none(), st.integers(101, 103)),  # agent
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=_histories,
    split=st.integers(0, 30),
    start_shift=st.one_of(st.integers(-300_000, 300_000), st.just(0)),
)
async def test_queue_figures_equal_a_recount_of_the_calls(
    store: Store,
    raw: list[tuple[int, CallKind, int, int, int | None]],
    split: int,
    start_shift: int,
) -> None:
    """For any call history, sent in any two batches, the store's one-query figures of
    each queue equal the domain's recount over the calls the events make."""
    n = next(_example)
    vdn = 1 + n % 5000  # calls of this example only (the store outlives examples)
    start = T0 + start_shift
    events = []
    for i, (call, kind, at, skill, agent) in enumerate(raw):
        if kind is CallKind.OFFER and agent is None:
            agent = 101
        fields: dict[str, object] = {}
        if kind in (CallKind.QUEUE, CallKind.OFFER, CallKind.TRANSFER):
            fields["skill_id"] = skill
        if kind in (CallKind.OFFER, CallKind.ANSWER) or (kind is CallKind.TRANSFER and agent):
            fields["work_no"] = agent
        events.append(cev(f"q{n}-{i}", T0 + at, kind, f"1789999000-{call}", vdn=vdn, **fields))
    for batch in (events[:split], events[split:]):
        if batch:
            await store.apply_events([], batch)
    records: dict[str, CallRecord] = {}
    for event in events:
        records[event.call_id] = apply_call_event(records.get(event.call_id), event)
    for call_id, expected in records.items():
        assert await store.get_call(1, vdn, call_id) == expected
    skills = [3, 1, 2, 9, 1]
    assert await store.queue_windows(1, vdn, skills, start) == recount(
        records.values(), skills, start
    )
    # the VDN's board: its agents' queues (here none: no agent events) and its waiting calls'
    assert await store.queue_board(1, vdn, start) == board_recount(records.values(), [], start)


async def test_queue_figures_of_a_window(store: Store) -> None:
    start = T0 + 60_000
    events = [
        # queued before the window, answered in it at 20 s: connected within 20 s
        cev("w1", start - 25_000, CallKind.ARRIVE, "1789999000-1"),
        cev("w2", start - 20_000, CallKind.QUEUE, "1789999000-1", skill_id=1),
        cev("w3", start, CallKind.ANSWER, "1789999000-1", work_no=101),
        # queued in the window 4 s after entering, answered at 20.001 s, ended
        cev("x1", start + 1_000, CallKind.ARRIVE, "1789999000-2"),
        cev("x2", start + 5_000, CallKind.QUEUE, "1789999000-2", skill_id=1),
        cev("x3", start + 25_001, CallKind.ANSWER, "1789999000-2", work_no=102),
        cev("x4", start + 40_000, CallKind.END, "1789999000-2"),
        # queued in the window, abandoned; then one only queued (no arrive seen)
        cev("y1", start + 2_000, CallKind.QUEUE, "1789999000-3", skill_id=1),
        cev("y2", start + 9_000, CallKind.ABANDON, "1789999000-3"),
        cev("z1", start + 3_000, CallKind.QUEUE, "1789999000-4", skill_id=2),
        # before the window only: counts nowhere
        cev("o1", start - 9_000, CallKind.QUEUE, "1789999000-5", skill_id=1),
        cev("o2", start - 1, CallKind.ABANDON, "1789999000-5"),
    ]
    await store.apply_events([], events)
    got = await store.queue_windows(1, 1, [2, 1, 7, 2], start)
    assert [tuple(w) for w in got] == [
        (2, start, 1, 0, 0, 0, 0, 0),
        (1, start, 2, 2, 1, 2, 1, 4_000),
        (7, start, 0, 0, 0, 0, 0, 0),
    ]


async def test_the_queue_board_of_a_vdn(store: Store) -> None:
    """The queues of a VDN's agents and of its waiting calls; the waiting calls and the
    earliest of their current queueings (a call queued again by a transfer waits anew)."""
    start = T0 + 60_000
    vdn = 77
    assert await store.queue_board(1, vdn, start) == (False, ())
    agent = AgentEvent("ag", 1, vdn, 101, T0, 1, skills=(4, 2))
    await store.apply_events([agent], [])
    board = await store.queue_board(1, vdn, start)
    assert board.has_calls is False and [q.window.skill_id for q in board.queues] == [2, 4]
    events = [
        cev("b1", start + 1_000, CallKind.QUEUE, "1789999000-1", vdn=vdn, skill_id=2),
        cev("b2", start + 3_000, CallKind.QUEUE, "1789999000-2", vdn=vdn, skill_id=2),
        # queued in 2 first, transferred to 9 later: waits in 9 since the transfer
        cev("b3", start - 50_000, CallKind.QUEUE, "1789999000-3", vdn=vdn, skill_id=2),
        cev("b4", start + 2_000, CallKind.TRANSFER, "1789999000-3", vdn=vdn, skill_id=9),
        # answered: waits no more
        cev("b5", start + 4_000, CallKind.QUEUE, "1789999000-4", vdn=vdn, skill_id=4),
        cev("b6", start + 8_000, CallKind.ANSWER, "1789999000-4", vdn=vdn, work_no=101),
    ]
    await store.apply_events([], events)
    board = await store.queue_board(1, vdn, start)
    assert board.has_calls is True
    assert board.queues == (
        BoardQueue(QueueWindow(2, start, 2), 2, start + 1_000),
        BoardQueue(QueueWindow(4, start, 1, 1, 0, 0, 1), 0, None),
        BoardQueue(QueueWindow(9, start, 0), 1, start + 2_000),
    )
