"""The answers of the service routes (``docs/calls.md``) as typed values: the service
quality of a skill queue (``skill/servicequality``), its limits (``skill/skillcfginfo``)
and the calls in progress of an access code (``vdn/queryaccesscodecallinfo``)."""

from __future__ import annotations

from dataclasses import dataclass

from ccms.client.call_records import _int, _object


@dataclass(frozen=True)
class ServiceQuality:
    """A skill queue in the last complete 5 minutes, from ``start`` (ms): calls that
    entered it, were answered (within 15 s, 20 s) and lost (after less than 15 s, 20 s
    in queue)."""

    skill_id: int
    start: int
    calls: int
    connected: int
    lost: int
    connected_in_15s: int
    lost_in_15s: int
    connected_in_20s: int
    lost_in_20s: int

    @classmethod
    def from_wire(cls, data: object) -> ServiceQuality:
        raw = _object(data, "skill queue")
        return cls(
            skill_id=_int(raw, "skillId"), start=_int(raw, "statStartTime"),
            calls=_int(raw, "inCallNum"), connected=_int(raw, "connectedNum"),
            lost=_int(raw, "callLostNum"), connected_in_15s=_int(raw, "in15sCallNum"),
            lost_in_15s=_int(raw, "wait15sLostNum"), connected_in_20s=_int(raw, "in20sCallNum"),
            lost_in_20s=_int(raw, "wait20sLostNum"),
        )  # fmt: skip


@dataclass(frozen=True)
class SkillConfig:
    """A skill queue's limits (seconds where a time)."""

    skill_id: int
    max_calls: int
    max_held_calls: int
    max_wait: int
    max_ring: int
    max_talk: int
    max_resting_agents: int
    max_wrapup: int

    @classmethod
    def from_wire(cls, data: object) -> SkillConfig:
        raw = _object(data, "skill queue")
        return cls(
            skill_id=_int(raw, "skillId"), max_calls=_int(raw, "maxCallNum"),
            max_held_calls=_int(raw, "maxHoldCallNum"), max_wait=_int(raw, "maxWaitTime"),
            max_ring=_int(raw, "maxAnswerWaitTime"), max_talk=_int(raw, "maxTalkTime"),
            max_resting_agents=_int(raw, "maxRestAgentNum"),
            max_wrapup=_int(raw, "maxAgentWrapupTime"),
        )  # fmt: skip


@dataclass(frozen=True)
class AccessCodeCalls:
    """The calls in progress of an access code now: all, in the IVR, at an agent,
    queued, and the longest a queued one has waited (seconds)."""

    inno_id: int
    calls: int
    in_ivr: int
    at_agent: int
    queued: int
    longest_wait: int

    @classmethod
    def from_wire(cls, data: object) -> AccessCodeCalls:
        raw = _object(data, "access code")
        return cls(
            inno_id=_int(raw, "innoId"), calls=_int(raw, "allCallCount"),
            in_ivr=_int(raw, "ivrCallCount"), at_agent=_int(raw, "agentCallCount"),
            queued=_int(raw, "queueCallCount"), longest_wait=_int(raw, "longestWaitTime"),
        )  # fmt: skip
