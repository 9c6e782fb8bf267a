"""The CTI status changes a real CTI produces, and the reason codes the simulator sends.

The graph is data: :data:`ALLOWED_TRANSITIONS` maps every CTI status (the vendor's codes
0..10, ``cc-cms-reference.md`` §3) to the statuses an agent may go to from it. The
simulator checks every change it emits against it, and the tests check the event stream.

Why each edge exists (§3 remarks):

- 0 -> 1, 7: sign-in, straight to idle or "sign in busy" (a few minutes of preparation).
- 1 -> 3, 2, 7, 8, 9, 0: an inbound offer locks the agent (occupied); an outbound/preview
  dial pre-reserves it (preoccupied); busy, rest and study are chosen from idle; sign-out.
- 3 -> 4, 1: the offer rings the agent (answering), or is withdrawn (the caller hung up).
- 4 -> 5, 1: answered, or rung out / the caller hung up while ringing.
- 2 -> 5, 1: the customer answered the outbound call, or did not.
- 5 -> 6, 10, 1: post-call work (working or adjusting), or auto-ready without wrap-up.
- 6, 10 -> 1, 7, 8, 0: wrap-up ends in idle, or straight into busy, a break or sign-out.
- 7 -> 1, 8, 0; 8 -> 1, 7, 0: the end of busy or rest, possibly chained, or sign-out.
- 9 -> 1, 0: study ends in idle or sign-out.

Reason codes are the site's own configuration on a real CTI; the simulator uses the small
fixed sets :class:`RestReason` and :class:`BusyReason` (0..65535, as the intake requires).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from ccms.domain.status import CtiStatus

_S = CtiStatus

ALLOWED_TRANSITIONS: Mapping[int, frozenset[int]] = MappingProxyType(
    {
        _S.SIGNED_OUT: frozenset({_S.IDLE, _S.BUSY}),
        _S.IDLE: frozenset(
            {_S.OCCUPIED, _S.PREOCCUPIED, _S.BUSY, _S.REST, _S.STUDY, _S.SIGNED_OUT}
        ),
        _S.PREOCCUPIED: frozenset({_S.TALKING, _S.IDLE}),
        _S.OCCUPIED: frozenset({_S.ANSWERING, _S.IDLE}),
        _S.ANSWERING: frozenset({_S.TALKING, _S.IDLE}),
        _S.TALKING: frozenset({_S.WORKING, _S.ADJUSTING, _S.IDLE}),
        _S.WORKING: frozenset({_S.IDLE, _S.BUSY, _S.REST, _S.SIGNED_OUT}),
        _S.BUSY: frozenset({_S.IDLE, _S.REST, _S.SIGNED_OUT}),
        _S.REST: frozenset({_S.IDLE, _S.SIGNED_OUT, _S.BUSY}),
        _S.STUDY: frozenset({_S.IDLE, _S.SIGNED_OUT}),
        _S.ADJUSTING: frozenset({_S.IDLE, _S.BUSY, _S.REST, _S.SIGNED_OUT}),
    }
)
"""CTI status -> the statuses it may change to. Every code 0..10 is a key."""

# Statuses in which the agent handles a call, and so carries the call id in ``calls``.
CALL_STATUSES = frozenset({_S.PREOCCUPIED, _S.OCCUPIED, _S.ANSWERING, _S.TALKING})
# Post-call work: voice wrap-up uses "working" (6), chat wrap-up uses "adjusting" (10).
WRAP_UP_STATUSES = frozenset({_S.WORKING, _S.ADJUSTING})


class RestReason(enum.IntEnum):
    """Reason codes sent with rest (8)."""

    SHORT_BREAK = 1
    LUNCH = 2
    COMFORT_BREAK = 3


class BusyReason(enum.IntEnum):
    """Reason codes sent with busy (7)."""

    PERSONAL = 11
    COACHING = 12
    PREPARATION = 13


REST_REASON_NAMES: Mapping[int, str] = MappingProxyType(
    {
        RestReason.SHORT_BREAK: "Short break",
        RestReason.LUNCH: "Lunch",
        RestReason.COMFORT_BREAK: "Comfort break",
    }
)
"""What each rest reason code stands for (``ccms demo`` names them in its cc.toml)."""

BUSY_REASON_NAMES: Mapping[int, str] = MappingProxyType(
    {
        BusyReason.PERSONAL: "Personal time",
        BusyReason.COACHING: "Coaching",
        BusyReason.PREPARATION: "Preparation",
    }
)
"""What each busy reason code stands for (``ccms demo`` names them in its cc.toml)."""


class TransitionError(AssertionError):
    """The simulator tried a status change outside :data:`ALLOWED_TRANSITIONS` (a bug)."""


def is_allowed(old: int, new: int) -> bool:
    """Whether a CTI changes an agent from ``old`` to ``new`` (a different status)."""
    targets = ALLOWED_TRANSITIONS.get(old)
    return targets is not None and new in targets


def check_transition(old: int, new: int) -> None:
    """Raise :class:`TransitionError` unless ``old -> new`` is in the graph."""
    if not is_allowed(old, new):
        raise TransitionError(f"CTI status change {old} -> {new} is not in ALLOWED_TRANSITIONS")
