"""The real-time indicators of a VDN (``rindex/vdn``, ``docs/calls.md``): what each of
the vendor's codes counts, from the agents' CTI statuses and the live calls' states.

The vendor gives the codes' names only. ccms counts, now: calls in progress (``VDN_CALL``),
talking to an agent (``VDN_CONNECT``), in the VDN before any queue (``IVR_HANDLE``),
queued (``SKILL_QUEUE``); agents by CTI status, as the per-state counts of the monitoring
routes do (``ccms.domain.counts``), and the agents known but signed out (``NOT_SIGN_IN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ccms.domain.call import CallState
from ccms.domain.counts import SIGNED_IN_CODES, STATE_COUNT_CODES
from ccms.domain.status import CtiStatus

_CALLS_LIVE = frozenset(s for s in CallState if s is not CallState.ENDED)

# code -> ("calls", states) or ("agents", CTI statuses)
VDN_INDICATORS: dict[str, tuple[str, frozenset[int]]] = {
    "IDX_COUNT_REAL_VDN_CONNECT": ("calls", frozenset({CallState.TALKING})),
    "IDX_COUNT_REAL_VDN_CALL": ("calls", _CALLS_LIVE),
    "IDX_COUNT_REAL_IVR_HANDLE": ("calls", frozenset({CallState.VDN})),
    "IDX_COUNT_REAL_SKILL_QUEUE": ("calls", frozenset({CallState.QUEUED})),
    "IDX_COUNT_REAL_AGENT_SIGN_IN": ("agents", SIGNED_IN_CODES),
    "IDX_COUNT_REAL_AGENT_SET_IDLE": ("agents", STATE_COUNT_CODES["idle"]),
    "IDX_COUNT_REAL_AGENT_SET_BUSY": ("agents", STATE_COUNT_CODES["set_busy"]),
    "IDX_COUNT_REAL_AGENT_CONNECT": ("agents", STATE_COUNT_CODES["talking"]),
    "IDX_COUNT_REAL_AGENT_STUDY": ("agents", STATE_COUNT_CODES["studying"]),
    "IDX_COUNT_REAL_AGENT_ACW": ("agents", STATE_COUNT_CODES["working"]),
    "IDX_COUNT_REAL_AGENT_ANSWER": ("agents", STATE_COUNT_CODES["answering"]),
    "IDX_COUNT_REAL_AGENT_PREOCCUPY": ("agents", STATE_COUNT_CODES["preoccupied"]),
    "IDX_COUNT_REAL_AGENT_OCCUPY": ("agents", STATE_COUNT_CODES["occupied"]),
    "IDX_COUNT_REAL_AGENT_NOT_SIGN_IN": ("agents", frozenset({CtiStatus.SIGNED_OUT})),
    "IDX_COUNT_REAL_AGENT_REST": ("agents", STATE_COUNT_CODES["rest"]),
}


class VdnCounts(NamedTuple):
    """A VDN now: its agents per CTI status and its live calls per state."""

    agents: Mapping[int, int]
    calls: Mapping[int, int]


def indicator(counts: VdnCounts, code: str) -> int:
    kind, keys = VDN_INDICATORS[code]
    source = counts.calls if kind == "calls" else counts.agents
    return sum(n for key, n in source.items() if key in keys)
