"""The agent routes of the compatible surface and its connectivity check.

Handlers turn a validated request into a service call and the answer into the envelope;
they hold no queries and raise only ``CCMSError``s.
"""

from __future__ import annotations

from functools import partial

from ccms import wire
from ccms.errors import InvalidParameterError
from ccms.http import envelope
from ccms.http.routing import Answer, Body, Context, Request, Route
from ccms.http.schemas import agent as schema
from ccms.http.schemas.fields import query_params
from ccms.settings import Settings


async def agent_by_work_no(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, work_no = schema.agent_query(request.body, ctx.settings.large_work_numbers)
    services = ctx.services
    record = await services.agent_detail(request.signed_key, cc_id, vdn, work_no)
    return Answer(envelope.success(schema.agent_detail(record, services.now_ms())))


async def legacy_agent_by_work_no(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, work_no = schema.agent_query(request.body, ctx.settings.large_work_numbers)
    services = ctx.services
    record = await services.agent_detail(request.signed_key, cc_id, vdn, work_no)
    return Answer(envelope.legacy_success(schema.legacy_agent_detail(record, services.now_ms())))


async def ping(ctx: Context, request: Request) -> Answer:
    """Echo ``say``; an empty body (as the vendor's demo may send) answers ``""``."""
    say = query_params(request.body).get("say", "")
    if not isinstance(say, str) or len(say) > 1024:
        raise InvalidParameterError("say must be a string of at most 1024 characters")
    return Answer(envelope.success(say))


def routes(settings: Settings) -> list[Route]:
    post = partial(Route, "POST", max_body=settings.max_body_bytes)
    return [
        post(wire.AGENT_BY_WORK_NO, agent_by_work_no, role="query"),
        post(wire.LEGACY_AGENT_BY_WORK_NO, legacy_agent_by_work_no, role="query"),
        post(wire.PING, ping, body=Body.JSON_OR_EMPTY),  # any key; an empty body is {}
    ]
