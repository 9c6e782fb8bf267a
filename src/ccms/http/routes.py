"""Routes: the compatible CC-CMS surface and the native intake, with their handlers.

Handlers turn a validated request into a service call and the answer into the envelope;
they hold no queries and raise only ``CCMSError``s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccms.errors import InvalidParameterError
from ccms.http import schemas
from ccms.ingest.validation import parse_batch

if TYPE_CHECKING:
    from ccms.http.app import App, Request

COMPAT = "/rest/cmsapp/v1"
NATIVE = "/ccms/v1"


def install(app: App) -> None:
    settings = app.settings
    services = app.services
    large = settings.large_work_numbers
    query_limit = settings.max_body_bytes

    async def agent_by_work_no(request: Request) -> bytes:
        cc_id, vdn, work_no = schemas.agent_query(request.body, large)
        record = await services.agent(request.key, cc_id, vdn, work_no)
        return schemas.success(schemas.agent_detail(record, services.now_ms()))

    async def legacy_agent_by_work_no(request: Request) -> bytes:
        cc_id, vdn, work_no = schemas.agent_query(request.body, large)
        record = await services.agent(request.key, cc_id, vdn, work_no)
        return schemas.legacy_success(schemas.legacy_agent_detail(record, services.now_ms()))

    async def ping(request: Request) -> bytes:
        say = schemas.query_params(request.body).get("say", "")
        if not isinstance(say, str) or len(say) > 1024:
            raise InvalidParameterError("say must be a string of at most 1024 characters")
        return schemas.success(say)

    async def post_events(request: Request) -> bytes:
        events = parse_batch(request.body, settings.max_events_per_batch, large)
        result = await services.ingest(request.key, events)
        app.metrics.events.labels("accepted").inc(result.accepted)
        app.metrics.events.labels("duplicate").inc(result.duplicates)
        return schemas.success({"accepted": result.accepted, "duplicates": result.duplicates})

    app.post(f"{COMPAT}/openapi/agent/agentbyworkno", "agent/agentbyworkno", agent_by_work_no,
             query_limit)  # fmt: skip
    app.post(f"{COMPAT}/openapi/agentgroup/agentbyworkno", "agentgroup/agentbyworkno",
             legacy_agent_by_work_no, query_limit)  # fmt: skip
    app.post(f"{COMPAT}/ping", "ping", ping, query_limit)
    app.post(f"{NATIVE}/events", "events", post_events, settings.max_events_body_bytes)
