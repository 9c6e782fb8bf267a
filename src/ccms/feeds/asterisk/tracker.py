"""From AMI frames to CTI events: the member state of each agent, and what changed.

A :class:`Tracker` keeps an :class:`~ccms.feeds.asterisk.state.AgentMembers` for each
agent the directory maps, applies the frames that carry member state or call facts, and
after each one derives the agents it touched (:func:`~ccms.feeds.asterisk.state.derive`).
An agent whose CTI status, reason or skill queues differ from the last event written for
it gets an intake event:

- ``at`` is the Asterisk time of the frame that changed it (its ``Timestamp``), or the
  exact end of a wrap-up (``LastCall + wrap-up``) for the timer;
- ``eventId`` is ``ami:CCID:VDN:AGENT:AT:N`` (N counts the agent's events at the same
  millisecond), a function of what Asterisk said: the same stream gives the same ids, so a
  resend, a second adapter on the same Asterisk, or a replay of a recording is a no-op;
- ``skills`` are the skill ids of the configured queues the agent is a member of, ``name``
  its ``MemberName``, ``source`` and ``rawState`` say where the status came from.

Frames are ordered by their ``Timestamp``, not by arrival; timers due before a frame fire
before it is applied, so the events of a stream do not depend on how fast it is read.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccms.domain.agent import AgentKey
from ccms.feeds.asterisk.calls import CALL_FRAMES, CallTracker
from ccms.feeds.asterisk.identity import Directory
from ccms.feeds.asterisk.protocol import Frame
from ccms.feeds.asterisk.spool import Last
from ccms.feeds.asterisk.state import AgentMembers, Derived, MemberRecord, Rules, derive

RECORD_EVENTS = frozenset({"QueueMemberStatus", "QueueMemberAdded", "QueueMemberPause",
                           "QueueMemberPenalty", "QueueMemberRinginuse"})  # fmt: skip
CALL_EVENTS = frozenset({"AgentCalled", "AgentConnect", "AgentComplete", "AgentDump",
                         "AgentRingNoAnswer"})  # fmt: skip
CALLER_LEFT = frozenset({"QueueCallerLeave", "QueueCallerAbandon"})
CALL_ONLY = frozenset({"QueueCallerJoin", "Hangup"})  # about calls, not members
TRACKED = RECORD_EVENTS | CALL_EVENTS | CALLER_LEFT | CALL_ONLY | {"QueueMemberRemoved"}


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def record_of(frame: Frame) -> MemberRecord:
    """A member record from an event (``MemberName``, ``Interface``) or from a
    ``QueueStatus`` answer's ``QueueMember`` (``Name``, ``Location``)."""
    get = frame.fields.get
    return MemberRecord(
        queue=get("Queue", ""),
        interface=get("Interface") or get("Location", ""),
        name=get("MemberName") or get("Name", ""),
        state_interface=get("StateInterface", ""),
        membership=get("Membership", "dynamic"),
        status=_int(get("Status", "0")),
        in_call=get("InCall", "0") == "1",
        paused=get("Paused", "0") == "1",
        paused_reason=get("PausedReason", ""),
        last_call=_int(get("LastCall", "0")),
        last_pause=_int(get("LastPause", "0")),
        login_time=_int(get("LoginTime", "0")),
        wrapuptime=_int(get("Wrapuptime", "0")),
        calls_taken=_int(get("CallsTaken", "0")),
    )


@dataclass
class TrackerStats:
    frames: int = 0
    tracked: int = 0  # frames about configured queues' members
    ignored_queues: set[str] = field(default_factory=set)
    events: int = 0
    stale: int = 0  # changes older than the last event of their agent (replays)


