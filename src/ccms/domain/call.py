"""Calls, their events, and how an event changes a call (``docs/calls.md``).

Pure, like :mod:`ccms.domain.agent`: a store loads a :class:`CallRecord`, calls
:func:`apply_call_event` for each call event of a batch in arrival order, and writes back
what it returns. The rules:

- a call is created by its first event, whatever its kind; it entered the VDN at the
  earliest ``at`` of its events (``arrivedAt``);
- the attributes (numbers, access code, media, call type, direction) come from ``arrive``
  events only: the newest one (by ``at``; equal ``at``: the last to arrive) sets those it
  carries, an older one sets none;
- the milestones are the earliest moment of their kind, whatever the order of arrival:
  ``queuedAt`` (first ``queue``, or ``transfer`` to a queue), ``offeredAt`` (first
  ``offer``, or ``transfer`` to an agent), ``answeredAt`` (first ``answer``);
- the state (where the call is now: in the VDN, queued in a skill queue, ringing at an
  agent, talking to an agent, ended) follows the newest state event by ``at`` (equal
  ``at``: the last to arrive); an older one fills its milestone and changes nothing else;
- ``end`` and ``abandon`` end the call whatever their ``at``; an ended call stays ended
  (a second end changes nothing but a milestone).
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

CALL_ID_MAX = 20
# ``<start>-<sequence>``: a start of 9 to 13 digits (unix seconds; the vendor also prints
# milliseconds), a sequence of 1 to 10 digits, at most 20 characters in all.
CALL_ID = re.compile(r"[0-9]{9,13}-[0-9]{1,10}")
LEAVE_REASON_RANGE = (0, 255)
RELEASE_CAUSE_RANGE = (0, 65535)
CALL_TYPE_RANGE = (0, 255)
SUB_MEDIA_TYPE_RANGE = (-1, 99)
NO_SUB_MEDIA_TYPE = -1
PHONE = 5  # the default media type of a call: a voice call

# The vendor's leave reasons (its table "Reasons for leaving a device") used as defaults.
USER_RELEASES = 15
USER_HANGS_UP_BEFORE_ANSWER = 89
ENTER_NORMAL = 0
ENTER_TRANSFERRED_TO_QUEUE = 28

# The vendor's inbound call types; every other call type is outbound (its call-type table).
INBOUND_CALL_TYPES = frozenset({0, 1, 5, 13, 15, 17, 21, 30, 32, 33, 46, 80, 82, 92})


def valid_call_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= CALL_ID_MAX
        and CALL_ID.fullmatch(value) is not None
    )


class CallKind(enum.StrEnum):
    """What a call event says happened (the wire's ``callEvent``)."""

    ARRIVE = "arrive"  # entered the VDN
    QUEUE = "queue"  # entered a skill queue
    OFFER = "offer"  # rings at an agent
    ANSWER = "answer"  # an agent answered
    TRANSFER = "transfer"  # moved to another skill queue or agent
    END = "end"  # released
    ABANDON = "abandon"  # the caller hung up before an agent answered


class CallState(enum.IntEnum):
    """Where a call is now."""

    VDN = 0  # in the VDN (IVR, routing), in no queue yet
    QUEUED = 1
    RINGING = 2
    TALKING = 3
    ENDED = 4


class CallKey(NamedTuple):
    cc_id: int
    vdn: int
    call_id: str


class CallEvent(NamedTuple):
    """One event about one call, as validated by the intake; ``None``: not carried."""

    event_id: str
    cc_id: int
    vdn: int
    call_id: str
    at: int
    kind: CallKind
    caller_no: str | None = None
    callee_no: str | None = None
    access_code: str | None = None
    media_type: int | None = None
    sub_media_type: int | None = None
    call_type: int | None = None
    call_in: bool | None = None
    skill_id: int | None = None
    work_no: int | None = None
    leave_reason: int | None = None
    release_cause: int | None = None

    @property
    def key(self) -> CallKey:
        return CallKey(self.cc_id, self.vdn, self.call_id)


class CallRecord(NamedTuple):
    """What the store keeps about one call (times in ms since the epoch)."""

    cc_id: int
    vdn: int
    call_id: str
    arrived_at: int
    caller_no: str = ""
    callee_no: str = ""
    access_code: str = ""
    media_type: int = PHONE
    sub_media_type: int = NO_SUB_MEDIA_TYPE
    call_type: int = 0
    call_in: bool = True
    attrs_at: int | None = None  # the newest arrive event applied
    state: CallState = CallState.VDN
    state_at: int = 0  # when the current state began
    last_at: int = 0  # the newest state event applied
    skill_id: int | None = None  # the current (or last) skill queue
    work_no: int | None = None  # the current (or last) agent
    enter_reason: int = ENTER_NORMAL  # why the call entered its current device
    devices: int = 0  # queues and agents the call went through
    queued_at: int | None = None
    offered_at: int | None = None
    answered_at: int | None = None
    ended_at: int | None = None
    leave_reason: int | None = None
    release_cause: int | None = None

    @property
    def key(self) -> CallKey:
        return CallKey(self.cc_id, self.vdn, self.call_id)

    @property
    def live(self) -> bool:
        return self.state is not CallState.ENDED

    @property
    def abandoned(self) -> bool:
        """Ended without being answered."""
        return self.state is CallState.ENDED and self.answered_at is None

    def wait_ms(self, now_ms: int) -> int:
        """Time in queue: from the first queueing to the first offer (else the answer,
        else the end, else ``now_ms``); 0 for a call never queued."""
        if self.queued_at is None:
            return 0
        stops = [t for t in (self.offered_at, self.answered_at, self.ended_at) if t is not None]
        return max(0, (min(stops) if stops else now_ms) - self.queued_at)

    def talk_ms(self, now_ms: int) -> int:
        """Time since the answer, to the end (or ``now_ms``); 0 for a call not answered."""
        if self.answered_at is None:
            return 0
        end = self.ended_at if self.ended_at is not None else now_ms
        return max(0, end - self.answered_at)


def call_in_of(call_type: int) -> bool:
    """The direction the vendor's call-type table gives a call type."""
    return call_type in INBOUND_CALL_TYPES


def _earliest(current: int | None, at: int) -> int:
    return at if current is None or at < current else current


def _attributes(record: CallRecord, event: CallEvent) -> CallRecord:
    if record.attrs_at is not None and event.at < record.attrs_at:
        return record  # an older arrive: the newer one's attributes stand
    fields: dict[str, object] = {"attrs_at": event.at}
    for name in ("caller_no", "callee_no", "access_code", "media_type", "sub_media_type"):
        value = getattr(event, name)
        if value is not None:
            fields[name] = value
    if event.call_type is not None:
        fields["call_type"] = event.call_type
        fields["call_in"] = call_in_of(event.call_type)
    if event.call_in is not None:
        fields["call_in"] = event.call_in
    return record._replace(**fields)  # type: ignore[arg-type]


def _milestones(record: CallRecord, event: CallEvent) -> CallRecord:
    kind, at = event.kind, event.at
    fields: dict[str, object] = {}
    to_agent = event.work_no is not None
    if kind is CallKind.QUEUE or (kind is CallKind.TRANSFER and not to_agent):
        fields["queued_at"] = _earliest(record.queued_at, at)
    if kind is CallKind.OFFER or (kind is CallKind.TRANSFER and to_agent):
        fields["offered_at"] = _earliest(record.offered_at, at)
    if kind is CallKind.ANSWER:
        fields["answered_at"] = _earliest(record.answered_at, at)
    return record._replace(**fields) if fields else record  # type: ignore[arg-type]


def _move(record: CallRecord, event: CallEvent) -> CallRecord:
    """The state the event puts the call in (it is the newest state event)."""
    kind, at = event.kind, event.at
    if kind is CallKind.ARRIVE:
        return record
    if kind in (CallKind.END, CallKind.ABANDON):
        default = USER_RELEASES if kind is CallKind.END else USER_HANGS_UP_BEFORE_ANSWER
        reason = event.leave_reason if event.leave_reason is not None else default
        return record._replace(
            state=CallState.ENDED, state_at=at, last_at=max(at, record.last_at), ended_at=at,
            leave_reason=reason, release_cause=event.release_cause,
        )  # fmt: skip
    if kind is CallKind.QUEUE or (kind is CallKind.TRANSFER and event.work_no is None):
        state = CallState.QUEUED
        enter = ENTER_TRANSFERRED_TO_QUEUE if kind is CallKind.TRANSFER else ENTER_NORMAL
        return record._replace(
            state=state, state_at=at, last_at=at, skill_id=event.skill_id,
            enter_reason=enter, devices=record.devices + 1,
        )  # fmt: skip
    if kind in (CallKind.OFFER, CallKind.TRANSFER):
        skill = event.skill_id if event.skill_id is not None else record.skill_id
        return record._replace(
            state=CallState.RINGING, state_at=at, last_at=at, work_no=event.work_no,
            skill_id=skill, enter_reason=ENTER_NORMAL, devices=record.devices + 1,
        )  # fmt: skip
    # ANSWER: by the agent named, else the one it rang at
    work_no = event.work_no if event.work_no is not None else record.work_no
    devices = record.devices + (work_no != record.work_no or record.state is not CallState.RINGING)
    return record._replace(
        state=CallState.TALKING, state_at=at, last_at=at, work_no=work_no, devices=devices
    )


def apply_call_event(prev: CallRecord | None, event: CallEvent) -> CallRecord:
    """The call after ``event`` (``prev`` is ``None`` for a call not known before)."""
    if prev is None:
        record = CallRecord(
            event.cc_id, event.vdn, event.call_id, event.at, state_at=event.at, last_at=event.at
        )
    else:
        record = prev
        if event.at < record.arrived_at:
            record = record._replace(arrived_at=event.at)
            if record.state is CallState.VDN and record.last_at > event.at:
                record = record._replace(state_at=event.at)
    if event.kind is CallKind.ARRIVE:
        return _attributes(record, event)
    record = _milestones(record, event)
    if event.kind in (CallKind.END, CallKind.ABANDON):
        return record if record.state is CallState.ENDED else _move(record, event)
    if record.state is CallState.ENDED or event.at < record.last_at:
        return record  # out of order, or after the end: kept as a milestone only
    return _move(record, event)


def plan_calls(
    events: list[CallEvent], calls: dict[CallKey, CallRecord]
) -> dict[CallKey, CallRecord]:
    """Apply ``events`` in arrival order to ``calls`` (the known calls among the events'
    keys); the calls whose record changed, after the batch."""
    current: dict[CallKey, CallRecord] = {}
    for event in events:
        key = event.key
        prev = current.get(key) or calls.get(key)
        current[key] = apply_call_event(prev, event)
    return {k: r for k, r in current.items() if r != calls.get(k)}


DAY_MS = 86_400_000


def kept_from(now_ms: int, days: int) -> int:
    """The oldest moment whose call records are kept: 00:00 UTC of the first of the
    ``days`` days kept (today is the last; 2: yesterday and today)."""
    return (now_ms // DAY_MS - (days - 1)) * DAY_MS


def last_day_end(now_ms: int) -> int:
    """The last millisecond of today, UTC."""
    return (now_ms // DAY_MS + 1) * DAY_MS - 1


class RecordQuery(NamedTuple):
    """A page of the call records of a VDN: ended calls of one direction that entered
    the VDN from ``begin`` to ``end`` (ms, both included), optionally of one calling or
    called number, in the order they entered (then by call id), ``offset`` skipped."""

    begin: int
    end: int
    call_in: bool
    caller_no: str | None = None
    callee_no: str | None = None
    offset: int = 0
    limit: int = 100
