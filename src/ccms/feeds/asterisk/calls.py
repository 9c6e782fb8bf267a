"""From AMI queue-call frames to call events (``docs/adapters/asterisk.md``, "Calls").

A :class:`CallTracker` follows the calls of the configured queues whose ``[queues.NAME]``
names a call center and VDN, and turns what ``app_queue`` says of them into the intake's
call events (``docs/intake.md``, "Call events"):

===========================  =========================================================
AMI                          call event
===========================  =========================================================
``QueueCallerJoin``          ``arrive`` (a call not seen before) and ``queue``; a call
                             that left a queue (or its agent) moments before:
                             ``transfer`` to the new queue
``AgentCalled``              ``offer`` (the member's agent, the queue's skill)
``AgentRingNoAnswer``,       the ring is over; the last ring of the call over: ``queue``
``AgentDump``                again (it waits in the queue)
``AgentConnect``             ``answer``
``AgentComplete``            ``end``, ``leaveReason`` from ``Reason`` (caller 15, agent
                             16, transfer 17)
``QueueCallerAbandon``       ``abandon`` (89)
``QueueCallerLeave``         nothing for an answered or abandoned call (``app_queue``
                             sends it *before* ``AgentConnect``); else ``end`` (2)
``Hangup``                   (the ``call`` class) the caller's channel: the end's
                             ``releaseCause`` (its Q.850 cause), at once
===========================  =========================================================

An end waits ``call_settle_s`` (Asterisk time) before it is sent: a ``QueueCallerLeave``
may be followed by the ``AgentConnect`` that answered it, an ``AgentComplete`` by the
caller joining another queue (a transfer), and either by the caller channel's ``Hangup``
(which gives the release cause and settles it at once). Its ``at`` is the moment of the
frame that ended the call, whenever it is sent.

Call ids are made from the call's ``Linkedid`` (:func:`call_id_of`), event ids from what
Asterisk said (:meth:`CallTracker._event`): the same stream gives the same events, so a
resend or a replay is a no-op in ccms. A call the adapter did not see join (it started,
or reconnected, mid-call) is filled in from the durations Asterisk gives:
``AgentConnect``'s ``HoldTime`` dates its queueing, ``AgentComplete``'s ``TalkTime`` its
answer (the trap of an ``AgentComplete`` without ``AgentConnect``).

Pure: no I/O, no clock; the caller gives every instant.
"""

from __future__ import annotations

import heapq
import logging
import re
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccms.domain.agent import AgentKey
from ccms.domain.call import CALL_ID_MAX, valid_call_id
from ccms.feeds.asterisk.protocol import Frame
from ccms.feeds.asterisk.state import MemberRecord, QueueRule, Rules

log = logging.getLogger(__name__)

CALLER_FRAMES = frozenset({"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon"})
AGENT_FRAMES = frozenset({"AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer",
                          "AgentDump"})  # fmt: skip
CALL_FRAMES = CALLER_FRAMES | AGENT_FRAMES | {"Hangup"}

# The vendor's reasons for leaving a device (docs/calls.md)
COMPLETE_REASONS = {"caller": 15, "agent": 16, "transfer": 17}
USER_RELEASES = 15
LEFT_UNANSWERED = 2  # "timeout transfer": left the queue, neither answered nor abandoned
ABANDONED = 89  # "user hangs up before the agent answered"
ASTERISK_RESTARTED = 19  # "internal error": Asterisk restarted, its calls are gone
MAX_IVR_S = 3600  # a Linkedid older than this before the queue does not date the arrival
MAX_NUMBER = 32
ENDED_KEPT = 10_000  # ended calls remembered, so that their late frames change nothing
FORGET_S = 86_400.0  # a call not heard of for a day lost its end (ccms's retention sweeps it)
UNKNOWN_NUMBERS = frozenset({"", "<unknown>", "unknown", "anonymous"})
_ASTERISK_ID = re.compile(r"(?:^|-)([0-9]{9,10})\.([0-9]{1,12})$")
_DIALLED = re.compile(r"[0-9+*#]{1,32}")

CallKey = tuple[int, int, str]  # (ccId, vdn, callId)
Resolve = Callable[[Frame], AgentKey | None]


