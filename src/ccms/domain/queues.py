"""Skill-queue figures over calls (``docs/calls.md``, skill/currentcallstateinfo): the
definition, as a recount over call records, that a store's one-query aggregate must equal.

The window is the current 5 minutes: from the last moment whose minutes end in 0 or 5
(UTC) to now. A call counts in the skill queue it is in, or was last in; each figure
counts the calls whose moment of that kind falls in the window:

- ``calls``: entered a queue (their first queueing) in the window;
- ``connected``: answered in the window; ``connected_in_20s``: of those, answered within
  20 s of their first queueing;
- ``abandoned``: ended in the window without being answered; ``ended``: ended in the window;
- ``ivr_ms``: for the calls entered in the window, the time from entering the VDN to the
  queue (in the IVR).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ccms.domain.call import CallRecord, CallState

WINDOW_MS = 300_000
SERVICE_LEVEL_MS = 20_000


def window_start(now_ms: int) -> int:
    """The start of the current 5 minutes (minutes ending in 0 or 5, UTC)."""
    return now_ms // WINDOW_MS * WINDOW_MS


def moved_at(r: CallRecord) -> int:
    """The latest moment of a call: no figure of a window after it counts the call (a
    store keeps it in an index, so that a window reads only the calls that moved in it)."""
    moments = (r.arrived_at, r.last_at, r.queued_at, r.offered_at, r.answered_at, r.ended_at)
    return max(m for m in moments if m is not None)


class QueueWindow(NamedTuple):
    """The figures of one skill queue since ``start``."""

    skill_id: int
    start: int
    calls: int = 0
    connected: int = 0
    abandoned: int = 0
    ended: int = 0
    connected_in_20s: int = 0
    ivr_ms: int = 0


def _since(moment: int | None, start: int) -> bool:
    return moment is not None and moment >= start


def recount(
    records: Iterable[CallRecord], skill_ids: Sequence[int], start: int
) -> list[QueueWindow]:
    """The figures of each of ``skill_ids`` (in that order, each once) over ``records``."""
    wanted = list(dict.fromkeys(skill_ids))
    counts = {skill: [0, 0, 0, 0, 0, 0] for skill in wanted}
    for r in records:
        row = counts.get(r.skill_id) if r.skill_id is not None else None
        if row is None:
            continue
        if _since(r.queued_at, start):
            row[0] += 1
            row[5] += max(0, (r.queued_at or 0) - r.arrived_at)
        if _since(r.answered_at, start):
            row[1] += 1
            if r.queued_at is not None and (r.answered_at or 0) - r.queued_at <= SERVICE_LEVEL_MS:
                row[4] += 1
        if _since(r.ended_at, start):
            row[3] += 1
            if r.answered_at is None:
                row[2] += 1
    return [QueueWindow(skill, start, *counts[skill]) for skill in wanted]


class BoardQueue(NamedTuple):
    """One skill queue now (the live stream's queue figures, ``docs/stream.md``): the calls
    waiting in it, since when the longest of them waits there (its current queueing; None:
    none waits), and its figures in the current window."""

    window: QueueWindow
    waiting: int = 0
    waiting_since: int | None = None


class QueueBoard(NamedTuple):
    """The skill queues of a VDN now, by skill id: those its agents are signed in to and
    those its live calls are in. ``has_calls``: the store keeps a call of the VDN (live or
    a record); a wallboard shows no queue figures before."""

    has_calls: bool
    queues: tuple[BoardQueue, ...]


def board_recount(
    records: Iterable[CallRecord], agent_skills: Iterable[int], start: int
) -> QueueBoard:
    """The definition a store's :meth:`queue_board` must equal, over the VDN's calls."""
    records = list(records)
    waiting: dict[int, list[int]] = {}
    for r in records:
        if r.ended_at is None and r.state == CallState.QUEUED and r.skill_id is not None:
            waiting.setdefault(r.skill_id, []).append(r.state_at)
    skills = sorted(set(agent_skills) | set(waiting))
    windows = recount(records, skills, start)
    queues = tuple(
        BoardQueue(w, len(found), min(found))
        if (found := waiting.get(w.skill_id))
        else BoardQueue(w)
        for w in windows
    )
    return QueueBoard(bool(records), queues)
