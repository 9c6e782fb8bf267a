"""The store protocol every backend implements.

Every method takes the tenant (``cc_id``, ``vdn``) explicitly. A backend raises
:class:`~ccms.errors.StoreUnavailableError` when it cannot read or write, and recovers by
itself when its storage is back; it adds no behaviour the contract suite does not test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ccms.domain.agent import AgentEvent, AgentRecord, AgentState, SkillMember, StatusChange


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


class Store(Protocol):
    async def open(self) -> None:
        """Connect, apply pending migrations; raise StoreUnavailableError if impossible."""

    async def close(self) -> None: ...

    async def get_agent(self, cc_id: int, vdn: int, work_no: int) -> AgentRecord | None:
        """One agent, or ``None`` when it is not known in that call center and VDN."""

    async def get_agents(self, cc_id: int, vdn: int, work_nos: Sequence[int]) -> list[AgentRecord]:
        """The known agents among ``work_nos``, in one query, ordered by work number."""

    async def get_agent_states(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> list[AgentState]:
        """The states of the known agents among ``work_nos``: like :meth:`get_agents`
        (one query, each agent once, ordered by work number) without the attributes."""

    async def list_agent_states(
        self,
        cc_id: int,
        vdn: int,
        *,
        offset: int = 0,
        limit: int | None = None,
        cti_status: int | None = None,
    ) -> tuple[int, list[AgentState]]:
        """A page of the VDN's agents, ordered by work number: ``(count, page)``.

        ``count`` is the number of the VDN's agents (with CTI status ``cti_status`` when
        given) and ``page`` those from position ``offset`` (0-based), at most ``limit``
        of them (``None``: all). Both read from one snapshot.
        """

    async def agents_in_skills(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[AgentRecord]:
        """The agents whose current skill queues include at least one of ``skill_ids``,
        whatever their status: one query, each agent once, ordered by work number."""

    async def skill_memberships(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[SkillMember]:
        """A :class:`SkillMember` for each of ``skill_ids`` and each agent whose current
        skill queues include it, whatever its status: one query, ordered by skill id then
        work number (an agent in two of the queues appears twice)."""

    async def apply_events(self, events: Sequence[AgentEvent]) -> IngestResult:
        """Apply a validated batch atomically; return only once it is durably committed.

        Events whose ``event_id`` was applied before (or earlier in the batch) are counted
        as duplicates and change nothing.
        """

    async def history(self, cc_id: int, vdn: int, work_no: int, limit: int) -> list[StatusChange]:
        """The newest ``limit`` status events of an agent, newest first."""

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the store cannot answer."""
