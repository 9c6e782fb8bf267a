"""A batch of events, planned once for every store: which events are new, what they change.

A store applies a batch atomically in one transaction; between its reads and its writes it
asks this module what to do, so every backend follows the same rules:

1. :func:`new_events`: the events whose id was not applied before in their call center and
   VDN (``applied``: those of the batch's :class:`EventKey` that the store already holds)
   nor earlier in the same batch for the same tenant. The others are duplicates: counted,
   and they change nothing. Event ids are per tenant: the same id in another call center
   or VDN is another event.
2. The store loads the agents of :attr:`NewEvents.keys` (``None`` for an unknown one).
3. :func:`plan_batch` applies the new events in arrival order with
   :func:`~ccms.domain.agent.apply_event` and returns the :class:`BatchPlan`: the history
   entries to append; per agent whose record differs from the one loaded (a new agent
   always does), its record before and after (the rows to write); and the change log of
   the batch: one :class:`~ccms.domain.changes.AgentChange` per event that changed an
   agent's state (:func:`~ccms.domain.changes.is_change`), in arrival order.
4. The store takes a block of as many change numbers as the log has entries, writes the
   event keys (:attr:`NewEvents.event_keys`), the history, the log and the changed agents,
   then commits.
5. A batch with call events plans them with :func:`plan_call_batch`: the calls they
   change, and what they say of the agents' ``calls`` (:class:`CallMove`); the store loads
   the agents of :attr:`CallPlan.agents` too, and :func:`with_call_moves` adds their
   changes to the plan before step 4.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, StatusChange, apply_event
from ccms.domain.call import (
    CallEvent,
    CallKey,
    CallKind,
    CallRecord,
    CallState,
    apply_call_event,
)
from ccms.domain.changes import AgentChange, is_change


class EventKey(NamedTuple):
    """An event id in its tenant: what idempotency compares (ids are per call center and
    VDN, so one tenant's ids never make another's events duplicates)."""

    cc_id: int
    vdn: int
    event_id: str


def event_key(event: AgentEvent) -> EventKey:
    return EventKey(event.cc_id, event.vdn, event.event_id)


@dataclass(frozen=True, slots=True)
class NewEvents:
    """The events of a batch to apply, in arrival order, and how many were duplicates."""

    events: tuple[AgentEvent, ...]
    duplicates: int

    @property
    def keys(self) -> list[AgentKey]:
        """The agents the new events are about, each once, in order of first appearance
        (a store that locks rows sorts them to take the locks in key order)."""
        return list(dict.fromkeys(e.key for e in self.events))

    @property
    def event_keys(self) -> list[EventKey]:
        """The tenant and id of each new event, in arrival order (each once)."""
        return [event_key(e) for e in self.events]


class AgentUpdate(NamedTuple):
    """An agent whose record a batch changed: before (``None``: a new agent) and after."""

    before: AgentRecord | None
    after: AgentRecord


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What a batch of new events does to the agents loaded for it."""

    history: list[StatusChange]  # one per status event, in arrival order
    changes: dict[AgentKey, AgentUpdate]  # only the agents whose record differs
    # One per event that changed an agent's state, in arrival order; ``seq`` numbers them
    # from 1 within the batch (the store adds the number before the batch's block).
    log: list[AgentChange]
    # Per agent with an entry in ``log``, the ``seq`` of its last one there.
    last_changes: dict[AgentKey, int]

    @property
    def changed(self) -> list[AgentRecord]:
        """The records to write: the changed agents after the batch."""
        return [change.after for change in self.changes.values()]


def new_events(events: Iterable[AgentEvent], applied: Container[EventKey]) -> NewEvents:
    """The events of ``events`` to apply: those whose :class:`EventKey` is not in
    ``applied`` (the keys a store already holds) and did not occur earlier in the batch."""
    seen: set[tuple[int, int, str]] = set()
    fresh: list[AgentEvent] = []
    duplicates = 0
    for event in events:
        key = (event.cc_id, event.vdn, event.event_id)  # equal to its EventKey, built faster
        if key in seen or key in applied:
            duplicates += 1
            continue
        seen.add(key)
        fresh.append(event)
    return NewEvents(tuple(fresh), duplicates)


def plan_batch(
    new: NewEvents | Iterable[AgentEvent], agents: Mapping[AgentKey, AgentRecord | None]
) -> BatchPlan:
    """Apply ``new`` in arrival order to ``agents`` (every key of the events, ``None`` or
    missing for an unknown agent); the history and the agents whose record changed."""
    events = new.events if isinstance(new, NewEvents) else new
    current: dict[AgentKey, AgentRecord] = {}
    history: list[StatusChange] = []
    log: list[AgentChange] = []
    last: dict[AgentKey, int] = {}
    for event in events:
        key = event.key
        prev = current.get(key)
        if prev is None:
            prev = agents.get(key)
        record, entry = apply_event(prev, event)
        current[key] = record
        if entry is not None:
            history.append(entry)
        if is_change(prev, record):
            log.append(AgentChange(len(log) + 1, event.at, event.event_id, prev, record))
            last[key] = len(log)
    changes: dict[AgentKey, AgentUpdate] = {}
    for key, after in current.items():
        before = agents.get(key)
        if after is not before and after != before:  # apply_event keeps an unchanged record
            changes[key] = AgentUpdate(before, after)
    return BatchPlan(history, changes, log, last)


