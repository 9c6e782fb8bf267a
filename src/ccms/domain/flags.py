"""Flags: what an agent's state says needs a supervisor's attention (a ring unanswered for
too long, a wrap-up past its limit, a state that cannot be).

A :class:`Flag` is raised at the moment its threshold was crossed (``since``), which may be
a moment when no event arrived: time passing is the event. :data:`FlagsOf` is how the rest
of ccms asks for an agent's flags at a given time; :func:`no_flags` is the answer when no
thresholds are configured, :class:`FlagRules` the answer of configured thresholds.

Everything here is pure: an agent's flags are a function of its record and of the
thresholds alone (:func:`evaluate`), each with the moment it is raised, so that "its flags
now" is those raised by now (:meth:`FlagRules.__call__`) and "when is the next one due" is
the smallest ``since`` still ahead (what the flag timers of :mod:`ccms.flagtimer` sleep
until).

The flags (``docs/flags.md``):

======================  ==========================================  =========  =========
name                    raised when                                 since      level
======================  ==========================================  =========  =========
``ringing-long``        ringing (CTI 3, 4) longer than ``ringing_s``  start + T  warning
``wrapup-long``         wrap-up (CTI 6, 10) longer than ``wrapup_s``  start + T  warning
``rest-long``           rest (CTI 8) longer than its approved length  start + T  warning
``talking-long``        talking (CTI 2, 5) longer than ``talking_s``  start + T  warning
``phone-unavailable``   busy (CTI 7) with reason 5                    (*)        alert
``talking-no-call``     talking (CTI 2, 5) with no current call       (*)        alert
``no-skill``            signed in with no skill queue                 (*)        alert
======================  ==========================================  =========  =========

(*) the start of the status, or the later moment the field that makes the state
impossible was set (the reason, the calls, the skill queues).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ccms.domain.agent import AgentRecord
from ccms.domain.status import CtiStatus

WARNING = "warning"
ALERT = "alert"
LEVELS = (WARNING, ALERT)

RINGING_LONG = "ringing-long"
WRAPUP_LONG = "wrapup-long"
REST_LONG = "rest-long"
TALKING_LONG = "talking-long"
PHONE_UNAVAILABLE = "phone-unavailable"
TALKING_NO_CALL = "talking-no-call"
NO_SKILL = "no-skill"
FLAG_NAMES = (
    RINGING_LONG, WRAPUP_LONG, REST_LONG, TALKING_LONG, PHONE_UNAVAILABLE, TALKING_NO_CALL,
    NO_SKILL,
)  # fmt: skip
DEFAULT_LEVELS: Mapping[str, str] = {
    RINGING_LONG: WARNING, WRAPUP_LONG: WARNING, REST_LONG: WARNING, TALKING_LONG: WARNING,
    PHONE_UNAVAILABLE: ALERT, TALKING_NO_CALL: ALERT, NO_SKILL: ALERT,
}  # fmt: skip
PHONE_UNAVAILABLE_REASON = 5  # the busy reason "phone unavailable"

_RINGING = frozenset({CtiStatus.OCCUPIED, CtiStatus.ANSWERING})
_TALKING = frozenset({CtiStatus.PREOCCUPIED, CtiStatus.TALKING})
_WRAP_UP = frozenset({CtiStatus.WORKING, CtiStatus.ADJUSTING})


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


@dataclass(frozen=True)
class Limits:
    """Thresholds of one scope (every VDN, one VDN, one skill queue). ``None`` (and a
    reason or flag absent from the mappings): the wider scope's value."""

    ringing_s: int | None = None
    wrapup_s: int | None = None
    rest_s: int | None = None
    talking_s: int | None = None
    rest_reasons: Mapping[int, int] = field(default_factory=dict)  # reason -> approved s
    levels: Mapping[str, str] = field(default_factory=dict)  # flag -> level
    enabled: Mapping[str, bool] = field(default_factory=dict)  # flag -> on or off

    def over(self, wider: Limits) -> Limits:
        """These limits where set, ``wider``'s elsewhere."""
        return Limits(
            wider.ringing_s if self.ringing_s is None else self.ringing_s,
            wider.wrapup_s if self.wrapup_s is None else self.wrapup_s,
            wider.rest_s if self.rest_s is None else self.rest_s,
            wider.talking_s if self.talking_s is None else self.talking_s,
            {**wider.rest_reasons, **self.rest_reasons},
            {**wider.levels, **self.levels},
            {**wider.enabled, **self.enabled},
        )


DEFAULT_LIMITS = Limits(
    ringing_s=20, wrapup_s=120, rest_s=900, talking_s=600, levels=DEFAULT_LEVELS,
    enabled=dict.fromkeys(FLAG_NAMES, True),
)  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    """Every VDN's limits (``default``), some VDNs' own (by ``(cc_id, vdn)``) and some
    skill queues' (by ``(cc_id, vdn, skill)``). For an agent in several skill queues that
    set a limit, the longest applies: a queue that allows it does not flag it."""

    default: Limits = DEFAULT_LIMITS
    vdns: Mapping[tuple[int, int], Limits] = field(default_factory=dict)
    skills: Mapping[tuple[int, int, int], Limits] = field(default_factory=dict)

    def for_vdn(self, cc_id: int, vdn: int) -> Limits:
        own = self.vdns.get((cc_id, vdn))
        return self.default if own is None else own.over(self.default)


