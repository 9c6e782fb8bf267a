"""The route tables, one module per area; :func:`route_table` is the app's whole table.

Each area module holds its handlers (plain ``async`` functions of a ``Context`` and a
``Request``) and a ``routes(settings)`` function listing its ``Route`` values. Adding a
route is one handler and one line in its area's list; a new area is one module and one
line here.
"""

from __future__ import annotations

from ccms.http.routes import (
    agent,
    agent_list,
    calls,
    calltrace,
    detail,
    document,
    events,
    health,
    monitor,
    queues,
    service,
    stream,
    wallboard,
)
from ccms.http.routing import Route
from ccms.settings import Settings


def route_table(settings: Settings) -> list[Route]:
    """Every route of ccms: the compatible surface, the native surface, health, and the
    OpenAPI document of them all, and the wallboard's page."""
    served = [
        *agent.routes(settings),
        *monitor.routes(settings),
        *calls.routes(settings),
        *service.routes(settings),
        *calltrace.routes(settings),
        *queues.routes(settings),
        *agent_list.routes(settings),
        *events.routes(settings),
        *detail.routes(settings),
        *stream.routes(settings),
        *health.routes(settings),
        *wallboard.routes(settings),
    ]
    return [*served, *document.routes(settings, served)]
