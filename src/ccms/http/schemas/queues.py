"""The skill-queue routes on the wire (``skill/totalskillstatusex3``, ``skill/stateinfo``
and ``realindex/skill/stateinfo``, ``skill/rindex``, ``skill/batchmultiskill``,
``skill/queuedevicestatus``): requests and answers, in the vendor's field names and
spellings (``docs/calls.md`` decides what the vendor leaves open). The requests of a
batch of queues and of one queue are those of the monitoring routes
(``ccms.http.schemas.monitor``: ``skills_query``, ``skill_query``).
"""

from __future__ import annotations

from typing import Any

from ccms.domain.call import PHONE, CallRecord
from ccms.domain.media import MediaType
from ccms.domain.queue_status import SKILL_INDICATORS, QueueAgents, QueueNow
from ccms.errors import InvalidParameterError
from ccms.http.schemas.fields import query_params
from ccms.http.schemas.monitor import skills_query
from ccms.wire import UNSET_16

NO_CALL = "4294967295-4294967295"  # the vendor's callId when no call waits
MAX_QUEUE_SIZE = UNSET_16  # ccms knows no queue configuration: the vendor's unset value
UNKNOWN = 0  # customerLevel, requestType, callPriority: what ccms cannot know
MAIN_QUEUE = 1  # callQueueFlag: ccms knows one queue per call, its main one


# -- requests ----------------------------------------------------------------------------


def indicators_query(body: dict[str, Any]) -> tuple[int, int, list[int], list[str]]:
    """``(ccId, vdn, skillIds, indexIds)`` of ``skill/rindex``: 1 to 1,000 queues, 1 to
    12 of the vendor's skill indicator codes (each once, in request order)."""
    cc_id, vdn, skill_ids = skills_query(body)
    params = query_params(body)
    if "indexIds" not in params:
        raise InvalidParameterError("indexIds is required")
    codes = params["indexIds"]
    if (
        type(codes) is not list
        or not 1 <= len(codes) <= len(SKILL_INDICATORS)
        or not all(type(c) is str and c in SKILL_INDICATORS for c in codes)
    ):
        raise InvalidParameterError(
            f"indexIds must be a list of 1 to {len(SKILL_INDICATORS)} of the skill indicator"
            " codes (IDX_COUNT_REAL_SKILL_QUEUE, ...; docs/calls.md)"
        )
    return cc_id, vdn, skill_ids, list(dict.fromkeys(codes))


# -- answers -----------------------------------------------------------------------------


def _seconds(ms: int) -> int:
    return ms // 1000


def _average_seconds(total_ms: int, n: int) -> int:
    return total_ms // n // 1000 if n else 0


def queue_status(agents: QueueAgents, q: QueueNow, now_ms: int) -> dict[str, Any]:
    """An item of ``skill/totalskillstatusex3``: the queue's waiting calls, the longest
    wait (s) and that call's id, its signed-in and available agents."""
    return {
        "skillId": q.skill_id,
        "queueSize": q.queued,
        "queueTime": _seconds(q.longest_wait_ms(now_ms)),
        "loggedOnAgents": agents.counts.signed_in,
        "availAgents": agents.counts.usable,
        "skillDescrip": str(q.skill_id),
        "callId": q.oldest_call if q.oldest_call is not None else NO_CALL,
        "maxQueueSize": MAX_QUEUE_SIZE,
    }


def state_info(agents: QueueAgents, q: QueueNow, now_ms: int, legacy: bool) -> dict[str, Any]:
    """An item of ``skill/stateinfo`` (``legacy``: of ``realindex/skill/stateinfo``, which
    spells ``agentSetbusyNums`` and has no ``allCallCount``, ``cnnedIn20sCallCount``);
    durations in whole seconds."""
    c = agents.counts
    item: dict[str, Any] = {
        "skillId": q.skill_id,
        "agentLoginNums": c.signed_in,
        "agentTalkingNums": c.talking,
        "agentIdleNums": c.idle,
        "agentAvailableNums": c.usable,
        "agentSetbusyNums" if legacy else "agentSetBusyNums": c.set_busy,
        "agentRestNums": c.rest,
        "agentMaxIdleTimeIn5": _seconds(agents.longest_idle_ms),
        "agentWorkNums": c.working,
        "agentStudyNums": c.studying,
        "agentOccupyNums": c.occupied,
        "agentPreOccupyNums": c.preoccupied,
        "totalCallNums": q.processed,
        "processingCallNums": q.handling,
        "maxCallWaitTimesIn5": _seconds(max(q.max_wait_ms, q.longest_wait_ms(now_ms))),
        "callWaitNums": q.queued,
        "evenCallTimeIn5": _average_seconds(q.talk_ms, q.talked),
        "evenWaitTimeIn5": _average_seconds(q.wait_ms, q.connected),
    }
    if not legacy:
        item["allCallCount"] = q.calls
        item["cnnedIn20sCallCount"] = q.connected_in_20s
    return item


def skill_indicators(
    agents: QueueAgents, q: QueueNow, codes: list[str], now_ms: int
) -> dict[str, Any]:
    """An item of ``skill/rindex``: the queue's id as a string, as the vendor's sample
    has it (and as ``rindex/vdn`` answers), each value a number."""
    return {
        "id": str(q.skill_id),
        "idxs": [{"id": code, "val": SKILL_INDICATORS[code](agents, q, now_ms)} for code in codes],
    }


def _media_name(media_type: int) -> str:
    try:
        return f"MEDIA_TYPE_{MediaType(media_type).name}"
    except ValueError:
        return str(media_type)


def queued_call(r: CallRecord, now_ms: int) -> dict[str, Any]:
    """An item of ``callPropertyExs`` (``skill/batchmultiskill``): numbers as strings, the
    arrival in ms, the time in this queue in whole seconds."""
    return {
        "callId": r.call_id,
        "customerLevel": UNKNOWN,
        "requestType": UNKNOWN,
        "calling": r.caller_no,
        "called": r.callee_no,
        "mediaType": _media_name(r.media_type),
        "orgiCalled": r.access_code or r.callee_no,
        "callInTime": r.arrived_at,
        "callPriority": UNKNOWN,
        "waitTime": _seconds(max(0, now_ms - r.state_at)),
        "callQueueFlag": MAIN_QUEUE,
    }


def queued_voice_calls(
    queues: list[tuple[int, list[CallRecord]]], now_ms: int
) -> list[dict[str, Any]]:
    """``skill/batchmultiskill``: each queue with its queued voice calls (the vendor: "this
    interface cannot be used to query multimedia queue information")."""
    return [
        {
            "skillId": skill,
            "callPropertyExs": [queued_call(r, now_ms) for r in calls if r.media_type == PHONE],
        }
        for skill, calls in queues
    ]


def queue_device(r: CallRecord) -> dict[str, Any]:
    """An item of ``skill/queuedevicestatus``: a call queued in the queue."""
    return {"callId": r.call_id, "customerLevel": UNKNOWN, "requestType": UNKNOWN}
