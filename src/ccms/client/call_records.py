"""The answers of the call routes (``docs/calls.md``) as typed values: a VDN's call
records (``vdn/querycalls``) and one call in progress (``calldata/querybasiccallinfo``).
Times in ms since the epoch; ``None`` for a moment the call never reached (the server's
``0``); durations in whole seconds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} must be a JSON object, got {data!r}")
    return data


def _int(data: Mapping[str, Any], key: str) -> int:
    """An integer field (negative ones too: ``subMediaType`` -1); digit strings accepted,
    as the vendor's samples send them."""
    value = data.get(key)
    if type(value) is int:
        return value
    if type(value) is str and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"{key} must be an integer, got {value!r}")


def _moment(data: Mapping[str, Any], key: str) -> int | None:
    value = _int(data, key)
    return None if value == 0 else value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {value!r}")
    return value


@dataclass(frozen=True)
class CallRecord:
    """One call record of ``vdn/querycalls`` (an ended call)."""

    call_id: str
    vdn: int
    caller_no: str
    callee_no: str
    call_type: int
    media_type: int
    sub_media_type: int
    wait_begin: int | None
    ack_begin: int | None
    call_begin: int | None
    call_end: int | None
    log_date: int | None
    leave_reason: int

    @classmethod
    def from_wire(cls, data: object) -> CallRecord:
        raw = _object(data, "call record")
        return cls(
            call_id=_str(raw, "callId"), vdn=_int(raw, "vdn"), caller_no=_str(raw, "callerNo"),
            callee_no=_str(raw, "calleeNo"), call_type=_int(raw, "callType"),
            media_type=_int(raw, "mediaType"), sub_media_type=_int(raw, "subMediaType"),
            wait_begin=_moment(raw, "waitBegin"), ack_begin=_moment(raw, "ackBegin"),
            call_begin=_moment(raw, "callBegin"), call_end=_moment(raw, "callEnd"),
            log_date=_moment(raw, "logDate"), leave_reason=_int(raw, "leaveReason"),
        )  # fmt: skip

    @property
    def answered(self) -> bool:
        return self.call_begin is not None


@dataclass(frozen=True)
class CallRecordPage:
    """A page of call records and how many match the query in all."""

    count: int
    records: tuple[CallRecord, ...]

    @classmethod
    def from_wire(cls, data: object) -> CallRecordPage:
        raw = _object(data, "call records")
        items = raw.get("data")
        if not isinstance(items, list):
            raise ValueError(f"data must be a JSON array, got {items!r}")
        return cls(_int(raw, "count"), tuple(CallRecord.from_wire(item) for item in items))


@dataclass(frozen=True)
class BasicCallInfo:
    """A call in progress (``calldata/querybasiccallinfo``): where it is now (device type 1
    a skill queue, 2 an agent, 3 the IVR, and its number), its numbers and durations."""

    call_id: str
    time: int
    calling_num: str
    called_num: str
    device_type: int
    device_no: int
    call_skill: str
    party_num: int
    media_type: int
    wait_time: int
    talking_time: int
    time_in_platform: int
    enter_reason: int
    raw: Mapping[str, Any]

    @classmethod
    def from_wire(cls, data: object) -> BasicCallInfo:
        raw = _object(data, "call")
        return cls(
            call_id=_str(raw, "keyId"), time=_int(raw, "time"), calling_num=_str(raw, "callingNum"),
            called_num=_str(raw, "calledNum"), device_type=_int(raw, "deviceType"),
            device_no=_int(raw, "deviceNo"), call_skill=_str(raw, "callSkill"),
            party_num=_int(raw, "partyNum"), media_type=_int(raw, "mediaType"),
            wait_time=_int(raw, "waitTime"), talking_time=_int(raw, "totalTalkingTimes"),
            time_in_platform=_int(raw, "logonTimes"), enter_reason=_int(raw, "enterReason"),
            raw=raw,
        )  # fmt: skip


@dataclass(frozen=True)
class QueueCallCounts:
    """A skill queue in the current 5 minutes (``skill/currentcallstateinfo``): calls that
    entered it, were answered (within 20 s), abandoned, ended; seconds in the IVR."""

    skill_id: int
    start: int
    calls: int
    connected: int
    abandoned: int
    ended: int
    ivr_seconds: int
    connected_in_20s: int

    @classmethod
    def from_wire(cls, data: object) -> QueueCallCounts:
        raw = _object(data, "skill queue")
        return cls(
            skill_id=_int(raw, "id"), start=_int(raw, "startTime"),
            calls=_int(raw, "allCallCount"), connected=_int(raw, "cnnedCallCount"),
            abandoned=_int(raw, "abanCallCount"), ended=_int(raw, "callEndCount"),
            ivr_seconds=_int(raw, "talkTimeOnIvr"),
            connected_in_20s=_int(raw, "cnnedIn20sCallCount"),
        )  # fmt: skip


@dataclass(frozen=True)
class VdnIndicators:
    """A VDN's real-time indicators (``rindex/vdn``): each code asked, and its value."""

    vdn: int
    values: Mapping[str, int]

    @classmethod
    def from_wire(cls, data: object) -> VdnIndicators:
        raw = _object(data, "VDN")
        items = raw.get("idxs")
        if not isinstance(items, list):
            raise ValueError(f"idxs must be a JSON array, got {items!r}")
        values = {_str(_object(i, "indicator"), "id"): _int(i, "val") for i in items}
        return cls(_int(raw, "id"), values)
