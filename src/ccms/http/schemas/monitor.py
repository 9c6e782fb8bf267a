"""The monitoring routes on the wire (agent, VDN, skill queue): requests and answers.

Field rules are those of ``ccms.http.schemas.fields`` (both body shapes, digit strings as
integers, list fields naming the whole rule). The answers keep the vendor's field names;
what ccms cannot know from its events carries the vendor's "unset" values (``ccms.wire``;
``docs/api.md``, "Monitoring routes").
"""

from __future__ import annotations

from typing import Any

from ccms.domain.agent import (
    SKILL_ID_RANGE,
    AgentRecord,
    AgentState,
    current_state_seconds,
    login_date,
    status_of,
)
from ccms.domain.counts import StateCounts, SystemState
from ccms.domain.status import CtiStatus
from ccms.errors import InvalidParameterError
from ccms.http.schemas.fields import (
    Tenant,
    int_field,
    int_list_field,
    query_params,
    tenant,
    work_no_ranges,
)
from ccms.wire import UNSET_16, UNSET_32

MAX_AGENT_IDS = 6000
MAX_SKILL_IDS = 1000
OFFSET_RANGE = (0, 2**31 - 1)
CTI_STATUS_RANGE = (0, 10)
# Fields ccms cannot know from CTI events, with the vendor's "unset" values.
LOCATION_ID = UNSET_16
GROUP_ID = UNSET_16


# -- requests ----------------------------------------------------------------------------


def batch_query(body: dict[str, Any], large: bool) -> tuple[int, int, list[int]]:
    """``(ccId, vdn, agentIds)`` of an agent batch (at most 6,000 agents)."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    ids = int_list_field(params, "agentIds", work_no_ranges(large), MAX_AGENT_IDS)
    return cc_id, vdn, ids


def _skill_ids(params: dict[str, Any]) -> list[int]:
    return int_list_field(params, "skillIds", (SKILL_ID_RANGE,), MAX_SKILL_IDS)


def skills_query(body: dict[str, Any]) -> tuple[int, int, list[int]]:
    """``(ccId, vdn, skillIds)`` of a skill-queue batch (at most 1,000 queues)."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    return cc_id, vdn, _skill_ids(params)


def skill_query(body: dict[str, Any]) -> tuple[int, int, int]:
    """``(ccId, vdn, skillId)`` of one skill queue."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    return cc_id, vdn, int_field(params, "skillId", *SKILL_ID_RANGE)


def skill_counts_query(body: dict[str, Any]) -> tuple[int, int, list[int], bool]:
    """``(ccId, vdn, skillIds, isSkillAllMatch)``; the flag is ``"true"``/``"false"`` in
    any case, or a JSON boolean; absent or ``null``: false."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    skill_ids = _skill_ids(params)
    flag = params.get("isSkillAllMatch")
    if flag is None:
        flag = False
    if isinstance(flag, str) and flag.lower() in ("true", "false"):
        flag = flag.lower() == "true"
    if not isinstance(flag, bool):
        raise InvalidParameterError('isSkillAllMatch must be "true" or "false"')
    return cc_id, vdn, skill_ids, flag


def page_query(body: dict[str, Any], max_limit: int) -> tuple[int, int, int, int]:
    """``(ccId, vdn, offset, limit)``: offset 0 or more, limit 1 to ``max_limit``."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    offset = int_field(params, "offset", *OFFSET_RANGE)
    return cc_id, vdn, offset, int_field(params, "limit", 1, max_limit)


def status_page_query(body: dict[str, Any]) -> tuple[int, int, int | None, int, int]:
    """``(ccId, vdn, status, offset, limit)`` of ``vdn/queryAgentByStatus``: ``status``
    optional (a CTI code; absent, ``null`` or ``""``: every status), ``offset``
    required, ``limit`` 1 to 1000 (absent or ``null``: 1000)."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    status = None
    if params.get("status") not in (None, ""):
        status = int_field(params, "status", *CTI_STATUS_RANGE)
    offset = int_field(params, "offset", *OFFSET_RANGE)
    limit = 1000 if params.get("limit") is None else int_field(params, "limit", 1, 1000)
    return cc_id, vdn, status, offset, limit


def agent_tenant_query(body: dict[str, Any]) -> Tenant:
    """``(ccId, vdn)`` of a whole-VDN query."""
    return tenant(query_params(body))


# -- answers: agents -----------------------------------------------------------------------


