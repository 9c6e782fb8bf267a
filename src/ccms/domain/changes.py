"""Agent changes: the numbered entries of a store's change log, and what a reader gets.

Every applied change of an agent's state takes the next number (``seq``) of one
store-wide, gap-free sequence, in commit order, and the store logs it with the agent's
record before and after. The log is kept for a replay window; a reader that holds the
agents as of number S (a :class:`Snapshot`) and applies the changes after S in order
(``record := cur``, :func:`replay`) holds the agents as of any later number.

What counts as a change is the agent's *state* (:func:`state`): its status and when it
began, sign-in, reason, attributes, skill queues and calls. The time each field was last
set is bookkeeping the rules of :mod:`ccms.domain.agent` need (so that an older event
never wins), not state: an event that only moves it (the same status repeated, a name
sent again) changes nothing and takes no number.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from operator import itemgetter
from typing import Any, NamedTuple

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.flags import FlagRaise


class AgentChange(NamedTuple):
    """One entry of the change log: an applied change of an agent or, with ``flag``, a
    flag of the agent raised (by a flag timer, with no event: ``at`` is the moment its
    threshold was crossed, ``event_id`` is empty, ``prev`` is ``None`` and ``cur`` the
    agent's record, unchanged) or taken back (``flag.raised`` false: a reload of the
    thresholds ended it, ``at`` is when the timer found it ended)."""

    seq: int  # store-wide, gap-free, commit order; one per applied change
    at: int  # ms, the time of the event that caused it
    event_id: str  # the event that caused it
    prev: AgentRecord | None  # the agent before (None: not known before)
    cur: AgentRecord  # the agent after
    flag: FlagRaise | None = None  # a flag entry (the agent's state did not change)

    @property
    def key(self) -> AgentKey:
        return AgentKey(self.cur.cc_id, self.cur.vdn, self.cur.work_no)


class ChangePage(NamedTuple):
    """An answer of ``Store.read_changes``."""

    changes: list[AgentChange]  # seq > since, ascending, at most `limit`, of the tenant if given
    newest: int  # the store's newest seq when read (all tenants)
    expired: bool  # the log no longer holds every change after `since`: start again


class Snapshot(NamedTuple):
    """The agents of one VDN and the change number they are consistent with."""

    seq: int  # the store's newest seq the agents are consistent with
    agents: list[AgentRecord]  # the tenant's agents as of `seq`, by work number


class ViewToken(NamedTuple):
    """A view token as the store keeps it: never the token itself, only its hash."""

    token_hash: str  # sha256 hex of the opaque token
    ak: str  # the access key that asked for it
    cc_id: int | None  # narrowed to one VDN within the key's scopes, or None
    vdn: int | None
    expires_at: int  # ms


# The fields of AgentRecord that make the state: all but the times each field was set
# (status_event_at, reason_at, name_at, phone_at, media_at, skills_at, calls_at).
_STATE_FIELDS = (
    "cc_id", "vdn", "work_no", "created_at", "cti_status", "status_at", "prev_status",
    "prev_duration_ms", "login_at", "reason", "name", "phone_number", "media_type", "skills",
    "calls",
)  # fmt: skip
_state = itemgetter(*(AgentRecord._fields.index(name) for name in _STATE_FIELDS))


def state(record: AgentRecord) -> tuple[Any, ...]:
    """The agent's state: what a change changes (every field but the bookkeeping times)."""
    return _state(record)  # type: ignore[no-any-return]


def is_change(prev: AgentRecord | None, cur: AgentRecord) -> bool:
    """Whether going from ``prev`` (``None``: an agent not known before) to ``cur`` is a
    change of the agent: a new agent always is; otherwise its state differs."""
    if prev is None:
        return True
    return cur is not prev and _state(cur) != _state(prev)


def replay(agents: MutableMapping[AgentKey, AgentRecord], changes: Iterable[AgentChange]) -> None:
    """Apply ``changes`` in order to ``agents`` (a snapshot's, by key): ``record := cur``."""
    for change in changes:
        agents[change.key] = change.cur


def state_exits(log: Iterable[AgentChange]) -> list[tuple[int, int]]:
    """``(CTI status left, ms spent in it)`` for each change of ``log`` that ended a status
    (an agent's first status, and flag entries, end none)."""
    exits = []
    for change in log:
        prev, cur = change.prev, change.cur
        if prev is None or change.flag is not None or prev.status_at is None:
            continue
        if cur.status_at != prev.status_at and cur.prev_status is not None:
            exits.append((cur.prev_status, cur.prev_duration_ms or 0))
    return exits
