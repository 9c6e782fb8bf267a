"""The call routes of the compatible surface (``docs/calls.md``): a VDN's call records
(``vdn/querycalls`` v1 and v2), one call in progress (``calldata/querybasiccallinfo``) and
the call figures of skill queues (``skill/currentcallstateinfo``).
Role ``query``, a scope covering the ccId/VDN asked."""

from __future__ import annotations

from functools import partial

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import calls as schema
from ccms.http.schemas import monitor as monitor_schema
from ccms.settings import Settings


async def _records(ctx: Context, request: Request, v2: bool) -> Answer:
    now_ms = ctx.services.now_ms()
    days = ctx.settings.call_record_days
    cc_id, vdn, query = schema.records_query(request.body, now_ms, days, v2)
    count, records = await ctx.services.call_records(request.signed_key, cc_id, vdn, query)
    return Answer(envelope.plain_success(schema.call_records(count, records)))


async def vdn_calls(ctx: Context, request: Request) -> Answer:
    return await _records(ctx, request, v2=False)


async def vdn_calls_v2(ctx: Context, request: Request) -> Answer:
    return await _records(ctx, request, v2=True)


async def basic_call_info(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, call_id = schema.call_query(request.body)
    record = await ctx.services.live_call(request.signed_key, cc_id, vdn, call_id)
    return Answer(envelope.success(schema.basic_call_info(record, ctx.services.now_ms())))


async def skill_call_counts(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids = monitor_schema.skills_query(request.body)
    windows = await ctx.services.queue_windows(request.signed_key, cc_id, vdn, skill_ids)
    return Answer(envelope.success([schema.queue_window(w) for w in windows]))


async def vdn_indicators(ctx: Context, request: Request) -> Answer:
    cc_id, vdns, codes = schema.indicators_query(request.body)
    counts = await ctx.services.vdn_counts(request.signed_key, cc_id, vdns)
    return Answer(envelope.success(schema.vdn_indicators(vdns, codes, counts)))


def routes(settings: Settings) -> list[Route]:
    query = partial(Route, "POST", role="query", max_body=settings.max_body_bytes)
    return [
        query(wire.VDN_CALLS, vdn_calls),
        query(wire.VDN_CALLS_V2, vdn_calls_v2),
        query(wire.BASIC_CALL_INFO, basic_call_info),
        query(wire.SKILL_CALL_COUNTS, skill_call_counts),
        query(wire.VDN_INDICATORS, vdn_indicators),
    ]
