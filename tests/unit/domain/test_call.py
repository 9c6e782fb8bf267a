"""The call model (``ccms.domain.call``): how events change a call, in any order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.call import (
    DAY_MS,
    CallEvent,
    CallKind,
    CallRecord,
    CallState,
    apply_call_event,
    call_in_of,
    kept_from,
    last_day_end,
    plan_calls,
    valid_call_id,
)

pytestmark = pytest.mark.unit

T0 = 1_789_999_000_000
CALL = "1789999000-17"


def cev(n: int, at: int, kind: CallKind, **kw: object) -> CallEvent:
    return CallEvent(f"e{n}", 1, 1, CALL, at, kind, **kw)  # type: ignore[arg-type]


def run(*events: CallEvent) -> CallRecord:
    record = None
    for event in events:
        record = apply_call_event(record, event)
    assert record is not None
    return record


@pytest.mark.parametrize(
    ("call_id", "valid"),
    [
        ("1762523104-538062", True),  # production, seconds
        ("1659513159000-546750", True),  # the vendor's milliseconds sentence
        ("167789709-33", True),  # 9 digits (the vendor's querycalls sample)
        ("1751911543-17469007", True),
        ("1000000000-0001", True),
        ("4294967295-4294967295", False),  # 21 characters: the vendor's "no call" sentinel
        ("12345678-1", False),  # 8 digits
        ("1762523104-", False),
        ("1762523104-12345678901", False),
        ("1762523104_5", False),
        ("５762523104-5", False),  # not ASCII digits
        ("1762523104-5\n", False),
        (1762523104, False),
    ],
)
def test_call_ids_in_the_vendors_forms(call_id: object, valid: bool) -> None:
    assert valid_call_id(call_id) is valid


def test_a_call_that_is_answered() -> None:
    record = run(
        cev(1, T0, CallKind.ARRIVE, caller_no="88881364", callee_no="650550", call_type=0),
        cev(2, T0 + 1_000, CallKind.QUEUE, skill_id=3),
        cev(3, T0 + 9_000, CallKind.OFFER, work_no=101),
        cev(4, T0 + 12_000, CallKind.ANSWER),
    )
    assert (record.state, record.work_no, record.skill_id, record.devices) == (
        CallState.TALKING, 101, 3, 2,
    )  # fmt: skip
    assert record.wait_ms(T0 + 99_000) == 8_000
    assert record.talk_ms(T0 + 20_000) == 8_000
    ended = apply_call_event(record, cev(5, T0 + 30_000, CallKind.END))
    assert (ended.state, ended.leave_reason, ended.release_cause) == (CallState.ENDED, 15, None)
    assert not ended.abandoned and ended.talk_ms(T0 + 99_000) == 18_000


def test_an_abandoned_call_and_its_wait() -> None:
    queued = run(cev(1, T0, CallKind.QUEUE, skill_id=2))
    assert queued.wait_ms(T0 + 5_000) == 5_000  # still waiting: counts to now
    gone = apply_call_event(queued, cev(2, T0 + 7_000, CallKind.ABANDON))
    assert gone.abandoned and gone.leave_reason == 89 and gone.wait_ms(T0 + 99_000) == 7_000


def test_transfers_to_a_queue_and_to_an_agent() -> None:
    record = run(
        cev(1, T0, CallKind.QUEUE, skill_id=2),
        cev(2, T0 + 1, CallKind.OFFER, work_no=101),
        cev(3, T0 + 2, CallKind.ANSWER),
        cev(4, T0 + 3, CallKind.TRANSFER, skill_id=5),
    )
    assert (record.state, record.skill_id, record.enter_reason) == (CallState.QUEUED, 5, 28)
    assert record.queued_at == T0  # the first queueing
    record = apply_call_event(record, cev(5, T0 + 4, CallKind.TRANSFER, work_no=102))
    assert (record.state, record.work_no, record.skill_id, record.enter_reason) == (
        CallState.RINGING, 102, 5, 0,
    )  # fmt: skip
    assert record.devices == 4


def test_an_older_state_event_fills_its_milestone_only() -> None:
    record = run(
        cev(1, T0 + 10, CallKind.ANSWER, work_no=101), cev(2, T0, CallKind.QUEUE, skill_id=1)
    )
    assert (record.state, record.queued_at, record.arrived_at) == (CallState.TALKING, T0, T0)


def test_an_end_is_final_whatever_its_at() -> None:
    record = run(cev(1, T0 + 10, CallKind.ANSWER, work_no=101), cev(2, T0 + 5, CallKind.END))
    assert record.state is CallState.ENDED and record.talk_ms(T0 + 99) == 0  # never negative
    after = apply_call_event(record, cev(3, T0 + 20, CallKind.QUEUE, skill_id=1))
    assert after.state is CallState.ENDED and after.queued_at == T0 + 20
    again = apply_call_event(after, cev(4, T0 + 30, CallKind.ABANDON, leave_reason=1))
    assert (again.ended_at, again.leave_reason) == (T0 + 5, 15)


def test_attributes_come_from_the_newest_arrive_alone() -> None:
    record = run(
        cev(1, T0 + 5, CallKind.ARRIVE, caller_no="2", call_type=7),
        cev(2, T0, CallKind.ARRIVE, caller_no="1", callee_no="9"),
    )
    assert (record.caller_no, record.callee_no, record.call_in) == ("2", "", False)
    assert record.arrived_at == T0
    same = apply_call_event(record, cev(3, T0 + 5, CallKind.ARRIVE, call_in=True))
    assert (same.call_type, same.call_in) == (7, True)  # equal at: the last to arrive wins


def test_call_types_direction() -> None:
    assert call_in_of(0) and call_in_of(5) and call_in_of(46)
    assert not call_in_of(7) and not call_in_of(6) and not call_in_of(43)


def test_the_days_kept() -> None:
    now = 3 * DAY_MS + 5_000
    assert kept_from(now, 1) == 3 * DAY_MS
    assert kept_from(now, 2) == 2 * DAY_MS
    assert last_day_end(now) == 4 * DAY_MS - 1


KINDS = st.sampled_from(list(CallKind))
EVENTS = st.lists(
    st.builds(
        lambda kind, at, skill, agent: (kind, at, skill, agent),
        KINDS,
        st.integers(T0, T0 + 50),
        st.integers(1, 3),
        st.one_of(st.none(), st.integers(101, 103)),
    ),
    min_size=1,
    max_size=12,
)


def _events(raw: list[tuple[CallKind, int, int, int | None]]) -> list[CallEvent]:
    out = []
    for n, (kind, at, skill, agent) in enumerate(raw):
        if kind is CallKind.OFFER and agent is None:
            agent = 101
        out.append(cev(n, at, kind, skill_id=skill, work_no=agent))
    return out


@given(EVENTS, st.randoms(use_true_random=False))
def test_milestones_and_the_end_do_not_depend_on_the_order(
    raw: list[tuple[CallKind, int, int, int | None]], rnd: object
) -> None:
    events = _events(raw)
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = run(*events), run(*shuffled)
    assert (a.arrived_at, a.queued_at, a.offered_at, a.answered_at) == (
        b.arrived_at, b.queued_at, b.offered_at, b.answered_at,
    )  # fmt: skip
    assert a.arrived_at == min(e.at for e in events)
    answers = [e.at for e in events if e.kind is CallKind.ANSWER]
    assert a.answered_at == (min(answers) if answers else None)
    ends = any(e.kind in (CallKind.END, CallKind.ABANDON) for e in events)
    assert (a.state is CallState.ENDED) is ends is (b.state is CallState.ENDED)
    assert a.wait_ms(T0 + 100) >= 0 and a.talk_ms(T0 + 100) >= 0


@given(EVENTS, st.integers(1, 11))
def test_a_plan_in_batches_equals_the_events_one_by_one(
    raw: list[tuple[CallKind, int, int, int | None]], cut: int
) -> None:
    events = _events(raw)
    first = plan_calls(events[:cut], {})
    second = plan_calls(events[cut:], dict(first))
    whole = plan_calls(events, {})
    key = events[0].key
    assert second.get(key, first.get(key)) == whole[key] == run(*events)
