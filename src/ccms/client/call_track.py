"""The answers of the routes of a call's track and details (``docs/calls.md``) as typed
values: the legs of a call (``vdn/querycalltracedetail``), a call in progress at an agent
(``calldata/querydetailcallinfo``) and the record of an ended call
(``calldata/querycalldetailbyid``). Times in ms since the epoch; ``None`` for a moment not
reached (the server's ``0``); durations in whole seconds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccms.client.call_records import _int, _moment, _object, _str

LAST_LEG = -1  # ``number`` of the last leg of an ended call


@dataclass(frozen=True)
class CallLeg:
    """One leg of a call: the device (type 1 a skill queue, 2 an agent, 3 the IVR, and
    its number as a string), when the call entered, rang, was answered and left it, why
    it entered and left; ``number`` 1, 2, ... and -1 for the last leg of an ended call."""

    call_id: str
    number: int
    device_type: int
    device_no: str
    skill_id: str
    entered_at: int
    rang_at: int | None
    answered_at: int | None
    left_at: int | None
    enter_reason: int
    leave_reason: int
    release_cause: int
    caller_no: str
    callee_no: str
    call_type: int
    media_type: int
    sub_media_type: int

    @classmethod
    def from_wire(cls, data: object) -> CallLeg:
        raw = _object(data, "call leg")
        return cls(
            call_id=_str(raw, "callId"), number=_int(raw, "callIdNum"),
            device_type=_int(raw, "deviceType"), device_no=_str(raw, "deviceNo"),
            skill_id=_str(raw, "CurrentSkillID"), entered_at=_int(raw, "waitBegin"),
            rang_at=_moment(raw, "ackBegin"), answered_at=_moment(raw, "callBegin"),
            left_at=_moment(raw, "callEnd"), enter_reason=_int(raw, "EnterReason"),
            leave_reason=_int(raw, "LeaveReason"), release_cause=_int(raw, "releaseCause"),
            caller_no=_str(raw, "callerNo"), callee_no=_str(raw, "calleeNo"),
            call_type=_int(raw, "callType"), media_type=_int(raw, "mediaType"),
            sub_media_type=_int(raw, "subMediaType"),
        )  # fmt: skip

    @property
    def last(self) -> bool:
        return self.number == LAST_LEG


@dataclass(frozen=True)
class PrivateCallInfo:
    """A call in progress at an agent (``calldata/querydetailcallinfo``); ``time`` in
    seconds since the epoch, ``media_type`` its name (``MEDIA_TYPE_PHONE``)."""

    call_id: str
    time: int
    calling_num: str
    called_num: str
    work_no: int
    call_skill: str
    party_num: int
    media_type: str
    sub_media_type: int
    wait_time: int
    talking_time: int
    time_in_platform: int
    raw: Mapping[str, Any]

    @classmethod
    def from_wire(cls, data: object) -> PrivateCallInfo:
        raw = _object(data, "call")
        return cls(
            call_id=_str(raw, "keyId"), time=_int(raw, "time"), calling_num=_str(raw, "callingNum"),
            called_num=_str(raw, "calledNum"), work_no=_int(raw, "deviceNo"),
            call_skill=_str(raw, "callSkill"), party_num=_int(raw, "partyNum"),
            media_type=_str(raw, "mediaType"), sub_media_type=_int(raw, "submediaType"),
            wait_time=_int(raw, "waitTime"), talking_time=_int(raw, "totalTalkingTimes"),
            time_in_platform=_int(raw, "logonTimes"), raw=raw,
        )  # fmt: skip


@dataclass(frozen=True)
class CallDetail:
    """The record of an ended call (``calldata/querycalldetailbyid``): its VDN, numbers,
    the (last) agent and skill queue (0: none), durations in seconds, and its start and
    end as ``yyyy-MM-dd HH:mm:ss`` UTC."""

    vdn: int
    call_id: str
    caller_no: str
    callee_no: str
    call_type: int
    work_no: int
    skill_id: int
    queue_wait_time: int
    ivr_call_time: int
    ack_time: int
    call_time: int
    release_cause: int
    begin_time: str
    end_time: str

    @classmethod
    def from_wire(cls, data: object) -> CallDetail:
        raw = _object(data, "call record")
        return cls(
            vdn=_int(raw, "vdn"), call_id=_str(raw, "callId"), caller_no=_str(raw, "callerNo"),
            callee_no=_str(raw, "calleeNo"), call_type=_int(raw, "callType"),
            work_no=_int(raw, "agentId"), skill_id=_int(raw, "skillId"),
            queue_wait_time=_int(raw, "queueWaitTime"), ivr_call_time=_int(raw, "ivrCallTime"),
            ack_time=_int(raw, "ackTime"), call_time=_int(raw, "callTime"),
            release_cause=_int(raw, "releaseCause"), begin_time=_str(raw, "beginTime"),
            end_time=_str(raw, "endTime"),
        )  # fmt: skip
