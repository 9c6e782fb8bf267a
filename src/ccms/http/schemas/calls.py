"""The call routes on the wire (``vdn/querycalls`` v1 and v2, ``calldata/
querybasiccallinfo``): requests and answers, in the vendor's field names and spellings
(``docs/calls.md`` decides what the vendor leaves open).
"""

from __future__ import annotations

from typing import Any

from ccms.domain.agent import CC_ID_RANGE, VDN_RANGE, as_int
from ccms.domain.call import (
    CallRecord,
    CallState,
    RecordQuery,
    kept_from,
    last_day_end,
    valid_call_id,
)
from ccms.domain.indicators import VDN_INDICATORS, VdnCounts, indicator
from ccms.domain.queues import QueueWindow
from ccms.errors import InvalidParameterError
from ccms.http.schemas.fields import int_field, int_list_field, query_params, tenant
from ccms.wire import UNSET_16

MAX_LIMIT = 100  # records per page (the vendor's maximum; also the default)
OFFSET_RANGE = (0, 2**31 - 1)
MAX_NUMBER = 32
NEVER = 0  # a moment the call never reached (waitBegin of a call never queued, ...)
# deviceType (the vendor's device types): where a call in progress is now
DEVICE_QUEUE, DEVICE_AGENT, DEVICE_IVR = 1, 2, 3


# -- requests ----------------------------------------------------------------------------


def _number(params: dict[str, Any], name: str) -> str | None:
    """An optional calling or called number: a string of at most 32 characters; absent,
    ``null`` or empty means every number."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_NUMBER or not value.isprintable():
        raise InvalidParameterError(
            f"{name} must be a string of at most {MAX_NUMBER} printable characters"
        )
    return value


def _moment(params: dict[str, Any], name: str, lo: int, hi: int, what: str) -> int:
    if name not in params:
        raise InvalidParameterError(f"{name} is required")
    value = as_int(params[name])
    if value is None or not lo <= value <= hi:
        raise InvalidParameterError(
            f"{name} must be a time in ms since the epoch from {lo} to {hi} ({what})"
        )
    return value


def _call_in(params: dict[str, Any]) -> bool:
    if "isCallIn" not in params:
        raise InvalidParameterError("isCallIn is required")
    value = params["isCallIn"]
    if value in ("true", "false"):
        return bool(value == "true")
    if type(value) is bool:
        return value
    raise InvalidParameterError('isCallIn must be "true" (inbound) or "false" (outbound)')


def records_query(
    body: dict[str, Any], now_ms: int, days: int, v2: bool
) -> tuple[int, int, RecordQuery]:
    """``(ccId, vdn, query)`` of ``vdn/querycalls``: v1 asks for inbound calls, v2 for the
    direction of ``isCallIn``. ``beginDate`` and ``endDate`` lie within the days kept
    (``days``: from 00:00:00 UTC of the oldest to 23:59:59.999 UTC today), in order."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    caller, callee = _number(params, "callerNo"), _number(params, "calleeNo")
    oldest, latest = kept_from(now_ms, days), last_day_end(now_ms)
    kept = "the days kept, UTC"
    begin = _moment(params, "beginDate", oldest, latest, kept)
    end = _moment(params, "endDate", oldest, latest, kept)
    if end < begin:
        raise InvalidParameterError("endDate must not be earlier than beginDate")
    call_in = _call_in(params) if v2 else True
    limit = MAX_LIMIT
    if params.get("limit") is not None:
        limit = int_field(params, "limit", 1, MAX_LIMIT)
    offset = 0
    if params.get("offset") is not None:
        offset = int_field(params, "offset", *OFFSET_RANGE)
    return cc_id, vdn, RecordQuery(begin, end, call_in, caller, callee, offset, limit)


