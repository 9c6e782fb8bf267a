"""The routes of the ccms API as :class:`~ccms.client.protocol.Call` values.

One function per route: its path (``ccms.wire``, shared with the server), its body and the
reader of its answer. A new route is a function here plus a two-line method on
:class:`Client` and on :class:`AsyncClient`.
The client sends what it is given: ranges are the server's to check, so its answer
(``0100002`` and the rule broken) is what the caller sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from ccms.client.models import (
    AgentAbstract,
    AgentCtiState,
    AgentDetail,
    AgentPage,
    AgentSkills,
    AgentStatusInfo,
    IngestResult,
    SkillAgent,
    SkillMembers,
    StateCounts,
    SystemState,
    bool_from_wire,
    call_ids_from_wire,
    list_of,
    page_of,
    ping_from_wire,
    state_counts_from_wire,
    system_state_from_wire,
    vendor_list_of,
)
from ccms.client.protocol import Call, json_body
from ccms.wire import (
    AGENT_BY_WORK_NO,
    AGENT_CALLS,
    AGENT_SKILLS,
    AGENT_STATUS_INFOS,
    AGENTS_BY_STATUS,
    EVENTS,
    HAS_CALL,
    LEGACY_AGENT_BY_WORK_NO,
    LEGACY_SKILL_AGENTS,
    PING,
    SKILL_AGENTS,
    SKILL_MEMBERS,
    SKILL_STATUS_COUNTS,
    SYSTEM_STATE,
    TEAM_STATUS_COUNTS,
    VDN_AGENT_STATES,
    VDN_AGENTS,
    VDN_ALL_AGENT_STATES,
    route_name,
)

T = TypeVar("T")


def _call(path: str, body: bytes, parse: Callable[[object], T], **options: bool) -> Call[T]:
    """The call of the route at ``path`` (``ccms.wire``), named by its short name."""
    return Call(route_name(path), path, body, parse, **options)


def ping(say: str) -> Call[str]:
    """``POST /rest/cmsapp/v1/ping``: the connectivity check; the server echoes ``say``."""
    return _call(PING, json_body({"say": say}), ping_from_wire)


def _agent_query(cc_id: int, vdn: int, work_no: int) -> bytes:
    return json_body({"queryParam": {"ccId": cc_id, "vdn": vdn, "agentId": work_no}})


def agent_detail(cc_id: int, vdn: int, work_no: int) -> Call[AgentDetail]:
    """``POST /rest/cmsapp/v1/openapi/agent/agentbyworkno``."""
    body = _agent_query(cc_id, vdn, work_no)
    return _call(AGENT_BY_WORK_NO, body, AgentDetail.from_wire, agent_route=True)


def agent_detail_legacy(cc_id: int, vdn: int, work_no: int) -> Call[AgentDetail]:
    """``POST /rest/cmsapp/v1/openapi/agentgroup/agentbyworkno`` (lowercase keys)."""
    body = _agent_query(cc_id, vdn, work_no)
    return _call(
        LEGACY_AGENT_BY_WORK_NO, body, AgentDetail.from_wire, legacy=True, agent_route=True
    )


def post_events(events: Sequence[Mapping[str, object]]) -> Call[IngestResult]:
    """``POST /ccms/v1/events``: idempotent by ``eventId``, so it may be retried."""
    body = json_body({"events": [dict(event) for event in events]})
    return _call(EVENTS, body, IngestResult.from_wire)


# -- the monitoring routes (docs/api.md, "Monitoring routes") ------------------------------


def _query(**fields: object) -> bytes:
    return json_body({"queryParam": fields})


def agent_status_infos(
    cc_id: int, vdn: int, work_nos: Sequence[int]
) -> Call[tuple[AgentStatusInfo, ...]]:
    """``agentgroup/agentstatusinfobyagentids``: up to 6,000 agents."""
    body = _query(ccId=cc_id, vdn=vdn, agentIds=list(work_nos))
    return _call(AGENT_STATUS_INFOS, body, list_of(AgentStatusInfo.from_wire, "agents"))


def team_status_counts(cc_id: int, vdn: int, work_nos: Sequence[int]) -> Call[StateCounts]:
    """``agentgroup/teamagentstatusinfo``: agents per state among up to 6,000 agents."""
    body = _query(ccId=cc_id, vdn=vdn, agentIds=list(work_nos))
    return _call(TEAM_STATUS_COUNTS, body, state_counts_from_wire)


def agent_skills(cc_id: int, vdn: int, work_nos: Sequence[int]) -> Call[tuple[AgentSkills, ...]]:
    """``agentgroup/siteagentcallandskillinfobyagentids``: skill queues of agents."""
    body = _query(ccId=cc_id, vdn=vdn, agentIds=list(work_nos))
    return _call(AGENT_SKILLS, body, list_of(AgentSkills.from_wire, "agents"))


def agent_calls(cc_id: int, vdn: int, work_no: int) -> Call[tuple[str, ...]]:
    """``agent/queryagentcalls``: the ids of an agent's current calls."""
    body = _agent_query(cc_id, vdn, work_no)
    return _call(AGENT_CALLS, body, call_ids_from_wire, agent_route=True)


