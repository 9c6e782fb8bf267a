from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.status import AgentStatus, CtiStatus, agent_status

pytestmark = pytest.mark.unit

VENDOR_TABLE_5 = {  # status -> CTI codes, from the vendor's page, plus DECISIONS for 10
    AgentStatus.UNKNOWN: {9},
    AgentStatus.SIGNED_OUT: {0},
    AgentStatus.BUSY: {7},
    AgentStatus.IDLE: {1},
    AgentStatus.WRAP_UP: {6, 10},
    AgentStatus.TALKING: {2, 3, 4, 5},
    AgentStatus.REST: {8},
}


def test_mapping_matches_the_vendor_table() -> None:
    for status, codes in VENDOR_TABLE_5.items():
        for code in codes:
            assert agent_status(code) is status


@given(st.integers(0, 10))
def test_unused_statuses_are_never_produced(code: int) -> None:
    assert agent_status(code) not in (AgentStatus.SIGNED_IN, AgentStatus.IDLE_RESERVED)
    assert CtiStatus(code) == code


@given(st.integers().filter(lambda n: not 0 <= n <= 10))
def test_codes_outside_0_to_10_are_refused(code: int) -> None:
    with pytest.raises(ValueError, match=r"0\.\.10"):
        agent_status(code)
