"""The monitoring routes of the compatible surface: agent batches, VDN lists, skill queues.

Each handler validates its body (``ccms.http.schemas.monitor``), calls one use case
(``ccms.services``) and renders the answer; it holds no queries and raises only
``CCMSError``s. Every route needs the role ``query`` and a scope covering its ccId/VDN.
"""

from __future__ import annotations

from functools import partial

from ccms import wire
from ccms.http import envelope
from ccms.http.envelope import Family
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import agent as agent_schema
from ccms.http.schemas import monitor as schema
from ccms.settings import Settings

# -- agent dimension -----------------------------------------------------------------------


async def agent_status_infos(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, work_nos = schema.batch_query(request.body, ctx.settings.large_work_numbers)
    states = await ctx.services.agent_states(request.signed_key, cc_id, vdn, work_nos)
    now_ms = ctx.services.now_ms()
    return Answer(envelope.success([schema.agent_status_info(state, now_ms) for state in states]))


async def team_status_counts(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, work_nos = schema.batch_query(request.body, ctx.settings.large_work_numbers)
    counts = await ctx.services.team_counts(request.signed_key, cc_id, vdn, work_nos)
    return Answer(envelope.success(schema.team_counts(counts)))


async def agent_skills(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, work_nos = schema.batch_query(request.body, ctx.settings.large_work_numbers)
    records = await ctx.services.agents(request.signed_key, cc_id, vdn, work_nos)
    return Answer(envelope.success([schema.agent_skills(record) for record in records]))


async def agent_calls(ctx: Context, request: Request) -> Answer:
    query = agent_schema.agent_query(request.body, ctx.settings.large_work_numbers)
    record = await ctx.services.agent(request.signed_key, *query)
    return Answer(envelope.success(list(record.calls)))


async def has_call(ctx: Context, request: Request) -> Answer:
    query = agent_schema.agent_query(request.body, ctx.settings.large_work_numbers)
    record = await ctx.services.agent(request.signed_key, *query)
    return Answer(envelope.success(bool(record.calls)))


async def system_state(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, offset, page = schema.page_query(request.body, 100)
    state = await ctx.services.system_state(request.signed_key, cc_id, vdn, offset, page)
    return Answer(envelope.success(schema.system_state(state)))


# -- VDN dimension -------------------------------------------------------------------------


async def agents_by_status(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, status, offset, page = schema.status_page_query(request.body)
    _, states = await ctx.services.vdn_agents(
        request.signed_key, cc_id, vdn, offset=offset, limit=page, cti_status=status
    )
    now_ms = ctx.services.now_ms()
    return Answer(envelope.vendor_success([schema.agent_abstract(s, now_ms) for s in states]))


async def vdn_agents(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, offset, page = schema.page_query(request.body, 1000)
    count, states = await ctx.services.vdn_agents(
        request.signed_key, cc_id, vdn, offset=offset, limit=page
    )
    now_ms = ctx.services.now_ms()
    data = [schema.agent_abstract(state, now_ms) for state in states]
    return Answer(envelope.success_with_count(data, count))


async def vdn_agent_states(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, offset, page = schema.page_query(request.body, 1000)
    count, states = await ctx.services.vdn_agents(
        request.signed_key, cc_id, vdn, offset=offset, limit=page
    )
    data = [schema.agent_dynamic(state) for state in states]
    return Answer(envelope.success_with_count(data, count))


async def vdn_all_agent_states(ctx: Context, request: Request) -> Answer:
    cc_id, vdn = schema.agent_tenant_query(request.body)
    _, states = await ctx.services.vdn_agents(request.signed_key, cc_id, vdn)
    return Answer(envelope.success([schema.agent_dynamic(state) for state in states]))


# -- skill-queue dimension -----------------------------------------------------------------


async def skill_members(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids = schema.skills_query(request.body)
    members = await ctx.services.skill_members(request.signed_key, cc_id, vdn, skill_ids)
    return Answer(envelope.success(schema.skill_members(members)))


async def skill_agents(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_id = schema.skill_query(request.body)
    records = await ctx.services.skill_agents(request.signed_key, cc_id, vdn, skill_id)
    now_ms = ctx.services.now_ms()
    return Answer(envelope.success([schema.skill_agent(record, now_ms) for record in records]))


async def legacy_skill_agents(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_id = schema.skill_query(request.body)
    records = await ctx.services.skill_agents(request.signed_key, cc_id, vdn, skill_id)
    now_ms = ctx.services.now_ms()
    data = [schema.legacy_skill_agent(record, now_ms) for record in records]
    return Answer(envelope.legacy_success(data))


async def skill_status_counts(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids, all_match = schema.skill_counts_query(request.body)
    counts = await ctx.services.skill_counts(request.signed_key, cc_id, vdn, skill_ids, all_match)
    return Answer(envelope.success(schema.skill_counts(counts)))


def routes(settings: Settings) -> list[Route]:
    query = partial(Route, "POST", role="query", max_body=settings.max_body_bytes)
    return [
        query(wire.AGENT_STATUS_INFOS, agent_status_infos),
        query(wire.TEAM_STATUS_COUNTS, team_status_counts),
        query(wire.AGENT_SKILLS, agent_skills),
        query(wire.AGENT_CALLS, agent_calls),
        query(wire.HAS_CALL, has_call),
        query(wire.SYSTEM_STATE, system_state),
        query(wire.AGENTS_BY_STATUS, agents_by_status, envelope=Family.VENDOR),
        query(wire.VDN_AGENTS, vdn_agents),
        query(wire.VDN_AGENT_STATES, vdn_agent_states),
        query(wire.VDN_ALL_AGENT_STATES, vdn_all_agent_states),
        query(wire.SKILL_MEMBERS, skill_members),
        query(wire.SKILL_AGENTS, skill_agents),
        query(wire.LEGACY_SKILL_AGENTS, legacy_skill_agents),
        query(wire.SKILL_STATUS_COUNTS, skill_status_counts),
    ]
