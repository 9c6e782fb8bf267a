"""The call's track: its steps and its legs (``docs/calls.md``, The call's track).

A *step* is one call event as the store keeps it for the track (what happened, when, and
the queue, agent and reasons it names); the store keeps every step of a call, once per
event id, for as long as it keeps the call. A *leg* is one device the call went through,
in order: the IVR (the VDN before any queue or agent), a skill queue, an agent; one leg
is one item of the vendor's ``vdn/querycalltracedetail`` (its ``tbilllog``, a CDR leg).

The legs are a pure function of the set of steps (:func:`legs`): the steps are taken in
the order of ``at``, then of their kind (arrive, queue, transfer, offer, answer, end),
then of their event id, so that events arriving in any order, in any batches, give the
same legs. The rules:

- the call ends at its first ``end`` or ``abandon`` in that order (the end is final, as
  in :mod:`ccms.domain.call`); steps after it are statements about a call already ended
  and are not part of the track;
- the IVR leg runs from the call's first step to its first queue or agent; it is left
  out when that takes no time (the call went to a queue as it entered);
- ``queue`` (and ``transfer`` with a queue alone) opens a queue leg, unless the call is
  already waiting in that queue (a repeated ``queue`` continues the leg);
- ``offer`` (and ``transfer`` to an agent) opens an agent leg ringing at once;
- ``answer`` answers the agent leg ringing (by the agent named, or the one it rings at);
  an answer by another agent, or with no agent leg ringing, opens an agent leg answered
  at once; a second answer by the talking agent changes nothing;
- a leg ends where the next begins, or at the end. Why it left (``LeaveReason``, the
  vendor's table "Reasons for leaving a device"): 28 for a transfer to a queue, 17 for a
  transfer to an agent, 5 (agent no answer) for an agent leg left unanswered, the end's
  leave reason (15 for ``end``, 89 for ``abandon`` by default) for the last leg, else 0.
  Why the next one entered (``EnterReason``): 28 after a transfer to a queue, else 0.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import NamedTuple

from ccms.domain.call import (
    ENTER_NORMAL,
    ENTER_TRANSFERRED_TO_QUEUE,
    USER_HANGS_UP_BEFORE_ANSWER,
    USER_RELEASES,
    CallEvent,
    CallKind,
    CallRecord,
)

# The vendor's leave reasons used for legs (besides the end's).
LEAVE_NORMAL = 0
LEAVE_AGENT_NO_ANSWER = 5
LEAVE_TRANSFERRED_OUT = 17
LEAVE_TRANSFERRED_TO_QUEUE = 28
LAST_LEG = -1  # callIdNum of the last leg of an ended call

# How a step is stored (``call_step.kind``) and ordered among steps of the same ``at``.
KINDS: tuple[CallKind, ...] = (
    CallKind.ARRIVE,
    CallKind.QUEUE,
    CallKind.TRANSFER,
    CallKind.OFFER,
    CallKind.ANSWER,
    CallKind.END,
    CallKind.ABANDON,
)
_RANK = {kind: min(n, KINDS.index(CallKind.END)) for n, kind in enumerate(KINDS)}
_ENDS = (CallKind.END, CallKind.ABANDON)


class Device(enum.IntEnum):
    """The vendor's device types (``deviceType``) a leg can be at."""

    QUEUE = 1
    AGENT = 2
    IVR = 3


class CallStep(NamedTuple):
    """One call event, as the track keeps it."""

    event_id: str
    at: int
    kind: CallKind
    skill_id: int | None = None
    work_no: int | None = None
    leave_reason: int | None = None
    release_cause: int | None = None


def step_of(event: CallEvent) -> CallStep:
    return CallStep(
        event.event_id, event.at, event.kind, event.skill_id, event.work_no,
        event.leave_reason, event.release_cause,
    )  # fmt: skip


def order(step: CallStep) -> tuple[int, int, str]:
    """The order of steps: by ``at``, then kind, then event id (a total order)."""
    return step.at, _RANK[step.kind], step.event_id


class Leg(NamedTuple):
    """One device the call went through; times in ms, ``None``: not (yet) reached."""

    number: int  # 1, 2, ... in order; LAST_LEG for the last leg of an ended call
    device: Device
    device_no: int  # the skill queue, the agent, or 0 (the IVR; an agent not named)
    skill_id: int | None  # the skill queue the call is handled for in this leg
    entered_at: int
    rang_at: int | None  # agent legs: when it began ringing
    answered_at: int | None  # agent legs: when the agent answered
    left_at: int | None  # None: the call is still there
    enter_reason: int
    leave_reason: int | None  # None while the call is still there
    release_cause: int | None  # the last leg of an ended call only


