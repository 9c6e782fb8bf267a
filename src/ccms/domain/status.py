"""CTI platform agent status codes and the CC-CMS ``status`` mapping.

``citStatus`` (the vendor's spelling) carries the CTI code 0..10 as received from the CTI
feed. ``status`` is the coarser agent status of the vendor's Table 5, derived from it.
"""

from __future__ import annotations

import enum

# Milliseconds the vendor returns as ``loginDate`` while an agent is signed out:
# 2**32 - 1 seconds after the epoch (2106-02-07T06:28:15Z), in milliseconds.
SIGNED_OUT_LOGIN_DATE = 4_294_967_295_000


class CtiStatus(enum.IntEnum):
    """Agent status on the CTI platform (``citStatus``, ``currentState``)."""

    SIGNED_OUT = 0
    IDLE = 1
    PREOCCUPIED = 2
    OCCUPIED = 3
    ANSWERING = 4
    TALKING = 5
    WORKING = 6
    BUSY = 7
    REST = 8
    STUDY = 9
    ADJUSTING = 10


class AgentStatus(enum.IntEnum):
    """The vendor's agent status (Table 5); 1 and 6 are never produced."""

    UNKNOWN = 0
    SIGNED_IN = 1
    SIGNED_OUT = 2
    BUSY = 3
    IDLE = 4
    WRAP_UP = 5
    IDLE_RESERVED = 6
    TALKING = 7
    REST = 8


_STATUS_BY_CTI: dict[int, AgentStatus] = {
    CtiStatus.SIGNED_OUT: AgentStatus.SIGNED_OUT,
    CtiStatus.IDLE: AgentStatus.IDLE,
    CtiStatus.PREOCCUPIED: AgentStatus.TALKING,
    CtiStatus.OCCUPIED: AgentStatus.TALKING,
    CtiStatus.ANSWERING: AgentStatus.TALKING,
    CtiStatus.TALKING: AgentStatus.TALKING,
    CtiStatus.WORKING: AgentStatus.WRAP_UP,
    CtiStatus.BUSY: AgentStatus.BUSY,
    CtiStatus.REST: AgentStatus.REST,
    CtiStatus.STUDY: AgentStatus.UNKNOWN,
    CtiStatus.ADJUSTING: AgentStatus.WRAP_UP,
}

# A tuple indexed by CTI code, for the hot path.
STATUS_BY_CTI: tuple[int, ...] = tuple(int(_STATUS_BY_CTI[c]) for c in CtiStatus)

TALKING_CODES = frozenset(
    {CtiStatus.PREOCCUPIED, CtiStatus.OCCUPIED, CtiStatus.ANSWERING, CtiStatus.TALKING}
)
WRAP_UP_CODES = frozenset({CtiStatus.WORKING, CtiStatus.ADJUSTING})


def agent_status(cti_status: int) -> AgentStatus:
    """Map a CTI status code (0..10) to the vendor's agent status.

    Raises ``ValueError`` for a code outside 0..10.
    """
    if not 0 <= cti_status <= 10:
        raise ValueError(f"CTI status must be 0..10, got {cti_status}")
    return AgentStatus(STATUS_BY_CTI[cti_status])


def is_signed_in(cti_status: int) -> bool:
    return cti_status != CtiStatus.SIGNED_OUT