def call_query(body: dict[str, Any]) -> tuple[int, int, str]:
    """``(ccId, vdn, callId)`` of ``calldata/querybasiccallinfo``."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    if "callId" not in params:
        raise InvalidParameterError("callId is required")
    call_id = params["callId"]
    if not valid_call_id(call_id):
        raise InvalidParameterError(
            "callId must be a call id <start>-<sequence> of at most 20 characters"
            " (9 to 13 digits, '-', 1 to 10 digits)"
        )
    return cc_id, vdn, str(call_id)


# -- answers -----------------------------------------------------------------------------


def _at(moment: int | None) -> int:
    return NEVER if moment is None else moment


def call_record(r: CallRecord) -> dict[str, Any]:
    """One item of ``vdn/querycalls``'s ``data`` (the vendor's ``callinDetial``)."""
    return {
        "logDate": _at(r.ended_at),
        "callerNo": r.caller_no,
        "calleeNo": r.callee_no,
        "callId": r.call_id,
        "callType": r.call_type,
        "waitBegin": _at(r.queued_at),
        "ackBegin": _at(r.offered_at if r.offered_at is not None else r.answered_at),
        "callBegin": _at(r.answered_at),
        "callEnd": _at(r.ended_at),
        "vdn": r.vdn,
        "leaveReason": r.leave_reason if r.leave_reason is not None else 0,
        "mediaType": r.media_type,
        "subMediaType": r.sub_media_type,
    }


def call_records(count: int, records: list[CallRecord]) -> dict[str, Any]:
    return {"data": [call_record(r) for r in records], "count": count}


def _device(r: CallRecord) -> tuple[int, int]:
    if r.state is CallState.QUEUED:
        return DEVICE_QUEUE, r.skill_id or 0
    if r.state in (CallState.RINGING, CallState.TALKING):
        return DEVICE_AGENT, r.work_no or 0
    return DEVICE_IVR, 0


def basic_call_info(r: CallRecord, now_ms: int) -> dict[str, Any]:
    """``calldata/querybasiccallinfo``'s object: a call in progress, now."""
    device_type, device_no = _device(r)
    return {
        "time": r.arrived_at,
        "dsn": 0,
        "handle": 0,
        "server": 0,
        "keyId": r.call_id,
        "callingNum": r.caller_no,
        "calledNum": r.callee_no,
        "mid": 0,
        "trunkNo": 0,
        "priority": 0,
        "deviceType": device_type,
        "deviceNo": device_no,
        "callSkill": "" if r.skill_id is None else str(r.skill_id),
        "partyNum": r.devices,
        "callFeature": 0,
        "orgiCalledNum": r.access_code or r.callee_no,
        "mediaType": r.media_type,
        "submediaType": r.sub_media_type,
        "place": 0,
        "waitTime": r.wait_ms(now_ms) // 1000,
        "totalTalkingTimes": r.talk_ms(now_ms) // 1000,
        "logonTimes": max(0, now_ms - r.arrived_at) // 1000,
        "serviceType": 0,
        "callInCause": UNSET_16,
        "enterReason": r.enter_reason,
        "mediaBillType": "0",
    }


def queue_window(w: QueueWindow) -> dict[str, Any]:
    """One item of ``skill/currentcallstateinfo`` (the queue is ``id``, as the vendor
    spells it); durations in seconds. ccms does not see wrap-up: its two fields are 0."""
    return {
        "id": w.skill_id,
        "startTime": w.start,
        "allCallCount": w.calls,
        "cnnedCallCount": w.connected,
        "abanCallCount": w.abandoned,
        "callEndCount": w.ended,
        "talkTimeOnIvr": w.ivr_ms // 1000,
        "cnnedIn20sCallCount": w.connected_in_20s,
        "clearUpCallCount": 0,
        "clearUpTime": 0,
    }


MAX_VDNS = 100
DEFAULT_CC_ID = 1  # rindex/vdn without ccId: the vendor's "default call center"


def indicators_query(body: dict[str, Any]) -> tuple[int, list[int], list[str]]:
    """``(ccId, vdnIds, indexIds)`` of ``rindex/vdn``: ``ccId`` optional (call center 1),
    1 to 100 VDNs, 1 to 15 of the vendor's VDN indicator codes."""
    params = query_params(body)
    cc_id = DEFAULT_CC_ID
    if params.get("ccId") is not None:
        cc_id = int_field(params, "ccId", *CC_ID_RANGE)
    vdns = list(dict.fromkeys(int_list_field(params, "vdnIds", (VDN_RANGE,), MAX_VDNS)))
    if "indexIds" not in params:
        raise InvalidParameterError("indexIds is required")
    codes = params["indexIds"]
    if (
        type(codes) is not list
        or not 1 <= len(codes) <= len(VDN_INDICATORS)
        or not all(type(c) is str and c in VDN_INDICATORS for c in codes)
    ):
        raise InvalidParameterError(
            f"indexIds must be a list of 1 to {len(VDN_INDICATORS)} of the VDN indicator"
            " codes (IDX_COUNT_REAL_VDN_CALL, ...; docs/calls.md)"
        )
    return cc_id, vdns, list(dict.fromkeys(codes))


def vdn_indicators(
    vdns: list[int], codes: list[str], counts: dict[int, VdnCounts]
) -> list[dict[str, Any]]:
    """``rindex/vdn``'s items: the VDN's id as a string, as the vendor's sample has it."""
    return [
        {
            "id": str(vdn),
            "idxs": [{"id": code, "val": indicator(counts[vdn], code)} for code in codes],
        }
        for vdn in vdns
    ]