class _Open(NamedTuple):
    device: Device
    device_no: int
    skill_id: int | None
    entered_at: int
    rang_at: int | None
    answered_at: int | None
    enter_reason: int

    def left(self, at: int, reason: int, cause: int | None = None) -> Leg:
        return Leg(
            0, self.device, self.device_no, self.skill_id, self.entered_at, self.rang_at,
            self.answered_at, max(at, self.entered_at), self.enter_reason, reason, cause,
        )  # fmt: skip


def _leave_reason(leg: _Open) -> int:
    """Why a leg is left for the next queue or agent, when no transfer says."""
    if leg.device is Device.AGENT:
        return LEAVE_AGENT_NO_ANSWER if leg.answered_at is None else LEAVE_TRANSFERRED_OUT
    return LEAVE_NORMAL


def _after(current: _Open, step: CallStep) -> tuple[_Open, int | None]:
    """The leg the call is in after ``step`` (not an end), and why it left ``current``
    (``None``: the step continues ``current``)."""
    kind, at, skill = step.kind, step.at, current.skill_id
    if kind is CallKind.ARRIVE:
        return current, None
    if kind is CallKind.QUEUE or (kind is CallKind.TRANSFER and step.work_no is None):
        if kind is CallKind.QUEUE:
            if current.device is Device.QUEUE and current.device_no == step.skill_id:
                return current, None  # already waiting in that queue
            reason, enter = _leave_reason(current), ENTER_NORMAL
        else:
            reason, enter = LEAVE_TRANSFERRED_TO_QUEUE, ENTER_TRANSFERRED_TO_QUEUE
        queue = step.skill_id or 0
        return _Open(Device.QUEUE, queue, step.skill_id, at, None, None, enter), reason
    if kind in (CallKind.OFFER, CallKind.TRANSFER):
        reason = LEAVE_TRANSFERRED_OUT if kind is CallKind.TRANSFER else _leave_reason(current)
        via = step.skill_id if step.skill_id is not None else skill
        return _Open(Device.AGENT, step.work_no or 0, via, at, at, None, ENTER_NORMAL), reason
    # ANSWER: the agent ringing (the one named, or the one it rings at), else a new leg
    if current.device is Device.AGENT and step.work_no in (None, current.device_no):
        if current.answered_at is None:
            return current._replace(answered_at=at), None
        return current, None  # a second answer by the talking agent
    agent = _Open(Device.AGENT, step.work_no or 0, skill, at, at, at, ENTER_NORMAL)
    return agent, _leave_reason(current)


def legs(steps: Iterable[CallStep]) -> list[Leg]:
    """The legs of a call from its steps (each event id once), in order; ``[]`` without
    steps. The same set of steps, in any order, gives the same legs."""
    ordered = sorted(steps, key=order)
    if not ordered:
        return []
    done: list[Leg] = []
    current = _Open(Device.IVR, 0, None, ordered[0].at, None, None, ENTER_NORMAL)
    for step in ordered:
        if step.kind in _ENDS:
            default = USER_RELEASES if step.kind is CallKind.END else USER_HANGS_UP_BEFORE_ANSWER
            why = step.leave_reason if step.leave_reason is not None else default
            done.append(current.left(step.at, why, step.release_cause))
            numbered = [leg._replace(number=n) for n, leg in enumerate(done, 1)]
            return [*numbered[:-1], numbered[-1]._replace(number=LAST_LEG)]
        nxt, left_for = _after(current, step)
        instant = current.device is Device.IVR and step.at <= current.entered_at
        if left_for is not None and not instant:  # a first IVR leg of no time is left out
            done.append(current.left(step.at, left_for))
        current = nxt
    numbered = [leg._replace(number=n) for n, leg in enumerate(done, 1)]
    last = Leg(len(done) + 1, current.device, current.device_no, current.skill_id,
               current.entered_at, current.rang_at, current.answered_at, None,
               current.enter_reason, None, None)  # fmt: skip
    return [*numbered, last]


class CallTrack(NamedTuple):
    """A call and its steps, as the store reads them together."""

    call: CallRecord
    steps: tuple[CallStep, ...]

    @property
    def legs(self) -> list[Leg]:
        return legs(self.steps)
