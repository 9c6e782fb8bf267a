"""One agent on the wire: the agent query and the agent-detail answers (JSON <-> domain)."""

from __future__ import annotations

from typing import Any

from ccms.domain.agent import (
    CC_ID_RANGE,
    VDN_RANGE,
    AgentDetail,
    AgentRecord,
    current_state_seconds,
    login_date,
    status_of,
)
from ccms.http.schemas.fields import int_field, query_params, work_no_field


def agent_query(body: dict[str, Any], large_work_numbers: bool) -> tuple[int, int, int]:
    """``(ccId, vdn, agentId)`` of an agent query."""
    params = query_params(body)
    return (
        int_field(params, "ccId", *CC_ID_RANGE),
        int_field(params, "vdn", *VDN_RANGE),
        work_no_field(params, "agentId", large_work_numbers),
    )


def agent_detail(record: AgentRecord | AgentDetail, now_ms: int) -> dict[str, Any]:
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


def legacy_agent_detail(record: AgentRecord | AgentDetail, now_ms: int) -> dict[str, Any]:
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
