"""The agents' live state on the simulated floor, and the events that change it.

:class:`EventLog` is the only place that writes an event: it checks the change against
:data:`~ccms.simulator.transitions.ALLOWED_TRANSITIONS`, updates the agent's state the way
a server fed the event would (``DECISIONS.md``, "Event intake"), and appends the event in
the intake format. So :meth:`AgentState.snapshot` is, by construction, what the events say.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ccms.domain.status import CtiStatus
from ccms.simulator.roster import AgentProfile, PlannedActivity
from ccms.simulator.transitions import check_transition


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """One agent as a server fed every event so far must answer for it."""

    cc_id: int
    vdn: int
    work_no: int
    cti_status: int
    status_since_ms: int
    login_ms: int | None
    name: str | None
    phone_number: str | None
    media_type: int
    skills: tuple[int, ...]
    calls: tuple[str, ...]
    reason: int | None


@dataclass(slots=True, eq=False)
class Call:
    """An inbound contact from arrival until it is answered, abandoned or finished."""

    no: int
    call_id: str
    queue: int
    arrival_ms: int
    state: int = 0  # one of the Call.* states below
    agent: int | None = None
    patience: int = 0  # the token of its pending patience timer (older ones are stale)

    WAITING = 0
    OFFERED = 1
    TALKING = 2
    GONE = 3


@dataclass(slots=True, eq=False)
class AgentState:
    """What the simulator knows about one agent now (mutable, owned by the simulator).

    ``token`` invalidates the agent's pending timer whenever it changes; ``idle_epoch``
    invalidates its entries in the queues' idle heaps once it leaves idle.
    """

    profile: AgentProfile
    index: int
    status: int = CtiStatus.SIGNED_OUT
    since_ms: int = 0
    login_ms: int | None = None
    reason: int | None = None
    skills: tuple[int, ...] = ()
    calls: tuple[str, ...] = ()
    emitted: bool = False
    token: int = 0
    idle_epoch: int = 0
    shift_start_ms: int = 0
    plan: deque[PlannedActivity] = field(default_factory=deque)
    call: Call | None = None  # the inbound call being offered or talked
    ready_ms: int = 0  # idle: earliest time to start a plan item that was already due
    spontaneous_ms: int | None = None  # idle: when the agent picks a spontaneous activity

    def due_item(self, now_ms: int) -> PlannedActivity | None:
        """The next planned activity if it is due by ``now_ms``."""
        if self.plan and self.plan[0].due_ms <= now_ms:
            return self.plan[0]
        return None

    def snapshot(self) -> AgentSnapshot:
        p = self.profile
        return AgentSnapshot(
            cc_id=p.cc_id,
            vdn=p.vdn,
            work_no=p.work_no,
            cti_status=self.status,
            status_since_ms=self.since_ms,
            login_ms=self.login_ms,
            name=p.name if self.emitted else None,
            phone_number=p.phone_number if self.emitted else None,
            media_type=p.media_type if self.emitted else 0,
            skills=self.skills,
            calls=self.calls,
            reason=self.reason,
        )


class EventLog:
    """Writes status events (and call events, if ``calls``) in the intake format, with
    stable ids ``{prefix}{n}``."""

    def __init__(self, prefix: str, *, calls: bool = True) -> None:
        self._prefix = prefix
        self._count = 0
        self._calls = calls
        self.out: list[dict[str, object]] = []

    def call(
        self, cc_id: int, vdn: int, call_id: str, at: int, kind: str, **fields: object
    ) -> None:
        """Emit one call event (``callEvent`` ``kind``, the intake's camelCase ``fields``);
        nothing when call events are off."""
        if not self._calls:
            return
        self._count += 1
        event: dict[str, object] = {
            "eventId": f"{self._prefix}{self._count}",
            "ccId": cc_id,
            "vdn": vdn,
            "callId": call_id,
            "at": at,
            "callEvent": kind,
        }
        event.update(fields)
        self.out.append(event)

    @property
    def count(self) -> int:
        return self._count

    def status(
        self,
        agent: AgentState,
        at: int,
        new: int,
        *,
        reason: int | None = None,
        calls: tuple[str, ...] | None = None,
        skills: tuple[int, ...] | None = None,
        sign_in: bool = False,
    ) -> None:
        """Emit one status change of ``agent`` at ``at`` and apply it to its state.

        ``calls`` and ``skills`` are carried only when given (absent: unchanged).
        A sign-in event also carries the name, phone number and media type.
        """
        check_transition(agent.status, new)
        new = int(new)
        reason = None if reason is None else int(reason)
        profile = agent.profile
        self._count += 1
        event: dict[str, object] = {
            "eventId": f"{self._prefix}{self._count}",
            "ccId": profile.cc_id,
            "vdn": profile.vdn,
            "agentId": profile.work_no,
            "at": at,
            "ctiStatus": new,
        }
        if reason is not None:
            event["reason"] = reason
        if sign_in:
            event["name"] = profile.name
            event["phoneNumber"] = profile.phone_number
            event["mediaType"] = profile.media_type
            agent.emitted = True
        if skills is not None:
            event["skills"] = list(skills)
            agent.skills = skills
        if calls is not None:
            event["calls"] = list(calls)
            agent.calls = calls
        if agent.status == CtiStatus.SIGNED_OUT:
            agent.login_ms = at
        elif new == CtiStatus.SIGNED_OUT:
            agent.login_ms = None
        agent.status = new
        agent.since_ms = at
        agent.reason = reason  # the reason code belongs to the status it came with
        agent.token += 1
        self.out.append(event)

    def take(self) -> list[dict[str, object]]:
        """The events written since the last call, oldest first."""
        out, self.out = self.out, []
        return out
