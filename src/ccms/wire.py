"""The wire contract: what the server and the client must agree on, in one place.

Result codes, the paths of both surfaces (compatible ``/rest/cmsapp/v1`` and native
``/ccms/v1``) and the vendor's "unset" values. Pure data: it imports nothing of ccms but the
domain's status module, so that the server (``ccms.errors``, ``ccms.http``) and the client
(``ccms.client``) share it without the client importing anything server-side.
"""

from __future__ import annotations

from ccms.domain.status import SIGNED_OUT_LOGIN_DATE

__all__ = [
    "ACCESS_CODE_CALLS",
    "AGENTS_BY_STATUS",
    "AGENT_BY_WORK_NO",
    "AGENT_CALLS",
    "AGENT_DETAIL",
    "AGENT_LIST",
    "AGENT_SKILLS",
    "AGENT_STATUS_INFOS",
    "BASIC_CALL_INFO",
    "CALL_DETAIL_BY_ID",
    "CALL_TRACE",
    "CHANGES",
    "COMPAT",
    "EVENTS",
    "FAILED",
    "HAS_CALL",
    "HEALTHZ",
    "INVALID_PARAMETER",
    "LEGACY_AGENT_BY_WORK_NO",
    "LEGACY_SKILL_AGENTS",
    "LEGACY_SKILL_STATE_INFO",
    "METRICS",
    "NATIVE",
    "OPENAPI",
    "OPENAPI_DOCUMENT",
    "OPENAPI_V2",
    "PERMISSION_DENIED",
    "PING",
    "PRIVATE_CALL_INFO",
    "SIGNED_OUT_LOGIN_DATE",
    "SKILL_AGENTS",
    "SKILL_CALL_COUNTS",
    "SKILL_CONFIG",
    "SKILL_INDICATORS",
    "SKILL_MEMBERS",
    "SKILL_QUEUED_CALLS",
    "SKILL_QUEUE_DEVICES",
    "SKILL_QUEUE_STATUS",
    "SKILL_SERVICE_QUALITY",
    "SKILL_STATE_INFO",
    "SKILL_STATUS_COUNTS",
    "STREAM",
    "SUCCESS",
    "SYSTEM_STATE",
    "TEAM_STATUS_COUNTS",
    "TOKENS",
    "UNKNOWN_ERROR",
    "UNSET_16",
    "UNSET_32",
    "VDN_AGENTS",
    "VDN_AGENT_STATES",
    "VDN_ALL_AGENT_STATES",
    "VDN_CALLS",
    "VDN_CALLS_V2",
    "VDN_INDICATORS",
    "WALLBOARD",
    "WALLBOARD_FILES",
    "route_name",
]

# -- result codes (``resultCode``; the vendor's table, docs/api.md "The envelope") ---------

SUCCESS = "0100000"
FAILED = "0100001"  # generic failure: unknown agent, authentication, rate limit, store down
INVALID_PARAMETER = "0100002"
UNKNOWN_ERROR = "0100999"
PERMISSION_DENIED = "0101003"

# -- route paths ---------------------------------------------------------------------------

COMPAT = "/rest/cmsapp/v1"
OPENAPI = f"{COMPAT}/openapi"
NATIVE = "/ccms/v1"

