"""The routes of the ccms API as :class:`~ccms.client.protocol.Call` values.

One function per route: its path (``ccms.wire``, shared with the server), its body and the
reader of its answer. A new route is a function here plus a two-line method on
:class:`Client` and on :class:`AsyncClient`.
The client sends what it is given: ranges are the server's to check, so its answer
(``0100002`` and the rule broken) is what the caller sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from ccms.client.agent_list import AgentList, AgentQuery
from ccms.client.agents import AgentHistory
from ccms.client.call_records import (
    BasicCallInfo,
    CallRecordPage,
    QueueCallCounts,
    VdnIndicators,
)
from ccms.client.call_track import CallDetail, CallLeg, PrivateCallInfo
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
    ViewToken,
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
from ccms.client.queues import (
    QueuedCalls,
    QueueDevice,
    QueueStateInfo,
    QueueStatus,
    SkillIndicators,
)
from ccms.client.service import AccessCodeCalls, ServiceQuality, SkillConfig
from ccms.client.stream import ChangesPage
from ccms.client.subscription import StreamRequest
from ccms.wire import (
    ACCESS_CODE_CALLS,
    AGENT_BY_WORK_NO,
    AGENT_CALLS,
    AGENT_DETAIL,
    AGENT_LIST,
    AGENT_SKILLS,
    AGENT_STATUS_INFOS,
    AGENTS_BY_STATUS,
    BASIC_CALL_INFO,
    CALL_DETAIL_BY_ID,
    CALL_TRACE,
    CHANGES,
    EVENTS,
    HAS_CALL,
    LEGACY_AGENT_BY_WORK_NO,
    LEGACY_SKILL_AGENTS,
    LEGACY_SKILL_STATE_INFO,
    PING,
    PRIVATE_CALL_INFO,
    SKILL_AGENTS,
    SKILL_CALL_COUNTS,
    SKILL_CONFIG,
    SKILL_INDICATORS,
    SKILL_MEMBERS,
    SKILL_QUEUE_DEVICES,
    SKILL_QUEUE_STATUS,
    SKILL_QUEUED_CALLS,
    SKILL_SERVICE_QUALITY,
    SKILL_STATE_INFO,
    SKILL_STATUS_COUNTS,
    STREAM,
    SYSTEM_STATE,
    TEAM_STATUS_COUNTS,
    TOKENS,
    VDN_AGENT_STATES,
    VDN_AGENTS,
    VDN_ALL_AGENT_STATES,
    VDN_CALLS,
    VDN_CALLS_V2,
    VDN_INDICATORS,
    route_name,
)

T = TypeVar("T")


def _call(
    path: str,
    body: bytes,
    parse: Callable[[object], T],
    *,
    legacy: bool = False,
    agent_route: bool = False,
    envelope: bool = False,
) -> Call[T]:
    """The POST of the route at ``path`` (``ccms.wire``), named by its short name."""
    return Call(
        route_name(path), path, body, parse, legacy=legacy, agent_route=agent_route,
        envelope=envelope,
    )  # fmt: skip


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


def agent_history(cc_id: int, vdn: int, work_no: int, history_limit: int) -> Call[AgentHistory]:
    """``POST /ccms/v1/agents/detail``: one agent, why ccms believes its state, its history."""
    body = json_body({"ccId": cc_id, "vdn": vdn, "workNo": work_no, "historyLimit": history_limit})
    return _call(AGENT_DETAIL, body, AgentHistory.from_wire, agent_route=True)


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


def vdn_calls(
    cc_id: int,
    vdn: int,
    begin: int,
    end: int,
    *,
    call_in: bool | None = None,
    caller_no: str | None = None,
    callee_no: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Call[CallRecordPage]:
    """``vdn/querycalls``: a page of a VDN's call records that entered from ``begin`` to
    ``end`` (ms). ``call_in`` ``None``: the v1 route (inbound); ``True``/``False``: v2."""
    fields: dict[str, object] = {"ccId": cc_id, "vdn": vdn, "beginDate": begin, "endDate": end}
    if call_in is not None:
        fields["isCallIn"] = "true" if call_in else "false"
    optional = {"callerNo": caller_no, "calleeNo": callee_no, "limit": limit, "offset": offset}
    fields.update({k: v for k, v in optional.items() if v is not None})
    path = VDN_CALLS if call_in is None else VDN_CALLS_V2
    return _call(path, json_body(fields), CallRecordPage.from_wire)


def basic_call_info(cc_id: int, vdn: int, call_id: str) -> Call[BasicCallInfo]:
    """``calldata/querybasiccallinfo``: one call in progress."""
    body = json_body({"ccId": cc_id, "vdn": vdn, "callId": call_id})
    return _call(BASIC_CALL_INFO, body, BasicCallInfo.from_wire)


def call_trace(cc_id: int, vdn: int, call_id: str, log_date: int) -> Call[tuple[CallLeg, ...]]:
    """``vdn/querycalltracedetail``: the legs of a call, live or ended, in order."""
    body = json_body({"ccId": cc_id, "vdn": vdn, "callId": call_id, "logDate": log_date})
    return _call(CALL_TRACE, body, list_of(CallLeg.from_wire, "legs"))


def private_call_info(cc_id: int, vdn: int, call_id: str) -> Call[PrivateCallInfo]:
    """``calldata/querydetailcallinfo``: a call in progress at an agent."""
    body = json_body({"ccId": cc_id, "vdn": vdn, "callId": call_id})
    return _call(PRIVATE_CALL_INFO, body, PrivateCallInfo.from_wire)


def call_detail_by_id(cc_id: int, call_id: str, call_in: bool) -> Call[CallDetail]:
    """``calldata/querycalldetailbyid``: the record of an ended call of that direction."""
    if type(call_in) is not bool:
        raise TypeError(f"call_in must be True or False, got {call_in!r}")
    flag = "true" if call_in else "false"
    body = json_body({"queryParam": {"ccId": cc_id, "isCallin": flag, "callId": call_id}})
    return _call(CALL_DETAIL_BY_ID, body, CallDetail.from_wire)


def skill_call_counts(
    cc_id: int, vdn: int, skill_ids: Sequence[int]
) -> Call[tuple[QueueCallCounts, ...]]:
    """``skill/currentcallstateinfo``: call counts of up to 1,000 skill queues, current
    5 minutes."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    return _call(SKILL_CALL_COUNTS, body, list_of(QueueCallCounts.from_wire, "queues"))


