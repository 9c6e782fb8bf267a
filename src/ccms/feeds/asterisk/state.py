"""The state of each agent over all its queue memberships: pure, no I/O, no clock.

Asterisk's ``app_queue`` knows a *member* per queue and interface; ccms knows an agent
with one CTI status. An :class:`AgentMembers` holds every membership of one agent in the
configured queues, each as the newest :class:`MemberRecord` Asterisk sent for it (by the
frame's ``Timestamp``: a record older than the one held is ignored, so the result never
depends on the order frames arrive in) and the calls the call events
(``AgentCalled``, ``AgentConnect``, ``AgentComplete``...) say are under way.
:func:`derive` reads that whole state at an instant and gives the CTI status, by the
precedence of ``docs/adapters/asterisk.md`` (call, ringing, wrap-up, pause, phone gone,
available):

====================================================================  ==========  =========
condition (over all the agent's memberships)                          ctiStatus   reason
====================================================================  ==========  =========
member of no configured queue                                         0
a call: ``AgentConnect`` not yet ended, ``InCall: 1``, Status 2/3/8   5
ringing: ``AgentCalled`` not yet ended, Status 6/7                    4
``now < LastCall + wrap-up`` in a queue                               6
paused in every queue                                                 the table   the table
the phone is gone: Status 4/5                                         7 (or 0)    5
otherwise (Status 0 or 1: app_queue treats unknown as available)      1
====================================================================  ==========  =========

The end of wrap-up emits nothing in Asterisk: :func:`derive` says when the state will
change by itself (``due``), and the caller derives again then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

BUSY_DEVICE = frozenset({2, 3, 8})  # in use, busy, on hold
RINGING_DEVICE = frozenset({6, 7})  # ringing, ringing while in use
GONE_DEVICE = frozenset({4, 5})  # invalid, unavailable
PHONE_GONE_REASON = 5  # the vendor's busy reason "phone unavailable"
AUTO_PAUSE = "Auto-Pause"  # app_queue's reason when autopause pauses a member
AUTO_PAUSE_REASON = 2  # the vendor's busy reason "forced busy after no answer"


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """What Asterisk says of one member: the fields shared by ``QueueMemberStatus``,
    ``QueueMemberAdded``, ``QueueMemberPause``... and ``QueueStatus``'s ``QueueMember``."""

    queue: str
    interface: str
    name: str = ""
    state_interface: str = ""
    membership: str = "dynamic"  # static, dynamic, realtime
    status: int = 0  # the device state, 0..8
    in_call: bool = False
    paused: bool = False
    paused_reason: str = ""
    last_call: int = 0  # epoch seconds (app_queue's whole seconds)
    last_pause: int = 0
    login_time: int = 0
    wrapuptime: int = 0  # the member's own override; the queue's comes from the config
    calls_taken: int = 0


@dataclass(frozen=True, slots=True)
class QueueRule:
    skill: int
    wrapup_s: float = 0.0
    cc_id: int | None = None  # the call center and VDN of its calls (None: not followed)
    vdn: int | None = None


@dataclass(frozen=True, slots=True)
class PauseRule:
    cti_status: int
    reason: int | None = None


@dataclass(frozen=True)
class Rules:
    """The mapping's configuration: queues, the pause reasons table, the options."""

    queues: Mapping[str, QueueRule]
    pause_reasons: Mapping[str, PauseRule] = field(default_factory=dict)
    pause_default: PauseRule = PauseRule(7)
    static_phone_gone: Literal["busy", "signed_out"] = "busy"
    calls: bool = True  # send call events for the queues that name a call center and VDN
    call_settle_s: float = 1.0  # how long an end waits for what may follow it

    def pause(self, reason: str) -> PauseRule:
        rule = self.pause_reasons.get(reason)
        if rule is not None:
            return rule
        if reason == AUTO_PAUSE:
            return PauseRule(7, AUTO_PAUSE_REASON)
        return self.pause_default


