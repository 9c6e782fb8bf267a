"""Use cases: query an agent, list and count agents, take in events. No HTTP, no SQL here.

Every query checks the access key first (role ``query`` and the scope of the call center
and VDN it reads), then reads the store once.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ccms.auth import AccessKey
from ccms.domain.agent import AgentDetail, AgentEvent, AgentHistory, AgentRecord, AgentState
from ccms.domain.call import CallEvent, CallRecord, CallState, RecordQuery
from ccms.domain.calltrace import Leg
from ccms.domain.counts import (
    StateCounts,
    SystemState,
    skills_match,
    state_counts,
    system_state,
)
from ccms.domain.flags import FlagsOf
from ccms.domain.indicators import VdnCounts
from ccms.domain.listing import ListQuery, comes_after, position_of, status_counts
from ccms.domain.queue_status import QueueAgents, QueueNow, agent_counts, member_counts
from ccms.domain.queues import QueueWindow, window_start
from ccms.domain.service import (
    AccessCodeCalls,
    CallSpacing,
    ServiceQuality,
    SkillConfig,
    quality_window,
)
from ccms.domain.status import CtiStatus
from ccms.errors import (
    AgentNotFoundError,
    CallNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from ccms.store.base import IngestResult, Store

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class AgentListing:
    """A page of the agent list: its agents, the agents per agent status of every page,
    and whether more follow."""

    agents: list[AgentRecord]
    counts: dict[int, int]
    more: bool


def _known(found: _T | None, cc_id: int, vdn: int, work_no: int) -> _T:
    """``found``, an agent's read; ``None`` is the agent not known (``0100001``)."""
    if found is None:
        raise AgentNotFoundError(f"agent {work_no} is not known in call center {cc_id}, vdn {vdn}")
    return found


