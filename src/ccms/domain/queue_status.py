"""Skill queues now (``docs/calls.md``: skill/totalskillstatusex3, skill/stateinfo,
skill/rindex, skill/batchmultiskill, skill/queuedevicestatus): the definition, as a recount
over call records and agent records, that a store's one-query aggregate must equal.

A call counts in the skill queue it is in, or was last in (as in
:mod:`ccms.domain.queues`). Now:

- ``queued``: the calls queued in it now; ``oldest_at`` the moment the longest waiting of
  them entered it (its current state began), ``oldest_call`` that call's id (equal
  moments: the first id in byte order);
- ``handling``: its calls ringing at an agent or talking to one now.

In the current 5 minutes (from ``start``, :func:`ccms.domain.queues.window_start`):

- ``calls``: entered a queue (their first queueing) in it; ``connected``: answered in it,
  ``connected_in_20s`` of those within 20 s of their first queueing (the same figures as
  ``skill/currentcallstateinfo``);
- ``processed``: answered in it, or being handled now (``totalCallNums``);
- ``wait_ms``, ``max_wait_ms``: the sum and the longest of the waits
  (:meth:`ccms.domain.call.CallRecord.wait_ms`) of the calls answered in it;
- ``talked``, ``talk_ms``: the answered calls that ended in it, and their talk.

Without ``start`` the window's figures are 0 (a route that needs only the figures now).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from ccms.domain.agent import AgentRecord, SkillMember
from ccms.domain.call import CallRecord, CallState
from ccms.domain.counts import StateCounts, state_counts
from ccms.domain.queues import SERVICE_LEVEL_MS
from ccms.domain.status import CtiStatus

HANDLING = frozenset({CallState.RINGING, CallState.TALKING})


class QueueNow(NamedTuple):
    """The calls of one skill queue now and in the current 5 minutes."""

    skill_id: int
    queued: int = 0
    oldest_at: int | None = None
    oldest_call: str | None = None
    handling: int = 0
    calls: int = 0
    connected: int = 0
    connected_in_20s: int = 0
    processed: int = 0
    wait_ms: int = 0
    max_wait_ms: int = 0
    talked: int = 0
    talk_ms: int = 0

    def longest_wait_ms(self, now_ms: int) -> int:
        """How long the longest waiting call queued now has been in the queue (0: none)."""
        return 0 if self.oldest_at is None else max(0, now_ms - self.oldest_at)


def _since(moment: int | None, start: int | None) -> bool:
    return start is not None and moment is not None and moment >= start


def _oldest_first(r: CallRecord) -> tuple[int, bytes]:
    return r.state_at, r.call_id.encode()


def _figures(skill_id: int, calls: list[CallRecord], start: int | None) -> QueueNow:
    queued = sorted((r for r in calls if r.state is CallState.QUEUED), key=_oldest_first)
    handling = [r for r in calls if r.state in HANDLING]
    answered = [r for r in calls if _since(r.answered_at, start)]
    talked = [r for r in calls if _since(r.ended_at, start) and r.answered_at is not None]
    waits = [r.wait_ms(0) for r in answered]
    in_20s = [
        r for r in answered
        if r.queued_at is not None and (r.answered_at or 0) - r.queued_at <= SERVICE_LEVEL_MS
    ]  # fmt: skip
    processed = {r.call_id for r in answered} | {r.call_id for r in handling}
    return QueueNow(
        skill_id,
        queued=len(queued),
        oldest_at=queued[0].state_at if queued else None,
        oldest_call=queued[0].call_id if queued else None,
        handling=len(handling),
        calls=sum(1 for r in calls if _since(r.queued_at, start)),
        connected=len(answered),
        connected_in_20s=len(in_20s),
        processed=len(processed) if start is not None else 0,
        wait_ms=sum(waits),
        max_wait_ms=max(waits, default=0),
        talked=len(talked),
        talk_ms=sum(r.talk_ms(0) for r in talked),
    )


def recount(
    records: Iterable[CallRecord], skill_ids: Sequence[int], start: int | None
) -> list[QueueNow]:
    """The figures of each of ``skill_ids`` (in that order, each once) over ``records``
    (the calls of one VDN)."""
    by_queue: dict[int, list[CallRecord]] = {skill: [] for skill in skill_ids}
    for r in records:
        if r.skill_id is not None and r.skill_id in by_queue:
            by_queue[r.skill_id].append(r)
    return [_figures(skill, calls, start) for skill, calls in by_queue.items()]


def queued_in(records: Iterable[CallRecord], skill_ids: Sequence[int]) -> list[CallRecord]:
    """The calls queued now in any of ``skill_ids``, by queue, then longest waiting first
    (the moment they entered the queue, then call id in byte order)."""
    wanted = frozenset(skill_ids)
    found = [r for r in records if r.state is CallState.QUEUED and r.skill_id in wanted]
    return sorted(found, key=lambda r: (r.skill_id or 0, *_oldest_first(r)))


class QueueAgents(NamedTuple):
    """The signed-in agents of one skill queue: their counts per state and how long the
    longest idle of them has been idle (ms; 0 when none is)."""

    skill_id: int
    counts: StateCounts
    longest_idle_ms: int = 0


_NONE = state_counts(())


def _counted(statuses: list[int]) -> StateCounts:
    """The counts of a queue's agents (most of 1,000 queues asked have none: counted once)."""
    return state_counts(statuses) if statuses else _NONE


