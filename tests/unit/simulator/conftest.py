"""Shared simulated runs: simulating is pure, so one run serves every test that reads it."""

from __future__ import annotations

import pytest
from simulator_runs import DAY_MS, Run, simulate

from ccms.simulator import SimulationConfig


@pytest.fixture(scope="session")
def week() -> Run:
    """A simulated week with the default config (200 agents, 2 VDNs)."""
    return simulate(SimulationConfig(), 7 * DAY_MS)


@pytest.fixture(scope="session")
def day() -> Run:
    """The first simulated day with the default config."""
    return simulate(SimulationConfig(), DAY_MS)
