"""The native agent-detail route: ``POST /ccms/v1/agents/detail`` (role ``query``).

One agent with what the compatible routes do not show: its reason, skill queues, calls and
flags, why ccms believes its state (the ``source`` and ``rawState`` of the status event it
comes from) and its newest status events.
"""

from __future__ import annotations

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import detail as schema
from ccms.settings import Settings


async def agent_detail(ctx: Context, request: Request) -> Answer:
    query = schema.detail_query(request.body, ctx.settings.large_work_numbers)
    services = ctx.services
    found = await services.agent_history(request.signed_key, *query)
    now_ms = services.now_ms()
    flags = ctx.flags(found.record, now_ms)
    return Answer(envelope.success(schema.detail_answer(found, now_ms, flags)))


def routes(settings: Settings) -> list[Route]:
    return [
        Route(
            "POST", wire.AGENT_DETAIL, agent_detail, role="query", max_body=settings.max_body_bytes
        )
    ]
