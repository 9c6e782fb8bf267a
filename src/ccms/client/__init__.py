"""The ccms client: :class:`Client` and :class:`AsyncClient` over httpx.

It speaks the CC-CMS open API (C2-signed POSTs, the ``resultCode`` envelope) to ccms or to
a vendor CC-CMS, returns typed results and raises one exception tree
(:class:`CCMSClientError`); ``stream()`` reads ccms's live stream (Server-Sent Events) as
typed items and resumes by itself. It imports nothing of the ccms server: only the pure C2
signing functions of :mod:`ccms.auth`, the wire contract :mod:`ccms.wire` (result codes,
paths, unset values) and the pure domain's statuses, counts and agent key.
See ``docs/client.md``.
"""

from ccms.client.agent_list import AgentList, AgentQuery, ListedAgent
from ccms.client.agents import AgentFlag, AgentHistory, AgentItem, StatusEvent
from ccms.client.call_records import (
    BasicCallInfo,
    CallRecord,
    CallRecordPage,
    QueueCallCounts,
    VdnIndicators,
)
from ccms.client.call_track import CallDetail, CallLeg, PrivateCallInfo
from ccms.client.clients import AsyncClient, Client
from ccms.client.config import ClientConfig, Profile, config_path, load_config, write_profile
from ccms.client.errors import (
    AgentNotFoundError,
    ApiError,
    AuthenticationError,
    CCMSClientError,
    ConfigurationError,
    InvalidParameterError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnexpectedAnswerError,
)
from ccms.client.models import (
    AgentAbstract,
    AgentCtiState,
    AgentDetail,
    AgentPage,
    AgentSkills,
    AgentStatusInfo,
    IngestResult,
    SkillAgent,
    SkillMembers,
    SkillSignIn,
    StateCounts,
    SystemState,
    ViewToken,
)
from ccms.client.queues import (
    QueuedCall,
    QueuedCalls,
    QueueDevice,
    QueueStateInfo,
    QueueStatus,
    SkillIndicators,
)
from ccms.client.retry import RetryNotice, RetryPolicy
from ccms.client.service import AccessCodeCalls, ServiceQuality, SkillConfig
from ccms.client.stream import (
    ChangesPage,
    StreamAgent,
    StreamChange,
    StreamFlag,
    StreamFlagChange,
    StreamItem,
    StreamQueue,
    StreamQueues,
    StreamReset,
    StreamSnapshot,
    StreamStatus,
    StreamView,
)
from ccms.client.subscription import AsyncStream, Stream
from ccms.domain.status import AgentStatus, CtiStatus

__all__ = [
    "AccessCodeCalls",
    "AgentAbstract",
    "AgentCtiState",
    "AgentDetail",
    "AgentFlag",
    "AgentHistory",
    "AgentItem",
    "AgentList",
    "AgentNotFoundError",
    "AgentPage",
    "AgentQuery",
    "AgentSkills",
    "AgentStatus",
    "AgentStatusInfo",
    "ApiError",
    "AsyncClient",
    "AsyncStream",
    "AuthenticationError",
    "BasicCallInfo",
    "CCMSClientError",
    "CallDetail",
    "CallLeg",
    "CallRecord",
    "CallRecordPage",
    "ChangesPage",
    "Client",
    "ClientConfig",
    "ConfigurationError",
    "CtiStatus",
    "IngestResult",
    "InvalidParameterError",
    "ListedAgent",
    "PermissionDeniedError",
    "PrivateCallInfo",
    "Profile",
    "QueueCallCounts",
    "QueueDevice",
    "QueueStateInfo",
    "QueueStatus",
    "QueuedCall",
    "QueuedCalls",
    "RateLimitedError",
    "RetryNotice",
    "RetryPolicy",
    "ServerError",
    "ServiceQuality",
    "SkillAgent",
    "SkillConfig",
    "SkillIndicators",
    "SkillMembers",
    "SkillSignIn",
    "StateCounts",
    "StatusEvent",
    "Stream",
    "StreamAgent",
    "StreamChange",
    "StreamFlag",
    "StreamFlagChange",
    "StreamItem",
    "StreamQueue",
    "StreamQueues",
    "StreamReset",
    "StreamSnapshot",
    "StreamStatus",
    "StreamView",
    "SystemState",
    "TransportError",
    "UnexpectedAnswerError",
    "VdnIndicators",
    "ViewToken",
    "config_path",
    "load_config",
    "write_profile",
]
