"""Helpers shared by the simulator tests (imported by name: test dirs have no packages)."""

from __future__ import annotations

from dataclasses import dataclass

from ccms.simulator import SimulationConfig, Simulator

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Run:
    """A finished simulated run: its config, every event it emitted, and the simulator."""

    config: SimulationConfig
    events: tuple[dict[str, object], ...]
    simulator: Simulator


def simulate(config: SimulationConfig, duration_ms: int) -> Run:
    simulator = Simulator(config)
    events = simulator.advance(config.start_ms + duration_ms)
    return Run(config, tuple(events), simulator)
