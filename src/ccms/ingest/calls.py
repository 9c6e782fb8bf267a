"""Validation of the call events of an intake batch (``docs/intake.md``, Call events).

A call event is an event with ``callId``: ``callEvent`` says what happened, and each kind
takes its own fields (an unknown field, or one that kind does not take, is an error, so a
misspelt field never silently does nothing). Messages name the event's index and field,
as for agent events.
"""

from __future__ import annotations

from typing import Any

from ccms.domain.agent import CC_ID_RANGE, SKILL_ID_RANGE, VDN_RANGE, as_int
from ccms.domain.call import (
    CALL_ID_MAX,
    CALL_TYPE_RANGE,
    LEAVE_REASON_RANGE,
    RELEASE_CAUSE_RANGE,
    SUB_MEDIA_TYPE_RANGE,
    CallEvent,
    CallKind,
    valid_call_id,
)
from ccms.domain.media import MEDIA_TYPE_MAX
from ccms.errors import InvalidParameterError

MAX_NUMBER = 32  # callerNo, calleeNo, accessCode
MAX_EVENT_ID = 128  # as agent events' (ccms.ingest.validation)
_COMMON = frozenset({"eventId", "ccId", "vdn", "callId", "at", "callEvent"})
_RELEASE = frozenset({"leaveReason", "releaseCause"})
FIELDS_OF: dict[CallKind, frozenset[str]] = {
    CallKind.ARRIVE: frozenset(
        {"callerNo", "calleeNo", "accessCode", "mediaType", "subMediaType", "callType", "callIn"}
    ),
    CallKind.QUEUE: frozenset({"skillId"}),
    CallKind.OFFER: frozenset({"agentId", "skillId"}),
    CallKind.ANSWER: frozenset({"agentId"}),
    CallKind.TRANSFER: frozenset({"agentId", "skillId"}),
    CallKind.END: _RELEASE,
    CallKind.ABANDON: _RELEASE,
}
_KINDS = ", ".join(k.value for k in CallKind)


def is_call_event(event: dict[str, Any]) -> bool:
    return "callId" in event or "callEvent" in event


def _int(event: dict[str, Any], index: int, name: str, lo: int, hi: int) -> int | None:
    if name not in event:
        return None
    raw = event[name]
    value = raw if type(raw) is int else as_int(raw)
    if value is None or not lo <= value <= hi:
        raise InvalidParameterError(f"events[{index}].{name} must be an integer from {lo} to {hi}")
    return value


def _required(event: dict[str, Any], index: int, name: str, lo: int, hi: int) -> int:
    value = _int(event, index, name, lo, hi)
    if value is None:
        raise InvalidParameterError(f"events[{index}].{name} is required")
    return value


def _text(event: dict[str, Any], index: int, name: str, limit: int) -> str | None:
    if name not in event:
        return None
    value = event[name]
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidParameterError(
            f"events[{index}].{name} must be a string of 0 to {limit} characters"
        )
    if not value.isprintable() and any(c < " " for c in value):
        raise InvalidParameterError(
            f"events[{index}].{name} must not contain control characters (U+0000 to U+001F)"
        )
    return value


def parse_call_event(
    event: dict[str, Any], index: int, work_no_ranges: tuple[tuple[int, int], ...], max_at: int
) -> CallEvent:
    kind_name = event.get("callEvent")
    if "callEvent" not in event:
        raise InvalidParameterError(f"events[{index}].callEvent is required")
    if kind_name not in CallKind._value2member_map_:
        raise InvalidParameterError(f"events[{index}].callEvent must be one of {_KINDS}")
    kind = CallKind(str(kind_name))
    allowed = _COMMON | FIELDS_OF[kind]
    if not allowed.issuperset(event):
        name = sorted(set(event) - allowed)[0]
        raise InvalidParameterError(
            f"events[{index}].{name} is not a field of a call event '{kind.value}'"
        )
    raw_id = event.get("eventId")
    if not isinstance(raw_id, str) or not 1 <= len(raw_id) <= MAX_EVENT_ID:
        raise InvalidParameterError(
            f"events[{index}].eventId must be a string of 1 to {MAX_EVENT_ID} characters"
        )
    event_id = _text(event, index, "eventId", MAX_EVENT_ID) or raw_id
    cc_id = _required(event, index, "ccId", *CC_ID_RANGE)
    vdn = _required(event, index, "vdn", *VDN_RANGE)
    if "callId" not in event:
        raise InvalidParameterError(f"events[{index}].callId is required")
    call_id = event["callId"]
    if not valid_call_id(call_id):
        raise InvalidParameterError(
            f"events[{index}].callId must be a call id <start>-<sequence> of at most"
            f" {CALL_ID_MAX} characters (9 to 13 digits, '-', 1 to 10 digits)"
        )
    at = _required(event, index, "at", 0, max_at)
    work_no = None
    if "agentId" in event:
        raw = as_int(event["agentId"])
        if raw is None or not any(lo <= raw <= hi for lo, hi in work_no_ranges):
            spans = " or from ".join(f"{lo} to {hi}" for lo, hi in work_no_ranges)
            raise InvalidParameterError(f"events[{index}].agentId must be an integer from {spans}")
        work_no = raw
    skill_id = _int(event, index, "skillId", *SKILL_ID_RANGE)
    if kind is CallKind.QUEUE and skill_id is None:
        raise InvalidParameterError(f"events[{index}].skillId is required")
    if kind is CallKind.OFFER and work_no is None:
        raise InvalidParameterError(f"events[{index}].agentId is required")
    if kind is CallKind.TRANSFER and skill_id is None and work_no is None:
        raise InvalidParameterError(f"events[{index}].skillId or agentId is required")
    call_in = None
    if "callIn" in event:
        call_in = event["callIn"]
        if type(call_in) is not bool:
            raise InvalidParameterError(f"events[{index}].callIn must be true or false")
    return CallEvent(
        event_id, cc_id, vdn, call_id, at, kind,
        caller_no=_text(event, index, "callerNo", MAX_NUMBER),
        callee_no=_text(event, index, "calleeNo", MAX_NUMBER),
        access_code=_text(event, index, "accessCode", MAX_NUMBER),
        media_type=_int(event, index, "mediaType", 0, MEDIA_TYPE_MAX),
        sub_media_type=_sub_media(event, index),
        call_type=_int(event, index, "callType", *CALL_TYPE_RANGE),
        call_in=call_in, skill_id=skill_id, work_no=work_no,
        leave_reason=_int(event, index, "leaveReason", *LEAVE_REASON_RANGE),
        release_cause=_int(event, index, "releaseCause", *RELEASE_CAUSE_RANGE),
    )  # fmt: skip


def _sub_media(event: dict[str, Any], index: int) -> int | None:
    if "subMediaType" not in event:
        return None
    raw = event["subMediaType"]
    lo, hi = SUB_MEDIA_TYPE_RANGE
    if type(raw) is not int or not lo <= raw <= hi:
        raise InvalidParameterError(
            f"events[{index}].subMediaType must be an integer from {lo} to {hi}"
        )
    return raw