@dataclass(slots=True)
class Call:
    """A call event's fact about a member: the caller's ``Uniqueid`` and when."""

    uniqueid: str
    at: float
    last_call: int = 0  # the member's LastCall when the call was connected
    call_id: str = ""  # ccms's id of the call (from its Linkedid), "" when not known


@dataclass(slots=True)
class Member:
    """One membership: its newest record (``None`` once removed) and its calls."""

    record: MemberRecord | None = None
    at: float = float("-inf")  # the Asterisk time of the record (or of its removal)
    ringing: Call | None = None
    connected: Call | None = None
    ended_at: float = float("-inf")  # the last AgentComplete / AgentDump
    rang_on_device: bool = False  # a ringing device state was seen since AgentCalled

    def in_call(self) -> bool:
        record = self.record
        if record is None:
            return False
        if self.connected is not None:
            return True
        return (record.in_call and self.at > self.ended_at) or record.status in BUSY_DEVICE

    def is_ringing(self) -> bool:
        record = self.record
        if record is None:
            return False
        return self.ringing is not None or record.status in RINGING_DEVICE

    def wrap_end(self, rules: Rules) -> float | None:
        """When this membership's wrap-up ends (``None``: no call yet, or no wrap-up)."""
        record = self.record
        if record is None:
            return None
        last = max(record.last_call, int(self.ended_at) if self.ended_at > 0 else 0)
        queue = rules.queues.get(record.queue)
        wrapup = record.wrapuptime or (queue.wrapup_s if queue else 0.0)
        if last <= 0 or wrapup <= 0:
            return None
        return last + wrapup


@dataclass(frozen=True, slots=True)
class Derived:
    """An agent's CTI status at an instant, and why."""

    cti_status: int
    reason: int | None
    skills: tuple[int, ...]
    raw_state: str
    name: str
    due: float | None  # when the status changes by itself (the end of a wrap-up)
    calls: tuple[str, ...] = ()  # the queue calls it talks on, else those ringing at it


SIGNED_OUT = Derived(0, None, (), "no configured queue", "", None)


class AgentMembers:
    """Every membership of one agent, by (queue, interface)."""

    __slots__ = ("members",)

    def __init__(self) -> None:
        self.members: dict[tuple[str, str], Member] = {}

    def member(self, queue: str, interface: str) -> Member:
        key = (queue, interface)
        member = self.members.get(key)
        if member is None:
            member = self.members[key] = Member()
        return member

    def active(self) -> list[Member]:
        return [m for m in self.members.values() if m.record is not None]

    # -- what frames say ---------------------------------------------------------------

    def record(self, record: MemberRecord, at: float) -> bool:
        """A member record at Asterisk time ``at``; False when an equal-or-newer one is held
        (a duplicate or a frame that arrived late changes nothing)."""
        member = self.member(record.queue, record.interface)
        if at < member.at:
            return False
        previous = member.record
        member.record, member.at = record, at
        if member.ringing is not None and at >= member.ringing.at:
            if record.status in RINGING_DEVICE:
                member.rang_on_device = True
            elif member.rang_on_device:  # the phone rang and stopped: the ring is over
                member.ringing = None
        connected = member.connected
        if (
            connected is not None
            and at >= connected.at
            and not record.in_call
            and record.last_call > connected.last_call
        ):
            member.connected = None  # LastCall moved on: that call has ended
        return previous != record

    def remove(self, queue: str, interface: str, at: float) -> bool:
        member = self.member(queue, interface)
        if at < member.at:
            return False
        was = member.record is not None
        member.record, member.at = None, at
        member.ringing = member.connected = None
        return was

    def called(
        self, queue: str, interface: str, uniqueid: str, at: float, call_id: str = ""
    ) -> None:
        member = self.member(queue, interface)
        member.ringing = Call(uniqueid, at, call_id=call_id)
        member.rang_on_device = False

    def connect(
        self, queue: str, interface: str, uniqueid: str, at: float, call_id: str = ""
    ) -> None:
        member = self.member(queue, interface)
        member.ringing = None
        last = member.record.last_call if member.record is not None else 0
        member.connected = Call(uniqueid, at, last, call_id)

    def ring_ended(self, queue: str, interface: str) -> None:
        """``AgentRingNoAnswer``: this member's ring is over (its device state may lag)."""
        self.member(queue, interface).ringing = None

    def call_ended(self, queue: str, interface: str, at: float) -> None:
        """``AgentComplete`` or ``AgentDump``."""
        member = self.member(queue, interface)
        member.ringing = member.connected = None
        member.ended_at = max(member.ended_at, at)

    def caller_left(self, uniqueid: str) -> bool:
        """A caller left the queue (answered elsewhere, abandoned, timed out): rings for it
        are over. True when a ring ended."""
        ended = False
        for member in self.members.values():
            if member.ringing is not None and member.ringing.uniqueid == uniqueid:
                member.ringing = None
                ended = True
        return ended

    def snapshot(self, records: Iterable[MemberRecord], queues: Iterable[str], at: float) -> None:
        """``QueueStatus``: in ``queues``, exactly these members, and no call in flight that
        the snapshot does not show."""
        seen = set()
        for record in records:
            member = self.member(record.queue, record.interface)
            seen.add((record.queue, record.interface))
            if at >= member.at:
                member.record, member.at = record, at
                member.ringing = member.connected = None
        covered = set(queues)
        for (queue, interface), member in self.members.items():
            if queue in covered and (queue, interface) not in seen and at >= member.at:
                member.record, member.at = None, at
                member.ringing = member.connected = None

    def forget_calls(self) -> None:
        """Asterisk restarted: no call it knew of is under way."""
        for member in self.members.values():
            member.ringing = member.connected = None
            member.rang_on_device = False


