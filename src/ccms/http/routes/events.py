"""The native event intake: ``POST /ccms/v1/events`` (role ``ingest``, ``docs/intake.md``)."""

from __future__ import annotations

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Context, Request, Route
from ccms.ingest.validation import parse_batch
from ccms.settings import Settings


async def post_events(ctx: Context, request: Request) -> Answer:
    settings = ctx.settings
    batch = parse_batch(request.body, settings.max_events_per_batch, settings.large_work_numbers)
    result = await ctx.services.ingest(
        request.signed_key, batch.agents, batch.calls, batch.call_index
    )
    ctx.metrics.events.labels("accepted").inc(result.accepted)
    ctx.metrics.events.labels("duplicate").inc(result.duplicates)
    if result.exits:
        ctx.metrics.state_exits(result.exits)
    return Answer(envelope.success({"accepted": result.accepted, "duplicates": result.duplicates}))


def routes(settings: Settings) -> list[Route]:
    limit = settings.max_events_body_bytes
    return [Route("POST", wire.EVENTS, post_events, role="ingest", max_body=limit)]