def _longest(values: list[int | None], fallback: int | None) -> int | None:
    found = [v for v in values if v is not None]
    return max(found) if found else fallback


class FlagRules:
    """The :data:`FlagsOf` of some thresholds: ``rules(record, now_ms)`` is the agent's
    flags raised by ``now_ms``; :meth:`evaluate` every flag its record will have, each
    with its moment (raised or not yet)."""

    __slots__ = ("_vdns", "thresholds")

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._vdns: dict[tuple[int, int], Limits] = {}

    def limits(self, record: AgentRecord) -> Limits:
        """The limits of the agent's VDN, with those of its skill queues over them."""
        key = (record.cc_id, record.vdn)
        vdn = self._vdns.get(key)
        if vdn is None:
            vdn = self._vdns[key] = self.thresholds.for_vdn(*key)
        skills = self.thresholds.skills
        if not skills or not record.skills:
            return vdn
        own = [s for q in record.skills if (s := skills.get((*key, q))) is not None]
        if not own:
            return vdn
        reasons: dict[int, int] = dict(vdn.rest_reasons)
        for limits in own:
            for reason, seconds in limits.rest_reasons.items():
                reasons[reason] = max(seconds, reasons.get(reason, seconds))
        return Limits(
            _longest([s.ringing_s for s in own], vdn.ringing_s),
            _longest([s.wrapup_s for s in own], vdn.wrapup_s),
            _longest([s.rest_s for s in own], vdn.rest_s),
            _longest([s.talking_s for s in own], vdn.talking_s),
            reasons,
            dict(vdn.levels) | {k: v for s in own for k, v in s.levels.items()},
            vdn.enabled,
        )

    def evaluate(self, record: AgentRecord) -> tuple[Flag, ...]:
        """Every flag of the agent's current record, raised or due later (by ``since``)."""
        cti = record.cti_status
        if cti == CtiStatus.SIGNED_OUT:
            return ()
        limits = self.limits(record)
        start = record.state_start
        found: list[tuple[str, int]] = []
        timed: int | None = None
        name = ""
        if cti in _RINGING:
            name, timed = RINGING_LONG, limits.ringing_s
        elif cti in _WRAP_UP:
            name, timed = WRAPUP_LONG, limits.wrapup_s
        elif cti == CtiStatus.REST:
            name = REST_LONG
            reason = record.reason
            timed = limits.rest_reasons.get(reason, limits.rest_s) if reason else limits.rest_s
        elif cti in _TALKING:
            name, timed = TALKING_LONG, limits.talking_s
            if not record.calls:
                found.append((TALKING_NO_CALL, max(start, record.calls_at or start)))
        elif cti == CtiStatus.BUSY and record.reason == PHONE_UNAVAILABLE_REASON:
            found.append((PHONE_UNAVAILABLE, max(start, record.reason_at or start)))
        if timed is not None and timed > 0:
            found.append((name, start + timed * 1000))
        if not record.skills:
            found.append((NO_SKILL, max(start, record.skills_at or start)))
        enabled, levels = limits.enabled, limits.levels
        return tuple(
            Flag(n, levels.get(n, DEFAULT_LEVELS[n]), since)
            for n, since in sorted(found, key=_by_since)
            if enabled.get(n, True)
        )

    def __call__(self, record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
        """The agent's flags raised by ``now_ms`` (a :data:`FlagsOf`)."""
        if record.cti_status == CtiStatus.SIGNED_OUT:
            return ()
        return tuple(f for f in self.evaluate(record) if f.since <= now_ms)


def _by_since(item: tuple[str, int]) -> int:
    return item[1]


class FlagRaise(NamedTuple):
    """A flag raised, or taken back, in the change log (a ``flag`` entry of the live
    stream). A flag clears with the agent's next change, or with a ``raised`` false entry
    when a reload of the thresholds ends it (:func:`to_clear`)."""

    flag: Flag
    raised: bool = True


# The ``since`` a store keeps for a flag taken back (no flag is raised at a moment before
# the epoch): it differs from every real moment, so that the flag is raised again when the
# thresholds give it once more.
CLEARED = -1


def to_raise(
    record: AgentRecord, raised: Mapping[str, int], flags_of: FlagsOf, now_ms: int
) -> list[Flag]:
    """The flags to raise now for an agent whose record is ``record``: those it has by
    ``now_ms`` that were not raised before with the same ``since`` (``raised``: flag name
    -> the ``since`` it was last raised with). A flag is raised once per moment it is
    crossed, whichever process asks, and however often."""
    return [f for f in flags_of(record, now_ms) if raised.get(f.name) != f.since]


def to_clear(
    record: AgentRecord, raised: Mapping[str, int], flags_of: FlagsOf, now_ms: int
) -> list[str]:
    """The flags to take back now for an agent whose record is ``record``: those raised
    (``raised``: flag name -> the ``since`` it was last raised with, :data:`CLEARED` for one
    taken back already) that it no longer has by ``now_ms``, in name order. A flag it still
    has, with another moment, is not taken back: raising it again replaces it."""
    held = {f.name for f in flags_of(record, now_ms)}
    return sorted(n for n, since in raised.items() if since != CLEARED and n not in held)
