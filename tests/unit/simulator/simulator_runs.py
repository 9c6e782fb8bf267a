"""Helpers shared by the simulator tests (imported by name: test dirs have no packages)."""

from __future__ import annotations

from dataclasses import dataclass

from ccms.simulator import SimulationConfig, Simulator

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Run:
    """A finished simulated run: its config, every event it emitted, and the simulator."""

    config: SimulationConfig
    events: tuple[dict[str, object], ...]  # the agent events
    simulator: Simulator
    calls: tuple[dict[str, object], ...] = ()  # the call events
    stream: tuple[dict[str, object], ...] = ()  # both, in the order emitted


def simulate(config: SimulationConfig, duration_ms: int) -> Run:
    simulator = Simulator(config)
    stream = tuple(simulator.advance(config.start_ms + duration_ms))
    agents = tuple(e for e in stream if "callId" not in e)
    calls = tuple(e for e in stream if "callId" in e)
    return Run(config, agents, simulator, calls, stream)