def new_calls(
    calls: Iterable[CallEvent], applied: Container[EventKey], taken: Iterable[EventKey]
) -> tuple[list[CallEvent], int]:
    """The call events to apply, in arrival order, and how many were duplicates: those
    whose key is not in ``applied``, nor in ``taken`` (the keys of the batch's new agent
    events), nor earlier among the batch's call events."""
    seen = set(taken)
    fresh: list[CallEvent] = []
    duplicates = 0
    for call in calls:
        key = EventKey(call.cc_id, call.vdn, call.event_id)
        if key in seen or key in applied:
            duplicates += 1
            continue
        seen.add(key)
        fresh.append(call)
    return fresh, duplicates


# -- call events and the agents' ``calls`` lists (docs/calls.md, "Agents' calls") ---------

AT_AGENT = frozenset({CallState.RINGING, CallState.TALKING})
MAX_AGENT_CALLS = 100  # as many as an agent event may list


class CallMove(NamedTuple):
    """What one call event says of one agent's ``calls``: from ``at`` on, the agent holds
    ``call_id`` (``holds``) or does not."""

    event_id: str
    at: int
    agent: AgentKey
    call_id: str
    holds: bool


class CallPlan(NamedTuple):
    """What a batch's new call events do: the calls whose record changed, after the batch
    (as :func:`~ccms.domain.call.plan_calls`), and what they say of agents, in order."""

    changed: dict[CallKey, CallRecord]
    moves: list[CallMove]

    @property
    def agents(self) -> list[AgentKey]:
        """The agents the moves are about, each once (the store loads those it holds)."""
        return list(dict.fromkeys(m.agent for m in self.moves))


def _agent_of(record: CallRecord | None) -> int | None:
    """The agent a call rings at or talks to now (``None``: at no agent)."""
    return record.work_no if record is not None and record.state in AT_AGENT else None


def plan_call_batch(events: list[CallEvent], calls: dict[CallKey, CallRecord]) -> CallPlan:
    """Apply ``events`` in arrival order to ``calls`` (the known calls among the events'
    keys). Each event concerns the agent its call was at before it, the one it is at
    after it and the one it names: each of them holds the call if and only if the call
    rings at it or talks to it after the event, as of the moment its current state
    began (an out-of-order event says what the call's newer state says). One exception:
    an ``offer`` while the call rings at another agent rings at both (a ring-all queue
    strategy rings every agent at once), so the agent it rang at first keeps it; that
    agent's own next list, or the call's next move there, takes it away."""
    current: dict[CallKey, CallRecord] = {}
    moves: list[CallMove] = []
    for event in events:
        key = event.key
        prev = current.get(key) or calls.get(key)
        after = apply_call_event(prev, event)
        current[key] = after
        now = _agent_of(after)
        before = _agent_of(prev)
        if (
            event.kind is CallKind.OFFER
            and prev is not None
            and prev.state == CallState.RINGING
            and after.state == CallState.RINGING
        ):
            before = None  # rung at both: the first keeps it
        for work_no in dict.fromkeys((before, now, event.work_no)):
            if work_no is not None:
                agent = AgentKey(event.cc_id, event.vdn, work_no)
                moves.append(
                    CallMove(event.event_id, after.state_at, agent, event.call_id, work_no == now)
                )
    changed = {k: r for k, r in current.items() if r != calls.get(k)}
    return CallPlan(changed, moves)


def with_call_moves(
    plan: BatchPlan, agents: Mapping[AgentKey, AgentRecord | None], moves: Iterable[CallMove]
) -> BatchPlan:
    """``plan`` (of the batch's agent events) with the ``moves`` of its call events applied
    after them to the agents' ``calls``. ``agents``: the agents loaded for the batch and
    for the moves. A move changes a known agent only (a call event never creates one),
    only if the newest list an agent event sent is not newer (``calls_at``, which stays
    that event's: moves of different calls do not order each other), and only if it
    changes the list; the change is logged as any other."""
    current = {key: update.after for key, update in plan.changes.items()}
    log = list(plan.log)
    last = dict(plan.last_changes)
    touched: list[AgentKey] = []
    for move in moves:
        key = move.agent
        prev = current.get(key) or agents.get(key)
        if prev is None or (prev.calls_at is not None and move.at < prev.calls_at):
            continue
        held = move.call_id in prev.calls
        if held == move.holds or (move.holds and len(prev.calls) >= MAX_AGENT_CALLS):
            continue
        if move.holds:
            calls = (*prev.calls, move.call_id)
        else:
            calls = tuple(c for c in prev.calls if c != move.call_id)
        record = prev._replace(calls=calls)
        current[key] = record
        log.append(AgentChange(len(log) + 1, move.at, move.event_id, prev, record))
        last[key] = len(log)
        touched.append(key)
    if not touched:
        return plan
    changes = dict(plan.changes)
    for key in touched:
        before = changes[key].before if key in changes else agents.get(key)
        changes[key] = AgentUpdate(before, current[key])
    return BatchPlan(plan.history, changes, log, last)