def call_id_of(linkedid: str, at: float) -> str:
    """The call id of an Asterisk ``Linkedid`` (or ``Uniqueid``), ``<seconds>-<sequence>``.

    Asterisk's ids are ``[systemname-]<unix seconds>.<sequence>``: the second the call's
    first channel was made and Asterisk's channel counter, unique while it runs and
    after a restart (the counter starts again, the seconds have moved on). ``1762523104.538``
    is ``1762523104-538``. A sequence past the 20 characters the vendor allows keeps its
    low digits (a billion channels after the one it could meet again). Another form (an
    ``Originate`` with its own ``ChannelId``) is ``<at>-<crc32 of the id>``, ``at`` the
    second the adapter first saw it (the CRC's low digits past 20 characters).
    """
    match = _ASTERISK_ID.search(linkedid)
    if match is not None:
        seconds, sequence = match.groups()
        room = CALL_ID_MAX - len(seconds) - 1
        sequence = str(int(sequence) % 10**room)
        return f"{seconds}-{sequence}"
    seconds = str(int(at))
    return f"{seconds}-{zlib.crc32(linkedid.encode()) % 10 ** (CALL_ID_MAX - len(seconds) - 1)}"


def arrival_ms(linkedid: str, queued_ms: int) -> int:
    """When the call entered the VDN: the second of its ``Linkedid`` (its first channel,
    so the IVR time before the queue counts), unless that is after the queueing or more
    than :data:`MAX_IVR_S` before it (an id of another form, a clock that moved)."""
    match = _ASTERISK_ID.search(linkedid)
    if match is not None:
        made = int(match.group(1)) * 1000
        if 0 <= queued_ms - made <= MAX_IVR_S * 1000:
            return made
    return queued_ms


def _number(value: str) -> str | None:
    value = value.strip()
    if value.lower() in UNKNOWN_NUMBERS or not value.isprintable():
        return None
    return value[:MAX_NUMBER]


def _seconds(frame: Frame, name: str) -> int:
    text = frame.get(name)
    return int(text) if text.isdigit() else 0


@dataclass(slots=True)
class Pending:
    """An end waiting for what may follow it (an answer, a join, the release cause)."""

    due: float
    kind: str  # "end" or "abandon"
    at_ms: int
    leave_reason: int
    inferred: bool = False  # not from an end Asterisk sent: its AgentComplete replaces it


@dataclass(slots=True)
class LiveCall:
    key: CallKey
    skill: int
    channel: str  # the caller's Uniqueid in the queue
    ringing: set[int] = field(default_factory=set)  # agents it rings at
    answered: bool = False  # on its current queue
    answers: int = 0  # answers sent
    pending: Pending | None = None
    cause: int | None = None  # the caller's channel hung up with this cause
    heard: float = 0.0  # the Asterisk time of its last frame
    talking: tuple[AgentKey, str, int] | None = None  # (agent, queue, answered at ms)


@dataclass
class CallStats:
    events: int = 0
    unmapped_agents: int = 0  # offers not sent, answers sent without agentId
    stale: int = 0  # frames of a replay older than the last call event written


