"""A pure, seeded simulator of a contact-center floor that emits CTI agent and call events.

Same config (seed included) gives the same event stream, byte for byte. See
``docs/simulator.md`` for what it models and where its figures come from::

    sim = Simulator(SimulationConfig(seed=7))
    events = sim.advance(sim.now_ms + 3_600_000)   # one simulated hour
    sim.agents()                                   # what a server fed those events answers
"""

from ccms.simulator.config import SimulationConfig, config_help
from ccms.simulator.engine import Simulator
from ccms.simulator.floor import AgentSnapshot
from ccms.simulator.transitions import ALLOWED_TRANSITIONS, is_allowed

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AgentSnapshot",
    "SimulationConfig",
    "Simulator",
    "config_help",
    "is_allowed",
]
