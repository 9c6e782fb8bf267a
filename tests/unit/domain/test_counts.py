"""The count mappings of the monitoring routes, against tables written out by hand."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.counts import (
    StateCounts,
    SystemState,
    skills_match,
    state_counts,
    system_state,
)

pytestmark = pytest.mark.unit

# The mappings of docs/api.md ("Monitoring routes"), field -> CTI codes counted.
STATE_TABLE = {
    "signed_in": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
    "talking": {5},
    "idle": {1},
    "usable": {1},
    "set_busy": {7},
    "working": {6},
    "rest": {8},
    "studying": {9},
    "occupied": {3},
    "preoccupied": {2},
    "answering": {4},
    "adjusting": {10},
}
SYSTEM_TABLE = {
    "busy": {7},
    "talking": {2, 3, 4, 5},
    "idle": {1},
    "signed_in": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
}

statuses = st.lists(st.integers(0, 10), max_size=60)


@given(statuses)
def test_state_counts_follow_the_table(codes: list[int]) -> None:
    counts = asdict(state_counts(codes))
    assert counts == {
        name: sum(1 for code in codes if code in members) for name, members in STATE_TABLE.items()
    }


@given(statuses)
def test_every_signed_in_agent_is_in_exactly_one_state(codes: list[int]) -> None:
    counts = state_counts(codes)
    per_state = asdict(counts)
    del per_state["signed_in"], per_state["usable"]
    assert sum(per_state.values()) == counts.signed_in == sum(1 for c in codes if c != 0)


@given(statuses)
def test_system_state_follows_the_table(codes: list[int]) -> None:
    assert asdict(system_state(codes)) == {
        name: sum(1 for code in codes if code in members) for name, members in SYSTEM_TABLE.items()
    }


def test_one_agent_per_code() -> None:
    assert state_counts(range(11)) == StateCounts(10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    assert system_state(range(11)) == SystemState(busy=1, talking=4, idle=1, signed_in=10)
    assert state_counts([]) == StateCounts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


skill_sets = st.frozensets(st.integers(1, 8), max_size=5)


@given(skill_sets, skill_sets.filter(bool))
def test_skills_match_any_and_all(agent: frozenset[int], requested: frozenset[int]) -> None:
    assert skills_match(tuple(sorted(agent)), requested, all_match=False) == bool(agent & requested)
    assert skills_match(tuple(sorted(agent)), requested, all_match=True) == (requested <= agent)


def test_skills_match_examples() -> None:
    assert skills_match((1, 2), [2, 3], all_match=False)
    assert not skills_match((1, 2), [2, 3], all_match=True)
    assert skills_match((1, 2, 3), [3, 2], all_match=True)
    assert not skills_match((), [1], all_match=False)
