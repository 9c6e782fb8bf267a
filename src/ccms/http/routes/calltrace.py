"""The routes of a call's track and details (``docs/calls.md``): the legs of a call
(``vdn/querycalltracedetail``), a call in progress at an agent (``calldata/
querydetailcallinfo``) and the record of an ended call by its id (``calldata/
querycalldetailbyid``). Role ``query``, a scope covering the ccId/VDN asked."""

from __future__ import annotations

from functools import partial

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import calls as call_schema
from ccms.http.schemas import calltrace as schema
from ccms.settings import Settings


async def call_trace(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, call_id, _ = schema.trace_query(request.body)
    found = await ctx.services.call_legs(request.signed_key, cc_id, vdn, call_id)
    return Answer(envelope.plain_success(schema.legs(found)))


async def private_call_info(ctx: Context, request: Request) -> Answer:
    cc_id, vdn, call_id = call_schema.call_query(request.body)
    record = await ctx.services.private_call(request.signed_key, cc_id, vdn, call_id)
    return Answer(envelope.success(schema.private_call_info(record, ctx.services.now_ms())))


async def call_detail_by_id(ctx: Context, request: Request) -> Answer:
    cc_id, call_in, call_id = schema.detail_by_id_query(request.body)
    record = await ctx.services.call_detail(request.signed_key, cc_id, call_id, call_in)
    return Answer(envelope.success(schema.call_detail(record)))


def routes(settings: Settings) -> list[Route]:
    query = partial(Route, "POST", role="query", max_body=settings.max_body_bytes)
    return [
        query(wire.CALL_TRACE, call_trace),
        query(wire.PRIVATE_CALL_INFO, private_call_info),
        query(wire.CALL_DETAIL_BY_ID, call_detail_by_id),
    ]
