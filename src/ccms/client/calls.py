"""The routes of the ccms API as :class:`~ccms.client.protocol.Call` values.

One function per route: its path, its body and the reader of its answer. A new route is
a function here plus a two-line method on :class:`Client` and on :class:`AsyncClient`.
The client sends what it is given: ranges are the server's to check, so its answer
(``0100002`` and the rule broken) is what the caller sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccms.client.models import AgentDetail, IngestResult, ping_from_wire
from ccms.client.protocol import Call, json_body

COMPAT = "/rest/cmsapp/v1"
NATIVE = "/ccms/v1"


def ping(say: str) -> Call[str]:
    """``POST /rest/cmsapp/v1/ping``: the connectivity check; the server echoes ``say``."""
    return Call("ping", f"{COMPAT}/ping", json_body({"say": say}), ping_from_wire)


def _agent_query(cc_id: int, vdn: int, work_no: int) -> bytes:
    return json_body({"queryParam": {"ccId": cc_id, "vdn": vdn, "agentId": work_no}})


def agent_detail(cc_id: int, vdn: int, work_no: int) -> Call[AgentDetail]:
    """``POST /rest/cmsapp/v1/openapi/agent/agentbyworkno``."""
    return Call(
        "agent/agentbyworkno",
        f"{COMPAT}/openapi/agent/agentbyworkno",
        _agent_query(cc_id, vdn, work_no),
        AgentDetail.from_wire,
        agent_route=True,
    )


def agent_detail_legacy(cc_id: int, vdn: int, work_no: int) -> Call[AgentDetail]:
    """``POST /rest/cmsapp/v1/openapi/agentgroup/agentbyworkno`` (lowercase keys)."""
    return Call(
        "agentgroup/agentbyworkno",
        f"{COMPAT}/openapi/agentgroup/agentbyworkno",
        _agent_query(cc_id, vdn, work_no),
        AgentDetail.from_wire,
        legacy=True,
        agent_route=True,
    )


def post_events(events: Sequence[Mapping[str, object]]) -> Call[IngestResult]:
    """``POST /ccms/v1/events``: idempotent by ``eventId``, so it may be retried."""
    body = json_body({"events": [dict(event) for event in events]})
    return Call("events", f"{NATIVE}/events", body, IngestResult.from_wire)
