"""Health and metrics: ``GET /healthz`` and ``GET /metrics``, without authentication."""

from __future__ import annotations

from ccms import wire
from ccms.http import envelope
from ccms.http.routing import Answer, Auth, Body, Context, Request, Route
from ccms.settings import Settings


async def healthz(ctx: Context, request: Request) -> Answer:
    """``0100000`` while the store answers; its ``StoreUnavailableError`` (503) when not."""
    await ctx.store.ping()
    return Answer(envelope.success("ok"))


async def metrics(ctx: Context, request: Request) -> Answer:
    """The Prometheus text format: counts only, no data."""
    registry = ctx.metrics
    return Answer(registry.render(), content_type=registry.content_type.encode(), code="")


def routes(settings: Settings) -> list[Route]:
    return [
        Route("GET", wire.HEALTHZ, healthz, auth=Auth.NONE, body=Body.NONE),
        Route("GET", wire.METRICS, metrics, auth=Auth.NONE, body=Body.NONE),
    ]
