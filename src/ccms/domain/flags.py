"""Flags: what an agent's state says needs a supervisor's attention (a ring unanswered for
too long, a wrap-up past its limit, a state that cannot be).

A :class:`Flag` is raised at the moment its threshold was crossed (``since``), which may be
a moment when no event arrived: time passing is the event. :data:`FlagsOf` is how the rest
of ccms asks for an agent's flags at a given time; :func:`no_flags` is the answer when no
thresholds are configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ccms.domain.agent import AgentRecord

WARNING = "warning"
ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Flag:
    """One raised flag of an agent."""

    name: str  # "ringing-long", "wrapup-long", ...
    level: str  # WARNING or ALERT
    since: int  # ms: the moment the threshold was crossed


FlagsOf = Callable[[AgentRecord, int], tuple[Flag, ...]]  # (agent, now in ms) -> its flags


def no_flags(record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
    """The flags of any agent when no thresholds apply: none."""
    return ()
