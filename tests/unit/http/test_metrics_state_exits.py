"""The histogram of time in state at its end: a batch's exits, added at once, give what
observing each exit alone gives (bucket by bucket, the sum and the count)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccms.http.metrics import STATE_OF_CTI, Metrics

pytestmark = pytest.mark.unit

EXIT = st.tuples(st.integers(0, 10), st.integers(0, 40_000_000))


def state_lines(metrics: Metrics) -> list[str]:
    return sorted(
        line
        for line in metrics.render().decode().splitlines()
        if line.startswith("ccms_state_duration_seconds") and "_created" not in line
    )


def one_by_one(exits: list[tuple[int, int]], metrics: Metrics) -> None:
    for cti, ms in exits:
        metrics.state_seconds.labels(STATE_OF_CTI[cti]).observe(ms / 1000)


@settings(max_examples=60, deadline=None)
@given(st.lists(EXIT, max_size=60))
def test_a_batch_of_exits_counts_as_each_exit_observed_alone(exits: list[tuple[int, int]]) -> None:
    batch, alone = Metrics(), Metrics()
    batch.state_exits(exits)
    one_by_one(exits, alone)
    assert state_lines(batch) == state_lines(alone)


def test_the_bounds_are_inclusive_and_the_rest_goes_to_inf() -> None:
    exits = [(1, 1_000), (1, 1_001), (5, 0), (6, 28_800_000), (6, 28_800_001), (7, 5_000)]
    batch, alone = Metrics(), Metrics()
    batch.state_exits(exits)
    one_by_one(exits, alone)
    lines = state_lines(batch)
    assert lines == state_lines(alone)
    assert 'ccms_state_duration_seconds_bucket{le="1.0",state="idle"} 1.0' in lines
    assert 'ccms_state_duration_seconds_bucket{le="+Inf",state="wrap-up"} 2.0' in lines
    assert 'ccms_state_duration_seconds_bucket{le="28800.0",state="wrap-up"} 1.0' in lines
