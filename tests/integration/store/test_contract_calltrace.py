"""The store contract for the call's track (``docs/calls.md``, The call's track): the
steps of calls kept with them, once per event id, in any order, pruned with them; a call
by its id in a call center. On every backend."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FrozenClock
from tests.integration.store.conftest import StoreMaker
from tests.integration.store.test_contract_calls import CALL, T0, cev, life

from ccms.domain.call import DAY_MS, CallKind, apply_call_event
from ccms.domain.calltrace import LAST_LEG, CallStep, Device, legs, step_of
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_the_steps_of_a_call_are_kept_with_it(store: Store) -> None:
    events = life()
    await store.apply_events([], events[:3])
    track = await store.call_track(1, 1, CALL)
    assert track is not None
    assert track.call == await store.get_call(1, 1, CALL)
    assert sorted(track.steps) == sorted(step_of(e) for e in events[:3])
    assert [(g.number, g.device, g.left_at) for g in track.legs] == [
        (1, Device.IVR, T0 + 1_000), (2, Device.QUEUE, T0 + 9_000), (3, Device.AGENT, None),
    ]  # fmt: skip
    await store.apply_events([], events[3:])
    track = await store.call_track(1, 1, CALL)
    assert track is not None
    assert track.steps == tuple(sorted((step_of(e) for e in events), key=lambda x: x.event_id))
    last = track.legs[-1]
    assert (last.number, last.device_no, last.answered_at, last.left_at) == (
        LAST_LEG, 101, T0 + 12_000, T0 + 60_000,
    )  # fmt: skip
    assert (last.leave_reason, last.release_cause) == (16, 510)
    assert await store.call_track(1, 2, CALL) is None  # per tenant
    assert await store.call_track(1, 1, "1789999000-18") is None


async def test_a_duplicate_event_adds_no_step(store: Store) -> None:
    events = life()
    await store.apply_events([], events)
    before = await store.call_track(1, 1, CALL)
    again = [events[1]._replace(at=T0 + 50_000, skill_id=9), events[4]]  # same ids, new facts
    result = await store.apply_events([], again)
    assert (result.accepted, result.duplicates) == (0, 2)
    assert await store.call_track(1, 1, CALL) == before
    # a duplicate within one batch too: the first of the batch stands
    twice = [cev("n1", T0, CallKind.QUEUE, "1789999000-30", skill_id=1),
             cev("n1", T0 + 5, CallKind.QUEUE, "1789999000-30", skill_id=2)]  # fmt: skip
    assert (await store.apply_events([], twice)).duplicates == 1
    track = await store.call_track(1, 1, "1789999000-30")
    assert track is not None and [x.skill_id for x in track.steps] == [1]


_example = itertools.count(1)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.lists(
        st.tuples(
            st.sampled_from(list(CallKind)),
            st.integers(0, 30).map(lambda k: k * 1_000),
            st.one_of(st.none(), st.integers(1, 3)),
            st.one_of(st.none(), st.integers(101, 103)),
        ),
        min_size=1,
        max_size=12,
    ),
    seed=st.integers(0, 2**16),
    cuts=st.lists(st.integers(0, 12), max_size=3),
)
async def test_events_in_any_order_and_batches_give_the_same_legs(
    store: Store,
    raw: list[tuple[CallKind, int, int | None, int | None]],
    seed: int,
    cuts: list[int],
) -> None:
    """The steps the store keeps are the events' whatever their order and batches, and
    the legs read back are the domain's legs of the events in their time order."""
    call_id = f"1789999000-{next(_example)}"
    events = []
    for n, (kind, at, skill, agent) in enumerate(raw):
        if kind is CallKind.QUEUE and skill is None:
            skill = 1
        if kind is CallKind.OFFER and agent is None:
            agent = 101
        if kind is CallKind.TRANSFER and skill is None and agent is None:
            skill = 2
        events.append(cev(f"{call_id}/{n}", T0 + at, kind, call_id, skill_id=skill,
                          work_no=agent))  # fmt: skip
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    bounds = [0, *sorted(cuts), len(shuffled)]
    for lo, hi in itertools.pairwise(bounds):
        if shuffled[lo:hi]:
            await store.apply_events([], shuffled[lo:hi])
    track = await store.call_track(1, 1, call_id)
    assert track is not None
    assert sorted(track.steps) == sorted(step_of(e) for e in events)
    assert track.legs == legs(step_of(e) for e in events)
    record = None
    for event in shuffled:
        record = apply_call_event(record, event)
    assert track.call == record  # the same transaction wrote the call


async def test_the_steps_are_pruned_with_their_calls(
    stores: StoreMaker, clock: FrozenClock
) -> None:
    store = await stores(call_record_days=2)
    today = int(clock() * 1000) // DAY_MS * DAY_MS
    yesterday, before = today - DAY_MS + 5, today - DAY_MS - 5
    events = [
        cev("y1", yesterday, CallKind.QUEUE, "1789900000-1", skill_id=1),
        cev("y2", yesterday + 1, CallKind.END, "1789900000-1"),
        cev("b1", before - 10, CallKind.QUEUE, "1789900000-2", skill_id=1),
        cev("b2", before, CallKind.END, "1789900000-2"),
        cev("s1", before, CallKind.QUEUE, "1789900000-3", skill_id=1),  # live, silent since
    ]
    await store.apply_events([], events)  # the first batch prunes
    assert await store.call_track(1, 1, "1789900000-1") is not None
    assert await store.call_track(1, 1, "1789900000-2") is None
    # a late event of a pruned call makes a call of its own again: its old steps are gone
    late = cev("b3", before + 1, CallKind.OFFER, "1789900000-2", work_no=101)
    clock.now += 61  # past the prune interval
    await store.apply_events([], [late, cev("s2", today + 1, CallKind.END, "1789900000-3")])
    back = await store.call_track(1, 1, "1789900000-2")
    assert back is None  # old again: pruned in the same batch
    ended = await store.call_track(1, 1, "1789900000-3")
    assert ended is not None
    assert [x.event_id for x in ended.steps] == ["s2"]  # s1 went with its silent call
    clock.now += 86_400  # the next day: yesterday's record is now two days old
    await store.apply_events([], [cev("t1", today + DAY_MS, CallKind.ARRIVE, "1789990000-4")])
    assert await store.call_track(1, 1, "1789900000-1") is None
    # and the steps are gone, not only the call: the same call id again starts afresh
    await store.apply_events([], [cev("t2", today + DAY_MS, CallKind.ARRIVE, "1789900000-1")])
    fresh = await store.call_track(1, 1, "1789900000-1")
    assert fresh is not None
    assert fresh.steps == (CallStep("t2", today + DAY_MS, CallKind.ARRIVE),)


async def test_calls_by_id_in_every_vdn_of_a_call_center(store: Store) -> None:
    await store.apply_events(
        [],
        [
            cev("a", T0, CallKind.ARRIVE, CALL, vdn=7),
            cev("b", T0 + 1, CallKind.ARRIVE, CALL, vdn=2),
            cev("c", T0, CallKind.ARRIVE, "1789999000-99", vdn=2),
            cev("d", T0, CallKind.ARRIVE, CALL)._replace(cc_id=2),
        ],
    )
    found = await store.calls_by_id(1, CALL)
    assert [(r.cc_id, r.vdn, r.call_id) for r in found] == [(1, 2, CALL), (1, 7, CALL)]
    assert await store.calls_by_id(3, CALL) == []
    assert await store.calls_by_id(1, "1789999000-1") == []