def agent_status_info(state: AgentState, now_ms: int) -> dict[str, Any]:
    """An item of ``agentgroup/agentstatusinfobyagentids``."""
    prev_ms = state.prev_duration_ms
    prev_time = UNSET_32 if state.prev_status is None or prev_ms is None else prev_ms // 1000
    return {
        "agentId": state.work_no,
        "currentState": state.cti_status,
        "currentStateTime": current_state_seconds(state, now_ms),
        "prevState": state.prev_status if state.prev_status is not None else 0,
        "prevStateTime": prev_time,
        "logonTime": login_date(state),
        "currentStateReason": UNSET_16 if state.reason is None else state.reason,
        "locationId": LOCATION_ID,
        "agentRelease": 0,
        "currentPrivateCallNum": 0,
    }


def agent_skills(record: AgentRecord) -> dict[str, Any]:
    """An item of ``agentgroup/siteagentcallandskillinfobyagentids``."""
    signed_in = int(record.cti_status != CtiStatus.SIGNED_OUT)
    return {
        "agentId": record.work_no,
        "skills": [{"skillId": skill, "isLogin": signed_in} for skill in record.skills],
    }


def _state_counts(counts: StateCounts, working: str) -> dict[str, int]:
    return {
        "loginEd": counts.signed_in,
        "talking": counts.talking,
        "idle": counts.idle,
        "usable": counts.usable,
        "setBusy": counts.set_busy,
        working: counts.working,
        "rest": counts.rest,
        "studying": counts.studying,
        "occupy": counts.occupied,
        "preoccupy": counts.preoccupied,
        "answering": counts.answering,
        "lateAdjust": counts.adjusting,
    }


def team_counts(counts: StateCounts) -> dict[str, int]:
    """``agentgroup/teamagentstatusinfo``."""
    return _state_counts(counts, "workSubstateBegin")


def skill_counts(counts: StateCounts) -> dict[str, int]:
    """``skill/agentstatusbyskill``: the same counts, ``workSubStateBegin`` spelt as the
    vendor's skill page spells it."""
    return _state_counts(counts, "workSubStateBegin")


def system_state(state: SystemState) -> dict[str, int]:
    """``agentgroup/systemstate``."""
    return {
        "busyAgent": state.busy,
        "talkingNum": state.talking,
        "idleAgent": state.idle,
        "totalLoginAgent": state.signed_in,
    }


# -- answers: VDN and skill queue ------------------------------------------------------------


def agent_abstract(state: AgentState, now_ms: int) -> dict[str, Any]:
    """An item of ``vdn/queryAgentByStatus`` and ``vdn/totalagentabstractex3``."""
    return {
        "agentId": state.work_no,
        "currentState": state.cti_status,
        "currentStateTime": current_state_seconds(state, now_ms),
        "locationId": LOCATION_ID,
    }


def agent_dynamic(state: AgentState) -> dict[str, int]:
    """An item of ``vdn/totalagentdynamicinfo`` and ``vdn/totalagentstate``."""
    return {"agentId": state.work_no, "state": state.cti_status}


def skill_members(members: list[tuple[int, list[int]]]) -> list[dict[str, Any]]:
    """``realindex/agent/agentsinskill``."""
    return [{"skillId": skill, "agentIds": work_nos} for skill, work_nos in members]


def skill_agent(record: AgentRecord, now_ms: int) -> dict[str, Any]:
    """An item of ``skill/agentbyconfigedskill``."""
    return {
        "workNo": record.work_no,
        "name": record.name,
        "status": status_of(record),
        "ctiStatus": record.cti_status,
        "groupId": GROUP_ID,
        "mediaType": record.media_type,
        "vdnId": record.vdn,
        "phoneNumber": record.phone_number,
        "currentStateTime": current_state_seconds(record, now_ms),
        "loginDate": login_date(record),
    }


def legacy_skill_agent(record: AgentRecord, now_ms: int) -> dict[str, Any]:
    """The same agent with the lowercase keys of ``agentgroup/agentbyconfigedskill``."""
    return {
        "workno": record.work_no,
        "name": record.name,
        "status": status_of(record),
        "ctiStatus": record.cti_status,
        "groupid": GROUP_ID,
        "mediatype": record.media_type,
        "vdnid": record.vdn,
        "phonenumber": record.phone_number,
        "currentstatetime": current_state_seconds(record, now_ms),
        "logindate": login_date(record),
    }