class Tracker:
    """Frames in, intake events out; pure (the caller gives every instant)."""

    def __init__(
        self,
        rules: Rules,
        directory: Directory,
        *,
        source: str = "asterisk-ami",
        send_names: bool = True,
        last: Mapping[AgentKey, Last] | None = None,
        calls_mark: int = 0,
        drop_past: bool = False,
    ) -> None:
        self.rules = rules
        self.directory = directory
        self.source = source
        self.send_names = send_names
        self.drop_past = drop_past  # a replay: a change older than the last sent is history
        self.agents: dict[AgentKey, AgentMembers] = {}
        self.last: dict[AgentKey, Last] = dict(last or {})
        # Agents whose last event is older than this process: in a replay, a change in the
        # same millisecond as that event is as old as it (a millisecond is all ccms keeps).
        self._inherited = set(self.last)
        self.current: dict[AgentKey, Derived] = {}
        self.stats = TrackerStats()
        self._members: dict[tuple[str, str], AgentKey] = {}  # (queue, interface) -> agent
        self._rung: dict[str, set[AgentKey]] = {}  # caller Uniqueid -> agents rung for it
        self._timers: list[tuple[float, AgentKey]] = []
        self.latest = float("-inf")  # the newest instant a frame was applied at
        self.calls = CallTracker(rules, self._agent_of, mark_ms=calls_mark, drop_past=drop_past)

    # -- time --------------------------------------------------------------------------

    def next_due(self) -> float | None:
        due = self._timers[0][0] if self._timers else None
        call_due = self.calls.next_due()
        if call_due is not None and (due is None or call_due < due):
            return call_due
        return due

    def advance(self, now: float) -> list[dict[str, Any]]:
        """Events of the wrap-ups that ended by ``now`` (each at its own end), and of the
        calls whose end waited long enough."""
        out = self.calls.advance(now) if self.calls.next_due() is not None else []
        while self._timers and self._timers[0][0] <= now:
            due, key = heapq.heappop(self._timers)
            self._derive(key, due, out)
        return out

    # -- frames ------------------------------------------------------------------------

    def frame(self, frame: Frame, at: float) -> list[dict[str, Any]]:
        """The events that one event frame (not part of a ``QueueStatus`` answer) causes."""
        self.stats.frames += 1
        name = frame.event
        if name not in TRACKED:
            return []
        out = self.advance(at)
        self.latest = max(self.latest, at)
        if name not in CALL_ONLY:
            self._member_frame(name, frame, at, out)
        elif name == "QueueCallerJoin" and frame.get("Queue") not in self.rules.queues:
            self.stats.ignored_queues.add(frame.get("Queue"))
        if name in CALL_FRAMES:
            out.extend(self.calls.frame(frame, at))
        return out

    def _member_frame(self, name: str, frame: Frame, at: float, out: list[dict[str, Any]]) -> None:
        """What a frame says of the members it names."""
        if name in CALLER_LEFT:
            for rung in sorted(self._rung.pop(frame.get("Uniqueid"), ())):
                found = self.agents.get(rung)
                if found is not None and found.caller_left(frame.get("Uniqueid")):
                    self._derive(rung, at, out)
            return
        queue = frame.get("Queue")
        if queue not in self.rules.queues:
            if queue:
                self.stats.ignored_queues.add(queue)
            return
        self.stats.tracked += 1
        interface = frame.get("Interface")
        if name in CALL_EVENTS:
            key = self._agent_of(frame)
            if key is None:
                return
            members = self._members_of(key)
            uniqueid = frame.get("Uniqueid")
            call_id = self.calls.call_id(frame, at)
            if name == "AgentCalled":
                members.called(queue, interface, uniqueid, at, call_id)
                self._rung.setdefault(uniqueid, set()).add(key)
            elif name == "AgentConnect":
                members.connect(queue, interface, uniqueid, at, call_id)
            elif name == "AgentRingNoAnswer":
                members.ring_ended(queue, interface)
            else:
                members.call_ended(queue, interface, at)
            self._derive(key, at, out)
            return
        record = record_of(frame)
        key = self._key_of(record)
        if key is None:
            return
        members = self._members_of(key)
        if name == "QueueMemberRemoved":
            members.remove(queue, record.interface, at)
        else:
            members.record(record, at)
        self._derive(key, at, out)

    def snapshot(self, frames: Iterable[Frame], at: float) -> list[dict[str, Any]]:
        """A whole ``QueueStatus`` answer: its ``QueueMember`` frames, for every configured
        queue (a queue Asterisk did not list has no members)."""
        out = self.advance(at)
        by_agent: dict[AgentKey, list[MemberRecord]] = {}
        for frame in frames:
            if frame.event != "QueueMember":
                continue
            record = record_of(frame)
            if record.queue not in self.rules.queues:
                continue
            key = self._key_of(record)
            if key is not None:
                by_agent.setdefault(key, []).append(record)
        queues = list(self.rules.queues)
        for key in sorted(set(self.agents) | set(by_agent)):
            self._members_of(key).snapshot(by_agent.get(key, []), queues, at)
            self._derive(key, at, out)
        self._rung.clear()
        out += self.calls.reconcile(by_agent, at)
        self.calls.forget_old(at)
        return out

    def restarted(self) -> list[dict[str, Any]]:
        """Asterisk restarted: the calls it knew of are gone (the next snapshot says the
        rest); the calls' ends."""
        for members in self.agents.values():
            members.forget_calls()
        self._rung.clear()
        return self.calls.restarted(self.latest)

    def refresh(self, keys: Iterable[AgentKey], now: float) -> list[dict[str, Any]]:
        """Derive these agents again (after the spool had no room for their events)."""
        out: list[dict[str, Any]] = []
        for key in sorted(keys):
            self._derive(key, now, out)
        return out

    def forget_sent(self, key: AgentKey, last: Last | None) -> None:
        """The event for ``key`` was not written after all: ``last`` is what was."""
        if last is None:
            self.last.pop(key, None)
        else:
            self.last[key] = last

    # -- inside --------------------------------------------------------------------------

    def _agent_of(self, frame: Frame) -> AgentKey | None:
        """The agent a call frame names (its member's ``Interface``, ``MemberName``)."""
        interface = frame.get("Interface")
        return self._members.get((frame.get("Queue"), interface)) or self.directory.resolve(
            interface, frame.get("StateInterface"), frame.get("MemberName")
        )

    def _members_of(self, key: AgentKey) -> AgentMembers:
        members = self.agents.get(key)
        if members is None:
            members = self.agents[key] = AgentMembers()
        return members

    def _key_of(self, record: MemberRecord) -> AgentKey | None:
        key = self.directory.resolve(record.interface, record.state_interface, record.name)
        if key is not None:
            self._members[(record.queue, record.interface)] = key
        return key

    def _derive(self, key: AgentKey, now: float, out: list[dict[str, Any]]) -> None:
        derived = derive(self._members_of(key), now, self.rules)
        self.current[key] = derived
        if derived.due is not None:
            heapq.heappush(self._timers, (derived.due, key))
        event = self._event(key, derived, now)
        if event is not None:
            out.append(event)

    def _event(self, key: AgentKey, derived: Derived, now: float) -> dict[str, Any] | None:
        at = int(now * 1000)
        last = self.last.get(key)
        status_changed = last is None or (last.cti_status, last.reason) != (
            derived.cti_status, derived.reason,
        )  # fmt: skip
        skills_changed = last is None or last.skills != derived.skills
        if not status_changed and not skills_changed:
            return None
        if last is None and derived.cti_status == 0:
            return None  # never seen signed in: nothing to tell ccms
        inherited = key in self._inherited
        if last is not None and (at < last.at or (inherited and at == last.at)):
            if self.drop_past:
                self.stats.stale += 1
                return None
            at = last.at  # a clock that stepped back: keep each agent's events in order
        ordinal = last.ordinal + 1 if last is not None and last.at == at else 0
        event: dict[str, Any] = {
            "eventId": f"ami:{key.cc_id}:{key.vdn}:{key.work_no}:{at}:{ordinal}",
            "ccId": key.cc_id, "vdn": key.vdn, "agentId": key.work_no, "at": at,
        }  # fmt: skip
        if status_changed:
            event["ctiStatus"] = derived.cti_status
            if derived.reason is not None:
                event["reason"] = derived.reason
            if self.send_names and derived.name:
                event["name"] = derived.name[:128]
        event["skills"] = list(derived.skills)
        if status_changed and self.calls.enabled:
            event["calls"] = list(derived.calls)
        event["source"] = self.source
        event["rawState"] = derived.raw_state
        self.last[key] = Last(at, derived.cti_status, derived.reason, derived.skills, ordinal)
        self._inherited.discard(key)
        self.stats.events += 1
        return event
