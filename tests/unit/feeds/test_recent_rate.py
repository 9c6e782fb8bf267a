"""The rate of a feed's progress line: over the last seconds, not since the start."""

from __future__ import annotations

import pytest

from ccms.feeds.delivery import RecentRate

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_silence_reads_zero_not_an_average() -> None:
    clock = Clock()
    rate = RecentRate(window=10, clock=clock)
    for second in range(1, 6):  # 1,000 events a second for 5 s
        clock.now = 100 + second
        rate.add(1000 * second)
    assert rate.per_second() == pytest.approx(1000)

    clock.now = 130  # then nothing for 25 s: an average since the start would say 167/s
    assert rate.per_second() == 0


def test_the_rate_follows_a_change_within_the_window() -> None:
    clock = Clock()
    rate = RecentRate(window=10, clock=clock)
    total = 0
    for second in range(1, 61):  # 100/s for a minute, then 500/s
        clock.now = 100 + second
        total += 100
        rate.add(total)
    for second in range(61, 81):
        clock.now = 100 + second
        total += 500
        rate.add(total)

    assert rate.per_second() == pytest.approx(500)


def test_no_time_no_rate() -> None:
    assert RecentRate(clock=Clock()).per_second() == 0
