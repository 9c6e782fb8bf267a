"""Agents, their CTI events, and how an event changes an agent.

This is the heart of ccms and it is pure: the store loads an :class:`AgentRecord`, calls
:func:`apply_event` for each event in arrival order, and writes back what it returns.
Every store backend shares this code, so they cannot disagree on the rules of
``DECISIONS.md``:

- each field takes its value from the newest event that carries it, by ``at``; among
  events with equal ``at`` the one that arrived last wins;
- a status event older than the current status start is kept in the history but does not
  change the current status;
- a change from signed out (0) or from an unknown agent to any other status is a sign-in
  and sets the sign-in time; a change to 0 is a sign-out.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ccms.domain.status import SIGNED_OUT_LOGIN_DATE, STATUS_BY_CTI, CtiStatus

CC_ID_RANGE = (1, 65535)
VDN_RANGE = (1, 5000)
WORK_NO_RANGE = (101, 59999)
LARGE_WORK_NO_RANGE = (70000, 999999)
SKILL_ID_RANGE = (1, 10000)
REASON_RANGE = (0, 65535)


def as_int(value: object) -> int | None:
    """An identifier as the vendor's Java stack reads it: a JSON integer or a string of
    ASCII decimal digits (``"101"``). Booleans, floats, ``null`` and anything else: ``None``.
    """
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class AgentKey(NamedTuple):
    cc_id: int
    vdn: int
    work_no: int


class AgentEvent(NamedTuple):
    """One CTI event about one agent, as validated by the intake.

    ``None`` means "not carried by this event" for every optional field except
    ``phone_number``, where the explicit ``has_phone_number`` says whether the event
    carried the field (a CTI may clear a phone number by sending ``null``).
    ``source`` (the feed that said it, ``asterisk-ami``) and ``raw_state`` (the feed's own
    words for the state, ``sales: Status=6 InCall=0``) explain an event; they change
    nothing in the agent's record.
    """

    event_id: str
    cc_id: int
    vdn: int
    work_no: int
    at: int
    cti_status: int | None = None
    reason: int | None = None
    name: str | None = None
    phone_number: str | None = None
    has_phone_number: bool = False
    media_type: int | None = None
    skills: tuple[int, ...] | None = None
    calls: tuple[str, ...] | None = None
    source: str | None = None
    raw_state: str | None = None

    @property
    def key(self) -> AgentKey:
        return AgentKey(self.cc_id, self.vdn, self.work_no)


class AgentRecord(NamedTuple):
    """What the store keeps about one agent, with the time each field was last set.

    A named tuple rather than a dataclass: a store builds one per row read and the intake
    one per event applied, and tuple construction and ``_replace`` are several times
    cheaper than a frozen dataclass's.

    ``status_at`` is the start of the current CTI status (``None`` for an agent
    provisioned by attributes only, whose status start is unknown; its status then
    counts from ``created_at``). ``status_event_at`` is the time of the newest status
    event applied, which is later than ``status_at`` when a CTI repeats a status.
    ``login_at`` is ``None`` while signed out.
    """

    cc_id: int
    vdn: int
    work_no: int
    created_at: int
    cti_status: int = CtiStatus.SIGNED_OUT
    status_at: int | None = None
    status_event_at: int | None = None
    prev_status: int | None = None
    prev_duration_ms: int | None = None
    login_at: int | None = None
    reason: int | None = None
    reason_at: int | None = None
    name: str | None = None
    name_at: int | None = None
    phone_number: str | None = None
    phone_at: int | None = None
    media_type: int = 0
    media_at: int | None = None
    skills: tuple[int, ...] = ()
    skills_at: int | None = None
    calls: tuple[str, ...] = ()
    calls_at: int | None = None

    @property
    def key(self) -> AgentKey:
        return AgentKey(self.cc_id, self.vdn, self.work_no)

    @property
    def state_start(self) -> int:
        return self.created_at if self.status_at is None else self.status_at


class AgentState(NamedTuple):
    """An agent's current status without its attributes: what the monitoring views list.

    A store reads it from a few columns, so a page of a VDN or a batch of thousands of
    agents costs a fraction of full records. ``state_start`` is
    :attr:`AgentRecord.state_start`; the other fields are those of :class:`AgentRecord`.
    """

    work_no: int
    cti_status: int
    state_start: int
    prev_status: int | None = None
    prev_duration_ms: int | None = None
    login_at: int | None = None
    reason: int | None = None


class AgentDetail(NamedTuple):
    """What ``agent/agentbyworkno`` answers of an agent: its status and the attributes
    shown, without the times each field was set, its skills and its calls.

    A store reads it from eight columns instead of a full record's 22 (two of them JSON):
    the query path's point read, about 0.6 of the time of ``Store.get_agent``'s (5.3 µs
    against 8.7 on SQLite and CPython 3.11, ``benchmarks/RESULTS.md``). The fields are
    those of :class:`AgentRecord`, with ``state_start`` its
    :attr:`AgentRecord.state_start`.
    """

    work_no: int
    vdn: int
    cti_status: int
    state_start: int
    login_at: int | None
    name: str | None
    phone_number: str | None
    media_type: int


def detail_of(record: AgentRecord) -> AgentDetail:
    """The :class:`AgentDetail` of a full record."""
    return AgentDetail(
        record.work_no, record.vdn, record.cti_status, record.state_start, record.login_at,
        record.name, record.phone_number, record.media_type,
    )  # fmt: skip


class SkillMember(NamedTuple):
    """An agent in a skill queue (whatever its status), with its CTI status."""

    skill_id: int
    work_no: int
    cti_status: int


def state_of(record: AgentRecord) -> AgentState:
    """The :class:`AgentState` of a full record."""
    return AgentState(
        record.work_no,
        record.cti_status,
        record.state_start,
        record.prev_status,
        record.prev_duration_ms,
        record.login_at,
        record.reason,
    )


class StatusChange(NamedTuple):
    """A history entry: a status event, applied to the current status or not, with the
    feed's ``source`` and ``raw_state`` that say why (``None`` when the event had none).
    A named tuple: the intake builds one per status event."""

    event_id: str
    cc_id: int
    vdn: int
    work_no: int
    at: int
    cti_status: int
    reason: int | None
    applied: bool
    source: str | None = None
    raw_state: str | None = None


class AgentHistory(NamedTuple):
    """An agent with its newest status events, read together (one read transaction):
    ``history`` newest first, and ``cause`` the newest status event applied to the current
    status (``None`` when none is kept: an agent provisioned by attributes only)."""

    record: AgentRecord
    history: list[StatusChange]
    cause: StatusChange | None


def _newer(at: int, field_at: int | None) -> bool:
    return field_at is None or at >= field_at


def apply_event(
    record: AgentRecord | None, event: AgentEvent
) -> tuple[AgentRecord, StatusChange | None]:
    """Apply one event to an agent (``None``: not known yet).

    Returns the new record and, when the event carries a status, its history entry.
    """
    fresh = record is None
    if record is None:
        record = AgentRecord(event.cc_id, event.vdn, event.work_no, created_at=event.at)
    changes: dict[str, Any] = {}
    at = event.at
    if event.name is not None and _newer(at, record.name_at):
        changes["name"] = event.name
        changes["name_at"] = at
    if event.has_phone_number and _newer(at, record.phone_at):
        changes["phone_number"] = event.phone_number
        changes["phone_at"] = at
    if event.media_type is not None and _newer(at, record.media_at):
        changes["media_type"] = event.media_type
        changes["media_at"] = at
    if event.skills is not None and _newer(at, record.skills_at):
        changes["skills"] = event.skills
        changes["skills_at"] = at
    if event.calls is not None and _newer(at, record.calls_at):
        changes["calls"] = event.calls
        changes["calls_at"] = at
    history: StatusChange | None = None
    if event.cti_status is not None:
        applied = _newer(at, record.status_event_at)
        history = StatusChange(
            event.event_id,
            event.cc_id,
            event.vdn,
            event.work_no,
            at,
            event.cti_status,
            event.reason,
            applied,
            event.source,
            event.raw_state,
        )
        if applied:
            _change_status(record, event, changes, fresh)
    elif event.reason is not None and _newer(at, record.reason_at):
        changes["reason"] = event.reason
        changes["reason_at"] = at
    if changes:
        record = _replaced(record, changes)
    return record, history


_FIELD_INDEX = {name: index for index, name in enumerate(AgentRecord._fields)}


def _replaced(record: AgentRecord, changes: dict[str, Any]) -> AgentRecord:
    """``record._replace(**changes)`` without its keyword round trip (a few fields of 22
    change per event: this is the intake's most frequent call)."""
    values = list(record)
    for name, value in changes.items():
        values[_FIELD_INDEX[name]] = value
    return tuple.__new__(AgentRecord, values)


def _change_status(
    record: AgentRecord, event: AgentEvent, changes: dict[str, Any], fresh: bool
) -> None:
    new = event.cti_status
    assert new is not None
    at = event.at
    # The reason code belongs to the status it came with: a new status clears it, unless
    # a newer event (a reason-only one) set it since.
    if _newer(at, record.reason_at):
        changes["reason"] = event.reason
        changes["reason_at"] = at
    changes["status_event_at"] = at
    if new == record.cti_status and record.status_at is not None:
        return  # the same status again: not a change, the state keeps its start
    if not fresh:
        changes["prev_status"] = record.cti_status
        changes["prev_duration_ms"] = max(0, at - record.state_start)
    changes["cti_status"] = new
    changes["status_at"] = at
    was_signed_in = record.cti_status != CtiStatus.SIGNED_OUT
    if new == CtiStatus.SIGNED_OUT:
        changes["login_at"] = None
    elif not was_signed_in:
        changes["login_at"] = at


def login_date(record: AgentRecord | AgentState | AgentDetail) -> int:
    """``loginDate``: the current sign-in time in ms, or the vendor's placeholder."""
    return SIGNED_OUT_LOGIN_DATE if record.login_at is None else record.login_at


def current_state_seconds(record: AgentRecord | AgentState | AgentDetail, now_ms: int) -> int:
    """``currentStateTime``: whole seconds in the current status, never negative."""
    return max(0, (now_ms - record.state_start) // 1000)


def status_of(record: AgentRecord | AgentState | AgentDetail) -> int:
    return STATUS_BY_CTI[record.cti_status]
