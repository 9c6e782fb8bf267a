"""Service quality and configuration routes of the compatible surface
(``docs/calls.md``): the service quality of skill queues in the last complete 5 minutes
(``skill/servicequality``, once per second per key), their limits from the configuration
file (``skill/skillcfginfo``) and the calls in progress per access code
(``vdn/queryaccesscodecallinfo``). Role ``query``, a scope covering the ccId/VDN asked."""

from __future__ import annotations

from functools import partial

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import monitor as monitor_schema
from ccms.http.schemas import service as schema
from ccms.settings import Settings


async def service_quality(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids = monitor_schema.skills_query(request.body)
    found = await ctx.services.service_quality(request.signed_key, cc_id, vdn, skill_ids)
    return Answer(envelope.plain_success([schema.service_quality(q) for q in found]))


async def skill_config(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, skill_ids = monitor_schema.skills_query(request.body)
    config = ctx.cc_config.config
    found = ctx.services.skill_configs(request.signed_key, cc_id, vdn, skill_ids, config.skill)
    return Answer(envelope.success([schema.skill_config(s, c) for s, c in found]))


async def access_code_calls(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, inno_ids = schema.access_codes_query(request.body)
    code_of = ctx.cc_config.config.code
    found = await ctx.services.access_code_calls(request.signed_key, cc_id, vdn, inno_ids, code_of)
    return Answer(envelope.success([schema.access_code_calls(a) for a in found]))


def routes(settings: Settings) -> list[Route]:
    query = partial(Route, "POST", role="query", max_body=settings.max_body_bytes)
    return [
        query(wire.SKILL_SERVICE_QUALITY, service_quality),
        query(wire.SKILL_CONFIG, skill_config),
        query(wire.ACCESS_CODE_CALLS, access_code_calls),
    ]
