"""The typed items of the live stream (``GET /ccms/v1/stream``) and the long-poll route.

What a subscriber iterates over (``Client.stream``, ``AsyncClient.stream``):

- :class:`StreamSnapshot`: every agent of the VDN (or of the filter) as of ``seq``,
  assembled from the server's parts; the first item after a connection without a cursor,
  and after a reset.
- :class:`StreamChange`: one change of one agent, the state before and after, in ``seq``
  order. Snapshot + the changes after it = the current state.
- :class:`StreamFlagChange`: a flag of an agent raised by time alone (its threshold
  crossed, no event), in the same ``seq`` order. A flag clears with the agent's next
  change, whose ``cur.flags`` no longer has it, or with a flag change whose ``raised`` is
  false (a reload of the thresholds ended it).
- :class:`StreamQueues`: the VDN's skill-queue figures now (a stream opened with
  ``queues=True``): after the snapshot and whenever they change; each replaces the last.
- :class:`StreamReset`: the server dropped the cursor (``cursor-expired``: older than the
  replay window; ``slow-consumer``: the subscriber fell behind). A fresh snapshot follows,
  on the same connection or on the next one: replace the state, do not merge.
- :class:`StreamStatus`: the connection is ``live``, or ``reconnecting`` (why, and in how
  long), so that a screen can say it is behind rather than show stale data as current.

:class:`StreamView` folds them into the agents as they are now. How the items are read
from the connections, and how a subscription resumes, is :mod:`ccms.client.subscription`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ccms.client.errors import CCMSClientError
from ccms.client.models import _int, _list, _object, _text
from ccms.domain.agent import AgentKey
from ccms.domain.status import AgentStatus, CtiStatus
from ccms.wire import SIGNED_OUT_LOGIN_DATE

__all__ = [
    "ChangesPage",
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
]


# -- the typed items -----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamFlag:
    """A flag of an agent: its ``name`` (``ringing-long``...), ``level`` (``warning`` or
    ``alert``) and ``since`` (ms, the moment its threshold was crossed)."""

    name: str
    level: str
    since: int

    @classmethod
    def from_wire(cls, data: object) -> StreamFlag:
        raw = _object(data, "flag")
        name, level = _text(raw, "name"), _text(raw, "level")
        if name is None or level is None:
            raise ValueError(f"a flag needs a name and a level, got {raw!r}")
        return cls(name, level, _int(raw, "since"))


def _flags(value: object) -> tuple[StreamFlag, ...]:
    return tuple(StreamFlag.from_wire(item) for item in _list(value, "flags"))


@dataclass(frozen=True)
class StreamAgent:
    """An agent as the stream carries it: the agent-detail answer's fields, plus the
    call center, the start of the current CTI status (``since``, ms), the reason code,
    the skill queues, the current calls and the flags.

    ``login_date`` is ``None`` while signed out. ``current_state_time`` is the seconds in
    state when the server wrote the item; :meth:`seconds_in_state` counts from ``since``.
    """

    cc_id: int
    vdn_id: int
    work_no: int
    cti_status: CtiStatus
    status: AgentStatus
    name: str | None
    phone_number: str | None
    login_date: int | None
    current_state_time: int
    media_type: int
    since: int
    reason: int | None
    skills: tuple[int, ...]
    calls: tuple[str, ...]
    flags: tuple[StreamFlag, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> AgentKey:
        return AgentKey(self.cc_id, self.vdn_id, self.work_no)

    @property
    def signed_in(self) -> bool:
        return self.cti_status != CtiStatus.SIGNED_OUT

    def seconds_in_state(self, now_ms: int) -> int:
        """Whole seconds in the current CTI status at ``now_ms`` (the server's clock)."""
        return max(0, (now_ms - self.since) // 1000)

    @classmethod
    def from_wire(cls, data: object) -> StreamAgent:
        raw = _object(data, "agent")
        cti = _int(raw, "citStatus")
        if cti not in CtiStatus._value2member_map_:
            raise ValueError(f"citStatus must be a CTI status code 0..10, got {cti}")
        status = _int(raw, "status")
        login = _int(raw, "loginDate")
        reason = raw.get("reason")
        return cls(
            cc_id=_int(raw, "ccId"),
            vdn_id=_int(raw, "vdnId"),
            work_no=_int(raw, "workNo"),
            cti_status=CtiStatus(cti),
            status=AgentStatus(status) if status in AgentStatus._value2member_map_
            else AgentStatus.UNKNOWN,
            name=_text(raw, "name"),
            phone_number=_text(raw, "phoneNumber"),
            login_date=None if login == SIGNED_OUT_LOGIN_DATE else login,
            current_state_time=_int(raw, "currentStateTime"),
            media_type=_int(raw, "mediaType"),
            since=_int(raw, "since"),
            reason=None if reason is None else _int(raw, "reason"),
            skills=_ints(raw.get("skills", []), "skills"),
            calls=_strings(raw.get("calls", []), "calls"),
            flags=_flags(raw.get("flags", [])),
            raw=dict(raw),
        )  # fmt: skip


def _ints(value: object, what: str) -> tuple[int, ...]:
    items = _list(value, what)
    if not all(type(item) is int for item in items):
        raise ValueError(f"{what} must be integers, got {items!r}")
    return tuple(items)


def _strings(value: object, what: str) -> tuple[str, ...]:
    items = _list(value, what)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{what} must be strings, got {items!r}")
    return tuple(items)


def agents_from_wire(value: object) -> tuple[StreamAgent, ...]:
    return tuple(StreamAgent.from_wire(item) for item in _list(value, "agents"))


@dataclass(frozen=True)
class StreamSnapshot:
    """Every agent of the stream's VDN (and filter) as of ``seq``, by work number.

    ``server_time`` is the server's clock (ms) when it read them: a screen corrects its
    own clock by it. ``replay_window_s``: how long a cursor stays valid after a drop.
    """

    seq: int
    server_time: int
    replay_window_s: int | None
    agents: tuple[StreamAgent, ...]

    @classmethod
    def from_wire(cls, data: object) -> StreamSnapshot:
        """The long-poll route's ``snapshot`` (one part, no ``part``/``parts``)."""
        raw = _object(data, "snapshot")
        window = raw.get("replayWindowS")
        return cls(
            seq=_int(raw, "seq"),
            server_time=_int(raw, "serverTime"),
            replay_window_s=None if window is None else _int(raw, "replayWindowS"),
            agents=agents_from_wire(raw.get("agents")),
        )


@dataclass(frozen=True)
class StreamChange:
    """One change of one agent: ``seq`` (the store's change number, ascending), ``at``
    (ms, the time of the event that caused it), the agent before (``None``: not known
    before) and after."""

    seq: int
    at: int
    key: AgentKey
    prev: StreamAgent | None
    cur: StreamAgent

    @classmethod
    def from_wire(cls, data: object) -> StreamChange:
        raw = _object(data, "change")
        key = _object(raw.get("key"), "key")
        prev = raw.get("prev")
        return cls(
            seq=_int(raw, "seq"),
            at=_int(raw, "at"),
            key=AgentKey(_int(key, "ccId"), _int(key, "vdn"), _int(key, "agentId")),
            prev=None if prev is None else StreamAgent.from_wire(prev),
            cur=StreamAgent.from_wire(raw.get("cur")),
        )


@dataclass(frozen=True)
class StreamFlagChange:
    """A flag of one agent raised (``raised``) by time alone: ``seq`` (in the order of the
    changes), ``at`` (ms, the moment its threshold was crossed), the agent's key, the flag.
    The agent's state did not change; its next change clears the flag. ``raised`` false:
    the flag is taken back (a reload of the thresholds ended it; ``at`` is when the
    server found it ended)."""

    seq: int
    at: int
    key: AgentKey
    flag: StreamFlag
    raised: bool = True

    @classmethod
    def from_wire(cls, data: object) -> StreamFlagChange:
        raw = _object(data, "flag change")
        key = _object(raw.get("key"), "key")
        raised = raw.get("raised", True)
        if not isinstance(raised, bool):
            raise ValueError(f"raised must be true or false, got {raised!r}")
        return cls(
            seq=_int(raw, "seq"),
            at=_int(raw, "at"),
            key=AgentKey(_int(key, "ccId"), _int(key, "vdn"), _int(key, "agentId")),
            flag=StreamFlag.from_wire(raw.get("flag")),
            raised=raised,
        )


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _int(data, key)


@dataclass(frozen=True)
class StreamQueue:
    """One skill queue now: the calls ``waiting`` in it and since when the longest of them
    waits (ms; ``None``: none waits), and its calls of the current 5 minutes."""

    skill_id: int
    waiting: int
    longest_wait_since: int | None
    entered: int
    answered: int
    answered_in_service_level: int
    abandoned: int
    ended: int

    def longest_wait_ms(self, now_ms: int) -> int | None:
        """How long the longest-waiting call has waited at ``now_ms`` (server time)."""
        since = self.longest_wait_since
        return None if since is None else max(0, now_ms - since)

    @property
    def service_level(self) -> float | None:
        """Answered within the service level, over answered or abandoned (0..1)."""
        offered = self.answered + self.abandoned
        return self.answered_in_service_level / offered if offered else None


@dataclass(frozen=True)
class StreamQueues:
    """The VDN's queue figures (``docs/stream.md``, "Queue figures"): ``queues`` by skill
    id, the window's start (ms), the service level's threshold (s) and the server's time."""

    server_time: int
    window_start: int
    service_level_s: int
    queues: tuple[StreamQueue, ...]

    @classmethod
    def from_wire(cls, data: object) -> StreamQueues:
        raw = _object(data, "queue")
        queues = []
        for item in _list(raw.get("queues"), "queues"):
            q = _object(item, "queue")
            queues.append(
                StreamQueue(
                    _int(q, "skillId"), _int(q, "waiting"), _optional_int(q, "longestWaitSince"),
                    _int(q, "entered"), _int(q, "answered"), _int(q, "answeredInServiceLevel"),
                    _int(q, "abandoned"), _int(q, "ended"),
                )
            )  # fmt: skip
        return cls(
            _int(raw, "serverTime"), _int(raw, "windowStart"), _int(raw, "serviceLevelS"),
            tuple(queues),
        )  # fmt: skip


ResetReason = Literal["cursor-expired", "slow-consumer"]


@dataclass(frozen=True)
class StreamReset:
    """The server dropped the cursor: a fresh :class:`StreamSnapshot` follows. ``reason``
    is ``cursor-expired`` (older than the replay window) or ``slow-consumer`` (the
    subscriber fell behind its queue; the client reconnects without a cursor)."""

    reason: str
    seq: int


@dataclass(frozen=True)
class StreamStatus:
    """The connection: ``live`` (open; what follows is current), or ``reconnecting``
    (``error``: why it dropped; ``retry_in``: seconds before the next attempt;
    ``attempt``: 1 for the first attempt after a drop)."""

    state: Literal["live", "reconnecting"]
    error: CCMSClientError | None = None
    retry_in: float = 0.0
    attempt: int = 0

    @property
    def live(self) -> bool:
        return self.state == "live"


StreamItem = (
    StreamSnapshot | StreamChange | StreamFlagChange | StreamQueues | StreamReset | StreamStatus
)


@dataclass(frozen=True)
class ChangesPage:
    """The answer of the long-poll route (``GET /ccms/v1/changes``): the changes after the
    cursor, in ``seq`` order, and ``next_seq``, the cursor of the next call. ``reset``:
    the cursor was too old; ``snapshot`` is then the whole state to start again from.
    ``flags``: the flags raised among them (entries of ``kind`` ``flag``), in ``seq``
    order; :meth:`items` gives both in one order."""

    changes: tuple[StreamChange, ...]
    next_seq: int
    reset: bool
    snapshot: StreamSnapshot | None
    flags: tuple[StreamFlagChange, ...] = ()

    def items(self) -> list[StreamChange | StreamFlagChange]:
        """The changes and the flags raised, in ``seq`` order (for :meth:`StreamView.apply`)."""
        return sorted([*self.changes, *self.flags], key=lambda item: item.seq)

    @classmethod
    def from_wire(cls, data: object) -> ChangesPage:
        raw = _object(data, "changes answer")
        reset = raw.get("reset", False)
        if not isinstance(reset, bool):
            raise ValueError(f"reset must be true or false, got {reset!r}")
        snapshot = raw.get("snapshot")
        if reset and snapshot is None:
            raise ValueError("a reset without a snapshot")
        entries = _list(raw.get("changes", []), "changes")
        flagged = [e for e in entries if isinstance(e, dict) and e.get("kind") == "flag"]
        return cls(
            changes=tuple(StreamChange.from_wire(e) for e in entries
                          if not (isinstance(e, dict) and e.get("kind") is not None)),
            next_seq=_int(raw, "nextSeq"),
            reset=reset,
            snapshot=None if snapshot is None else StreamSnapshot.from_wire(snapshot),
            flags=tuple(StreamFlagChange.from_wire(e) for e in flagged),
        )  # fmt: skip


class StreamView:
    """The agents as the items of a stream say they are now (snapshot + changes).

        view = StreamView()
        for item in cms.stream(1, 1):
            if view.apply(item):
                draw(view.agents)

    ``agents`` by work number; ``seq`` of the last item applied; ``live`` is false from a
    ``reconnecting`` status until the connection is back; ``clock_offset_ms`` is the
    server's clock minus ``clock()`` (ms) at the last snapshot.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.agents: dict[int, StreamAgent] = {}
        self.seq: int | None = None
        self.live = False
        self.synced = False  # a snapshot arrived (and no reset since)
        self.status: StreamStatus | None = None
        self.clock_offset_ms = 0
        self.queues: StreamQueues | None = None  # the newest queue figures (queues=True)

    def apply(self, item: StreamItem) -> bool:
        """Apply ``item``; whether what a screen shows changed."""
        if isinstance(item, StreamSnapshot):
            self.agents = {agent.work_no: agent for agent in item.agents}
            self.seq = item.seq
            self.synced = True
            self.clock_offset_ms = item.server_time - int(self._clock() * 1000)
            return True
        if isinstance(item, StreamChange):
            self.agents[item.cur.work_no] = item.cur  # its flags as of the change: the
            self.seq = item.seq  # flags of the state it left are cleared
            return True
        if isinstance(item, StreamFlagChange):
            self.seq = item.seq
            agent = self.agents.get(item.key.work_no)
            if agent is None:
                return False
            others = tuple(f for f in agent.flags if f.name != item.flag.name)
            flags = (*others, item.flag) if item.raised else others
            if flags == agent.flags:
                return False
            self.agents[item.key.work_no] = dataclasses.replace(agent, flags=flags)
            return True
        if isinstance(item, StreamQueues):
            self.queues = item
            return True
        if isinstance(item, StreamReset):
            self.synced = False
            return True
        self.status = item
        changed = self.live != item.live or not item.live
        self.live = item.live
        return changed

    def server_now_ms(self) -> int:
        """Now by the server's clock, as the last snapshot told it."""
        return int(self._clock() * 1000) + self.clock_offset_ms