def member_counts(members: Iterable[SkillMember], skill_ids: Sequence[int]) -> list[QueueAgents]:
    """Each of ``skill_ids`` (in order, each once) with its signed-in agents counted."""
    statuses: dict[int, list[int]] = {skill: [] for skill in skill_ids}
    for m in members:
        if m.cti_status != CtiStatus.SIGNED_OUT and m.skill_id in statuses:
            statuses[m.skill_id].append(m.cti_status)
    return [QueueAgents(skill, _counted(found)) for skill, found in statuses.items()]


def agent_counts(
    records: Iterable[AgentRecord], skill_ids: Sequence[int], now_ms: int
) -> list[QueueAgents]:
    """As :func:`member_counts`, from the agents' records, with the longest idle time."""
    statuses: dict[int, list[int]] = {skill: [] for skill in skill_ids}
    idle: dict[int, int] = dict.fromkeys(statuses, 0)
    for record in records:
        if record.cti_status == CtiStatus.SIGNED_OUT:
            continue
        for skill in dict.fromkeys(record.skills):
            if skill not in statuses:
                continue
            statuses[skill].append(record.cti_status)
            if record.cti_status == CtiStatus.IDLE:
                idle[skill] = max(idle[skill], max(0, now_ms - record.state_start))
    return [QueueAgents(s, _counted(found), idle[s]) for s, found in statuses.items()]


# The vendor's real-time indicators of skill queues (``skill/rindex``): what each counts,
# from a queue's agents and calls now (``IDX_COUNT_20S_CALL_FOR_5MIN``: the current 5
# minutes); durations in whole seconds.
SkillIndicator = Callable[[QueueAgents, QueueNow, int], int]
SKILL_INDICATORS: dict[str, SkillIndicator] = {
    "IDX_COUNT_REAL_SKILL_QUEUE": lambda a, q, now: q.queued,
    "IDX_COUNT_REAL_SKILL_HANDLE": lambda a, q, now: q.handling,
    "IDX_DURATION_SKILL_MAX_QUEUE_ACK": lambda a, q, now: q.longest_wait_ms(now) // 1000,
    "IDX_COUNT_20S_CALL_FOR_5MIN": lambda a, q, now: q.connected_in_20s,
    "IDX_COUNT_REAL_AGENT_SIGN_IN": lambda a, q, now: a.counts.signed_in,
    "IDX_COUNT_REAL_AGENT_CONNECT": lambda a, q, now: a.counts.talking,
    "IDX_COUNT_REAL_AGENT_SET_IDLE": lambda a, q, now: a.counts.idle,
    "IDX_COUNT_REAL_AGENT_USABLE": lambda a, q, now: a.counts.usable,
    "IDX_COUNT_REAL_AGENT_SET_BUSY": lambda a, q, now: a.counts.set_busy,
    "IDX_COUNT_REAL_AGENT_ACW": lambda a, q, now: a.counts.working,
    "IDX_COUNT_REAL_AGENT_REST": lambda a, q, now: a.counts.rest,
    "IDX_COUNT_REAL_AGENT_STUDY": lambda a, q, now: a.counts.studying,
}
