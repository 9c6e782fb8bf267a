"""Validation of ``POST /ccms/v1/events`` bodies into domain events.

A batch is atomic: the first invalid event rejects the whole batch with a message that
names the event's index and field (``events[3].agentId must be ...``). Text fields refuse
the C0 control characters (U+0000 to U+001F): PostgreSQL cannot store NUL, and no name,
phone number or id holds a tab or a line break. ``source`` and ``rawState`` (which feed
said it, and the feed's own words for the state: an operator's "why") follow the same rule.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ccms.domain.agent import (
    CC_ID_RANGE,
    LARGE_WORK_NO_RANGE,
    REASON_RANGE,
    SKILL_ID_RANGE,
    VDN_RANGE,
    WORK_NO_RANGE,
    AgentEvent,
    as_int,
)
from ccms.domain.call import CallEvent
from ccms.domain.media import MEDIA_TYPE_MAX
from ccms.errors import InvalidParameterError
from ccms.ingest.calls import is_call_event, parse_call_event

MAX_EVENT_ID = 128
MAX_NAME = 128
MAX_PHONE = 32
MAX_CALL_ID = 32
MAX_SOURCE = 64
MAX_RAW_STATE = 512
MAX_SKILLS = 1000
MAX_CALLS = 100
MAX_AT = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_CONTROL = re.compile(r"[\x00-\x1f]")
_CC_LO, _CC_HI = CC_ID_RANGE
_VDN_LO, _VDN_HI = VDN_RANGE
_WORK_LO, _WORK_HI = WORK_NO_RANGE
KNOWN_FIELDS = frozenset(
    {"eventId", "ccId", "vdn", "agentId", "at", "ctiStatus", "reason", "name", "phoneNumber",
     "mediaType", "skills", "calls", "source", "rawState"}
)  # fmt: skip


class _CallEventFound(Exception):
    """An agent-event parse met a call event: the batch is parsed again, mixed."""


class Batch(NamedTuple):
    """A valid intake batch: its agent events and its call events, each in arrival order."""

    agents: list[AgentEvent]
    calls: list[CallEvent]
    call_index: list[int]  # the position of each call event in the batch


def _int(event: dict[str, Any], index: int, name: str, lo: int, hi: int) -> int:
    raw = event[name]
    value = raw if type(raw) is int else as_int(raw)  # the common case first: a JSON integer
    if value is None or not lo <= value <= hi:
        raise InvalidParameterError(f"events[{index}].{name} must be an integer from {lo} to {hi}")
    return value


def _required_int(event: dict[str, Any], index: int, name: str, lo: int, hi: int) -> int:
    if name not in event:
        raise InvalidParameterError(f"events[{index}].{name} is required")
    return _int(event, index, name, lo, hi)


def _optional_int(event: dict[str, Any], index: int, name: str, lo: int, hi: int) -> int | None:
    if name not in event:
        return None
    return _int(event, index, name, lo, hi)


def _no_control(value: str, field: str) -> None:
    # A control character is never printable: the common case is one C call.
    if not value.isprintable() and _CONTROL.search(value):
        raise InvalidParameterError(
            f"{field} must not contain control characters (U+0000 to U+001F)"
        )


def _text(value: object, index: int, name: str, limit: int, allow_empty: bool) -> str:
    if not isinstance(value, str) or len(value) > limit or (not value and not allow_empty):
        low = 0 if allow_empty else 1
        raise InvalidParameterError(
            f"events[{index}].{name} must be a string of {low} to {limit} characters"
        )
    _no_control(value, f"events[{index}].{name}")
    return value


def _work_no(event: dict[str, Any], index: int, large_work_numbers: bool) -> int:
    if "agentId" not in event:
        raise InvalidParameterError(f"events[{index}].agentId is required")
    work_no = as_int(event["agentId"])
    lo, hi = WORK_NO_RANGE
    big_lo, big_hi = LARGE_WORK_NO_RANGE
    if work_no is None or (
        not lo <= work_no <= hi and not (large_work_numbers and big_lo <= work_no <= big_hi)
    ):
        extra = f" or from {big_lo} to {big_hi}" if large_work_numbers else ""
        raise InvalidParameterError(
            f"events[{index}].agentId must be an integer from {lo} to {hi}{extra}"
        )
    return work_no


def _skills(raw: object, index: int) -> tuple[int, ...]:
    s_lo, s_hi = SKILL_ID_RANGE
    if isinstance(raw, list) and len(raw) <= MAX_SKILLS:
        values = [as_int(v) for v in raw]
        if all(v is not None and s_lo <= v <= s_hi for v in values):
            return tuple(sorted({v for v in values if v is not None}))
    raise InvalidParameterError(
        f"events[{index}].skills must be a list of at most {MAX_SKILLS} integers"
        f" from {s_lo} to {s_hi}"
    )


def _calls(raw: object, index: int) -> tuple[str, ...]:
    if (
        isinstance(raw, list)
        and len(raw) <= MAX_CALLS
        and all(isinstance(c, str) and 1 <= len(c) <= MAX_CALL_ID for c in raw)
    ):
        for position, call in enumerate(raw):
            _no_control(call, f"events[{index}].calls[{position}]")
        return tuple(raw)
    raise InvalidParameterError(
        f"events[{index}].calls must be a list of at most {MAX_CALLS} strings of 1 to"
        f" {MAX_CALL_ID} characters"
    )


def parse_event(event: object, index: int, large_work_numbers: bool) -> AgentEvent:
    if not isinstance(event, dict):
        raise InvalidParameterError(f"events[{index}] must be a JSON object")
    if not KNOWN_FIELDS.issuperset(event):
        if is_call_event(event):
            raise _CallEventFound
        unknown = sorted(set(event) - KNOWN_FIELDS)
        raise InvalidParameterError(f"events[{index}].{unknown[0]} is not a known event field")
    if "eventId" not in event:
        raise InvalidParameterError(f"events[{index}].eventId is required")
    event_id = _text(event["eventId"], index, "eventId", MAX_EVENT_ID, allow_empty=False)
    # The common case inline (JSON integers in range), the general one with its message.
    cc_id = event.get("ccId")
    if type(cc_id) is not int or not _CC_LO <= cc_id <= _CC_HI:
        cc_id = _required_int(event, index, "ccId", *CC_ID_RANGE)
    vdn = event.get("vdn")
    if type(vdn) is not int or not _VDN_LO <= vdn <= _VDN_HI:
        vdn = _required_int(event, index, "vdn", *VDN_RANGE)
    work_no = event.get("agentId")
    if type(work_no) is not int or not _WORK_LO <= work_no <= _WORK_HI:
        work_no = _work_no(event, index, large_work_numbers)
    at = event.get("at")
    if type(at) is not int or not 0 <= at <= MAX_AT:
        at = _required_int(event, index, "at", 0, MAX_AT)
    cti_status = event.get("ctiStatus")
    if (cti_status is not None or "ctiStatus" in event) and (
        type(cti_status) is not int or not 0 <= cti_status <= 10
    ):
        cti_status = _int(event, index, "ctiStatus", 0, 10)
    reason = _optional_int(event, index, "reason", *REASON_RANGE)
    media_type = _optional_int(event, index, "mediaType", 0, MEDIA_TYPE_MAX)
    name = None
    if "name" in event:
        name = _text(event["name"], index, "name", MAX_NAME, allow_empty=True)
    has_phone = "phoneNumber" in event
    phone = None
    if has_phone and event["phoneNumber"] is not None:
        phone = _text(event["phoneNumber"], index, "phoneNumber", MAX_PHONE, allow_empty=True)
    skills = _skills(event["skills"], index) if "skills" in event else None
    calls = _calls(event["calls"], index) if "calls" in event else None
    source = None
    if "source" in event:
        source = _text(event["source"], index, "source", MAX_SOURCE, allow_empty=False)
    raw_state = None
    if "rawState" in event:
        raw_state = _text(event["rawState"], index, "rawState", MAX_RAW_STATE, allow_empty=True)
    return AgentEvent(
        event_id, cc_id, vdn, work_no, at, cti_status, reason, name, phone, has_phone,
        media_type, skills, calls, source, raw_state,
    )  # fmt: skip


def parse_batch(body: dict[str, Any], max_events: int, large_work_numbers: bool) -> Batch:
    """The events of an intake body ``{"events": [...]}``, all valid, or an error.

    A batch of agent events alone is parsed in one pass; one that holds call events is
    parsed again from the start, each event by its kind, so that agent events cost no more
    for the call events a batch might hold (and the first invalid event still decides)."""
    events = body.get("events")
    if not isinstance(events, list):
        raise InvalidParameterError("events is required and must be a list")
    if not events:
        raise InvalidParameterError("events must hold at least one event")
    if len(events) > max_events:
        raise InvalidParameterError(f"events must hold at most {max_events} events")
    try:
        return Batch([parse_event(e, i, large_work_numbers) for i, e in enumerate(events)], [], [])
    except _CallEventFound:
        pass
    ranges = (WORK_NO_RANGE, LARGE_WORK_NO_RANGE) if large_work_numbers else (WORK_NO_RANGE,)
    agents: list[AgentEvent] = []
    calls: list[CallEvent] = []
    call_index: list[int] = []
    for index, event in enumerate(events):
        if isinstance(event, dict) and not KNOWN_FIELDS.issuperset(event) and is_call_event(event):
            calls.append(parse_call_event(event, index, ranges, MAX_AT))
            call_index.append(index)
        else:
            agents.append(parse_event(event, index, large_work_numbers))
    return Batch(agents, calls, call_index)
