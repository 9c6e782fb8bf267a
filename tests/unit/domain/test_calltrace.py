"""The call's track (``ccms.domain.calltrace``): legs from steps, in any order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.call import CallEvent, CallKind, apply_call_event
from ccms.domain.calltrace import (
    LAST_LEG,
    CallStep,
    Device,
    Leg,
    legs,
    order,
    step_of,
)

pytestmark = pytest.mark.unit

T0 = 1_789_999_000_000


def s(n: int, at: int, kind: CallKind, **kw: object) -> CallStep:
    return CallStep(f"e{n}", T0 + at, kind, **kw)  # type: ignore[arg-type]


def test_an_answered_call_has_an_ivr_leg_a_queue_leg_and_an_agent_leg() -> None:
    track = legs([
        s(1, 0, CallKind.ARRIVE),
        s(2, 2_000, CallKind.QUEUE, skill_id=3),
        s(3, 14_000, CallKind.OFFER, work_no=101, skill_id=3),
        s(4, 17_000, CallKind.ANSWER, work_no=101),
        s(5, 75_000, CallKind.END, leave_reason=16, release_cause=510),
    ])  # fmt: skip
    assert track == [
        Leg(1, Device.IVR, 0, None, T0, None, None, T0 + 2_000, 0, 0, None),
        Leg(2, Device.QUEUE, 3, 3, T0 + 2_000, None, None, T0 + 14_000, 0, 0, None),
        Leg(LAST_LEG, Device.AGENT, 101, 3, T0 + 14_000, T0 + 14_000, T0 + 17_000,
            T0 + 75_000, 0, 16, 510),
    ]  # fmt: skip


def test_a_call_in_progress_has_its_current_leg_open() -> None:
    track = legs([s(1, 0, CallKind.QUEUE, skill_id=4), s(2, 9_000, CallKind.OFFER, work_no=7)])
    # no IVR leg: the call was queued as it entered
    assert track == [
        Leg(1, Device.QUEUE, 4, 4, T0, None, None, T0 + 9_000, 0, 0, None),
        Leg(2, Device.AGENT, 7, 4, T0 + 9_000, T0 + 9_000, None, None, 0, None, None),
    ]


def test_transfers_ring_no_answer_and_abandon() -> None:
    track = legs([
        s(1, 0, CallKind.ARRIVE),
        s(2, 1_000, CallKind.QUEUE, skill_id=2),
        s(3, 3_000, CallKind.OFFER, work_no=101),
        s(4, 13_000, CallKind.OFFER, work_no=102),  # 101 did not answer
        s(5, 15_000, CallKind.ANSWER),  # 102, the one it rings at
        s(6, 15_000, CallKind.ANSWER, work_no=102),  # again: nothing
        s(7, 40_000, CallKind.TRANSFER, skill_id=5),
        s(8, 41_000, CallKind.QUEUE, skill_id=5),  # already waiting there: nothing
        s(9, 50_000, CallKind.TRANSFER, work_no=103, skill_id=6),
        s(10, 52_000, CallKind.ANSWER, work_no=104),  # another agent picks it up
        s(11, 60_000, CallKind.ABANDON),
        s(12, 70_000, CallKind.QUEUE, skill_id=9),  # after the end: not in the track
    ])  # fmt: skip
    got = [(g.number, g.device, g.device_no, g.skill_id, g.entered_at - T0, g.enter_reason,
            g.leave_reason) for g in track]  # fmt: skip
    assert got == [
        (1, Device.IVR, 0, None, 0, 0, 0),
        (2, Device.QUEUE, 2, 2, 1_000, 0, 0),
        (3, Device.AGENT, 101, 2, 3_000, 0, 5),
        (4, Device.AGENT, 102, 2, 13_000, 0, 28),
        (5, Device.QUEUE, 5, 5, 40_000, 28, 17),
        (6, Device.AGENT, 103, 6, 50_000, 0, 5),
        (LAST_LEG, Device.AGENT, 104, 6, 52_000, 0, 89),
    ]
    assert (track[3].answered_at, track[-1].rang_at, track[-1].answered_at) == (
        T0 + 15_000, T0 + 52_000, T0 + 52_000,
    )  # fmt: skip
    assert track[-1].left_at == T0 + 60_000 and track[-1].release_cause is None


def test_the_first_end_is_final_and_ties_go_by_kind_then_id() -> None:
    track = legs(
        [
            s(3, 5_000, CallKind.END, leave_reason=16),
            s(1, 5_000, CallKind.QUEUE, skill_id=1),  # same moment: queued, then ended
            s(2, 5_000, CallKind.ABANDON),  # e2 < e3: this end is the first
        ]
    )
    assert [(g.number, g.device, g.leave_reason) for g in track] == [(LAST_LEG, Device.QUEUE, 89)]
    # an end that happened, by its at, before the other steps: the call ended then
    assert legs([s(1, 9_000, CallKind.QUEUE, skill_id=1), s(2, 4_000, CallKind.END)]) == [
        Leg(LAST_LEG, Device.IVR, 0, None, T0 + 4_000, None, None, T0 + 4_000, 0, 15, None)
    ]
    assert legs([]) == []


def test_a_step_is_the_event_as_the_track_keeps_it() -> None:
    event = CallEvent("x", 1, 2, "1789999000-1", T0, CallKind.END, leave_reason=16,
                      release_cause=510, caller_no="1")  # fmt: skip
    assert step_of(event) == CallStep("x", T0, CallKind.END, None, None, 16, 510)


kinds = st.sampled_from(list(CallKind))
steps = st.lists(
    st.builds(
        CallStep,
        event_id=st.text("abc", min_size=1, max_size=3),
        at=st.integers(0, 40),
        kind=kinds,
        skill_id=st.one_of(st.none(), st.integers(1, 3)),
        work_no=st.one_of(st.none(), st.integers(101, 103)),
        leave_reason=st.one_of(st.none(), st.integers(0, 90)),
        release_cause=st.one_of(st.none(), st.integers(0, 600)),
    ),
    max_size=12,
    unique_by=lambda step: step.event_id,
)


@given(steps, st.randoms(use_true_random=False))
def test_any_order_gives_the_same_legs(history: list[CallStep], rnd: object) -> None:
    shuffled = list(history)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert legs(shuffled) == legs(history)
    # split in batches and read back in any order: still the same (a set of steps)
    assert legs(reversed(history)) == legs(history)


@given(steps)
def test_legs_follow_each_other(history: list[CallStep]) -> None:
    track = legs(history)
    if not history:
        assert track == []
        return
    ordered = sorted(history, key=order)
    ends = [x for x in ordered if x.kind in (CallKind.END, CallKind.ABANDON)]
    assert track[0].entered_at == ordered[0].at
    for before, after in itertools.pairwise(track):
        assert before.left_at == after.entered_at
        assert before.leave_reason is not None and before.release_cause is None
    for n, leg in enumerate(track, 1):
        assert leg.number == (LAST_LEG if ends and n == len(track) else n)
        assert leg.entered_at <= (leg.left_at if leg.left_at is not None else leg.entered_at)
        times = [t for t in (leg.entered_at, leg.rang_at, leg.answered_at) if t is not None]
        assert times == sorted(times)
        if leg.device is not Device.AGENT:
            assert leg.rang_at is None and leg.answered_at is None
        if leg.device is Device.IVR:
            assert n == 1 and leg.device_no == 0
    last = track[-1]
    if ends:
        assert last.left_at == ends[0].at and last.release_cause == ends[0].release_cause
    else:
        assert last.left_at is None and last.leave_reason is None


@given(steps)
def test_the_legs_agree_with_the_call_record(history: list[CallStep]) -> None:
    """Applied to the call record in the track's order, the events give a record that
    ends when the track does, with the track's first answer and queue (when no step
    comes after the end)."""
    ordered = sorted(history, key=order)
    ends = [n for n, x in enumerate(ordered) if x.kind in (CallKind.END, CallKind.ABANDON)]
    if not ordered or (ends and ends[0] != len(ordered) - 1):
        return
    record = None
    for x in ordered:
        event = CallEvent(x.event_id, 1, 1, "1789999000-1", x.at, x.kind, skill_id=x.skill_id,
                          work_no=x.work_no, leave_reason=x.leave_reason,
                          release_cause=x.release_cause)  # fmt: skip
        record = apply_call_event(record, event)
    assert record is not None
    track = legs(history)
    assert record.live == (track[-1].left_at is None)
    answers = [g.answered_at for g in track if g.answered_at is not None]
    assert record.answered_at == (answers[0] if answers else None)
    if not record.live:
        assert (record.ended_at, record.leave_reason) == (track[-1].left_at,
                                                          track[-1].leave_reason)  # fmt: skip
    else:
        device = {Device.QUEUE: record.skill_id, Device.AGENT: record.work_no}
        if track[-1].device in device and track[-1].device_no:
            assert track[-1].device_no == device[track[-1].device]
