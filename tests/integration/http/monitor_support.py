"""What the monitoring route tests share: paths, a valid body per route, a poster."""

from __future__ import annotations

from typing import Any

import httpx
from tests.conftest import Api

OPENAPI = "/rest/cmsapp/v1/openapi"

# A valid flat body for every monitoring route (tenant ccId 1, VDN 1).
VALID_BODIES: dict[str, dict[str, Any]] = {
    "agentgroup/agentstatusinfobyagentids": {"ccId": 1, "vdn": 1, "agentIds": [101]},
    "agentgroup/teamagentstatusinfo": {"ccId": 1, "vdn": 1, "agentIds": [101]},
    "agentgroup/siteagentcallandskillinfobyagentids": {"ccId": 1, "vdn": 1, "agentIds": [101]},
    "agent/queryagentcalls": {"ccId": 1, "vdn": 1, "agentId": 101},
    "calldata/isprocesscall": {"ccId": 1, "vdn": 1, "agentId": 101},
    "agentgroup/systemstate": {"ccId": 1, "vdn": 1, "offset": 0, "limit": 100},
    "vdn/queryAgentByStatus": {"ccId": 1, "vdn": 1, "offset": 0, "limit": 1000},
    "vdn/totalagentabstractex3": {"ccId": 1, "vdn": 1, "offset": 0, "limit": 1000},
    "vdn/totalagentdynamicinfo": {"ccId": 1, "vdn": 1, "offset": 0, "limit": 1000},
    "vdn/totalagentstate": {"ccId": 1, "vdn": 1},
    "realindex/agent/agentsinskill": {"ccId": 1, "vdn": 1, "skillIds": [1]},
    "skill/agentbyconfigedskill": {"ccId": 1, "vdn": 1, "skillId": 1},
    "agentgroup/agentbyconfigedskill": {"ccId": 1, "vdn": 1, "skillId": 1},
    "skill/agentstatusbyskill": {"ccId": 1, "vdn": 1, "skillIds": [1]},
}
ROUTE_NAMES = sorted(VALID_BODIES)
BATCH_ROUTES = [
    "agentgroup/agentstatusinfobyagentids",
    "agentgroup/teamagentstatusinfo",
    "agentgroup/siteagentcallandskillinfobyagentids",
]
PAGED_ROUTES = {  # route -> largest limit
    "agentgroup/systemstate": 100,
    "vdn/totalagentabstractex3": 1000,
    "vdn/totalagentdynamicinfo": 1000,
}
SKILL_LIST_ROUTES = ["realindex/agent/agentsinskill", "skill/agentstatusbyskill"]
SKILL_ROUTES = ["skill/agentbyconfigedskill", "agentgroup/agentbyconfigedskill"]
LEGACY_ROUTES = {"agentgroup/agentbyconfigedskill"}


def path(name: str) -> str:
    return f"{OPENAPI}/{name}"


async def monitor(api: Api, name: str, body: Any, **kw: str) -> httpx.Response:
    """POST ``body`` (any JSON value, or raw bytes) to the monitoring route ``name``."""
    return await api.post(path(name), body, **kw)


def data(response: httpx.Response) -> Any:
    """The data of a success answer, after checking its envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "0", body
    if "resultCode" not in body:  # the legacy envelope
        return body["resultDatas"]
    assert body["resultCode"] == "0100000"
    assert body["resultDatas"] == body["resultDesc"]
    return body["resultDesc"]
