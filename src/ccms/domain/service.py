"""Service quality of skill queues, calls per access code and skill-queue limits
(``docs/calls.md``: skill/servicequality, vdn/queryaccesscodecallinfo, skill/skillcfginfo).

The recounts here are the definitions a store's one-query aggregates must equal:

- **service quality** counts, per skill queue (the one a call is in, or was last in), the
  calls whose moment of each kind falls in the *last complete* 5-minute window (minutes
  ending in 0 or 5, UTC): the one holding the moment 5 minutes ago, as the vendor says;
- **access-code calls** count the calls in progress that came in on an access code, by
  where they are now (in the IVR, queued, at an agent), and the longest time one of its
  queued calls has waited in its queue.

And two small values: :class:`SkillConfig`, a queue's limits (the vendor's sample values
are the defaults), and :class:`CallSpacing`, the vendor's "once per second" per key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ccms.domain.call import CallRecord, CallState
from ccms.domain.queues import WINDOW_MS

QUICK_MS = 15_000  # in15sCallNum, wait15sLostNum
SERVICE_MS = 20_000  # in20sCallNum, wait20sLostNum
INNO_ID_RANGE = (1, 65535)  # access code ids (the vendor states none)


def quality_window(now_ms: int) -> int:
    """The start of the last complete 5-minute window: the aligned window (minutes ending
    in 0 or 5, UTC) that holds the moment 5 minutes before ``now_ms``."""
    return (now_ms - WINDOW_MS) // WINDOW_MS * WINDOW_MS


class ServiceQuality(NamedTuple):
    """The service quality of one skill queue in the window from ``start`` (5 minutes)."""

    skill_id: int
    start: int
    calls: int = 0  # entered the queue (their first queueing)
    connected: int = 0  # answered
    lost: int = 0  # ended without being answered
    connected_in_15s: int = 0  # answered within 15 s of their first queueing
    lost_in_15s: int = 0  # lost after less than 15 s in queue
    connected_in_20s: int = 0
    lost_in_20s: int = 0


def queue_ms(r: CallRecord) -> int:
    """A lost call's time in queue: from its first queueing to its first offer, else its
    end (:meth:`CallRecord.wait_ms` of an ended call, without the floor at 0: the same
    comparisons hold); 0 for a call never queued."""
    if r.queued_at is None or r.ended_at is None:
        return 0
    stop = r.ended_at
    if r.offered_at is not None and r.offered_at < stop:
        stop = r.offered_at
    if r.answered_at is not None and r.answered_at < stop:
        stop = r.answered_at
    return stop - r.queued_at


def recount_quality(
    records: Iterable[CallRecord], skill_ids: Sequence[int], start: int
) -> list[ServiceQuality]:
    """The service quality of each of ``skill_ids`` (in that order, each once) in the
    window ``[start, start + 5 min)`` over ``records``."""
    end = start + WINDOW_MS
    wanted = list(dict.fromkeys(skill_ids))
    counts = {skill: [0] * 7 for skill in wanted}

    def inside(moment: int | None) -> bool:
        return moment is not None and start <= moment < end

    for r in records:
        row = counts.get(r.skill_id) if r.skill_id is not None else None
        if row is None:
            continue
        if inside(r.queued_at):
            row[0] += 1
        if inside(r.answered_at):
            row[1] += 1
            if r.queued_at is not None and r.answered_at is not None:
                row[3] += r.answered_at - r.queued_at <= QUICK_MS
                row[5] += r.answered_at - r.queued_at <= SERVICE_MS
        if inside(r.ended_at) and r.answered_at is None:
            row[2] += 1
            row[4] += queue_ms(r) < QUICK_MS
            row[6] += queue_ms(r) < SERVICE_MS
    return [ServiceQuality(skill, start, *counts[skill]) for skill in wanted]


class AccessCodeCalls(NamedTuple):
    """The calls in progress of one access code (``innoId``) now."""

    inno_id: int
    calls: int = 0
    in_ivr: int = 0  # in the VDN, in no queue yet
    at_agent: int = 0  # ringing at or talking to an agent
    queued: int = 0
    longest_wait_ms: int = 0  # of the queued ones: the longest time in their queue


def default_code(inno_id: int) -> str:
    """The access code an id stands for when the configuration file maps none: the id
    written in decimal."""
    return str(inno_id)


def recount_access(
    records: Iterable[CallRecord], codes: Sequence[tuple[int, str]], now_ms: int
) -> list[AccessCodeCalls]:
    """For each ``(innoId, access code)`` of ``codes`` (in that order), its calls in
    progress over ``records``."""
    by_code: dict[str, list[int]] = {code: [0] * 5 for _, code in codes}
    for r in records:
        row = by_code.get(r.access_code)
        if row is None or not r.live:
            continue
        row[0] += 1
        if r.state is CallState.VDN:
            row[1] += 1
        elif r.state is CallState.QUEUED:
            row[3] += 1
            row[4] = max(row[4], now_ms - r.state_at)
        else:
            row[2] += 1
    return [AccessCodeCalls(inno_id, *by_code[code]) for inno_id, code in codes]


class SkillConfig(NamedTuple):
    """A skill queue's limits (``skill/skillcfginfo``), seconds where a time."""

    max_call_num: int = 100  # calls that may queue
    max_hold_call_num: int = 5
    max_wait_time: int = 60
    max_answer_wait_time: int = 30  # the longest ring
    max_talk_time: int = 86_400
    max_rest_agent_num: int = 2
    max_agent_wrapup_time: int = 5


DEFAULT_SKILL_CONFIG = SkillConfig()  # the vendor's sample values


class CallSpacing:
    """At most one call per ``interval_s`` per key: :meth:`allow` is true when the key's
    last call allowed is ``interval_s`` or more before ``now`` (a refused call does not
    count, so a client that waits the interval is answered). ``interval_s`` 0: no limit.
    At most ``max_keys`` are remembered, the oldest forgotten first."""

    def __init__(self, interval_s: float, max_keys: int = 65_536) -> None:
        self.interval_s = interval_s
        self._max_keys = max_keys
        self._last: dict[str, float] = {}

    def allow(self, key: str, now: float) -> bool:
        if self.interval_s <= 0:
            return True
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s and now >= last:
            return False
        self._last.pop(key, None)
        if len(self._last) >= self._max_keys:
            del self._last[next(iter(self._last))]
        self._last[key] = now
        return True
