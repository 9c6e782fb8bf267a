"""The agent list of the native surface: ``POST /ccms/v1/agents/query`` (role ``query``).

Who needs attention: a VDN's agents filtered and sorted (by time in state, longest first,
by default), in pages with a cursor, with the counts per status of every page
(``docs/api.md``, "The agent list"). Flags come from ``ctx.flags``, judged at the paging's
first moment for ``flagged`` and at the moment of the answer for what is shown.
"""

from __future__ import annotations

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.http.schemas import agent_list as schema
from ccms.settings import Settings


async def agents_query(ctx: Context, request: Request) -> Answer:
    asked = schema.list_request(request.body)
    now_ms = ctx.services.now_ms()
    first_ms, after = (now_ms, None) if asked.cursor is None else schema.decode_cursor(asked)
    flags = ctx.flags
    listing = await ctx.services.agent_list(
        request.signed_key, asked.cc_id, asked.vdn, asked.query(first_ms, after),
        flagged=flags if asked.flagged else None, flags_at=first_ms,
    )  # fmt: skip
    agents = [schema.listed_agent(a, now_ms, flags(a, now_ms)) for a in listing.agents]
    cursor = None
    if listing.more:
        cursor = schema.encode_cursor(asked, first_ms, listing.agents[-1])
    data = {
        "agents": agents,
        "counts": {str(status): n for status, n in listing.counts.items()},
        "nextCursor": cursor,
        "serverTime": now_ms,
    }
    return Answer(envelope.success(data))


def routes(settings: Settings) -> list[Route]:
    return [
        Route("POST", wire.AGENT_LIST, agents_query, role="query", max_body=settings.max_body_bytes)
    ]
