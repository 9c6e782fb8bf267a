"""Service quality's window, the calls per access code and the once-per-second limit
(``ccms.domain.service``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.call import CallRecord, CallState
from ccms.domain.service import (
    CallSpacing,
    ServiceQuality,
    quality_window,
    queue_ms,
    recount_access,
    recount_quality,
)

pytestmark = pytest.mark.unit

T = 1_790_000_100_000  # on a 5-minute boundary
M = 60_000


def test_the_window_is_the_last_complete_5_minutes() -> None:
    assert T % (5 * M) == 0
    assert quality_window(T) == T - 5 * M  # at hh:15:00, hh:10 to hh:15 just ended
    assert quality_window(T + 1) == T - 5 * M
    assert quality_window(T + 5 * M - 1) == T - 5 * M
    assert quality_window(T + 5 * M) == T  # at hh:20:00, hh:15 to hh:20


@given(st.integers(5 * M, 2**53))
def test_the_window_is_aligned_complete_and_holds_5_minutes_ago(now: int) -> None:
    start = quality_window(now)
    assert start % (5 * M) == 0
    assert start <= now - 5 * M < start + 5 * M  # holds the moment 5 minutes ago
    assert start + 5 * M <= now  # and is over


def _call(n: int, **fields: object) -> CallRecord:
    return CallRecord(1, 1, f"1789999000-{n}", T, skill_id=1, **fields)  # type: ignore[arg-type]


def test_a_lost_call_waits_until_its_first_offer_else_its_end() -> None:
    ended: dict[str, object] = {"state": CallState.ENDED, "queued_at": T, "ended_at": T + 30_000}
    assert queue_ms(_call(1, **ended)) == 30_000
    assert queue_ms(_call(2, **ended, offered_at=T + 12_000)) == 12_000
    assert queue_ms(_call(3, **ended, offered_at=T + 40_000)) == 30_000  # an offer after the end
    assert queue_ms(_call(4, state=CallState.ENDED, ended_at=T)) == 0  # never queued


def test_recount_quality_counts_each_kind_in_the_window_only() -> None:
    start = T
    calls = [
        _call(1, queued_at=T, answered_at=T + 15_000),  # within 15 s (and 20 s)
        _call(2, queued_at=T - 1, answered_at=T + 19_999),  # within 20 s; queued before
        _call(3, queued_at=T, state=CallState.ENDED, ended_at=T + 14_999),  # lost in 15 s
        _call(4, queued_at=T, state=CallState.ENDED, ended_at=T + 5 * M),  # lost after it
        CallRecord(1, 1, "1789999000-5", T, queued_at=T),  # in no queue
    ]
    assert recount_quality(calls, [1, 2, 1], start) == [
        ServiceQuality(1, start, 3, 2, 1, 1, 1, 2, 1),
        ServiceQuality(2, start),
    ]


def test_recount_access_counts_live_calls_by_where_they_are() -> None:
    now = T + M
    calls = [
        _call(1, access_code="650550"),
        _call(2, access_code="650550", state=CallState.QUEUED, state_at=T + 1_000),
        _call(3, access_code="650550", state=CallState.QUEUED, state_at=now + 5),  # ahead
        _call(4, access_code="650550", state=CallState.TALKING),
        _call(5, access_code="650550", state=CallState.ENDED, ended_at=T),
        _call(6, access_code="4"),
    ]
    got = recount_access(calls, [(7, "650550"), (4, "4"), (9, "9")], now)
    assert [tuple(a) for a in got] == [
        (7, 4, 1, 1, 2, 59_000),
        (4, 1, 1, 0, 0, 0),
        (9, 0, 0, 0, 0, 0),
    ]


def test_one_call_per_second_per_key() -> None:
    spacing = CallSpacing(1.0)
    assert spacing.allow("a", 100.0)
    assert not spacing.allow("a", 100.5)
    assert spacing.allow("b", 100.5)  # per key
    assert not spacing.allow("a", 100.999)  # a refusal does not move the second
    assert spacing.allow("a", 101.0)
    assert spacing.allow("a", 50.0)  # a clock set back does not lock the key out
    off = CallSpacing(0.0)
    assert all(off.allow("a", 100.0) for _ in range(5))


def test_the_keys_remembered_are_bounded() -> None:
    spacing = CallSpacing(1.0, max_keys=2)
    assert spacing.allow("a", 1.0) and spacing.allow("b", 1.0) and spacing.allow("c", 1.0)
    assert spacing.allow("a", 1.0)  # forgotten, the oldest first
    assert not spacing.allow("c", 1.0)