PING = f"{COMPAT}/ping"
AGENT_BY_WORK_NO = f"{OPENAPI}/agent/agentbyworkno"
LEGACY_AGENT_BY_WORK_NO = f"{OPENAPI}/agentgroup/agentbyworkno"
# the monitoring routes: agent dimension
AGENT_STATUS_INFOS = f"{OPENAPI}/agentgroup/agentstatusinfobyagentids"
TEAM_STATUS_COUNTS = f"{OPENAPI}/agentgroup/teamagentstatusinfo"
AGENT_SKILLS = f"{OPENAPI}/agentgroup/siteagentcallandskillinfobyagentids"
AGENT_CALLS = f"{OPENAPI}/agent/queryagentcalls"
HAS_CALL = f"{OPENAPI}/calldata/isprocesscall"
SYSTEM_STATE = f"{OPENAPI}/agentgroup/systemstate"
# VDN dimension
AGENTS_BY_STATUS = f"{OPENAPI}/vdn/queryAgentByStatus"
VDN_AGENTS = f"{OPENAPI}/vdn/totalagentabstractex3"
VDN_AGENT_STATES = f"{OPENAPI}/vdn/totalagentdynamicinfo"
VDN_ALL_AGENT_STATES = f"{OPENAPI}/vdn/totalagentstate"
# skill-queue dimension
SKILL_MEMBERS = f"{OPENAPI}/realindex/agent/agentsinskill"
SKILL_AGENTS = f"{OPENAPI}/skill/agentbyconfigedskill"
LEGACY_SKILL_AGENTS = f"{OPENAPI}/agentgroup/agentbyconfigedskill"
SKILL_STATUS_COUNTS = f"{OPENAPI}/skill/agentstatusbyskill"
# calls (docs/calls.md)
OPENAPI_V2 = "/rest/cmsapp/v2/openapi"  # the vendor's one v2 route is vdn/querycalls
VDN_CALLS = f"{OPENAPI}/vdn/querycalls"  # inbound call records only
VDN_CALLS_V2 = f"{OPENAPI_V2}/vdn/querycalls"  # inbound or outbound (isCallIn)
BASIC_CALL_INFO = f"{OPENAPI}/calldata/querybasiccallinfo"  # one call in progress
SKILL_CALL_COUNTS = f"{OPENAPI}/skill/currentcallstateinfo"  # queues, current 5 minutes
VDN_INDICATORS = f"{OPENAPI}/rindex/vdn"  # real-time indicators of VDNs
SKILL_SERVICE_QUALITY = f"{OPENAPI}/skill/servicequality"  # last complete 5 min, 1 call/s
SKILL_CONFIG = f"{OPENAPI}/skill/skillcfginfo"  # queue limits (the configuration file)
ACCESS_CODE_CALLS = f"{OPENAPI}/vdn/queryaccesscodecallinfo"  # live calls per access code
CALL_TRACE = f"{OPENAPI}/vdn/querycalltracedetail"  # the legs of one call
PRIVATE_CALL_INFO = f"{OPENAPI}/calldata/querydetailcallinfo"  # a call at an agent
CALL_DETAIL_BY_ID = f"{OPENAPI}/calldata/querycalldetailbyid"  # one call record, by id
# skill queues now (docs/calls.md)
SKILL_QUEUE_STATUS = f"{OPENAPI}/skill/totalskillstatusex3"  # queued calls, agents
SKILL_STATE_INFO = f"{OPENAPI}/skill/stateinfo"  # agents per state, calls, 5 minutes
LEGACY_SKILL_STATE_INFO = f"{OPENAPI}/realindex/skill/stateinfo"  # its legacy twin
SKILL_INDICATORS = f"{OPENAPI}/skill/rindex"  # real-time indicators of skill queues
SKILL_QUEUED_CALLS = f"{OPENAPI}/skill/batchmultiskill"  # the calls queued, per queue
SKILL_QUEUE_DEVICES = f"{OPENAPI}/skill/queuedevicestatus"  # the calls queued in one
# native surface, health and metrics
EVENTS = f"{NATIVE}/events"
AGENT_LIST = f"{NATIVE}/agents/query"  # POST, the agent list (filters, sort, cursor)
OPENAPI_DOCUMENT = f"{NATIVE}/openapi.json"  # the OpenAPI document of both surfaces
STREAM = f"{NATIVE}/stream"  # GET, Server-Sent Events
CHANGES = f"{NATIVE}/changes"  # GET, the stream's long-poll twin
TOKENS = f"{NATIVE}/tokens"  # POST, view tokens for browsers
AGENT_DETAIL = f"{NATIVE}/agents/detail"  # POST, one agent, its history and why
HEALTHZ = "/healthz"
WALLBOARD = "/wallboard"  # GET, the wallboard page (no authentication; docs/wallboard.md)
WALLBOARD_FILES = f"{WALLBOARD}/{{file}}"  # GET, its scripts and styles
METRICS = "/metrics"


def route_name(path: str) -> str:
    """A route's short name (the metrics label, the client's messages): what follows
    ``/openapi/`` or the surface's prefix (``agent/agentbyworkno``, ``ping``, ``events``),
    else the path itself (``/healthz``)."""
    if path.startswith(f"{OPENAPI_V2}/"):
        return "v2/" + path[len(OPENAPI_V2) + 1 :]
    for prefix in (f"{OPENAPI}/", f"{COMPAT}/", f"{NATIVE}/"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


# -- the vendor's "unset" values -----------------------------------------------------------
# What the vendor answers for a field it has no value for (docs/api.md, "Values ccms cannot
# know"); ``SIGNED_OUT_LOGIN_DATE`` (``loginDate`` of a signed-out agent) is the domain's.

UNSET_16 = 65535  # currentStateReason, locationId, groupId
UNSET_32 = 4_294_967_295  # prevStateTime