class Services:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.time,
        quality_interval_s: float = 1.0,
    ) -> None:
        self.store = store
        self.clock = clock
        # skill/servicequality: once per second per access key (0: no limit)
        self.quality_calls = CallSpacing(quality_interval_s)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def agent(self, key: AccessKey, cc_id: int, vdn: int, work_no: int) -> AgentRecord:
        key.check("query", cc_id, vdn)
        return _known(await self.store.get_agent(cc_id, vdn, work_no), cc_id, vdn, work_no)

    async def agent_detail(self, key: AccessKey, cc_id: int, vdn: int, work_no: int) -> AgentDetail:
        """What ``agent/agentbyworkno`` answers: :meth:`agent`'s checks over the store's
        narrow read (:meth:`Store.get_agent_detail`)."""
        key.check("query", cc_id, vdn)
        found = await self.store.get_agent_detail(cc_id, vdn, work_no)
        return _known(found, cc_id, vdn, work_no)

    async def live_call(self, key: AccessKey, cc_id: int, vdn: int, call_id: str) -> CallRecord:
        """A call in progress (``calldata/querybasiccallinfo``); an unknown or ended call
        is :class:`CallNotFoundError`."""
        key.check("query", cc_id, vdn)
        record = await self.store.get_call(cc_id, vdn, call_id)
        if record is None or not record.live:
            raise CallNotFoundError(
                f"call {call_id} is not in progress in call center {cc_id}, vdn {vdn}"
            )
        return record

    async def call_records(
        self, key: AccessKey, cc_id: int, vdn: int, query: RecordQuery
    ) -> tuple[int, list[CallRecord]]:
        """A page of a VDN's call records and how many match (``vdn/querycalls``)."""
        key.check("query", cc_id, vdn)
        return await self.store.call_records(cc_id, vdn, query)

    async def call_legs(
        self, key: AccessKey, cc_id: int, vdn: int, call_id: str
    ) -> tuple[CallRecord, list[Leg]] | None:
        """A call and its legs, live or ended (``vdn/querycalltracedetail``); ``None``
        when the call is not known (or no longer kept)."""
        key.check("query", cc_id, vdn)
        track = await self.store.call_track(cc_id, vdn, call_id)
        return None if track is None else (track.call, track.legs)

    async def private_call(self, key: AccessKey, cc_id: int, vdn: int, call_id: str) -> CallRecord:
        """A call in progress at an agent, ringing or talking (``calldata/
        querydetailcallinfo``); any other call is :class:`CallNotFoundError`."""
        key.check("query", cc_id, vdn)
        record = await self.store.get_call(cc_id, vdn, call_id)
        if record is None or record.state not in (CallState.RINGING, CallState.TALKING):
            raise CallNotFoundError(
                f"call {call_id} is not in progress at an agent in call center {cc_id}, vdn {vdn}"
            )
        return record

    async def call_detail(
        self, key: AccessKey, cc_id: int, call_id: str, call_in: bool
    ) -> CallRecord:
        """The record of an ended call of that direction in a call center, in the first of
        its VDNs the key may read (``calldata/querycalldetailbyid``, which names no VDN);
        a key that may read no VDN of the call center is refused."""
        if not key.has_role("query"):
            raise PermissionDeniedError("access key lacks the role 'query'")
        scoped = key.vdns is not None and cc_id not in key.call_centers
        if scoped and not any(c == cc_id for c, _ in key.vdns or ()):
            raise PermissionDeniedError(f"access key is not allowed for ccId {cc_id}")
        for record in await self.store.calls_by_id(cc_id, call_id):
            if not record.live and record.call_in is call_in and key.allows(cc_id, record.vdn):
                return record
        way = "inbound" if call_in else "outbound"
        raise CallNotFoundError(f"call {call_id} has no {way} call record in call center {cc_id}")

    async def queue_windows(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[QueueWindow]:
        """The figures of skill queues in the current 5 minutes (``skill/
        currentcallstateinfo``)."""
        key.check("query", cc_id, vdn)
        start = window_start(self.now_ms())
        return await self.store.queue_windows(cc_id, vdn, skill_ids, start)

    async def service_quality(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[ServiceQuality]:
        """The service quality of skill queues in the last complete 5 minutes (``skill/
        servicequality``); a key's second call within a second is
        :class:`RateLimitedError` (unless the limit is off), and is not counted."""
        key.check("query", cc_id, vdn)
        if not self.quality_calls.allow(key.ak, self.clock()):
            every = self.quality_calls.interval_s
            raise RateLimitedError(
                f"skill/servicequality answers an access key once every {every:g} s"
            )
        start = quality_window(self.now_ms())
        return await self.store.service_quality(cc_id, vdn, skill_ids, start)

    async def access_code_calls(
        self,
        key: AccessKey,
        cc_id: int,
        vdn: int,
        inno_ids: Sequence[int],
        code_of: Callable[[int, int, int], str],
    ) -> list[AccessCodeCalls]:
        """The calls in progress of access codes now (``vdn/queryaccesscodecallinfo``);
        ``code_of(cc_id, vdn, innoId)`` is the access code an id stands for."""
        key.check("query", cc_id, vdn)
        codes = [(inno_id, code_of(cc_id, vdn, inno_id)) for inno_id in dict.fromkeys(inno_ids)]
        return await self.store.access_code_calls(cc_id, vdn, codes, self.now_ms())

    def skill_configs(
        self,
        key: AccessKey,
        cc_id: int,
        vdn: int,
        skill_ids: Sequence[int],
        config_of: Callable[[int, int, int], SkillConfig],
    ) -> list[tuple[int, SkillConfig]]:
        """The limits of skill queues (``skill/skillcfginfo``), each once, in order:
        ``config_of(cc_id, vdn, skill)`` is the configuration file's."""
        key.check("query", cc_id, vdn)
        return [(skill, config_of(cc_id, vdn, skill)) for skill in dict.fromkeys(skill_ids)]

    async def vdn_counts(
        self, key: AccessKey, cc_id: int, vdns: Sequence[int]
    ) -> dict[int, VdnCounts]:
        """The agents and live calls of VDNs now (``rindex/vdn``); the key must be allowed
        for every VDN asked."""
        for vdn in vdns:
            key.check("query", cc_id, vdn)
        return await self.store.vdn_counts(cc_id, vdns)

    async def queues_now(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int], window: bool
    ) -> list[tuple[QueueAgents, QueueNow]]:
        """Skill queues now (``skill/totalskillstatusex3``, ``skill/rindex``): each requested
        queue once, in request order, its signed-in agents counted and its calls now (and,
        with ``window``, in the current 5 minutes)."""
        key.check("query", cc_id, vdn)
        wanted = list(dict.fromkeys(skill_ids))
        members = await self.store.skill_memberships(cc_id, vdn, wanted)
        start = window_start(self.now_ms()) if window else None
        calls = await self.store.queues_now(cc_id, vdn, wanted, start)
        return list(zip(member_counts(members, wanted), calls, strict=True))

    async def queue_details(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int], now_ms: int
    ) -> list[tuple[QueueAgents, QueueNow]]:
        """As :meth:`queues_now` with the window, and the longest idle time of each queue's
        agents at ``now_ms`` (``skill/stateinfo``)."""
        key.check("query", cc_id, vdn)
        wanted = list(dict.fromkeys(skill_ids))
        agents = await self.store.agents_in_skills(cc_id, vdn, wanted)
        calls = await self.store.queues_now(cc_id, vdn, wanted, window_start(now_ms))
        return list(zip(agent_counts(agents, wanted, now_ms), calls, strict=True))

    async def queued_calls(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[tuple[int, list[CallRecord]]]:
        """Each requested queue once, in request order, with the calls queued in it now,
        longest waiting first (``skill/batchmultiskill``, ``skill/queuedevicestatus``)."""
        key.check("query", cc_id, vdn)
        queues: dict[int, list[CallRecord]] = {skill: [] for skill in skill_ids}
        for record in await self.store.queued_calls(cc_id, vdn, list(queues)):
            queues[record.skill_id or 0].append(record)
        return list(queues.items())

    async def agent_history(
        self, key: AccessKey, cc_id: int, vdn: int, work_no: int, limit: int
    ) -> AgentHistory:
        """One agent, its newest ``limit`` status events and the one its status comes from."""
        key.check("query", cc_id, vdn)
        found = await self.store.agent_history(cc_id, vdn, work_no, limit)
        if found is None:
            raise AgentNotFoundError(
                f"agent {work_no} is not known in call center {cc_id}, vdn {vdn}"
            )
        return found

    async def agent_states(
        self, key: AccessKey, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> list[AgentState]:
        """The known agents among ``work_nos``, each once, by work number."""
        key.check("query", cc_id, vdn)
        return await self.store.get_agent_states(cc_id, vdn, work_nos)

    async def team_counts(
        self, key: AccessKey, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> StateCounts:
        """Agents per state among ``work_nos``: a recount of :meth:`agent_states`."""
        states = await self.agent_states(key, cc_id, vdn, work_nos)
        return state_counts(state.cti_status for state in states)

    async def agents(
        self, key: AccessKey, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> list[AgentRecord]:
        """The known agents among ``work_nos`` with their attributes, by work number."""
        key.check("query", cc_id, vdn)
        return await self.store.get_agents(cc_id, vdn, work_nos)

    async def vdn_agents(
        self,
        key: AccessKey,
        cc_id: int,
        vdn: int,
        *,
        offset: int = 0,
        limit: int | None = None,
        cti_status: int | None = None,
    ) -> tuple[int, list[AgentState]]:
        """``(count, page)`` of the VDN's agents by work number (``limit`` None: all)."""
        key.check("query", cc_id, vdn)
        return await self.store.list_agent_states(
            cc_id, vdn, offset=offset, limit=limit, cti_status=cti_status
        )

    async def agent_list(
        self,
        key: AccessKey,
        cc_id: int,
        vdn: int,
        query: ListQuery,
        flagged: FlagsOf | None = None,
        flags_at: int = 0,
    ) -> AgentListing:
        """A page of the VDN's agents matching ``query`` (``docs/api.md``, "The agent
        list"), the counts per status of all its pages, and whether more follow.

        ``flagged``: only agents with a flag at ``flags_at`` (ms). Flags are computed,
        not stored, so this reads every agent matching the rest of the filter and cuts
        the page here, in the order the store gave them.
        """
        key.check("query", cc_id, vdn)
        limit = query.limit
        if flagged is None:
            found = await self.store.list_agents(cc_id, vdn, query)
            agents, counts = found.agents, status_counts(found.cti_counts)
        else:
            every = await self.store.list_agents(
                cc_id, vdn, dataclasses.replace(query, after=None, limit=None)
            )
            agents = [agent for agent in every.agents if flagged(agent, flags_at)]
            counts = status_counts(Counter(agent.cti_status for agent in agents))
            after, order = query.after, query.order
            if after is not None:
                agents = [a for a in agents if comes_after(position_of(a, order), after, order)]
        more = limit is not None and len(agents) > limit
        return AgentListing(agents[:limit] if more else agents, counts, more)

    async def system_state(
        self, key: AccessKey, cc_id: int, vdn: int, offset: int, limit: int
    ) -> SystemState:
        """Busy, talking, idle and signed-in agents of one page of the VDN's agents."""
        _, page = await self.vdn_agents(key, cc_id, vdn, offset=offset, limit=limit)
        return system_state(state.cti_status for state in page)

    async def skill_agents(
        self, key: AccessKey, cc_id: int, vdn: int, skill_id: int
    ) -> list[AgentRecord]:
        """The signed-in agents of one skill queue, with their attributes, by work number."""
        key.check("query", cc_id, vdn)
        records = await self.store.agents_in_skills(cc_id, vdn, [skill_id])
        return [record for record in records if record.cti_status != CtiStatus.SIGNED_OUT]

    async def skill_members(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[tuple[int, list[int]]]:
        """Each requested skill queue once, in request order, with the work numbers of
        its signed-in agents."""
        key.check("query", cc_id, vdn)
        members: dict[int, list[int]] = {skill: [] for skill in skill_ids}
        for member in await self.store.skill_memberships(cc_id, vdn, list(members)):
            if member.cti_status != CtiStatus.SIGNED_OUT:
                members[member.skill_id].append(member.work_no)
        return list(members.items())

    async def skill_counts(
        self, key: AccessKey, cc_id: int, vdn: int, skill_ids: Sequence[int], all_match: bool
    ) -> StateCounts:
        """Agents per state among the signed-in agents of the skill queues: those signed
        in to every one of them (``all_match``), else to at least one; each counted once."""
        key.check("query", cc_id, vdn)
        wanted = frozenset(skill_ids)
        agents: dict[int, tuple[int, set[int]]] = {}  # work number -> status, its queues
        for member in await self.store.skill_memberships(cc_id, vdn, sorted(wanted)):
            if member.cti_status != CtiStatus.SIGNED_OUT:
                agents.setdefault(member.work_no, (member.cti_status, set()))[1].add(
                    member.skill_id
                )
        return state_counts(
            status for status, skills in agents.values() if skills_match(skills, wanted, all_match)
        )

    async def ingest(
        self,
        key: AccessKey,
        events: Sequence[AgentEvent],
        calls: Sequence[CallEvent] = (),
        call_index: Sequence[int] = (),
    ) -> IngestResult:
        """Apply a batch: its agent events and its call events (``call_index``: the
        position of each call event in the batch, for messages)."""
        if not key.has_role("ingest"):
            raise PermissionDeniedError("access key lacks the role 'ingest'")
        for index, event in enumerate(events):
            if not key.allows(event.cc_id, event.vdn):
                if call_index:  # a mixed batch: the agent event's position in it
                    calls_at = set(call_index)
                    index = [i for i in range(len(events) + len(calls)) if i not in calls_at][index]
                raise PermissionDeniedError(
                    f"events[{index}]: access key is not allowed for ccId {event.cc_id}"
                    f" and vdn {event.vdn}"
                )
        if not calls:
            return await self.store.apply_events(events)
        for position, call in enumerate(calls):
            if not key.allows(call.cc_id, call.vdn):
                index = call_index[position] if position < len(call_index) else position
                raise PermissionDeniedError(
                    f"events[{index}]: access key is not allowed for ccId {call.cc_id}"
                    f" and vdn {call.vdn}"
                )
        return await self.store.apply_events(events, calls)