def vdn_indicators(
    vdn_ids: Sequence[int], index_ids: Sequence[str], cc_id: int | None = None
) -> Call[tuple[VdnIndicators, ...]]:
    """``rindex/vdn``: real-time indicators of up to 100 VDNs (``cc_id`` ``None``: the
    server's default call center)."""
    fields: dict[str, object] = {"vdnIds": list(vdn_ids), "indexIds": list(index_ids)}
    if cc_id is not None:
        fields["ccId"] = cc_id
    return _call(VDN_INDICATORS, json_body(fields), list_of(VdnIndicators.from_wire, "VDNs"))


def service_quality(
    cc_id: int, vdn: int, skill_ids: Sequence[int]
) -> Call[tuple[ServiceQuality, ...]]:
    """``skill/servicequality``: service quality of up to 1,000 skill queues in the last
    complete 5 minutes (the server answers a key once per second: HTTP 429 sooner)."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    return _call(SKILL_SERVICE_QUALITY, body, list_of(ServiceQuality.from_wire, "queues"))


def skill_configs(cc_id: int, vdn: int, skill_ids: Sequence[int]) -> Call[tuple[SkillConfig, ...]]:
    """``skill/skillcfginfo``: the limits of up to 1,000 skill queues."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    return _call(SKILL_CONFIG, body, list_of(SkillConfig.from_wire, "queues"))


def access_code_calls(
    cc_id: int, vdn: int, inno_ids: Sequence[int]
) -> Call[tuple[AccessCodeCalls, ...]]:
    """``vdn/queryaccesscodecallinfo``: the calls in progress of up to 500 access codes."""
    body = _query(ccId=cc_id, vdn=vdn, innoIds=list(inno_ids))
    return _call(ACCESS_CODE_CALLS, body, list_of(AccessCodeCalls.from_wire, "access codes"))


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


def agent_list(
    cc_id: int, vdn: int, query: AgentQuery, limit: int, cursor: str | None
) -> Call[AgentList]:
    """``POST /ccms/v1/agents/query``: a page of the agent list (limit 1..1000)."""
    body = json_body(query.body(cc_id, vdn, limit, cursor))
    return _call(AGENT_LIST, body, AgentList.from_wire)


# -- the live stream (docs/stream.md) ------------------------------------------------------
# Their arguments are checked here for type, before anything is sent: a stream resumes by
# itself, so a mistake must not become a retry loop. Ranges stay the server's to check.


