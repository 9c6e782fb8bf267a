"""The answers of the skill-queue routes (``docs/calls.md``, "Skill queues now") as typed
values: queues now (``skill/totalskillstatusex3``), their details (``skill/stateinfo``,
``realindex/skill/stateinfo``), their indicators (``skill/rindex``) and the calls queued
in them (``skill/batchmultiskill``, ``skill/queuedevicestatus``). Durations in whole
seconds, moments in ms since the epoch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccms.client.call_records import _int, _object, _str

NO_CALL = "4294967295-4294967295"  # the vendor's callId when no call waits


def _items(raw: Mapping[str, Any], key: str) -> list[Any]:
    items = raw.get(key)
    if not isinstance(items, list):
        raise ValueError(f"{key} must be a JSON array, got {items!r}")
    return items


@dataclass(frozen=True)
class QueueStatus:
    """A skill queue now (``skill/totalskillstatusex3``): the calls waiting in it, how
    long the longest waiting has waited and its id (``None`` when none waits), its
    signed-in and available agents."""

    skill_id: int
    queue_size: int
    longest_wait: int
    longest_call_id: str | None
    signed_in: int
    available: int
    description: str
    max_queue_size: int

    @classmethod
    def from_wire(cls, data: object) -> QueueStatus:
        raw = _object(data, "skill queue")
        call_id = _str(raw, "callId")
        return cls(
            skill_id=_int(raw, "skillId"), queue_size=_int(raw, "queueSize"),
            longest_wait=_int(raw, "queueTime"),
            longest_call_id=None if call_id == NO_CALL else call_id,
            signed_in=_int(raw, "loggedOnAgents"), available=_int(raw, "availAgents"),
            description=_str(raw, "skillDescrip"), max_queue_size=_int(raw, "maxQueueSize"),
        )  # fmt: skip


@dataclass(frozen=True)
class QueueStateInfo:
    """A skill queue's agents per state and its calls (``skill/stateinfo``; the legacy
    ``realindex/skill/stateinfo`` has no ``calls`` nor ``connected_in_20s``: ``None``).
    The ``*_in_5`` figures are those of the current 5 minutes."""

    skill_id: int
    signed_in: int
    talking: int
    idle: int
    available: int
    busy: int
    rest: int
    working: int
    studying: int
    occupied: int
    preoccupied: int
    max_idle_time_in_5: int
    processed_calls: int
    handled_calls: int
    waiting_calls: int
    max_wait_time_in_5: int
    average_talk_time_in_5: int
    average_wait_time_in_5: int
    calls: int | None
    connected_in_20s: int | None
    raw: Mapping[str, Any]

    @classmethod
    def from_wire(cls, data: object) -> QueueStateInfo:
        raw = _object(data, "skill queue")
        busy = "agentSetBusyNums" if "agentSetBusyNums" in raw else "agentSetbusyNums"
        legacy = "allCallCount" not in raw
        return cls(
            skill_id=_int(raw, "skillId"), signed_in=_int(raw, "agentLoginNums"),
            talking=_int(raw, "agentTalkingNums"), idle=_int(raw, "agentIdleNums"),
            available=_int(raw, "agentAvailableNums"), busy=_int(raw, busy),
            rest=_int(raw, "agentRestNums"), working=_int(raw, "agentWorkNums"),
            studying=_int(raw, "agentStudyNums"), occupied=_int(raw, "agentOccupyNums"),
            preoccupied=_int(raw, "agentPreOccupyNums"),
            max_idle_time_in_5=_int(raw, "agentMaxIdleTimeIn5"),
            processed_calls=_int(raw, "totalCallNums"),
            handled_calls=_int(raw, "processingCallNums"),
            waiting_calls=_int(raw, "callWaitNums"),
            max_wait_time_in_5=_int(raw, "maxCallWaitTimesIn5"),
            average_talk_time_in_5=_int(raw, "evenCallTimeIn5"),
            average_wait_time_in_5=_int(raw, "evenWaitTimeIn5"),
            calls=None if legacy else _int(raw, "allCallCount"),
            connected_in_20s=None if legacy else _int(raw, "cnnedIn20sCallCount"),
            raw=raw,
        )  # fmt: skip


@dataclass(frozen=True)
class SkillIndicators:
    """A skill queue's real-time indicators (``skill/rindex``): each code asked, and its
    value."""

    skill_id: int
    values: Mapping[str, int]

    @classmethod
    def from_wire(cls, data: object) -> SkillIndicators:
        raw = _object(data, "skill queue")
        values = {_str(_object(i, "indicator"), "id"): _int(i, "val") for i in _items(raw, "idxs")}
        return cls(_int(raw, "id"), values)


@dataclass(frozen=True)
class QueuedCall:
    """A call queued in a skill queue (``skill/batchmultiskill``): its numbers, when it
    entered the VDN (ms) and how long it has waited in the queue (s)."""

    call_id: str
    calling: str
    called: str
    original_called: str
    media_type: str
    call_in_time: int
    wait_time: int
    raw: Mapping[str, Any]

    @classmethod
    def from_wire(cls, data: object) -> QueuedCall:
        raw = _object(data, "queued call")
        return cls(
            call_id=_str(raw, "callId"), calling=_str(raw, "calling"),
            called=_str(raw, "called"), original_called=_str(raw, "orgiCalled"),
            media_type=_str(raw, "mediaType"), call_in_time=_int(raw, "callInTime"),
            wait_time=_int(raw, "waitTime"), raw=raw,
        )  # fmt: skip


@dataclass(frozen=True)
class QueuedCalls:
    """A skill queue and its queued voice calls, longest waiting first."""

    skill_id: int
    calls: tuple[QueuedCall, ...]

    @classmethod
    def from_wire(cls, data: object) -> QueuedCalls:
        raw = _object(data, "skill queue")
        calls = tuple(QueuedCall.from_wire(i) for i in _items(raw, "callPropertyExs"))
        return cls(_int(raw, "skillId"), calls)


@dataclass(frozen=True)
class QueueDevice:
    """A call queued in one skill queue (``skill/queuedevicestatus``)."""

    call_id: str
    customer_level: int
    request_type: int

    @classmethod
    def from_wire(cls, data: object) -> QueueDevice:
        raw = _object(data, "queued call")
        return cls(_str(raw, "callId"), _int(raw, "customerLevel"), _int(raw, "requestType"))
