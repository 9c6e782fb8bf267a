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
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, StatusChange, apply_event
from ccms.domain.call import CallEvent
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
