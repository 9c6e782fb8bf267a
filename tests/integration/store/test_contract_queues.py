"""The store contract for skill queues now (``docs/calls.md``): the calls of queues now and
in the current 5 minutes, and the calls queued in them, on every backend."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccms.domain.call import CallEvent, CallKind, CallRecord, apply_call_event
from ccms.domain.queue_status import QueueNow, queued_in, recount
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000  # within the clock's day (FrozenClock: 1_790_000_000 s)


def cev(
    event_id: str, at: int, kind: CallKind, call_id: str, vdn: int = 1, **kw: object
) -> CallEvent:
    return CallEvent(event_id, 1, vdn, call_id, at, kind, **kw)  # type: ignore[arg-type]


async def test_queues_now_and_in_the_window(store: Store) -> None:
    start = T0 + 60_000
    events = [
        # queue 1: four waiting: two since start - 90 s (the oldest: the first id in byte
        # order), one queued then too but queued again at start + 1 s, one since start + 5 s
        cev("a1", start - 90_000, CallKind.QUEUE, "1789999000-2", skill_id=1),
        cev("a2", start - 90_000, CallKind.QUEUE, "1789999000-10", skill_id=1),
        cev("b1", start - 90_000, CallKind.QUEUE, "1789999000-11", skill_id=1),
        cev("b2", start + 1_000, CallKind.TRANSFER, "1789999000-11", skill_id=1),
        cev("c1", start + 5_000, CallKind.QUEUE, "1789999000-3", skill_id=1),
        # ringing from queue 1; talking from queue 1, answered in the window after 12 s
        cev("d1", start - 5_000, CallKind.QUEUE, "1789999000-4", skill_id=1),
        cev("d2", start + 2_000, CallKind.OFFER, "1789999000-4", work_no=101),
        cev("e1", start + 1_000, CallKind.QUEUE, "1789999000-5", skill_id=1),
        cev("e2", start + 9_000, CallKind.OFFER, "1789999000-5", work_no=102),
        cev("e3", start + 13_000, CallKind.ANSWER, "1789999000-5"),
        # answered before the window, ended in it after 70 s of talk: processed? no
        # (answered before, not handled now); talked: yes
        cev("f1", start - 100_000, CallKind.QUEUE, "1789999000-6", skill_id=1),
        cev("f2", start - 60_000, CallKind.ANSWER, "1789999000-6", work_no=103),
        cev("f3", start + 10_000, CallKind.END, "1789999000-6"),
        # answered in the window 30 s after queueing (no offer seen), ended
        cev("g1", start - 20_000, CallKind.QUEUE, "1789999000-7", skill_id=1),
        cev("g2", start + 10_000, CallKind.ANSWER, "1789999000-7", work_no=104),
        cev("g3", start + 40_000, CallKind.END, "1789999000-7"),
        # queue 2: one abandoned (not queued now); another VDN's queued call
        cev("h1", start + 1_000, CallKind.QUEUE, "1789999000-8", skill_id=2),
        cev("h2", start + 3_000, CallKind.ABANDON, "1789999000-8"),
        cev("i1", start, CallKind.QUEUE, "1789999000-9", vdn=2, skill_id=2),
    ]
    await store.apply_events([], events)
    got = await store.queues_now(1, 1, [1, 2, 7, 1], start)
    assert got == [
        QueueNow(
            1, queued=4, oldest_at=start - 90_000, oldest_call="1789999000-10", handling=2,
            calls=2, connected=2, connected_in_20s=1, processed=3, wait_ms=8_000 + 30_000,
            max_wait_ms=30_000, talked=2, talk_ms=70_000 + 30_000,
        ),
        QueueNow(2, calls=1),
        QueueNow(7),
    ]  # fmt: skip
    # without the window: the figures now only
    now_only = await store.queues_now(1, 1, [2, 1], None)
    assert now_only == [
        QueueNow(2),
        QueueNow(1, queued=4, oldest_at=start - 90_000, oldest_call="1789999000-10", handling=2),
    ]
    queued = await store.queued_calls(1, 1, [2, 1])
    assert [(r.skill_id, r.call_id, r.state_at) for r in queued] == [
        (1, "1789999000-10", start - 90_000),
        (1, "1789999000-2", start - 90_000),
        (1, "1789999000-11", start + 1_000),  # queued again: waits from the transfer
        (1, "1789999000-3", start + 5_000),
    ]
    assert [r.call_id for r in await store.queued_calls(1, 2, [2])] == ["1789999000-9"]
    assert await store.queued_calls(1, 1, [3]) == []


_example = itertools.count(1)
_histories = st.lists(
    st.tuples(
        st.integers(0, 5),  # which call
        st.sampled_from(list(CallKind)),
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
    window=st.booleans(),
)
async def test_queues_now_equal_a_recount_of_the_calls(
    store: Store,
    raw: list[tuple[int, CallKind, int, int, int | None]],
    split: int,
    start_shift: int,
    window: bool,
) -> None:
    """For any call history, sent in any two batches, the store's one-query figures of
    each queue, and its queued calls, equal the domain's recount over the calls."""
    n = next(_example)
    vdn = 1 + n % 5000  # calls of this example only (the store outlives examples)
    start = T0 + start_shift if window else None
    events = []
    for i, (call, kind, at, skill, agent) in enumerate(raw):
        if kind is CallKind.OFFER and agent is None:
            agent = 101
        fields: dict[str, object] = {}
        if kind in (CallKind.QUEUE, CallKind.OFFER, CallKind.TRANSFER):
            fields["skill_id"] = skill
        if kind in (CallKind.OFFER, CallKind.ANSWER) or (kind is CallKind.TRANSFER and agent):
            fields["work_no"] = agent
        events.append(cev(f"n{n}-{i}", T0 + at, kind, f"1789999000-{call}", vdn=vdn, **fields))
    for batch in (events[:split], events[split:]):
        if batch:
            await store.apply_events([], batch)
    records: dict[str, CallRecord] = {}
    for event in events:
        records[event.call_id] = apply_call_event(records.get(event.call_id), event)
    skills = [3, 1, 2, 9, 1]
    assert await store.queues_now(1, vdn, skills, start) == recount(records.values(), skills, start)
    assert await store.queued_calls(1, vdn, skills) == queued_in(records.values(), skills)
