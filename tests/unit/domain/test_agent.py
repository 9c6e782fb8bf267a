"""The event rules of DECISIONS.md as properties of the pure ``apply_event``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import (
    AgentEvent,
    AgentRecord,
    apply_event,
    as_int,
    current_state_seconds,
    login_date,
)
from ccms.domain.status import SIGNED_OUT_LOGIN_DATE

pytestmark = pytest.mark.unit

events = st.builds(
    AgentEvent,
    event_id=st.uuids().map(str),
    cc_id=st.just(1),
    vdn=st.just(1),
    work_no=st.just(101),
    at=st.integers(0, 10_000),
    cti_status=st.one_of(st.none(), st.integers(0, 10)),
    reason=st.one_of(st.none(), st.integers(0, 65535)),
    name=st.one_of(st.none(), st.text(max_size=5)),
    media_type=st.one_of(st.none(), st.integers(0, 99)),
    skills=st.one_of(st.none(), st.lists(st.integers(1, 9), max_size=3).map(tuple)),
)


def fold(sequence: list[AgentEvent]) -> AgentRecord | None:
    record = None
    for event in sequence:
        record, _ = apply_event(record, event)
    return record


def newest(sequence: list[AgentEvent], field: str) -> object:
    """The reference rule: the value of the newest event carrying it; ties: the last one."""
    best = None
    for event in sequence:
        value = getattr(event, field)
        if value is not None and (best is None or event.at >= best[0]):
            best = (event.at, value)
    return None if best is None else best[1]


@given(st.lists(events, min_size=1, max_size=12))
def test_each_field_is_the_newest_value_in_any_arrival_order(sequence: list[AgentEvent]) -> None:
    record = fold(sequence)
    assert record is not None
    for field in ("name", "skills"):
        expected = newest(sequence, field)
        assert getattr(record, field) == (
            expected if expected is not None else AgentRecord._field_defaults[field]
        )
    expected_status = newest(sequence, "cti_status")
    assert record.cti_status == (0 if expected_status is None else expected_status)


@given(st.lists(events, min_size=1, max_size=12))
def test_status_start_is_the_newest_change(sequence: list[AgentEvent]) -> None:
    record = fold(sequence)
    assert record is not None
    status_events = [e for e in sequence if e.cti_status is not None]
    if status_events:
        assert record.status_at is not None
        assert record.status_at <= max(e.at for e in status_events)
        assert record.status_at >= min(e.at for e in status_events)
    # loginDate: placeholder exactly when signed out
    assert (login_date(record) == SIGNED_OUT_LOGIN_DATE) == (record.cti_status == 0)


def test_sign_in_sign_out_cycle() -> None:
    def at(t: int, status: int) -> AgentEvent:
        return AgentEvent(f"e{t}", 1, 1, 101, t, status)

    record = fold([at(1000, 1), at(2000, 5), at(3000, 6)])
    assert record is not None
    assert (record.login_at, record.prev_status, record.prev_duration_ms) == (1000, 5, 1000)
    record, change = apply_event(record, at(4000, 0))
    assert record.login_at is None and change is not None and change.applied
    record, _ = apply_event(record, at(5000, 7))
    assert record.login_at == 5000
    # an older event is history only
    record2, change = apply_event(record, at(4500, 1))
    assert record2 == record and change is not None and not change.applied


def test_a_late_status_event_keeps_a_newer_reason() -> None:
    record = fold([
        AgentEvent("a", 1, 1, 101, 1000, 7, reason=5),
        AgentEvent("b", 1, 1, 101, 3000, None, reason=9),  # reason-only, newest
        AgentEvent("c", 1, 1, 101, 2000, 7, reason=7),  # late
    ])  # fmt: skip
    assert record is not None
    assert (record.cti_status, record.reason, record.reason_at) == (7, 9, 3000)


def test_same_status_again_keeps_its_start() -> None:
    record = fold([AgentEvent("a", 1, 1, 101, 1000, 1), AgentEvent("b", 1, 1, 101, 9000, 1)])
    assert record is not None and record.status_at == 1000


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_current_state_seconds_is_whole_and_never_negative(start: int, now: int) -> None:
    record = AgentRecord(1, 1, 101, created_at=0, cti_status=1, status_at=start)
    seconds = current_state_seconds(record, now)
    assert seconds == max(0, (now - start) // 1000)
    assert seconds >= 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(101, 101), ("101", 101), ("0042", 42), (True, None), (1.0, None), (None, None), ("", None),
     ("-1", None), (" 1", None), ("１", None), ([1], None)],
)  # fmt: skip
def test_as_int_follows_the_vendor_coercion(value: object, expected: int | None) -> None:
    assert as_int(value) == expected
