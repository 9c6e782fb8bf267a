"""How the monitoring routes count agents by state: one mapping per family of counts.

Every count is a recount of per-agent CTI status codes, which the routes take from the
same records they list one by one, so a count always equals a recount of the per-agent
answers (``teamagentstatusinfo`` of ``agentstatusinfobyagentids``, ``systemstate`` of
``totalagentabstractex3``, ``skill/agentstatusbyskill`` of ``skill/agentbyconfigedskill``).

The vendor documents the names of its counts, not which CTI codes each one counts; the
choices (written in ``docs/api.md``) are:

- per-state counts (``teamagentstatusinfo``, ``skill/agentstatusbyskill``): one count per
  CTI code, ``signed_in`` for every code but 0, and ``usable`` (agents a call can be given
  to now) equal to ``idle``: ccms knows no multi-session capacity;
- ``systemstate``: the agent statuses of the vendor's Table 5 (talking is CTI 2 to 5, as
  ``status`` 7 of ``agent/agentbyworkno``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ccms.domain.status import TALKING_CODES, CtiStatus

SIGNED_IN_CODES = frozenset(c for c in CtiStatus if c != CtiStatus.SIGNED_OUT)


@dataclass(frozen=True, slots=True)
class StateCounts:
    """Agents per CTI state (``teamagentstatusinfo``, ``skill/agentstatusbyskill``)."""

    signed_in: int
    talking: int
    idle: int
    usable: int
    set_busy: int
    working: int
    rest: int
    studying: int
    occupied: int
    preoccupied: int
    answering: int
    adjusting: int


STATE_COUNT_CODES: dict[str, frozenset[int]] = {
    "signed_in": SIGNED_IN_CODES,
    "talking": frozenset({CtiStatus.TALKING}),
    "idle": frozenset({CtiStatus.IDLE}),
    "usable": frozenset({CtiStatus.IDLE}),
    "set_busy": frozenset({CtiStatus.BUSY}),
    "working": frozenset({CtiStatus.WORKING}),
    "rest": frozenset({CtiStatus.REST}),
    "studying": frozenset({CtiStatus.STUDY}),
    "occupied": frozenset({CtiStatus.OCCUPIED}),
    "preoccupied": frozenset({CtiStatus.PREOCCUPIED}),
    "answering": frozenset({CtiStatus.ANSWERING}),
    "adjusting": frozenset({CtiStatus.ADJUSTING}),
}


@dataclass(frozen=True, slots=True)
class SystemState:
    """Busy, talking, idle and signed-in agents (``agentgroup/systemstate``)."""

    busy: int
    talking: int
    idle: int
    signed_in: int


SYSTEM_STATE_CODES: dict[str, frozenset[int]] = {
    "busy": frozenset({CtiStatus.BUSY}),
    "talking": frozenset(TALKING_CODES),
    "idle": frozenset({CtiStatus.IDLE}),
    "signed_in": SIGNED_IN_CODES,
}


def _tally(statuses: Iterable[int], codes: dict[str, frozenset[int]]) -> dict[str, int]:
    histogram = Counter(statuses)
    return {name: sum(histogram[code] for code in members) for name, members in codes.items()}


def state_counts(statuses: Iterable[int]) -> StateCounts:
    """Count CTI status codes (one per agent) into :class:`StateCounts`."""
    return StateCounts(**_tally(statuses, STATE_COUNT_CODES))


def system_state(statuses: Iterable[int]) -> SystemState:
    """Count CTI status codes (one per agent) into :class:`SystemState`."""
    return SystemState(**_tally(statuses, SYSTEM_STATE_CODES))


def skills_match(
    agent_skills: Collection[int], requested: Collection[int], all_match: bool
) -> bool:
    """Whether an agent signed in to ``agent_skills`` counts for the ``requested`` queues:
    every requested queue among its own (``all_match``), else at least one."""
    if all_match:
        return all(skill in agent_skills for skill in requested)
    return any(skill in agent_skills for skill in requested)