def _raw(active: list[Member], rules: Rules) -> str:
    parts = []
    for member in sorted(active, key=lambda m: (m.record.queue, m.record.interface)):  # type: ignore[union-attr]
        r = member.record
        assert r is not None
        text = f"{r.queue}: Status={r.status} InCall={int(r.in_call)} Paused={int(r.paused)}"
        if r.paused and r.paused_reason:
            text += f" ({r.paused_reason})"
        if member.connected is not None:
            text += " AgentConnect"
        elif member.ringing is not None:
            text += " AgentCalled"
        if r.last_call:
            text += f" LastCall={r.last_call}"
        parts.append(text)
    return "; ".join(parts)[:512]


def derive(agent: AgentMembers, now: float, rules: Rules) -> Derived:
    """The agent's CTI status at Asterisk time ``now`` (epoch seconds)."""
    active = agent.active()
    if not active:
        return SIGNED_OUT
    skills = tuple(sorted({rules.queues[m.record.queue].skill for m in active if m.record}))
    name = next((m.record.name for m in active if m.record and m.record.name), "")
    raw = _raw(active, rules)
    ends = [end for m in active if (end := m.wrap_end(rules)) is not None and end > now]
    due = min(ends) if ends else None

    talking = {m.connected.call_id for m in active if m.connected and m.connected.call_id}
    rung = {m.ringing.call_id for m in active if m.ringing and m.ringing.call_id}
    calls = tuple(sorted(talking or rung))

    def result(cti: int, reason: int | None = None) -> Derived:
        return Derived(cti, reason, skills, raw, name, due, calls if cti in (4, 5) else ())

    if any(m.in_call() for m in active):
        return result(5)
    if any(m.is_ringing() for m in active):
        return result(4)
    if ends:
        return result(6)
    records = [m.record for m in active if m.record is not None]
    if all(r.paused for r in records):
        latest = max(records, key=lambda r: (r.last_pause, r.queue))
        rule = rules.pause(latest.paused_reason)
        return result(rule.cti_status, rule.reason)
    if any(r.status in GONE_DEVICE for r in records):
        if rules.static_phone_gone == "signed_out" and all(
            r.membership == "static" for r in records
        ):
            return result(0)
        return result(7, PHONE_GONE_REASON)
    return result(1)
