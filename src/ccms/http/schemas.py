"""Requests and answers on the wire: JSON <-> domain, and the CC-CMS envelope.

The rules are those of ``DECISIONS.md``: both body shapes (``{"queryParam": {...}}`` and
flat), integers as JSON integers or strings of ASCII digits, the vendor's ranges, and one
envelope for every answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from ccms.domain.agent import (
    CC_ID_RANGE,
    LARGE_WORK_NO_RANGE,
    VDN_RANGE,
    WORK_NO_RANGE,
    AgentRecord,
    as_int,
    current_state_seconds,
    login_date,
    status_of,
)
from ccms.errors import CCMSError, InvalidParameterError, MalformedRequestError
from ccms.wire import SUCCESS


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or HTTP 400."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedRequestError("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequestError("request body must be a JSON object")
    return value


def query_params(body: dict[str, Any]) -> dict[str, Any]:
    """The parameters: the ``queryParam`` object when that key is present, else the body."""
    if "queryParam" in body:
        params = body["queryParam"]
        if not isinstance(params, dict):
            raise InvalidParameterError("queryParam must be a JSON object")
        return params
    return body


def int_field(params: dict[str, Any], name: str, lo: int, hi: int) -> int:
    if name not in params:
        raise InvalidParameterError(f"{name} is required")
    value = as_int(params[name])
    if value is None or not lo <= value <= hi:
        raise InvalidParameterError(f"{name} must be an integer from {lo} to {hi}")
    return value


def work_no_field(params: dict[str, Any], name: str, large: bool) -> int:
    if not large:
        return int_field(params, name, *WORK_NO_RANGE)
    if name not in params:
        raise InvalidParameterError(f"{name} is required")
    value = as_int(params[name])
    lo, hi = WORK_NO_RANGE
    big_lo, big_hi = LARGE_WORK_NO_RANGE
    if value is None or not (lo <= value <= hi or big_lo <= value <= big_hi):
        raise InvalidParameterError(
            f"{name} must be an integer from {lo} to {hi} or from {big_lo} to {big_hi}"
        )
    return value


def agent_query(body: dict[str, Any], large_work_numbers: bool) -> tuple[int, int, int]:
    """``(ccId, vdn, agentId)`` of an agent query."""
    params = query_params(body)
    return (
        int_field(params, "ccId", *CC_ID_RANGE),
        int_field(params, "vdn", *VDN_RANGE),
        work_no_field(params, "agentId", large_work_numbers),
    )


def agent_detail(record: AgentRecord, now_ms: int) -> dict[str, Any]:
    """Table 4 of the vendor's page: the agent as ``agent/agentbyworkno`` answers it."""
    return {
        "workNo": record.work_no,
        "vdnId": record.vdn,
        "citStatus": record.cti_status,
        "name": record.name,
        "phoneNumber": record.phone_number,
        "loginDate": login_date(record),
        "currentStateTime": current_state_seconds(record, now_ms),
        "mediaType": record.media_type,
        "status": status_of(record),
    }


def legacy_agent_detail(record: AgentRecord, now_ms: int) -> dict[str, Any]:
    """The same agent with the all-lowercase keys of ``agentgroup/agentbyworkno``."""
    return {
        "workno": record.work_no,
        "vdnid": record.vdn,
        "citStatus": record.cti_status,
        "name": record.name,
        "phonenumber": record.phone_number,
        "logindate": login_date(record),
        "currentstatetime": current_state_seconds(record, now_ms),
        "mediatype": record.media_type,
        "status": status_of(record),
    }


def success(data: Any) -> bytes:
    return orjson.dumps(
        {"result": "0", "resultCode": SUCCESS, "resultDatas": data, "resultDesc": data}
    )


def legacy_success(data: Any) -> bytes:
    return orjson.dumps({"result": "0", "resultDatas": data})


def failure(error: CCMSError) -> bytes:
    code = error.result_code
    return orjson.dumps({"result": code, "resultCode": code, "resultDesc": error.message})
