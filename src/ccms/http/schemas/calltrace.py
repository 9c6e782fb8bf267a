"""The routes of a call's track and details on the wire (``vdn/querycalltracedetail``,
``calldata/querydetailcallinfo``, ``calldata/querycalldetailbyid``): requests and answers,
in the vendor's field names and spellings, capitals included (``EnterReason``,
``CurrentSkillID``, ``isCallin``); ``docs/calls.md`` decides what the vendor leaves open.
"""

from __future__ import annotations

import time
from typing import Any

from ccms.domain.agent import CC_ID_RANGE, as_int
from ccms.domain.call import CallRecord, valid_call_id
from ccms.domain.calltrace import Leg
from ccms.domain.media import MediaType
from ccms.errors import InvalidParameterError
from ccms.http.schemas.calls import NEVER
from ccms.http.schemas.fields import int_field, query_params, tenant

# logDate: a moment in ms since the epoch, up to the end of the year 9999
LOG_DATE_RANGE = (0, 253_402_300_799_999)
NO_CAUSE = 0  # releaseCause of a leg that is not the last of an ended call


# -- requests ----------------------------------------------------------------------------


def _call_id(params: dict[str, Any]) -> str:
    if "callId" not in params:
        raise InvalidParameterError("callId is required")
    call_id = params["callId"]
    if not valid_call_id(call_id):
        raise InvalidParameterError(
            "callId must be a call id <start>-<sequence> of at most 20 characters"
            " (9 to 13 digits, '-', 1 to 10 digits)"
        )
    return str(call_id)


def trace_query(body: dict[str, Any]) -> tuple[int, int, str, int]:
    """``(ccId, vdn, callId, logDate)`` of ``vdn/querycalltracedetail``. ``logDate`` (the
    vendor's month table) is required and checked, and selects nothing: ccms keeps one
    table of the days kept."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    call_id = _call_id(params)
    if "logDate" not in params:
        raise InvalidParameterError("logDate is required")
    log_date = as_int(params["logDate"])
    lo, hi = LOG_DATE_RANGE
    if log_date is None or not lo <= log_date <= hi:
        raise InvalidParameterError(
            f"logDate must be a time in ms since the epoch from {lo} to {hi}"
        )
    return cc_id, vdn, call_id, log_date


def detail_by_id_query(body: dict[str, Any]) -> tuple[int, bool, str]:
    """``(ccId, isCallin, callId)`` of ``calldata/querycalldetailbyid`` (no ``vdn``; the
    direction spelt ``isCallin``, as the vendor does on this route)."""
    params = query_params(body)
    cc_id = int_field(params, "ccId", *CC_ID_RANGE)
    if "isCallin" not in params:
        raise InvalidParameterError("isCallin is required")
    value = params["isCallin"]
    if value in ("true", "false"):
        call_in = value == "true"
    elif type(value) is bool:
        call_in = value
    else:
        raise InvalidParameterError('isCallin must be "true" (inbound) or "false" (outbound)')
    return cc_id, call_in, _call_id(params)


# -- answers -----------------------------------------------------------------------------


def _at(moment: int | None) -> int:
    return NEVER if moment is None else moment


def leg(r: CallRecord, g: Leg) -> dict[str, Any]:
    """One item of ``vdn/querycalltracedetail`` (the vendor's ``tbilllog``, a CDR leg)."""
    return {
        "callId": r.call_id,
        "mediaType": r.media_type,
        "callIdNum": g.number,
        "callerNo": r.caller_no,
        "calleeNo": r.callee_no,
        "waitBegin": g.entered_at,
        "ackBegin": _at(g.rang_at),
        "callBegin": _at(g.answered_at),
        "callEnd": _at(g.left_at),
        "subCcNo": r.cc_id,
        "deviceType": int(g.device),
        "deviceNo": str(g.device_no),
        "deviceIn": "",
        "callType": r.call_type,
        "releaseCause": NO_CAUSE if g.release_cause is None else g.release_cause,
        "EnterReason": g.enter_reason,
        "LeaveReason": 0 if g.leave_reason is None else g.leave_reason,
        "CurrentSkillID": "" if g.skill_id is None else str(g.skill_id),
        "subMediaType": r.sub_media_type,
    }


def legs(found: tuple[CallRecord, list[Leg]] | None) -> list[dict[str, Any]]:
    """``vdn/querycalltracedetail``'s array: the legs in order; none for an unknown call."""
    if found is None:
        return []
    record, track = found
    return [leg(record, g) for g in track]


def media_name(media_type: int) -> str:
    """The media type as ``querydetailcallinfo`` spells it (``MEDIA_TYPE_PHONE``); a code
    ccms has no name for, as digits."""
    try:
        return f"MEDIA_TYPE_{MediaType(media_type).name}"
    except ValueError:
        return str(media_type)


def private_call_info(r: CallRecord, now_ms: int) -> dict[str, Any]:
    """``calldata/querydetailcallinfo``'s object: a call in progress at an agent, now;
    ``time`` in seconds (the vendor's sample), durations in seconds."""
    return {
        "cb": 0,
        "time": r.arrived_at // 1000,
        "dsn": 0,
        "handle": 0,
        "server": 0,
        "keyId": r.call_id,
        "callingNum": r.caller_no,
        "calledNum": r.callee_no,
        "mid": 0,
        "trunkNo": 0,
        "priority": 0,
        "deviceType": 2,
        "deviceNo": r.work_no or 0,
        "callData": "",
        "callDataLen": 0,
        "callSkill": "" if r.skill_id is None else str(r.skill_id),
        "partyNum": r.devices,
        "callFeature": "0",
        "orgiCalledNum": r.access_code or r.callee_no,
        "mediaType": media_name(r.media_type),
        "submediaType": r.sub_media_type,
        "place": 0,
        "waitTime": r.wait_ms(now_ms) // 1000,
        "totalTalkingTimes": r.talk_ms(now_ms) // 1000,
        "logonTimes": max(0, now_ms - r.arrived_at) // 1000,
    }


def _utc(moment: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment // 1000))


def call_detail(r: CallRecord) -> dict[str, Any]:
    """``calldata/querycalldetailbyid``'s object: the record of an ended call; durations
    in whole seconds, ``beginTime``/``endTime`` in UTC."""
    end = r.ended_at if r.ended_at is not None else r.last_at
    reached = [t for t in (r.queued_at, r.offered_at, r.answered_at) if t is not None]
    ivr_end = min(reached) if reached else end
    rang = 0
    if r.offered_at is not None:
        rang = (r.answered_at if r.answered_at is not None else end) - r.offered_at
    return {
        "vdn": r.vdn,
        "callId": r.call_id,
        "callerNo": r.caller_no,
        "calleeNo": r.callee_no,
        "callType": r.call_type,
        "agentId": r.work_no or 0,
        "skillId": r.skill_id or 0,
        "anonyCall": 0,
        "queueWaitTime": r.wait_ms(end) // 1000,
        "ivrCallTime": max(0, ivr_end - r.arrived_at) // 1000,
        "ackTime": max(0, rang) // 1000,
        "callTime": r.talk_ms(end) // 1000,
        "releaseCause": NO_CAUSE if r.release_cause is None else r.release_cause,
        "beginTime": _utc(r.arrived_at),
        "endTime": _utc(end),
        "result": "",
        "resultCode": "",
        "busiResult": "",
        "busiSubStatus": "",
    }
