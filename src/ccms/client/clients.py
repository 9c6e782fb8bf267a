"""``Client`` and ``AsyncClient``: thin transports over the shared request core.

Both take the same arguments and have the same methods; the async one's are coroutines.
Building, signing, answer reading and retry decisions live in
:mod:`ccms.client.protocol` and :mod:`ccms.client.retry`; a class here only sends the
request of each attempt and waits when told to.

    with Client("https://cms.example:28443", ak, sk, verify="/etc/ccms/ca.pem") as cms:
        agent = cms.agent_detail(1, 1, 101)

Arguments:

- ``base_url``: ``http(s)://host:port``, optionally with a path prefix.
- ``ak``, ``sk``: the access key and secret key (C2 signing).
- ``timeout``: seconds for each of connect, write, read and pool wait (default 10).
- ``verify``: ``True`` (system CAs), ``False`` (no TLS check: tests only), or the path of
  a PEM CA bundle to trust instead of the system's.
- ``transport``: an httpx transport (tests: ``httpx.ASGITransport``, ``MockTransport``).
- ``retry_deadline``: seconds within which retries may start (0: never retry).
- ``on_retry``: called with a :class:`~ccms.client.retry.RetryNotice` before each wait
  to retry (the call, the retry number, the wait, the error); the client never prints.
- ``sleep``, ``clock``, ``jitter``: the waiting function, the monotonic clock and the
  random source of the backoff, injectable so that tests never really sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import TypeVar

import anyio
import httpx

from ccms.client import calls
from ccms.client.agent_list import AgentList, AgentQuery
from ccms.client.agents import AgentHistory
from ccms.client.call_records import (
    BasicCallInfo,
    CallRecordPage,
    QueueCallCounts,
    VdnIndicators,
)
from ccms.client.call_track import CallDetail, CallLeg, PrivateCallInfo
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
    StateCounts,
    SystemState,
    ViewToken,
)
from ccms.client.protocol import Call, RequestBuilder, Signer, tls_verify
from ccms.client.queues import (
    QueuedCalls,
    QueueDevice,
    QueueStateInfo,
    QueueStatus,
    SkillIndicators,
)
from ccms.client.retry import DEFAULT_RETRY_DEADLINE, Done, Exchange, RetryNotice, RetryPolicy
from ccms.client.service import AccessCodeCalls, ServiceQuality, SkillConfig
from ccms.client.stream import ChangesPage
from ccms.client.subscription import (
    DEFAULT_IDLE_TIMEOUT,
    AsyncStream,
    Stream,
    StreamRequest,
    StreamSession,
)

T = TypeVar("T")
RetryHook = Callable[[RetryNotice], None]

DEFAULT_TIMEOUT = 10.0


class _Core:
    """What both clients hold: the request builder, the retry policy and the clock."""

    def __init__(
        self,
        base_url: str,
        ak: str,
        sk: str,
        timeout: float,
        retry_deadline: float,
        clock: Callable[[], float],
        jitter: Callable[[], float],
        on_retry: RetryHook | None,
    ) -> None:
        self.builder = RequestBuilder(base_url, Signer(ak, sk), timeout)
        self.policy = RetryPolicy(deadline=retry_deadline, jitter=jitter)
        self.timeout = timeout
        self.clock = clock
        self.on_retry = on_retry

    def exchange(self, call: Call[T]) -> Exchange[T]:
        return Exchange(call, self.builder, self.policy, self.clock, self.timeout)

    def session(
        self, request: StreamRequest, idle_timeout: float, reconnect_deadline: float | None
    ) -> StreamSession:
        if isinstance(idle_timeout, bool) or not isinstance(idle_timeout, int | float):
            raise TypeError(f"idle_timeout must be a number of seconds, got {idle_timeout!r}")
        if not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be more than 0 s, got {idle_timeout!r}")
        if reconnect_deadline is not None and not reconnect_deadline >= 0:
            raise ValueError(
                f"reconnect_deadline must be 0 or more seconds, got {reconnect_deadline!r}"
            )
        return StreamSession(
            request, self.builder, idle_timeout=idle_timeout,
            reconnect_deadline=reconnect_deadline, clock=self.clock, jitter=self.policy.jitter,
        )  # fmt: skip

    def retrying(self, exchange: Exchange[T], wait: float) -> None:
        if self.on_retry is not None:
            self.on_retry(exchange.notice(wait))


class Client:
    """Blocking client of a ccms or vendor CC-CMS server (see the module doc)."""

    def __init__(
        self,
        base_url: str,
        ak: str,
        sk: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        on_retry: RetryHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._core = _Core(base_url, ak, sk, timeout, retry_deadline, clock, jitter, on_retry)
        self._sleep = sleep
        self._http = httpx.Client(transport=transport, verify=tls_verify(verify), timeout=timeout)

    @property
    def base_url(self) -> str:
        return self._core.builder.base_url

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, call: Call[T]) -> T:
        exchange = self._core.exchange(call)
        while True:
            outcome: httpx.Response | httpx.RequestError
            try:
                outcome = self._http.send(exchange.request())
            except httpx.RequestError as exc:
                outcome = exc
            step = exchange.handle(outcome)
            if isinstance(step, Done):
                return step.value
            self._core.retrying(exchange, step)
            self._sleep(step)

    # -- the API: one line per route (see ccms.client.calls) -------------------------

    def ping(self, say: str = "Hello world!") -> str:
        """The connectivity check: the server echoes ``say``."""
        return self._run(calls.ping(say))

    def agent_detail(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail:
        """One agent (``agent/agentbyworkno``)."""
        return self._run(calls.agent_detail(cc_id, vdn, work_no))

    def agent_detail_legacy(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail:
        """One agent by the legacy route (``agentgroup/agentbyworkno``)."""
        return self._run(calls.agent_detail_legacy(cc_id, vdn, work_no))

    def post_events(self, events: Sequence[Mapping[str, object]]) -> IngestResult:
        """Send a batch of CTI events (role ``ingest``); safe to retry by ``eventId``."""
        return self._run(calls.post_events(events))

    def agent_history(
        self, cc_id: int, vdn: int, work_no: int, history_limit: int = 20
    ) -> AgentHistory:
        """One agent, why ccms believes its state and its newest ``history_limit`` (0..1000)
        status events (``/ccms/v1/agents/detail``; ccms only)."""
        return self._run(calls.agent_history(cc_id, vdn, work_no, history_limit))

    # -- monitoring routes ------------------------------------------------------------

    def agent_status_infos(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> tuple[AgentStatusInfo, ...]:
        """Status details of up to 6,000 agents (``agentgroup/agentstatusinfobyagentids``);
        unknown agents are left out."""
        return self._run(calls.agent_status_infos(cc_id, vdn, work_nos))

    def team_status_counts(self, cc_id: int, vdn: int, work_nos: Sequence[int]) -> StateCounts:
        """Agents per state among up to 6,000 agents (``agentgroup/teamagentstatusinfo``)."""
        return self._run(calls.team_status_counts(cc_id, vdn, work_nos))

    def agent_skills(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> tuple[AgentSkills, ...]:
        """The skill queues of up to 6,000 agents
        (``agentgroup/siteagentcallandskillinfobyagentids``)."""
        return self._run(calls.agent_skills(cc_id, vdn, work_nos))

    def agent_calls(self, cc_id: int, vdn: int, work_no: int) -> tuple[str, ...]:
        """The ids of an agent's current calls (``agent/queryagentcalls``)."""
        return self._run(calls.agent_calls(cc_id, vdn, work_no))

    def has_call(self, cc_id: int, vdn: int, work_no: int) -> bool:
        """Whether an agent is handling a call (``calldata/isprocesscall``)."""
        return self._run(calls.has_call(cc_id, vdn, work_no))

    def system_state(self, cc_id: int, vdn: int, offset: int = 0, limit: int = 100) -> SystemState:
        """Busy, talking, idle, signed-in agents of a page of a VDN (``agentgroup/systemstate``)."""
        return self._run(calls.system_state(cc_id, vdn, offset, limit))

    def agents_by_status(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 1000, status: int | None = None
    ) -> tuple[AgentAbstract, ...]:
        """A page of a VDN's agents, of one CTI status if given (``vdn/queryAgentByStatus``)."""
        return self._run(calls.agents_by_status(cc_id, vdn, offset, limit, status))

    def vdn_agents(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 1000
    ) -> AgentPage[AgentAbstract]:
        """A page of a VDN's agents and their count (``vdn/totalagentabstractex3``)."""
        return self._run(calls.vdn_agents(cc_id, vdn, offset, limit))

    def vdn_agent_states(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 1000
    ) -> AgentPage[AgentCtiState]:
        """A page of a VDN's agent states and their count (``vdn/totalagentdynamicinfo``)."""
        return self._run(calls.vdn_agent_states(cc_id, vdn, offset, limit))

    def vdn_all_agent_states(self, cc_id: int, vdn: int) -> tuple[AgentCtiState, ...]:
        """The state of every agent of a VDN (``vdn/totalagentstate``)."""
        return self._run(calls.vdn_all_agent_states(cc_id, vdn))

    def vdn_calls(
        self,
        cc_id: int,
        vdn: int,
        begin: int,
        end: int,
        *,
        call_in: bool | None = None,
        caller_no: str | None = None,
        callee_no: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> CallRecordPage:
        """A page of a VDN's call records (``vdn/querycalls``; v2 when ``call_in`` is
        given)."""
        call = calls.vdn_calls(
            cc_id, vdn, begin, end, call_in=call_in, caller_no=caller_no,
            callee_no=callee_no, limit=limit, offset=offset,
        )  # fmt: skip
        return self._run(call)

    def skill_call_counts(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[QueueCallCounts, ...]:
        """Call counts of skill queues, current 5 minutes (``skill/currentcallstateinfo``)."""
        return self._run(calls.skill_call_counts(cc_id, vdn, skill_ids))

    def vdn_indicators(
        self, vdn_ids: Sequence[int], index_ids: Sequence[str], cc_id: int | None = None
    ) -> tuple[VdnIndicators, ...]:
        """Real-time indicators of VDNs (``rindex/vdn``)."""
        return self._run(calls.vdn_indicators(vdn_ids, index_ids, cc_id))

    def basic_call_info(self, cc_id: int, vdn: int, call_id: str) -> BasicCallInfo:
        """One call in progress (``calldata/querybasiccallinfo``)."""
        return self._run(calls.basic_call_info(cc_id, vdn, call_id))

    def service_quality(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[ServiceQuality, ...]:
        """Service quality of skill queues, last complete 5 minutes
        (``skill/servicequality``; once per second per key)."""
        return self._run(calls.service_quality(cc_id, vdn, skill_ids))

    def skill_configs(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[SkillConfig, ...]:
        """The limits of skill queues (``skill/skillcfginfo``)."""
        return self._run(calls.skill_configs(cc_id, vdn, skill_ids))

    def access_code_calls(
        self, cc_id: int, vdn: int, inno_ids: Sequence[int]
    ) -> tuple[AccessCodeCalls, ...]:
        """The calls in progress of access codes (``vdn/queryaccesscodecallinfo``)."""
        return self._run(calls.access_code_calls(cc_id, vdn, inno_ids))

    def call_trace(
        self, cc_id: int, vdn: int, call_id: str, log_date: int = 0
    ) -> tuple[CallLeg, ...]:
        """The legs of a call (``vdn/querycalltracedetail``); ``()`` for an unknown call."""
        return self._run(calls.call_trace(cc_id, vdn, call_id, log_date))

    def private_call_info(self, cc_id: int, vdn: int, call_id: str) -> PrivateCallInfo:
        """A call in progress at an agent (``calldata/querydetailcallinfo``)."""
        return self._run(calls.private_call_info(cc_id, vdn, call_id))

    def call_detail_by_id(self, cc_id: int, call_id: str, call_in: bool = True) -> CallDetail:
        """The record of an ended call (``calldata/querycalldetailbyid``)."""
        return self._run(calls.call_detail_by_id(cc_id, call_id, call_in))

    def queue_status(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[QueueStatus, ...]:
        """Skill queues now: waiting calls, the longest wait, agents
        (``skill/totalskillstatusex3``)."""
        return self._run(calls.queue_status(cc_id, vdn, skill_ids))

    def queue_state_info(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], legacy: bool = False
    ) -> tuple[QueueStateInfo, ...]:
        """Agents per state and calls of skill queues (``skill/stateinfo``; ``legacy``:
        ``realindex/skill/stateinfo``)."""
        return self._run(calls.queue_state_info(cc_id, vdn, skill_ids, legacy))

    def skill_indicators(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], index_ids: Sequence[str]
    ) -> tuple[SkillIndicators, ...]:
        """Real-time indicators of skill queues (``skill/rindex``)."""
        return self._run(calls.skill_indicators(cc_id, vdn, skill_ids, index_ids))

    def queued_calls(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[QueuedCalls, ...]:
        """The voice calls queued in skill queues (``skill/batchmultiskill``)."""
        return self._run(calls.queued_calls(cc_id, vdn, skill_ids))

    def queue_devices(self, cc_id: int, vdn: int, skill_id: int) -> tuple[QueueDevice, ...]:
        """The calls queued in one skill queue (``skill/queuedevicestatus``)."""
        return self._run(calls.queue_devices(cc_id, vdn, skill_id))

    def skill_members(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[SkillMembers, ...]:
        """The signed-in agents of up to 1,000 skill queues (``realindex/agent/agentsinskill``)."""
        return self._run(calls.skill_members(cc_id, vdn, skill_ids))

    def skill_agents(self, cc_id: int, vdn: int, skill_id: int) -> tuple[SkillAgent, ...]:
        """The signed-in agents of a skill queue (``skill/agentbyconfigedskill``)."""
        return self._run(calls.skill_agents(cc_id, vdn, skill_id))

    def skill_agents_legacy(self, cc_id: int, vdn: int, skill_id: int) -> tuple[SkillAgent, ...]:
        """The same by the legacy route (``agentgroup/agentbyconfigedskill``)."""
        return self._run(calls.skill_agents_legacy(cc_id, vdn, skill_id))

    def skill_status_counts(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], all_match: bool = False
    ) -> StateCounts:
        """Agents per state in skill queues (``skill/agentstatusbyskill``): agents signed in
        to every queue (``all_match``), else to any."""
        return self._run(calls.skill_status_counts(cc_id, vdn, skill_ids, all_match))

    # -- the agent list (docs/client.md) -----------------------------------------------

    def agent_list(
        self,
        cc_id: int,
        vdn: int,
        query: AgentQuery | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AgentList:
        """A page of the VDN's agents matching ``query`` (default: signed-in agents, the
        longest in their state first), with the counts per status of every page."""
        return self._run(calls.agent_list(cc_id, vdn, query or AgentQuery(), limit, cursor))

    def agent_list_pages(
        self, cc_id: int, vdn: int, query: AgentQuery | None = None, *, limit: int = 1000
    ) -> Iterator[AgentList]:
        """Every page of the list, first to last (each agent that does not change meanwhile
        comes exactly once)."""
        cursor: str | None = None
        while True:
            page = self.agent_list(cc_id, vdn, query, limit=limit, cursor=cursor)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # -- the live stream (docs/stream.md) ---------------------------------------------

    def stream(
        self,
        cc_id: int,
        vdn: int,
        *,
        skills: Iterable[int] | None = None,
        agents: Iterable[int] | None = None,
        since: int | None = None,
        token: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        reconnect_deadline: float | None = None,
        queues: bool = False,
    ) -> Stream:
        """The live stream of a VDN (``GET /ccms/v1/stream``): a snapshot, then every
        change, resumed by itself after a drop (see :mod:`ccms.client.subscription`).
        ``skills``/``agents`` filter it; ``since`` resumes from a ``seq``; ``token``
        sends a view token instead of the signature; ``idle_timeout``: seconds without
        a byte (heartbeats included) after which the connection counts as dropped;
        ``queues``: :class:`StreamQueues` items too (the VDN's queue figures)."""
        request = calls.stream(cc_id, vdn, skills, agents, since, token, queues)
        session = self._core.session(request, idle_timeout, reconnect_deadline)
        return Stream(self._http, session, self._sleep)

    def changes(
        self,
        cc_id: int,
        vdn: int,
        since: int | None = None,
        wait: float = 25,
        *,
        skills: Iterable[int] | None = None,
        agents: Iterable[int] | None = None,
        token: str | None = None,
    ) -> ChangesPage:
        """The changes after ``since``, as soon as there is one or after ``wait`` seconds
        (``GET /ccms/v1/changes``, the long-poll twin of the stream)."""
        return self._run(
            calls.changes(cc_id, vdn, since, wait, skills, agents, token, self._core.timeout)
        )

    def create_view_token(
        self, cc_id: int | None = None, vdn: int | None = None, ttl_s: int | None = None
    ) -> ViewToken:
        """A view token for a browser (``POST /ccms/v1/tokens``): the key's scopes, or one
        VDN of them; ``ttl_s`` its lifetime (the server's default when ``None``)."""
        return self._run(calls.create_view_token(cc_id, vdn, ttl_s))


class AsyncClient:
    """The asyncio/trio twin of :class:`Client`: the same methods, as coroutines."""

    def __init__(
        self,
        base_url: str,
        ak: str,
        sk: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        on_retry: RetryHook | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._core = _Core(base_url, ak, sk, timeout, retry_deadline, clock, jitter, on_retry)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            transport=transport, verify=tls_verify(verify), timeout=timeout
        )

    @property
    def base_url(self) -> str:
        return self._core.builder.base_url

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _run(self, call: Call[T]) -> T:
        exchange = self._core.exchange(call)
        while True:
            outcome: httpx.Response | httpx.RequestError
            try:
                outcome = await self._http.send(exchange.request())
            except httpx.RequestError as exc:
                outcome = exc
            step = exchange.handle(outcome)
            if isinstance(step, Done):
                return step.value
            self._core.retrying(exchange, step)
            await self._sleep(step)

    # -- the API: one line per route (see ccms.client.calls) -------------------------

    async def ping(self, say: str = "Hello world!") -> str:
        """The connectivity check: the server echoes ``say``."""
        return await self._run(calls.ping(say))

    async def agent_detail(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail:
        """One agent (``agent/agentbyworkno``)."""
        return await self._run(calls.agent_detail(cc_id, vdn, work_no))

    async def agent_detail_legacy(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail:
        """One agent by the legacy route (``agentgroup/agentbyworkno``)."""
        return await self._run(calls.agent_detail_legacy(cc_id, vdn, work_no))

    async def post_events(self, events: Sequence[Mapping[str, object]]) -> IngestResult:
        """Send a batch of CTI events (role ``ingest``); safe to retry by ``eventId``."""
        return await self._run(calls.post_events(events))

    async def agent_history(
        self, cc_id: int, vdn: int, work_no: int, history_limit: int = 20
    ) -> AgentHistory:
        """One agent, why ccms believes its state and its newest ``history_limit`` (0..1000)
        status events (``/ccms/v1/agents/detail``; ccms only)."""
        return await self._run(calls.agent_history(cc_id, vdn, work_no, history_limit))

    # -- monitoring routes ------------------------------------------------------------

    async def agent_status_infos(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> tuple[AgentStatusInfo, ...]:
        """Status details of up to 6,000 agents (``agentgroup/agentstatusinfobyagentids``);
        unknown agents are left out."""
        return await self._run(calls.agent_status_infos(cc_id, vdn, work_nos))

    async def team_status_counts(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> StateCounts:
        """Agents per state among up to 6,000 agents (``agentgroup/teamagentstatusinfo``)."""
        return await self._run(calls.team_status_counts(cc_id, vdn, work_nos))

    async def agent_skills(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> tuple[AgentSkills, ...]:
        """The skill queues of up to 6,000 agents
        (``agentgroup/siteagentcallandskillinfobyagentids``)."""
        return await self._run(calls.agent_skills(cc_id, vdn, work_nos))

    async def agent_calls(self, cc_id: int, vdn: int, work_no: int) -> tuple[str, ...]:
        """The ids of an agent's current calls (``agent/queryagentcalls``)."""
        return await self._run(calls.agent_calls(cc_id, vdn, work_no))

    async def has_call(self, cc_id: int, vdn: int, work_no: int) -> bool:
        """Whether an agent is handling a call (``calldata/isprocesscall``)."""
        return await self._run(calls.has_call(cc_id, vdn, work_no))

    async def system_state(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 100
    ) -> SystemState:
        """Busy, talking, idle, signed-in agents of a page of a VDN (``agentgroup/systemstate``)."""
        return await self._run(calls.system_state(cc_id, vdn, offset, limit))

    async def agents_by_status(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 1000, status: int | None = None
    ) -> tuple[AgentAbstract, ...]:
        """A page of a VDN's agents, of one CTI status if given (``vdn/queryAgentByStatus``)."""
        return await self._run(calls.agents_by_status(cc_id, vdn, offset, limit, status))

    async def vdn_agents(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 1000
    ) -> AgentPage[AgentAbstract]:
        """A page of a VDN's agents and their count (``vdn/totalagentabstractex3``)."""
        return await self._run(calls.vdn_agents(cc_id, vdn, offset, limit))

    async def vdn_agent_states(
        self, cc_id: int, vdn: int, offset: int = 0, limit: int = 1000
    ) -> AgentPage[AgentCtiState]:
        """A page of a VDN's agent states and their count (``vdn/totalagentdynamicinfo``)."""
        return await self._run(calls.vdn_agent_states(cc_id, vdn, offset, limit))

    async def vdn_all_agent_states(self, cc_id: int, vdn: int) -> tuple[AgentCtiState, ...]:
        """The state of every agent of a VDN (``vdn/totalagentstate``)."""
        return await self._run(calls.vdn_all_agent_states(cc_id, vdn))

    async def vdn_calls(
        self,
        cc_id: int,
        vdn: int,
        begin: int,
        end: int,
        *,
        call_in: bool | None = None,
        caller_no: str | None = None,
        callee_no: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> CallRecordPage:
        """A page of a VDN's call records (``vdn/querycalls``; v2 when ``call_in`` is
        given)."""
        call = calls.vdn_calls(
            cc_id, vdn, begin, end, call_in=call_in, caller_no=caller_no,
            callee_no=callee_no, limit=limit, offset=offset,
        )  # fmt: skip
        return await self._run(call)

    async def skill_call_counts(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[QueueCallCounts, ...]:
        """Call counts of skill queues, current 5 minutes (``skill/currentcallstateinfo``)."""
        return await self._run(calls.skill_call_counts(cc_id, vdn, skill_ids))

    async def vdn_indicators(
        self, vdn_ids: Sequence[int], index_ids: Sequence[str], cc_id: int | None = None
    ) -> tuple[VdnIndicators, ...]:
        """Real-time indicators of VDNs (``rindex/vdn``)."""
        return await self._run(calls.vdn_indicators(vdn_ids, index_ids, cc_id))

    async def basic_call_info(self, cc_id: int, vdn: int, call_id: str) -> BasicCallInfo:
        """One call in progress (``calldata/querybasiccallinfo``)."""
        return await self._run(calls.basic_call_info(cc_id, vdn, call_id))

    async def service_quality(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[ServiceQuality, ...]:
        """Service quality of skill queues, last complete 5 minutes
        (``skill/servicequality``; once per second per key)."""
        return await self._run(calls.service_quality(cc_id, vdn, skill_ids))

    async def skill_configs(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[SkillConfig, ...]:
        """The limits of skill queues (``skill/skillcfginfo``)."""
        return await self._run(calls.skill_configs(cc_id, vdn, skill_ids))

    async def access_code_calls(
        self, cc_id: int, vdn: int, inno_ids: Sequence[int]
    ) -> tuple[AccessCodeCalls, ...]:
        """The calls in progress of access codes (``vdn/queryaccesscodecallinfo``)."""
        return await self._run(calls.access_code_calls(cc_id, vdn, inno_ids))

    async def call_trace(
        self, cc_id: int, vdn: int, call_id: str, log_date: int = 0
    ) -> tuple[CallLeg, ...]:
        """The legs of a call (``vdn/querycalltracedetail``); ``()`` for an unknown call."""
        return await self._run(calls.call_trace(cc_id, vdn, call_id, log_date))

    async def private_call_info(self, cc_id: int, vdn: int, call_id: str) -> PrivateCallInfo:
        """A call in progress at an agent (``calldata/querydetailcallinfo``)."""
        return await self._run(calls.private_call_info(cc_id, vdn, call_id))

    async def call_detail_by_id(self, cc_id: int, call_id: str, call_in: bool = True) -> CallDetail:
        """The record of an ended call (``calldata/querycalldetailbyid``)."""
        return await self._run(calls.call_detail_by_id(cc_id, call_id, call_in))

    async def queue_status(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[QueueStatus, ...]:
        """Skill queues now: waiting calls, the longest wait, agents
        (``skill/totalskillstatusex3``)."""
        return await self._run(calls.queue_status(cc_id, vdn, skill_ids))

    async def queue_state_info(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], legacy: bool = False
    ) -> tuple[QueueStateInfo, ...]:
        """Agents per state and calls of skill queues (``skill/stateinfo``; ``legacy``:
        ``realindex/skill/stateinfo``)."""
        return await self._run(calls.queue_state_info(cc_id, vdn, skill_ids, legacy))

    async def skill_indicators(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], index_ids: Sequence[str]
    ) -> tuple[SkillIndicators, ...]:
        """Real-time indicators of skill queues (``skill/rindex``)."""
        return await self._run(calls.skill_indicators(cc_id, vdn, skill_ids, index_ids))

    async def queued_calls(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[QueuedCalls, ...]:
        """The voice calls queued in skill queues (``skill/batchmultiskill``)."""
        return await self._run(calls.queued_calls(cc_id, vdn, skill_ids))

    async def queue_devices(self, cc_id: int, vdn: int, skill_id: int) -> tuple[QueueDevice, ...]:
        """The calls queued in one skill queue (``skill/queuedevicestatus``)."""
        return await self._run(calls.queue_devices(cc_id, vdn, skill_id))

    async def skill_members(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> tuple[SkillMembers, ...]:
        """The signed-in agents of up to 1,000 skill queues (``realindex/agent/agentsinskill``)."""
        return await self._run(calls.skill_members(cc_id, vdn, skill_ids))

    async def skill_agents(self, cc_id: int, vdn: int, skill_id: int) -> tuple[SkillAgent, ...]:
        """The signed-in agents of a skill queue (``skill/agentbyconfigedskill``)."""
        return await self._run(calls.skill_agents(cc_id, vdn, skill_id))

    async def skill_agents_legacy(
        self, cc_id: int, vdn: int, skill_id: int
    ) -> tuple[SkillAgent, ...]:
        """The same by the legacy route (``agentgroup/agentbyconfigedskill``)."""
        return await self._run(calls.skill_agents_legacy(cc_id, vdn, skill_id))

    async def skill_status_counts(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], all_match: bool = False
    ) -> StateCounts:
        """Agents per state in skill queues (``skill/agentstatusbyskill``): agents signed in
        to every queue (``all_match``), else to any."""
        return await self._run(calls.skill_status_counts(cc_id, vdn, skill_ids, all_match))

    # -- the agent list (docs/client.md) -----------------------------------------------

    async def agent_list(
        self,
        cc_id: int,
        vdn: int,
        query: AgentQuery | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AgentList:
        """A page of the VDN's agents matching ``query`` (default: signed-in agents, the
        longest in their state first), with the counts per status of every page."""
        return await self._run(calls.agent_list(cc_id, vdn, query or AgentQuery(), limit, cursor))

    async def agent_list_pages(
        self, cc_id: int, vdn: int, query: AgentQuery | None = None, *, limit: int = 1000
    ) -> AsyncIterator[AgentList]:
        """Every page of the list, first to last (each agent that does not change meanwhile
        comes exactly once)."""
        cursor: str | None = None
        while True:
            page = await self.agent_list(cc_id, vdn, query, limit=limit, cursor=cursor)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # -- the live stream (docs/stream.md) ---------------------------------------------

    def stream(
        self,
        cc_id: int,
        vdn: int,
        *,
        skills: Iterable[int] | None = None,
        agents: Iterable[int] | None = None,
        since: int | None = None,
        token: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        reconnect_deadline: float | None = None,
        queues: bool = False,
    ) -> AsyncStream:
        """The live stream of a VDN (``GET /ccms/v1/stream``): a snapshot, then every
        change, resumed by itself after a drop (see :mod:`ccms.client.subscription`).
        ``skills``/``agents`` filter it; ``since`` resumes from a ``seq``; ``token``
        sends a view token instead of the signature; ``idle_timeout``: seconds without
        a byte (heartbeats included) after which the connection counts as dropped;
        ``queues``: :class:`StreamQueues` items too (the VDN's queue figures)."""
        request = calls.stream(cc_id, vdn, skills, agents, since, token, queues)
        session = self._core.session(request, idle_timeout, reconnect_deadline)
        return AsyncStream(self._http, session, self._sleep)

    async def changes(
        self,
        cc_id: int,
        vdn: int,
        since: int | None = None,
        wait: float = 25,
        *,
        skills: Iterable[int] | None = None,
        agents: Iterable[int] | None = None,
        token: str | None = None,
    ) -> ChangesPage:
        """The changes after ``since``, as soon as there is one or after ``wait`` seconds
        (``GET /ccms/v1/changes``, the long-poll twin of the stream)."""
        return await self._run(
            calls.changes(cc_id, vdn, since, wait, skills, agents, token, self._core.timeout)
        )

    async def create_view_token(
        self, cc_id: int | None = None, vdn: int | None = None, ttl_s: int | None = None
    ) -> ViewToken:
        """A view token for a browser (``POST /ccms/v1/tokens``): the key's scopes, or one
        VDN of them; ``ttl_s`` its lifetime (the server's default when ``None``)."""
        return await self._run(calls.create_view_token(cc_id, vdn, ttl_s))
