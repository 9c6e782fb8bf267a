"""The store protocol every backend implements.

Every method takes the tenant (``cc_id``, ``vdn``) explicitly. A backend raises
:class:`~ccms.errors.StoreUnavailableError` when it cannot read or write, and recovers by
itself when its storage is back; it adds no behaviour the contract suite does not test.

Besides reads and batches, a store has a change log and a change feed: every applied
change of an agent takes the next number of a store-wide, gap-free change sequence and is
logged with the agent's record before and after (:mod:`ccms.domain.changes`), kept for a
replay window; :meth:`Store.read_changes` reads the log, :meth:`Store.snapshot` a VDN's
agents with the number they are consistent with, and :meth:`Store.changes` streams the
changed agents of every commit, by this process or any other on the same storage
(:mod:`ccms.store.changes`). It keeps the view tokens of the live stream. And it reports
and migrates its own schema, for ``ccms db``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ccms.domain.agent import (
    AgentDetail,
    AgentEvent,
    AgentHistory,
    AgentKey,
    AgentRecord,
    AgentState,
    SkillMember,
    StatusChange,
)
from ccms.domain.call import CallEvent, CallRecord, RecordQuery
from ccms.domain.calltrace import CallTrack
from ccms.domain.changes import AgentChange, ChangePage, Snapshot, ViewToken
from ccms.domain.flags import FlagsOf
from ccms.domain.indicators import VdnCounts
from ccms.domain.listing import ListedAgents, ListQuery
from ccms.domain.queue_status import QueueNow
from ccms.domain.queues import QueueBoard, QueueWindow
from ccms.domain.service import AccessCodeCalls, ServiceQuality
from ccms.store.changes import ChangeSet, ChangeStream


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    # (CTI status left, ms spent in it) for each status the batch ended: the metrics'
    # time in state at state exit, counted once, by the process that applied the batch
    exits: tuple[tuple[int, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class SchemaStatus:
    backend: str  # "sqlite", "postgres"
    current: int  # the version applied (0: none)
    latest: int  # the newest version this ccms knows
    pending: tuple[str, ...]  # migration names, e.g. "0002_change_seq"


class Store(Protocol):
    @property
    def location(self) -> str:
        """The store's URL as operators see it, without a password."""

    async def open(self) -> None:
        """Connect, apply pending migrations; raise StoreUnavailableError if impossible."""

    async def close(self) -> None:
        """Release everything; open change streams end."""

    async def schema_status(self) -> SchemaStatus:
        """The schema's version and pending migrations, open or not; creates and changes
        nothing. A store whose storage is there but empty (a PostgreSQL schema without
        tables, an empty SQLite file) is at version 0; one whose storage is missing (no
        SQLite file, no such PostgreSQL schema) raises StoreUnavailableError saying so."""

    async def migrate(self) -> list[int]:
        """Apply the pending migrations, open or not (:meth:`open` does too); the versions
        applied. Several processes migrating at once apply each migration once."""

    async def get_agent(self, cc_id: int, vdn: int, work_no: int) -> AgentRecord | None:
        """One agent, or ``None`` when it is not known in that call center and VDN."""

    async def get_agent_detail(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail | None:
        """What ``agent/agentbyworkno`` answers of one agent (:meth:`get_agent`'s record
        without what that answer does not show), or ``None`` when it is not known."""

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

    async def list_agents(self, cc_id: int, vdn: int, query: ListQuery) -> ListedAgents:
        """The agent list (:mod:`ccms.domain.listing`): the VDN's agents matching
        ``query.filter``, in ``query.order``, after ``query.after``, at most
        ``query.limit + 1`` of them (all when ``None``), with the CTI statuses of every
        agent matching the filter counted; both from one snapshot, through an index."""

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

    async def apply_events(
        self, events: Sequence[AgentEvent], calls: Sequence[CallEvent] = ()
    ) -> IngestResult:
        """Apply a validated batch (its agent events and its call events) atomically;
        return only once it is durably committed.

        Events whose ``event_id`` was applied before in their call center and VDN (or
        earlier in the batch: agent events first, then call events) are counted as
        duplicates and change nothing. Call events follow :mod:`ccms.domain.call`.
        """

    # -- calls -------------------------------------------------------------------------

    async def get_call(self, cc_id: int, vdn: int, call_id: str) -> CallRecord | None:
        """One call, live or ended, or ``None`` when not known (or no longer kept)."""

    async def call_records(
        self, cc_id: int, vdn: int, query: RecordQuery
    ) -> tuple[int, list[CallRecord]]:
        """A page of the VDN's call records (:class:`~ccms.domain.call.RecordQuery`):
        ``(count, page)``, ``count`` every record matching, both from one snapshot."""

    async def call_track(self, cc_id: int, vdn: int, call_id: str) -> CallTrack | None:
        """One call, live or ended, with its steps (each call event applied to it, once
        per event id; :mod:`ccms.domain.calltrace`), from one read; ``None`` when the call
        is not known (or no longer kept: its steps go with it)."""

    async def calls_by_id(self, cc_id: int, call_id: str) -> list[CallRecord]:
        """The calls of that id in the call center, in every VDN (ordered by VDN), through
        an index."""

    async def history(self, cc_id: int, vdn: int, work_no: int, limit: int) -> list[StatusChange]:
        """The newest ``limit`` status events of an agent, newest first."""

    async def agent_history(
        self, cc_id: int, vdn: int, work_no: int, limit: int
    ) -> AgentHistory | None:
        """One agent with its newest ``limit`` status events (newest first) and the newest
        status event applied (its ``cause``, whatever ``limit``), from one read; ``None``
        when the agent is not known in that call center and VDN."""

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the store cannot answer."""

    async def queue_windows(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
    ) -> list[QueueWindow]:
        """The figures of each of ``skill_ids`` (in order, each once) since ``start``, in
        one query: equal to :func:`ccms.domain.queues.recount` over the VDN's calls."""

    async def queue_board(self, cc_id: int, vdn: int, start: int) -> QueueBoard:
        """The skill queues of a VDN now (its agents' and its waiting calls', by id): the
        calls waiting in each and the earliest of their queueings, and each queue's figures
        since ``start``, from one read; equal to :func:`ccms.domain.queues.board_recount`."""

    async def vdn_counts(self, cc_id: int, vdns: Sequence[int]) -> dict[int, VdnCounts]:
        """For each of ``vdns`` (each once), its agents per CTI status and its live calls per
        state, from one read (a statement per table): the ``rindex/vdn`` indicators."""

    async def service_quality(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
    ) -> list[ServiceQuality]:
        """The service quality of each of ``skill_ids`` (in order, each once) in the
        5 minutes from ``start``, in one query: equal to
        :func:`ccms.domain.service.recount_quality` over the VDN's calls."""

    async def access_code_calls(
        self, cc_id: int, vdn: int, codes: Sequence[tuple[int, str]], now_ms: int
    ) -> list[AccessCodeCalls]:
        """For each ``(innoId, access code)`` of ``codes`` (in order), its calls in
        progress at ``now_ms``, in one query: equal to
        :func:`ccms.domain.service.recount_access` over the VDN's calls."""

    async def queues_now(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int | None
    ) -> list[QueueNow]:
        """The calls of each of ``skill_ids`` (in order, each once) now and, with
        ``start``, since then, in one query: equal to
        :func:`ccms.domain.queue_status.recount` over the VDN's calls."""

    async def queued_calls(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[CallRecord]:
        """The calls queued now in any of ``skill_ids``, in one query: equal to
        :func:`ccms.domain.queue_status.queued_in` over the VDN's calls."""

    # -- the change feed ---------------------------------------------------------------

    def changes(self, since: int | None = None) -> ChangeStream:
        """The agents changed by committed batches, as they commit, from this process or
        any other on the same storage: ``async with store.changes() as stream: async for
        change in stream``. Each :class:`~ccms.store.changes.ChangeSet` has a number above
        the previous one. Without ``since`` the stream starts at the newest number when it
        is entered; with it, the first change set covers the changes after ``since``.
        Raises StoreUnavailableError when the store is not open or cannot follow."""

    async def changes_since(self, seq: int) -> ChangeSet:
        """The agents changed after change number ``seq``, with the newest number among
        them (``seq`` itself and no agents when nothing changed since)."""

    async def change_seq(self) -> int:
        """The newest committed change number (0: none yet)."""

    # -- the change log, snapshots, view tokens (the live stream) ----------------------

    async def read_changes(
        self, since: int, limit: int, cc_id: int | None = None, vdn: int | None = None
    ) -> ChangePage:
        """The logged changes after number ``since``, ascending, at most ``limit`` of them,
        only those of call center ``cc_id`` (and VDN ``vdn``) when given, with the newest
        number of the store, from one read. ``expired`` when the log no longer holds every
        change after ``since`` (pruned from the replay window, or ``since`` is beyond the
        newest number: a cursor of another store's history); ``changes`` is empty then.
        Every change up to ``newest`` is committed and seen by that read: a page shorter
        than ``limit`` holds all of them, so a reader may go on from ``newest``."""

    async def snapshot(self, cc_id: int, vdn: int) -> Snapshot:
        """The VDN's agents, by work number, and the newest change number they are
        consistent with, from one read transaction: those agents plus the changes after
        that number, applied in order, are the agents at any later number."""

    # -- flags (the flag timers) -------------------------------------------------------

    async def signed_in_agents(self, after: AgentKey | None, limit: int) -> list[AgentRecord]:
        """A page of at most ``limit`` signed-in agents of every tenant, in key order,
        those after ``after`` (``None``: from the first)."""

    async def raise_flags(
        self, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int
    ) -> list[AgentChange]:
        """Raise, in one transaction, the flags the agents ``keys`` have at ``now_ms``
        (``flags_of`` of their records as stored then) that were not raised before with
        the same ``since``: one change-log entry each (``AgentChange.flag``), numbered as
        changes are, the agent's record unchanged. Returns the entries written. Any
        number of processes or nodes asking at once raise each flag once."""

    async def clear_flags(
        self, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int
    ) -> list[AgentChange]:
        """Take back, in one transaction, the flags raised for the agents ``keys`` (by
        :meth:`raise_flags`, not taken back since) that they no longer have at ``now_ms``
        (no flag of that name in ``flags_of`` of their records as stored then: the
        thresholds changed): one change-log entry each, ``flag.raised`` false, ``at``
        ``now_ms``, numbered as changes are, the agent's record unchanged. Returns the
        entries written. Any number of processes or nodes asking at once take each flag
        back once; a flag taken back is raised again when the thresholds give it again."""

    async def put_view_token(self, token: ViewToken) -> None:
        """Keep a view token (a token of the same hash is replaced); expired ones are
        dropped from time to time."""

    async def get_view_token(self, token_hash: str, now_ms: int) -> ViewToken | None:
        """The token of that hash, or ``None`` when unknown or expired at ``now_ms``
        (expired: ``now_ms >= expires_at``)."""
