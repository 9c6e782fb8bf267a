"""The monitoring routes of the compatible surface: agent batches, VDN lists, skill queues.

Each handler validates its body (``ccms.http.schemas_monitor``), calls one use case
(``ccms.services``) and renders the answer; it holds no queries and raises only
``CCMSError``s. Every route needs the role ``query`` and a scope covering its ccId/VDN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccms.http import schemas
from ccms.http import schemas_monitor as wire

if TYPE_CHECKING:
    from ccms.http.app import App, Handler, Request

OPENAPI = "/rest/cmsapp/v1/openapi"


def install(app: App) -> None:
    services = app.services
    large = app.settings.large_work_numbers
    limit = app.settings.max_body_bytes

    # -- agent dimension ---------------------------------------------------------------

    async def agent_status_infos(request: Request) -> bytes:
        cc_id, vdn, work_nos = wire.batch_query(request.body, large)
        states = await services.agent_states(request.key, cc_id, vdn, work_nos)
        now_ms = services.now_ms()
        return schemas.success([wire.agent_status_info(state, now_ms) for state in states])

    async def team_status_counts(request: Request) -> bytes:
        cc_id, vdn, work_nos = wire.batch_query(request.body, large)
        counts = await services.team_counts(request.key, cc_id, vdn, work_nos)
        return schemas.success(wire.team_counts(counts))

    async def agent_skills(request: Request) -> bytes:
        cc_id, vdn, work_nos = wire.batch_query(request.body, large)
        records = await services.agents(request.key, cc_id, vdn, work_nos)
        return schemas.success([wire.agent_skills(record) for record in records])

    async def agent_calls(request: Request) -> bytes:
        cc_id, vdn, work_no = schemas.agent_query(request.body, large)
        record = await services.agent(request.key, cc_id, vdn, work_no)
        return schemas.success(list(record.calls))

    async def has_call(request: Request) -> bytes:
        cc_id, vdn, work_no = schemas.agent_query(request.body, large)
        record = await services.agent(request.key, cc_id, vdn, work_no)
        return schemas.success(bool(record.calls))

    async def system_state(request: Request) -> bytes:
        cc_id, vdn, offset, page = wire.page_query(request.body, 100)
        state = await services.system_state(request.key, cc_id, vdn, offset, page)
        return schemas.success(wire.system_state(state))

    # -- VDN dimension -----------------------------------------------------------------

    async def agents_by_status(request: Request) -> bytes:
        cc_id, vdn, status, offset, page = wire.status_page_query(request.body)
        _, states = await services.vdn_agents(
            request.key, cc_id, vdn, offset=offset, limit=page, cti_status=status
        )
        now_ms = services.now_ms()
        return wire.vendor_success([wire.agent_abstract(state, now_ms) for state in states])

    async def vdn_agents(request: Request) -> bytes:
        cc_id, vdn, offset, page = wire.page_query(request.body, 1000)
        count, states = await services.vdn_agents(
            request.key, cc_id, vdn, offset=offset, limit=page
        )
        now_ms = services.now_ms()
        data = [wire.agent_abstract(state, now_ms) for state in states]
        return wire.success_with_count(data, count)

    async def vdn_agent_states(request: Request) -> bytes:
        cc_id, vdn, offset, page = wire.page_query(request.body, 1000)
        count, states = await services.vdn_agents(
            request.key, cc_id, vdn, offset=offset, limit=page
        )
        return wire.success_with_count([wire.agent_dynamic(state) for state in states], count)

    async def vdn_all_agent_states(request: Request) -> bytes:
        cc_id, vdn = wire.agent_tenant_query(request.body)
        _, states = await services.vdn_agents(request.key, cc_id, vdn)
        return schemas.success([wire.agent_dynamic(state) for state in states])

    # -- skill-queue dimension ---------------------------------------------------------

    async def skill_agents(request: Request) -> bytes:
        cc_id, vdn, skill_ids = wire.skills_query(request.body)
        members = await services.skill_members(request.key, cc_id, vdn, skill_ids)
        return schemas.success(wire.skill_members(members))

    async def skill_agent_details(request: Request) -> bytes:
        cc_id, vdn, skill_id = wire.skill_query(request.body)
        records = await services.skill_agents(request.key, cc_id, vdn, skill_id)
        now_ms = services.now_ms()
        return schemas.success([wire.skill_agent(record, now_ms) for record in records])

    async def legacy_skill_agent_details(request: Request) -> bytes:
        cc_id, vdn, skill_id = wire.skill_query(request.body)
        records = await services.skill_agents(request.key, cc_id, vdn, skill_id)
        now_ms = services.now_ms()
        return schemas.legacy_success(
            [wire.legacy_skill_agent(record, now_ms) for record in records]
        )

    async def skill_status_counts(request: Request) -> bytes:
        cc_id, vdn, skill_ids, all_match = wire.skill_counts_query(request.body)
        counts = await services.skill_counts(request.key, cc_id, vdn, skill_ids, all_match)
        return schemas.success(wire.skill_counts(counts))

    routes: list[tuple[str, Handler]] = [
        ("agentgroup/agentstatusinfobyagentids", agent_status_infos),
        ("agentgroup/teamagentstatusinfo", team_status_counts),
        ("agentgroup/siteagentcallandskillinfobyagentids", agent_skills),
        ("agent/queryagentcalls", agent_calls),
        ("calldata/isprocesscall", has_call),
        ("agentgroup/systemstate", system_state),
        ("vdn/totalagentabstractex3", vdn_agents),
        ("vdn/totalagentdynamicinfo", vdn_agent_states),
        ("vdn/totalagentstate", vdn_all_agent_states),
        ("realindex/agent/agentsinskill", skill_agents),
        ("skill/agentbyconfigedskill", skill_agent_details),
        ("agentgroup/agentbyconfigedskill", legacy_skill_agent_details),
        ("skill/agentstatusbyskill", skill_status_counts),
    ]
    for name, handler in routes:
        app.post(f"{OPENAPI}/{name}", name, handler, limit)
    app.post(
        f"{OPENAPI}/vdn/queryAgentByStatus",
        "vdn/queryAgentByStatus",
        agents_by_status,
        limit,
        failure=wire.vendor_failure,
    )