def has_call(cc_id: int, vdn: int, work_no: int) -> Call[bool]:
    """``calldata/isprocesscall``: whether an agent is handling a call."""
    body = _agent_query(cc_id, vdn, work_no)
    return _call(HAS_CALL, body, bool_from_wire, agent_route=True)


def system_state(cc_id: int, vdn: int, offset: int, limit: int) -> Call[SystemState]:
    """``agentgroup/systemstate``: counts over one page (limit 1..100) of a VDN."""
    body = _query(ccId=cc_id, vdn=vdn, offset=offset, limit=limit)
    return _call(SYSTEM_STATE, body, system_state_from_wire)


def agents_by_status(
    cc_id: int, vdn: int, offset: int, limit: int, status: int | None
) -> Call[tuple[AgentAbstract, ...]]:
    """``vdn/queryAgentByStatus``: a page of a VDN's agents, optionally of one status."""
    fields: dict[str, object] = {"ccId": cc_id, "vdn": vdn, "offset": offset, "limit": limit}
    if status is not None:
        fields["status"] = status
    parse = vendor_list_of(AgentAbstract.from_wire)
    return _call(AGENTS_BY_STATUS, _query(**fields), parse, envelope=True)


def vdn_agents(cc_id: int, vdn: int, offset: int, limit: int) -> Call[AgentPage[AgentAbstract]]:
    """``vdn/totalagentabstractex3``: a page (limit 1..1000) of a VDN's agents."""
    body = _query(ccId=cc_id, vdn=vdn, offset=offset, limit=limit)
    return _call(VDN_AGENTS, body, page_of(AgentAbstract.from_wire), envelope=True)


def vdn_agent_states(
    cc_id: int, vdn: int, offset: int, limit: int
) -> Call[AgentPage[AgentCtiState]]:
    """``vdn/totalagentdynamicinfo``: a page (limit 1..1000) of a VDN's agent states."""
    body = _query(ccId=cc_id, vdn=vdn, offset=offset, limit=limit)
    return _call(VDN_AGENT_STATES, body, page_of(AgentCtiState.from_wire), envelope=True)


def vdn_all_agent_states(cc_id: int, vdn: int) -> Call[tuple[AgentCtiState, ...]]:
    """``vdn/totalagentstate``: the state of every agent of a VDN."""
    body = _query(ccId=cc_id, vdn=vdn)
    return _call(VDN_ALL_AGENT_STATES, body, list_of(AgentCtiState.from_wire, "agents"))


def skill_members(cc_id: int, vdn: int, skill_ids: Sequence[int]) -> Call[tuple[SkillMembers, ...]]:
    """``realindex/agent/agentsinskill``: signed-in agents of up to 1,000 skill queues."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    return _call(SKILL_MEMBERS, body, list_of(SkillMembers.from_wire, "queues"))


def skill_agents(cc_id: int, vdn: int, skill_id: int) -> Call[tuple[SkillAgent, ...]]:
    """``skill/agentbyconfigedskill``: the signed-in agents of one skill queue."""
    body = _query(ccId=cc_id, vdn=vdn, skillId=skill_id)
    return _call(SKILL_AGENTS, body, list_of(SkillAgent.from_wire, "agents"))


def skill_agents_legacy(cc_id: int, vdn: int, skill_id: int) -> Call[tuple[SkillAgent, ...]]:
    """``agentgroup/agentbyconfigedskill``: the same, legacy keys and envelope."""
    body = _query(ccId=cc_id, vdn=vdn, skillId=skill_id)
    return _call(LEGACY_SKILL_AGENTS, body, list_of(SkillAgent.from_wire, "agents"), legacy=True)


def skill_status_counts(
    cc_id: int, vdn: int, skill_ids: Sequence[int], all_match: bool
) -> Call[StateCounts]:
    """``skill/agentstatusbyskill``: agents per state in skill queues."""
    flag = "true" if all_match else "false"
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids), isSkillAllMatch=flag)
    return _call(SKILL_STATUS_COUNTS, body, state_counts_from_wire)