class CallTracker:
    """Queue-call frames in, call events out (see the module's docstring)."""

    def __init__(
        self, rules: Rules, agent_of: Resolve, *, mark_ms: int = 0, drop_past: bool = False
    ) -> None:
        self.rules = rules
        self.agent_of = agent_of
        # The newest moment of a call event written (the spool remembers it): in a replay
        # (drop_past), a frame not newer than it is history.
        self.mark_ms = mark_ms
        self.drop_past = drop_past
        self._history_ms = mark_ms
        self.calls: dict[CallKey, LiveCall] = {}
        self.stats = CallStats()
        self._channels: dict[str, CallKey] = {}  # the callers' Uniqueids
        self._ended: OrderedDict[CallKey, None] = OrderedDict()
        self._timers: list[tuple[float, CallKey]] = []
        self._fallback_ids: dict[str, str] = {}
        self.enabled = rules.calls and any(q.cc_id is not None for q in rules.queues.values())
        if rules.calls:
            for name, rule in sorted(rules.queues.items()):
                if rule.cc_id is None:
                    log.warning(
                        "the calls of queue %s are not sent: [queues.%s] names no ccId and vdn,"
                        " and the agents are not all in one VDN", name, name,
                    )  # fmt: skip

    # -- time --------------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def advance(self, now: float) -> list[dict[str, Any]]:
        """The ends whose wait is over by ``now``."""
        out: list[dict[str, Any]] = []
        while self._timers and self._timers[0][0] <= now:
            due, key = heapq.heappop(self._timers)
            call = self.calls.get(key)
            if call is not None and call.pending is not None and call.pending.due == due:
                self._settle(call, out)
        return out

    def settle_all(self) -> list[dict[str, Any]]:
        """Every end still waiting, now (a replay ended: nothing more will come)."""
        out: list[dict[str, Any]] = []
        for call in sorted(self.calls.values(), key=lambda c: c.key):
            if call.pending is not None:
                self._settle(call, out)
        self._timers.clear()
        return out

    def restarted(self, at: float) -> list[dict[str, Any]]:
        """Asterisk restarted: each call it had is gone (ended at ``at``, the last moment
        the adapter heard of it)."""
        out: list[dict[str, Any]] = []
        for call in sorted(self.calls.values(), key=lambda c: c.key):
            if call.pending is None:
                call.pending = Pending(at, "end", int(at * 1000), ASTERISK_RESTARTED)
            self._settle(call, out)
        self._timers.clear()
        return out

    # -- frames ------------------------------------------------------------------------

    def frame(self, frame: Frame, at: float) -> list[dict[str, Any]]:
        """The call events of one frame (of :data:`CALL_FRAMES`) at Asterisk time ``at``."""
        if not self.enabled:
            return []
        at_ms = int(at * 1000)
        if self.drop_past and at_ms <= self._history_ms:
            self.stats.stale += 1
            return []
        name = frame.event
        out: list[dict[str, Any]] = []
        if name == "Hangup":
            self._hangup(frame, out)
            return out
        rule = self.rules.queues.get(frame.get("Queue"))
        if rule is None or rule.cc_id is None or rule.vdn is None:
            return out  # a queue ccms does not follow (counted by the tracker)
        linkedid = frame.get("Linkedid") or frame.get("Uniqueid")
        if not linkedid:
            return out
        key = (rule.cc_id, rule.vdn, self._call_id(linkedid, at))
        if key in self._ended:
            return out  # a late frame of an ended call (a Leave after its Abandon)
        if name == "QueueCallerJoin":
            self._join(key, rule, frame, at_ms, out)
        elif name == "QueueCallerLeave":
            self._leave(key, at, at_ms)
        elif name == "QueueCallerAbandon":
            call = self._call(key, rule, frame, at_ms - _seconds(frame, "HoldTime") * 1000, out)
            self._end(call, Pending(at + self.rules.call_settle_s, "abandon", at_ms, ABANDONED),
                      out)  # fmt: skip
        elif name == "AgentCalled":
            self._offer(key, rule, frame, at_ms, out)
        elif name == "AgentConnect":
            queued = at_ms - _seconds(frame, "HoldTime") * 1000
            call = self._call(key, rule, frame, queued, out)
            self._answer(call, frame, at_ms, out)
        elif name == "AgentComplete":
            self._complete(key, rule, frame, at, at_ms, out)
        else:  # AgentRingNoAnswer, AgentDump: this ring is over
            self._ring_over(key, rule, frame, at_ms, out)
        followed = self.calls.get(key)
        if followed is not None:
            followed.heard = at
        return out

    def reconcile(
        self, members: Mapping[AgentKey, list[MemberRecord]], at: float
    ) -> list[dict[str, Any]]:
        """A ``QueueStatus`` snapshot (``members``: each agent's records): an answered call
        whose agent's ``LastCall`` in its queue is after the answer has ended, its
        ``AgentComplete`` lost while the adapter was away: it ends at that ``LastCall``,
        ``call_settle_s`` later (an ``AgentComplete`` may still come: the member's record
        and it come in either order)."""
        out: list[dict[str, Any]] = []
        for call in sorted(self.calls.values(), key=lambda c: c.key):
            if call.pending is not None or call.talking is None:
                continue
            agent, queue, answered_ms = call.talking
            last = max((r.last_call for r in members.get(agent, ()) if r.queue == queue),
                       default=0)  # fmt: skip
            if last * 1000 > answered_ms:  # its AgentComplete, if it comes, replaces this
                due = at + self.rules.call_settle_s
                call.pending = Pending(due, "end", last * 1000, USER_RELEASES, True)
                heapq.heappush(self._timers, (due, call.key))
        return out

    def call_id(self, frame: Frame, at: float) -> str:
        """The call id of the call a frame is about ("" when calls are not sent)."""
        linkedid = frame.get("Linkedid") or frame.get("Uniqueid")
        return self._call_id(linkedid, at) if self.enabled and linkedid else ""

    def forget_old(self, now: float) -> int:
        """Stop following the calls not heard of for :data:`FORGET_S` (their end was lost
        while the adapter was away); how many."""
        old = [c for c in self.calls.values() if c.pending is None and now - c.heard > FORGET_S]
        for call in old:
            del self.calls[call.key]
            if self._channels.get(call.channel) == call.key:
                del self._channels[call.channel]
        return len(old)

    # -- inside --------------------------------------------------------------------------

    def _call_id(self, linkedid: str, at: float) -> str:
        if _ASTERISK_ID.search(linkedid):
            return call_id_of(linkedid, at)
        made = self._fallback_ids.get(linkedid)
        if made is None:
            if len(self._fallback_ids) > ENDED_KEPT:
                self._fallback_ids.clear()
            made = self._fallback_ids[linkedid] = call_id_of(linkedid, at)
        return made

    def _event(
        self, call: LiveCall, kind: str, at_ms: int, once: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """``eventId``: ``ami:CCID:VDN:call:CALLID:KIND`` for what happens once to a call
        (its arrival, its first queueing and first answer, its end), else
        ``...:KIND:AT`` (``:AGENT`` for an offer: ringall rings several agents at once).
        A call filled in after a restart of the adapter gets the ids it had: its
        inferred moments, which may differ from the real ones, are duplicates in ccms."""
        cc_id, vdn, call_id = call.key
        event_id = f"ami:{cc_id}:{vdn}:call:{call_id}:{kind}"
        if not once:
            event_id += f":{at_ms}"
            if kind == "offer":
                event_id += f":{fields['agentId']}"
        assert valid_call_id(call_id)
        self.stats.events += 1
        self.mark_ms = max(self.mark_ms, at_ms)
        return {"eventId": event_id, "ccId": cc_id, "vdn": vdn, "callId": call_id,
                "at": at_ms, "callEvent": kind, **fields}  # fmt: skip

    def _call(
        self, key: CallKey, rule: QueueRule, frame: Frame, queued_ms: int, out: list[dict[str, Any]]
    ) -> LiveCall:
        """The call of ``key``; a call not seen before arrives and queues (at ``queued_ms``)."""
        call = self.calls.get(key)
        if call is not None:
            return call
        call = self.calls[key] = LiveCall(key, rule.skill, frame.get("Uniqueid"))
        self._channels[call.channel] = key
        linkedid = frame.get("Linkedid") or frame.get("Uniqueid")
        arrive: dict[str, Any] = {}
        caller = _number(frame.get("CallerIDNum"))
        if caller is not None:
            arrive["callerNo"] = caller
        exten = frame.get("Exten")
        if _DIALLED.fullmatch(exten):
            arrive["calleeNo"] = exten
        out.append(self._event(call, "arrive", arrival_ms(linkedid, queued_ms), True, **arrive))
        out.append(self._event(call, "queue", queued_ms, True, skillId=rule.skill))
        return call

    def _join(
        self, key: CallKey, rule: QueueRule, frame: Frame, at_ms: int, out: list[dict[str, Any]]
    ) -> None:
        call = self.calls.get(key)
        if call is None:
            self._call(key, rule, frame, at_ms, out)
            return
        pending = call.pending
        if pending is not None and pending.kind == "abandon":
            return
        if pending is None and call.channel == frame.get("Uniqueid") and call.skill == rule.skill:
            return  # the same join again (a duplicated frame)
        # it left a queue (unanswered, or its agent transferred it) and joins this one
        call.pending = call.cause = call.talking = None
        call.answered = False
        call.ringing.clear()
        call.skill = rule.skill
        self._channels.pop(call.channel, None)
        call.channel = frame.get("Uniqueid")
        self._channels[call.channel] = key
        out.append(self._event(call, "transfer", at_ms, skillId=rule.skill))

    def _leave(self, key: CallKey, at: float, at_ms: int) -> None:
        call = self.calls.get(key)
        if call is None or call.pending is not None or call.answered:
            return  # unknown, or answered or abandoned already: no second end
        # The AgentConnect of an answered call comes just after: wait for it.
        call.pending = Pending(at + self.rules.call_settle_s, "end", at_ms, LEFT_UNANSWERED, True)
        heapq.heappush(self._timers, (call.pending.due, key))

    def _agent(self, call: LiveCall, frame: Frame) -> int | None:
        agent = self.agent_of(frame)
        if agent is None or (agent.cc_id, agent.vdn) != call.key[:2]:
            self.stats.unmapped_agents += 1
            return None
        return agent.work_no

    def _offer(
        self, key: CallKey, rule: QueueRule, frame: Frame, at_ms: int, out: list[dict[str, Any]]
    ) -> None:
        call = self._call(key, rule, frame, at_ms, out)
        if call.pending is not None or call.answered:
            return
        agent = self._agent(call, frame)
        if agent is None or agent in call.ringing:
            return  # not mapped, or the same AgentCalled again
        call.ringing.add(agent)
        out.append(self._event(call, "offer", at_ms, agentId=agent, skillId=call.skill))

    def _ring_over(
        self, key: CallKey, rule: QueueRule, frame: Frame, at_ms: int, out: list[dict[str, Any]]
    ) -> None:
        call = self.calls.get(key)
        if call is None or call.pending is not None or call.answered:
            return
        agent = self.agent_of(frame)
        if agent is None or agent.work_no not in call.ringing:
            return
        call.ringing.discard(agent.work_no)
        if not call.ringing:  # rung out everywhere: waiting in the queue again
            out.append(self._event(call, "queue", at_ms, skillId=call.skill))

    def _answer(self, call: LiveCall, frame: Frame, at_ms: int, out: list[dict[str, Any]]) -> None:
        pending = call.pending
        if pending is not None:
            if pending.kind == "abandon" or pending.leave_reason != LEFT_UNANSWERED:
                return  # abandoned, or ended by its AgentComplete
            call.pending = None  # the QueueCallerLeave that came first: it was answered
        elif call.answered:
            return  # the same answer again (a duplicated frame)
        call.answered = True
        call.ringing.clear()
        member = self.agent_of(frame)
        call.talking = None if member is None else (member, frame.get("Queue"), at_ms)
        agent = self._agent(call, frame)
        fields = {} if agent is None else {"agentId": agent}
        out.append(self._event(call, "answer", at_ms, not call.answers, **fields))
        call.answers += 1

    def _complete(
        self, key: CallKey, rule: QueueRule, frame: Frame, at: float, at_ms: int,
        out: list[dict[str, Any]],
    ) -> None:  # fmt: skip
        talk_ms = _seconds(frame, "TalkTime") * 1000
        queued = at_ms - talk_ms - _seconds(frame, "HoldTime") * 1000
        call = self._call(key, rule, frame, queued, out)
        if call.pending is not None and not call.pending.inferred:
            return  # abandoned, or a second AgentComplete
        # an unanswered Leave (its AgentConnect was lost: answered after all), or an end a
        # snapshot inferred: this is the end Asterisk sent
        call.pending = None
        if not call.answered:  # no AgentConnect seen: it was answered TalkTime before
            self._answer(call, frame, at_ms - talk_ms, out)
        reason = COMPLETE_REASONS.get(frame.get("Reason"), USER_RELEASES)
        self._end(call, Pending(at + self.rules.call_settle_s, "end", at_ms, reason), out)

    def _end(self, call: LiveCall, pending: Pending, out: list[dict[str, Any]]) -> None:
        if call.pending is not None and call.pending.kind == "abandon":
            return
        call.pending = pending
        if call.cause is not None:  # the caller's channel is gone already: nothing follows
            self._settle(call, out)
            return
        heapq.heappush(self._timers, (pending.due, call.key))

    def _hangup(self, frame: Frame, out: list[dict[str, Any]]) -> None:
        key = self._channels.get(frame.get("Uniqueid"))
        if key is None:
            return
        call = self.calls.get(key)
        if call is None:
            return
        cause = frame.get("Cause")
        call.cause = int(cause) if cause.isdigit() else 0
        if call.pending is not None:
            self._settle(call, out)

    def _settle(self, call: LiveCall, out: list[dict[str, Any]]) -> None:
        pending = call.pending
        assert pending is not None
        fields: dict[str, Any] = {"leaveReason": pending.leave_reason}
        if call.cause:  # 0: Asterisk does not know
            fields["releaseCause"] = min(call.cause, 65535)
        out.append(self._event(call, pending.kind, pending.at_ms, True, **fields))
        del self.calls[call.key]
        if self._channels.get(call.channel) == call.key:
            del self._channels[call.channel]
        self._ended[call.key] = None
        if len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)
