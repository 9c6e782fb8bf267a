"""The skill-queue routes of the compatible surface (``docs/calls.md``): queues now
(``skill/totalskillstatusex3``), their details (``skill/stateinfo`` and the legacy
``realindex/skill/stateinfo``), their indicators (``skill/rindex``) and the calls queued in
them (``skill/batchmultiskill``, ``skill/queuedevicestatus``). Role ``query``, a scope
covering the ccId/VDN asked."""

from __future__ import annotations

from functools import partial

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import monitor as monitor_schema
from ccms.http.schemas import queues as schema
from ccms.settings import Settings


async def queue_status(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids = monitor_schema.skills_query(request.body)
    queues = await ctx.services.queues_now(request.signed_key, cc_id, vdn, skill_ids, False)
    now_ms = ctx.services.now_ms()
    return Answer(envelope.success([schema.queue_status(a, q, now_ms) for a, q in queues]))


async def _state_info(ctx: Context, request: Request, legacy: bool) -> Answer:
    cc_id, vdn, skill_ids = monitor_schema.skills_query(request.body)
    now_ms = ctx.services.now_ms()
    queues = await ctx.services.queue_details(request.signed_key, cc_id, vdn, skill_ids, now_ms)
    items = [schema.state_info(a, q, now_ms, legacy) for a, q in queues]
    return Answer(envelope.legacy_success(items) if legacy else envelope.success(items))


async def state_info(ctx: Context, request: Request) -> Answer:
    return await _state_info(ctx, request, legacy=False)


async def legacy_state_info(ctx: Context, request: Request) -> Answer:
    return await _state_info(ctx, request, legacy=True)


async def skill_indicators(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids, codes = schema.indicators_query(request.body)
    queues = await ctx.services.queues_now(request.signed_key, cc_id, vdn, skill_ids, True)
    now_ms = ctx.services.now_ms()
    items = [schema.skill_indicators(a, q, codes, now_ms) for a, q in queues]
    return Answer(envelope.success(items))


async def queued_calls(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids = monitor_schema.skills_query(request.body)
    queues = await ctx.services.queued_calls(request.signed_key, cc_id, vdn, skill_ids)
    return Answer(envelope.success(schema.queued_voice_calls(queues, ctx.services.now_ms())))


async def queue_devices(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_id = monitor_schema.skill_query(request.body)
    [(_, calls)] = await ctx.services.queued_calls(request.signed_key, cc_id, vdn, [skill_id])
    return Answer(envelope.success([schema.queue_device(r) for r in calls]))


def routes(settings: Settings) -> list[Route]:
    query = partial(Route, "POST", role="query", max_body=settings.max_body_bytes)
    return [
        query(wire.SKILL_QUEUE_STATUS, queue_status),
        query(wire.SKILL_STATE_INFO, state_info),
        query(wire.LEGACY_SKILL_STATE_INFO, legacy_state_info),
        query(wire.SKILL_INDICATORS, skill_indicators),
        query(wire.SKILL_QUEUED_CALLS, queued_calls),
        query(wire.SKILL_QUEUE_DEVICES, queue_devices),
    ]