def _whole(name: str, value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, got {value!r}")
    return value


def _optional(name: str, value: object) -> int | None:
    return None if value is None else _whole(name, value)


def _id_list(name: str, values: Iterable[int] | None) -> tuple[int, ...]:
    if values is None:
        return ()
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of ints like [1, 2], got {values!r}")
    items = tuple(values)
    if not items:
        raise ValueError(f"{name} must not be empty (None: no filter)")
    for item in items:
        _whole(f"each of {name}", item)
    return items


def _token(token: object) -> str | None:
    if token is not None and (not isinstance(token, str) or not token):
        raise TypeError(f"token must be a non-empty string, got {token!r}")
    return token


def _place(cc_id: object, vdn: object, token: object) -> list[tuple[str, str]]:
    query = [("ccId", str(_whole("cc_id", cc_id))), ("vdn", str(_whole("vdn", vdn)))]
    if _token(token) is not None:
        query.append(("token", str(token)))
    return query


def _selection(
    cc_id: object,
    vdn: object,
    skills: Iterable[int] | None,
    agents: Iterable[int] | None,
    token: object,
) -> list[tuple[str, str]]:
    query = _place(cc_id, vdn, token)
    for name, values in (("skills", _id_list("skills", skills)),
                         ("agents", _id_list("agents", agents))):  # fmt: skip
        if values:
            query.append((name, ",".join(str(value) for value in values)))
    return query


def stream(
    cc_id: int,
    vdn: int,
    skills: Iterable[int] | None,
    agents: Iterable[int] | None,
    since: int | None,
    token: str | None,
    queues: bool = False,
) -> StreamRequest:
    """``GET /ccms/v1/stream``: the live stream of a VDN, of skill queues or agents in it
    (with the queue figures when ``queues``)."""
    query = _selection(cc_id, vdn, skills, agents, token)
    if queues:
        query.append(("queues", "1"))
    return StreamRequest(
        route_name(STREAM), STREAM, tuple(query), token is None, _optional("since", since)
    )


def changes(
    cc_id: int,
    vdn: int,
    since: int | None,
    wait: float,
    skills: Iterable[int] | None,
    agents: Iterable[int] | None,
    token: str | None,
    timeout: float,
) -> Call[ChangesPage]:
    """``GET /ccms/v1/changes``: the changes after ``since``, waiting up to ``wait`` s."""
    if isinstance(wait, bool) or not isinstance(wait, int | float):
        raise TypeError(f"wait must be a number of seconds, got {wait!r}")
    query = _selection(cc_id, vdn, skills, agents, token)
    if _optional("since", since) is not None:
        query.append(("since", str(since)))
    query.append(("wait", f"{wait:g}"))
    return Call(
        route_name(CHANGES), CHANGES, b"", ChangesPage.from_wire, method="GET",
        query=tuple(query), signed=token is None, read_timeout=max(0.0, wait) + timeout,
    )  # fmt: skip


def create_view_token(cc_id: int | None, vdn: int | None, ttl_s: int | None) -> Call[ViewToken]:
    """``POST /ccms/v1/tokens``: a view token for a browser, narrowed to a VDN if given."""
    fields = {"ccId": _optional("cc_id", cc_id), "vdn": _optional("vdn", vdn),
              "ttlS": _optional("ttl_s", ttl_s)}  # fmt: skip
    body = json_body({name: value for name, value in fields.items() if value is not None})
    return _call(TOKENS, body, ViewToken.from_wire)


# -- the skill queues now (docs/calls.md, "Skill queues now") ------------------------------


def queue_status(cc_id: int, vdn: int, skill_ids: Sequence[int]) -> Call[tuple[QueueStatus, ...]]:
    """``skill/totalskillstatusex3``: up to 1,000 skill queues now."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    return _call(SKILL_QUEUE_STATUS, body, list_of(QueueStatus.from_wire, "queues"))


def queue_state_info(
    cc_id: int, vdn: int, skill_ids: Sequence[int], legacy: bool = False
) -> Call[tuple[QueueStateInfo, ...]]:
    """``skill/stateinfo`` (``legacy``: ``realindex/skill/stateinfo``): agents per state
    and calls of up to 1,000 skill queues."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    path = LEGACY_SKILL_STATE_INFO if legacy else SKILL_STATE_INFO
    return _call(path, body, list_of(QueueStateInfo.from_wire, "queues"), legacy=legacy)


def skill_indicators(
    cc_id: int, vdn: int, skill_ids: Sequence[int], index_ids: Sequence[str]
) -> Call[tuple[SkillIndicators, ...]]:
    """``skill/rindex``: real-time indicators of up to 1,000 skill queues."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids), indexIds=list(index_ids))
    return _call(SKILL_INDICATORS, body, list_of(SkillIndicators.from_wire, "queues"))


def queued_calls(cc_id: int, vdn: int, skill_ids: Sequence[int]) -> Call[tuple[QueuedCalls, ...]]:
    """``skill/batchmultiskill``: the voice calls queued in up to 1,000 skill queues."""
    body = _query(ccId=cc_id, vdn=vdn, skillIds=list(skill_ids))
    return _call(SKILL_QUEUED_CALLS, body, list_of(QueuedCalls.from_wire, "queues"))


def queue_devices(cc_id: int, vdn: int, skill_id: int) -> Call[tuple[QueueDevice, ...]]:
    """``skill/queuedevicestatus``: the calls queued in one skill queue."""
    body = _query(ccId=cc_id, vdn=vdn, skillId=skill_id)
    return _call(SKILL_QUEUE_DEVICES, body, list_of(QueueDevice.from_wire, "calls"))
