"""Service quality, skill-queue limits and calls per access code on the wire
(``skill/servicequality``, ``skill/skillcfginfo``, ``vdn/queryaccesscodecallinfo``):
requests and answers in the vendor's field names (``docs/calls.md``)."""

from __future__ import annotations

from typing import Any

from ccms.domain.service import INNO_ID_RANGE, AccessCodeCalls, ServiceQuality, SkillConfig
from ccms.http.schemas.fields import int_list_field, query_params, tenant

MAX_INNO_IDS = 500  # the vendor's limit of innoIds


def access_codes_query(body: dict[str, Any]) -> tuple[int, int, list[int]]:
    """``(ccId, vdn, innoIds)`` of ``vdn/queryaccesscodecallinfo``: 1 to 500 access code
    ids; each answered once, in request order."""
    params = query_params(body)
    cc_id, vdn = tenant(params)
    ids = int_list_field(params, "innoIds", (INNO_ID_RANGE,), MAX_INNO_IDS)
    return cc_id, vdn, list(dict.fromkeys(ids))


def service_quality(q: ServiceQuality) -> dict[str, Any]:
    """One item of ``skill/servicequality``."""
    return {
        "skillId": q.skill_id,
        "statStartTime": q.start,
        "inCallNum": q.calls,
        "connectedNum": q.connected,
        "callLostNum": q.lost,
        "in15sCallNum": q.connected_in_15s,
        "wait15sLostNum": q.lost_in_15s,
        "in20sCallNum": q.connected_in_20s,
        "wait20sLostNum": q.lost_in_20s,
    }


def skill_config(skill_id: int, c: SkillConfig) -> dict[str, Any]:
    """One item of ``skill/skillcfginfo`` (times in seconds)."""
    return {
        "skillId": skill_id,
        "maxCallNum": c.max_call_num,
        "maxHoldCallNum": c.max_hold_call_num,
        "maxWaitTime": c.max_wait_time,
        "maxAnswerWaitTime": c.max_answer_wait_time,
        "maxTalkTime": c.max_talk_time,
        "maxRestAgentNum": c.max_rest_agent_num,
        "maxAgentWrapupTime": c.max_agent_wrapup_time,
    }


def access_code_calls(a: AccessCodeCalls) -> dict[str, Any]:
    """One item of ``vdn/queryaccesscodecallinfo`` (the longest wait in whole seconds)."""
    return {
        "innoId": a.inno_id,
        "allCallCount": a.calls,
        "ivrCallCount": a.in_ivr,
        "agentCallCount": a.at_agent,
        "queueCallCount": a.queued,
        "longestWaitTime": a.longest_wait_ms // 1000,
    }
