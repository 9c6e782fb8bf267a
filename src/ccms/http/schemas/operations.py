"""What each route takes and answers, as JSON Schema: the operations of the OpenAPI
document (``ccms.http.openapi``, ``GET /ccms/v1/openapi.json``).

One :class:`Operation` per route of the route tables, keyed by method and path, built from
the same constants as the parsers beside this module (``fields``, ``agent``, ``monitor``,
``ccms.ingest.validation``), so that the ranges documented are the ranges enforced. The
route itself (auth, role, body, limit, failure envelope) comes from the route table; the
document adds the error answers every route shares. A test fails when a route of the table
has no operation here, or an operation no route.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ccms import wire
from ccms.domain import indicators
from ccms.domain.agent import (
    CC_ID_RANGE,
    REASON_RANGE,
    SKILL_ID_RANGE,
    VDN_RANGE,
)
from ccms.domain.call import (
    CALL_ID_MAX,
    CALL_TYPE_RANGE,
    LEAVE_REASON_RANGE,
    RELEASE_CAUSE_RANGE,
    SUB_MEDIA_TYPE_RANGE,
    CallKind,
    kept_from,
    last_day_end,
)
from ccms.domain.flags import ALERT, WARNING
from ccms.domain.media import MEDIA_TYPE_MAX
from ccms.domain.queue_status import SKILL_INDICATORS
from ccms.domain.service import INNO_ID_RANGE
from ccms.http import assets
from ccms.http.schemas import agent_list
from ccms.http.schemas import calls as call_schema
from ccms.http.schemas import calltrace as trace_schema
from ccms.http.schemas import service as service_schema
from ccms.http.schemas.detail import HISTORY_LIMIT_RANGE
from ccms.http.schemas.fields import work_no_ranges
from ccms.http.schemas.monitor import CTI_STATUS_RANGE, MAX_AGENT_IDS, MAX_SKILL_IDS, OFFSET_RANGE
from ccms.ingest import calls as call_validation
from ccms.ingest import validation
from ccms.settings import Settings

Schema = dict[str, Any]
EXAMPLE_CALL = "1767225600-1"  # the call in progress of the examples
EXAMPLE_AGENT_CALL = "1767225600-2"  # a call in progress ringing at agent 101
EXAMPLE_ENDED_CALL = "1767225600-3"  # an inbound call ended today


@dataclass(frozen=True)
class Operation:
    """A route in the document: a summary, its request body (``None``: none) and the
    schema of its HTTP 200 answer (``media``: its media type). ``example`` is a request
    body that succeeds on a store holding agent 101 of call center 1, VDN 1, in skill
    queue 1, and the call :data:`EXAMPLE_CALL` in progress there."""

    summary: str
    request: Schema | None
    answer: Schema
    media: str = "application/json"
    description: str = ""
    tags: tuple[str, ...] = field(default=())
    example: Any = None
    query: dict[str, Schema] = field(default_factory=dict)  # GET query parameters
    required_query: tuple[str, ...] = ()
    path: dict[str, Schema] = field(default_factory=dict)  # path parameters ({file})
    also_media: tuple[str, ...] = ()  # other media types of the HTTP 200 answer
    responses: dict[str, str] = field(default_factory=dict)  # other answers: status -> when


# -- building blocks -----------------------------------------------------------------------

INTEGER: Schema = {"type": "integer"}
TEXT: Schema = {"type": "string"}
TEXT_OR_NULL: Schema = {"type": ["string", "null"]}
FAILURE_REF: Schema = {"$ref": "#/components/schemas/Failure"}
VENDOR_FAILURE_REF: Schema = {"$ref": "#/components/schemas/VendorFailure"}


def integer(lo: int, hi: int) -> Schema:
    """An integer field: a JSON integer, or a string of ASCII digits."""
    return {
        "anyOf": [
            {"type": "integer", "minimum": lo, "maximum": hi},
            {"type": "string", "pattern": "^[0-9]+$"},
        ]
    }


def integers(ranges: tuple[tuple[int, int], ...], max_items: int) -> Schema:
    kinds = [{"type": "integer", "minimum": lo, "maximum": hi} for lo, hi in ranges]
    item = kinds[0] if len(kinds) == 1 else {"anyOf": kinds}
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": max_items,
        "items": {"anyOf": [item, {"type": "string", "pattern": "^[0-9]+$"}]},
    }


def params(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A query body in either shape: ``{"queryParam": {...}}`` or the fields at the top."""
    fields: Schema = {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }
    wrapped = {"type": "object", "required": ["queryParam"], "properties": {"queryParam": fields}}
    return {"anyOf": [wrapped, fields]}


def record(**properties: Schema) -> Schema:
    """An answer object: every field present."""
    return {"type": "object", "required": list(properties), "properties": properties}


def success(data: Schema) -> Schema:
    """``envelope.success``, or a failure envelope (HTTP 200 answers both)."""
    ok = record(
        result={"const": "0"}, resultCode={"const": wire.SUCCESS}, resultDesc=data,
        resultDatas=data,
    )  # fmt: skip
    return {"anyOf": [ok, FAILURE_REF]}


def legacy_success(data: Schema) -> Schema:
    return {"anyOf": [record(result={"const": "0"}, resultDatas=data), FAILURE_REF]}


def success_with_count(data: Schema) -> Schema:
    ok = record(
        result={"const": "0"}, resultCode={"const": wire.SUCCESS}, resultDesc=data,
        resultDatas=data, count=INTEGER,
    )  # fmt: skip
    return {"anyOf": [ok, FAILURE_REF]}


def vendor_success(data: Schema) -> Schema:
    ok = record(
        returnCode={"const": "0"}, description={"const": "success"}, data=data,
        result={"const": "0"}, resultCode={"const": wire.SUCCESS}, resultDesc=data,
        resultDatas=data,
    )  # fmt: skip
    return {"anyOf": [ok, VENDOR_FAILURE_REF]}


def plain_success(data: Schema) -> Schema:
    """``envelope.plain_success`` (``resultCode`` and ``resultDesc`` only), or a failure."""
    return {"anyOf": [record(resultCode={"const": wire.SUCCESS}, resultDesc=data), FAILURE_REF]}


def array(item: Schema) -> Schema:
    return {"type": "array", "items": item}


# -- shared component schemas (``components/schemas``) -------------------------------------

FAILURE = record(
    result={"type": "string"},
    resultCode={
        "enum": [wire.FAILED, wire.INVALID_PARAMETER, wire.PERMISSION_DENIED, wire.UNKNOWN_ERROR]
    },
    resultDesc=TEXT,
)
VENDOR_FAILURE = {
    "allOf": [FAILURE_REF, record(returnCode={"type": "string"}, description=TEXT)],
}

AGENT_DETAIL = record(
    workNo=INTEGER, vdnId=INTEGER, citStatus=INTEGER, name=TEXT_OR_NULL,
    phoneNumber=TEXT_OR_NULL, loginDate=INTEGER, currentStateTime=INTEGER,
    mediaType=INTEGER, status=INTEGER,
)  # fmt: skip
LEGACY_AGENT_DETAIL = record(
    workno=INTEGER, vdnid=INTEGER, citStatus=INTEGER, name=TEXT_OR_NULL,
    phonenumber=TEXT_OR_NULL, logindate=INTEGER, currentstatetime=INTEGER,
    mediatype=INTEGER, status=INTEGER,
)  # fmt: skip
AGENT_STATUS_INFO = record(
    agentId=INTEGER, currentState=INTEGER, currentStateTime=INTEGER, prevState=INTEGER,
    prevStateTime=INTEGER, logonTime=INTEGER, currentStateReason=INTEGER,
    locationId=INTEGER, agentRelease=INTEGER, currentPrivateCallNum=INTEGER,
)  # fmt: skip
AGENT_SKILLS = record(agentId=INTEGER, skills=array(record(skillId=INTEGER, isLogin=INTEGER)))
_COUNTS = ("loginEd", "talking", "idle", "usable", "setBusy", "rest", "studying", "occupy",
           "preoccupy", "answering", "lateAdjust")  # fmt: skip
TEAM_COUNTS = record(**dict.fromkeys(_COUNTS, INTEGER), workSubstateBegin=INTEGER)
SKILL_COUNTS = record(**dict.fromkeys(_COUNTS, INTEGER), workSubStateBegin=INTEGER)
SYSTEM_STATE = record(
    busyAgent=INTEGER, talkingNum=INTEGER, idleAgent=INTEGER, totalLoginAgent=INTEGER
)
AGENT_ABSTRACT = record(
    agentId=INTEGER, currentState=INTEGER, currentStateTime=INTEGER, locationId=INTEGER
)
AGENT_DYNAMIC = record(agentId=INTEGER, state=INTEGER)
SKILL_MEMBERS = record(skillId=INTEGER, agentIds=array(INTEGER))
SKILL_AGENT = record(
    workNo=INTEGER, name=TEXT_OR_NULL, status=INTEGER, ctiStatus=INTEGER, groupId=INTEGER,
    mediaType=INTEGER, vdnId=INTEGER, phoneNumber=TEXT_OR_NULL, currentStateTime=INTEGER,
    loginDate=INTEGER,
)  # fmt: skip
LEGACY_SKILL_AGENT = record(
    workno=INTEGER, name=TEXT_OR_NULL, status=INTEGER, ctiStatus=INTEGER, groupid=INTEGER,
    mediatype=INTEGER, vdnid=INTEGER, phonenumber=TEXT_OR_NULL, currentstatetime=INTEGER,
    logindate=INTEGER,
)  # fmt: skip
INTEGER_OR_NULL: Schema = {"type": ["integer", "null"]}
FLAG = record(name=TEXT, level={"enum": [WARNING, ALERT]}, since=INTEGER)
# The native agent item (the agent-detail route; the native agent list shares these fields).
_AGENT_ITEM: dict[str, Schema] = {
    "agentId": INTEGER, "name": TEXT_OR_NULL, "ctiStatus": INTEGER, "status": INTEGER,
    "since": INTEGER, "secondsInState": INTEGER, "reason": INTEGER_OR_NULL,
    "skills": array(INTEGER), "calls": array(TEXT), "flags": array(FLAG),
}  # fmt: skip
NATIVE_AGENT_DETAIL = record(
    agent=record(
        **_AGENT_ITEM, loginDate=INTEGER, phoneNumber=TEXT_OR_NULL, mediaType=INTEGER,
        source=TEXT_OR_NULL, rawState=TEXT_OR_NULL,
    ),
    history=array(record(
        at=INTEGER, ctiStatus=INTEGER, reason=INTEGER_OR_NULL, applied={"type": "boolean"},
        eventId=TEXT, source=TEXT_OR_NULL, rawState=TEXT_OR_NULL,
    )),
)  # fmt: skip

FLAG = record(name=TEXT, level={"enum": ["warning", "alert"]}, since=INTEGER)
LISTED_AGENT = record(
    agentId=INTEGER, name=TEXT_OR_NULL, ctiStatus=INTEGER, status=INTEGER, since=INTEGER,
    secondsInState=INTEGER, reason={"type": ["integer", "null"]}, skills=array(INTEGER),
    calls=array(TEXT), flags=array(FLAG),
)  # fmt: skip
CALL_RECORD = record(
    logDate=INTEGER, callerNo=TEXT, calleeNo=TEXT, callId=TEXT, callType=INTEGER,
    waitBegin=INTEGER, ackBegin=INTEGER, callBegin=INTEGER, callEnd=INTEGER, vdn=INTEGER,
    leaveReason=INTEGER, mediaType=INTEGER, subMediaType=INTEGER,
)  # fmt: skip
CALL_RECORDS = record(data=array({"$ref": "#/components/schemas/CallRecord"}), count=INTEGER)
QUEUE_WINDOW = record(
    id=INTEGER, startTime=INTEGER, allCallCount=INTEGER, cnnedCallCount=INTEGER,
    abanCallCount=INTEGER, callEndCount=INTEGER, talkTimeOnIvr=INTEGER,
    cnnedIn20sCallCount=INTEGER, clearUpCallCount=INTEGER, clearUpTime=INTEGER,
)  # fmt: skip
VDN_INDICATORS = record(id=TEXT, idxs=array(record(id=TEXT, val=INTEGER)))
SERVICE_QUALITY = record(
    skillId=INTEGER, statStartTime=INTEGER, inCallNum=INTEGER, connectedNum=INTEGER,
    callLostNum=INTEGER, in15sCallNum=INTEGER, wait15sLostNum=INTEGER, in20sCallNum=INTEGER,
    wait20sLostNum=INTEGER,
)  # fmt: skip
SKILL_CONFIG = record(
    skillId=INTEGER, maxCallNum=INTEGER, maxHoldCallNum=INTEGER, maxWaitTime=INTEGER,
    maxAnswerWaitTime=INTEGER, maxTalkTime=INTEGER, maxRestAgentNum=INTEGER,
    maxAgentWrapupTime=INTEGER,
)  # fmt: skip
ACCESS_CODE_CALLS = record(
    innoId=INTEGER, allCallCount=INTEGER, ivrCallCount=INTEGER, agentCallCount=INTEGER,
    queueCallCount=INTEGER, longestWaitTime=INTEGER,
)  # fmt: skip
BASIC_CALL_INFO = record(
    time=INTEGER, dsn=INTEGER, handle=INTEGER, server=INTEGER, keyId=TEXT, callingNum=TEXT,
    calledNum=TEXT, mid=INTEGER, trunkNo=INTEGER, priority=INTEGER, deviceType=INTEGER,
    deviceNo=INTEGER, callSkill=TEXT, partyNum=INTEGER, callFeature=INTEGER,
    orgiCalledNum=TEXT, mediaType=INTEGER, submediaType=INTEGER, place=INTEGER,
    waitTime=INTEGER, totalTalkingTimes=INTEGER, logonTimes=INTEGER, serviceType=INTEGER,
    callInCause=INTEGER, enterReason=INTEGER, mediaBillType=TEXT,
)  # fmt: skip
CALL_LEG = record(
    callId=TEXT, mediaType=INTEGER, callIdNum=INTEGER, callerNo=TEXT, calleeNo=TEXT,
    waitBegin=INTEGER, ackBegin=INTEGER, callBegin=INTEGER, callEnd=INTEGER, subCcNo=INTEGER,
    deviceType=INTEGER, deviceNo=TEXT, deviceIn=TEXT, callType=INTEGER, releaseCause=INTEGER,
    EnterReason=INTEGER, LeaveReason=INTEGER, CurrentSkillID=TEXT, subMediaType=INTEGER,
)  # fmt: skip
PRIVATE_CALL_INFO = record(
    cb=INTEGER, time=INTEGER, dsn=INTEGER, handle=INTEGER, server=INTEGER, keyId=TEXT,
    callingNum=TEXT, calledNum=TEXT, mid=INTEGER, trunkNo=INTEGER, priority=INTEGER,
    deviceType=INTEGER, deviceNo=INTEGER, callData=TEXT, callDataLen=INTEGER, callSkill=TEXT,
    partyNum=INTEGER, callFeature=TEXT, orgiCalledNum=TEXT, mediaType=TEXT,
    submediaType=INTEGER, place=INTEGER, waitTime=INTEGER, totalTalkingTimes=INTEGER,
    logonTimes=INTEGER,
)  # fmt: skip
CALL_DETAIL = record(
    vdn=INTEGER, callId=TEXT, callerNo=TEXT, calleeNo=TEXT, callType=INTEGER, agentId=INTEGER,
    skillId=INTEGER, anonyCall=INTEGER, queueWaitTime=INTEGER, ivrCallTime=INTEGER,
    ackTime=INTEGER, callTime=INTEGER, releaseCause=INTEGER, beginTime=TEXT, endTime=TEXT,
    result=TEXT, resultCode=TEXT, busiResult=TEXT, busiSubStatus=TEXT,
)  # fmt: skip
QUEUE_STATUS = record(
    skillId=INTEGER, queueSize=INTEGER, queueTime=INTEGER, loggedOnAgents=INTEGER,
    availAgents=INTEGER, skillDescrip=TEXT, callId=TEXT, maxQueueSize=INTEGER,
)  # fmt: skip
_STATE_COUNTS = (
    "agentLoginNums", "agentTalkingNums", "agentIdleNums", "agentAvailableNums",
    "agentRestNums", "agentMaxIdleTimeIn5", "agentWorkNums", "agentStudyNums",
    "agentOccupyNums", "agentPreOccupyNums", "totalCallNums", "processingCallNums",
    "maxCallWaitTimesIn5", "callWaitNums", "evenCallTimeIn5", "evenWaitTimeIn5",
)  # fmt: skip
SKILL_STATE_INFO = record(
    skillId=INTEGER, agentSetBusyNums=INTEGER, allCallCount=INTEGER,
    cnnedIn20sCallCount=INTEGER, **dict.fromkeys(_STATE_COUNTS, INTEGER),
)  # fmt: skip
LEGACY_SKILL_STATE_INFO = record(
    skillId=INTEGER, agentSetbusyNums=INTEGER, **dict.fromkeys(_STATE_COUNTS, INTEGER)
)
SKILL_INDICATORS_ITEM = record(id=TEXT, idxs=array(record(id=TEXT, val=INTEGER)))
QUEUED_CALL = record(
    callId=TEXT, customerLevel=INTEGER, requestType=INTEGER, calling=TEXT, called=TEXT,
    mediaType=TEXT, orgiCalled=TEXT, callInTime=INTEGER, callPriority=INTEGER,
    waitTime=INTEGER, callQueueFlag=INTEGER,
)  # fmt: skip
QUEUED_CALLS = record(
    skillId=INTEGER, callPropertyExs=array({"$ref": "#/components/schemas/QueuedCall"})
)
QUEUE_DEVICE = record(callId=TEXT, customerLevel=INTEGER, requestType=INTEGER)
AGENT_LIST = record(
    agents=array({"$ref": "#/components/schemas/ListedAgent"}),
    counts={"type": "object", "additionalProperties": INTEGER},
    nextCursor=TEXT_OR_NULL, serverTime=INTEGER,
)  # fmt: skip

COMPONENTS: dict[str, Schema] = {
    "Failure": FAILURE,
    "VendorFailure": VENDOR_FAILURE,
    "AgentDetail": AGENT_DETAIL,
    "LegacyAgentDetail": LEGACY_AGENT_DETAIL,
    "AgentStatusInfo": AGENT_STATUS_INFO,
    "AgentSkills": AGENT_SKILLS,
    "TeamCounts": TEAM_COUNTS,
    "SkillCounts": SKILL_COUNTS,
    "SystemState": SYSTEM_STATE,
    "AgentAbstract": AGENT_ABSTRACT,
    "AgentDynamic": AGENT_DYNAMIC,
    "SkillMembers": SKILL_MEMBERS,
    "SkillAgent": SKILL_AGENT,
    "LegacySkillAgent": LEGACY_SKILL_AGENT,
    "NativeAgentDetail": NATIVE_AGENT_DETAIL,
    "ListedAgent": LISTED_AGENT,
    "AgentList": AGENT_LIST,
    "CallRecord": CALL_RECORD,
    "CallRecords": CALL_RECORDS,
    "BasicCallInfo": BASIC_CALL_INFO,
    "QueueCallCounts": QUEUE_WINDOW,
    "VdnIndicators": VDN_INDICATORS,
    "ServiceQuality": SERVICE_QUALITY,
    "SkillConfig": SKILL_CONFIG,
    "AccessCodeCalls": ACCESS_CODE_CALLS,
    "CallLeg": CALL_LEG,
    "PrivateCallInfo": PRIVATE_CALL_INFO,
    "CallDetail": CALL_DETAIL,
    "QueueStatus": QUEUE_STATUS,
    "SkillStateInfo": SKILL_STATE_INFO,
    "LegacySkillStateInfo": LEGACY_SKILL_STATE_INFO,
    "SkillIndicators": SKILL_INDICATORS_ITEM,
    "QueuedCall": QUEUED_CALL,
    "QueuedCalls": QUEUED_CALLS,
    "QueueDevice": QUEUE_DEVICE,
}


def list_request_schema() -> Schema:
    """The body of ``POST /ccms/v1/agents/query`` (``ccms.http.schemas.agent_list``)."""
    nullable: Schema = {"type": "null"}

    def codes(lo: int, hi: int, most: int) -> Schema:
        items = {"anyOf": [{"type": "integer", "minimum": lo, "maximum": hi},
                           {"type": "string", "pattern": "^[0-9]+$"}]}  # fmt: skip
        return {"anyOf": [{"type": "array", "maxItems": most, "items": items}, nullable]}

    return params(
        {"ccId": integer(*CC_ID_RANGE), "vdn": integer(*VDN_RANGE)},
        {
            "skills": codes(*SKILL_ID_RANGE, agent_list.MAX_SKILLS),
            "statuses": codes(*agent_list.STATUS_RANGE, agent_list.MAX_STATUSES),
            "ctiStatuses": codes(*agent_list.CTI_RANGE, agent_list.MAX_STATUSES),
            "minSecondsInState": {"anyOf": [integer(*agent_list.MIN_SECONDS_RANGE), nullable]},
            "flagged": {"type": ["boolean", "null"]},
            "search": {"anyOf": [{"type": "string", "maxLength": agent_list.MAX_SEARCH,
                                  "pattern": "^[^\\x00-\\x1f]*$"}, nullable]},
            "sort": {"anyOf": [{"enum": list(agent_list.SORTS)}, nullable]},
            "limit": {"anyOf": [integer(1, agent_list.MAX_LIMIT), nullable]},
            "cursor": {"anyOf": [{"type": "string", "minLength": 1,
                                  "maxLength": agent_list.MAX_CURSOR}, nullable]},
        },
    )  # fmt: skip


def ref(name: str) -> Schema:
    if name not in COMPONENTS:
        raise KeyError(name)
    return {"$ref": f"#/components/schemas/{name}"}


def call_event_schema(settings: Settings) -> Schema:
    """One call event of ``POST /ccms/v1/events`` (``docs/intake.md``, Call events); the
    fields each kind takes are :data:`ccms.ingest.calls.FIELDS_OF`."""
    text = "^[^\\x00-\\x1f]*$"
    number = {"type": "string", "maxLength": call_validation.MAX_NUMBER, "pattern": text}
    work_nos = [
        {"type": "integer", "minimum": lo, "maximum": hi}
        for lo, hi in work_no_ranges(settings.large_work_numbers)
    ]
    return {
        "type": "object",
        "required": ["eventId", "ccId", "vdn", "callId", "at", "callEvent"],
        "additionalProperties": False,
        "properties": {
            "eventId": {"type": "string", "minLength": 1, "maxLength": validation.MAX_EVENT_ID,
                        "pattern": text},
            "ccId": integer(*CC_ID_RANGE),
            "vdn": integer(*VDN_RANGE),
            "callId": {"type": "string", "maxLength": CALL_ID_MAX,
                       "pattern": "^[0-9]{9,13}-[0-9]{1,10}$"},
            "at": integer(0, validation.MAX_AT),
            "callEvent": {"enum": [kind.value for kind in CallKind]},
            "callerNo": number, "calleeNo": number, "accessCode": number,
            "mediaType": integer(0, MEDIA_TYPE_MAX),
            "subMediaType": {"type": "integer", "minimum": SUB_MEDIA_TYPE_RANGE[0],
                             "maximum": SUB_MEDIA_TYPE_RANGE[1]},
            "callType": integer(*CALL_TYPE_RANGE),
            "callIn": {"type": "boolean"},
            "skillId": integer(*SKILL_ID_RANGE),
            "agentId": {"anyOf": [*work_nos, {"type": "string", "pattern": "^[0-9]+$"}]},
            "leaveReason": integer(*LEAVE_REASON_RANGE),
            "releaseCause": integer(*RELEASE_CAUSE_RANGE),
        },
    }  # fmt: skip


def event_schema(settings: Settings) -> Schema:
    """One event of ``POST /ccms/v1/events`` (``docs/intake.md``)."""
    text = "^[^\\x00-\\x1f]*$"  # no control characters
    work_nos = [
        {"type": "integer", "minimum": lo, "maximum": hi}
        for lo, hi in work_no_ranges(settings.large_work_numbers)
    ]
    return {
        "type": "object",
        "required": ["eventId", "ccId", "vdn", "agentId", "at"],
        "additionalProperties": False,
        "properties": {
            "eventId": {"type": "string", "minLength": 1, "maxLength": validation.MAX_EVENT_ID,
                        "pattern": text},
            "ccId": integer(*CC_ID_RANGE),
            "vdn": integer(*VDN_RANGE),
            "agentId": {"anyOf": [*work_nos, {"type": "string", "pattern": "^[0-9]+$"}]},
            "at": integer(0, validation.MAX_AT),
            "ctiStatus": integer(*CTI_STATUS_RANGE),
            "reason": integer(*REASON_RANGE),
            "name": {"type": "string", "maxLength": validation.MAX_NAME, "pattern": text},
            "phoneNumber": {"type": ["string", "null"], "maxLength": validation.MAX_PHONE,
                            "pattern": text},
            "mediaType": integer(0, MEDIA_TYPE_MAX),
            "skills": {"type": "array", "maxItems": validation.MAX_SKILLS,
                       "items": {"type": "integer", "minimum": SKILL_ID_RANGE[0],
                                 "maximum": SKILL_ID_RANGE[1]}},
            "calls": {"type": "array", "maxItems": validation.MAX_CALLS,
                      "items": {"type": "string", "minLength": 1,
                                "maxLength": validation.MAX_CALL_ID, "pattern": text}},
            "source": {"type": "string", "minLength": 1, "maxLength": validation.MAX_SOURCE,
                       "pattern": text},
            "rawState": {"type": "string", "maxLength": validation.MAX_RAW_STATE,
                         "pattern": text},
        },
    }  # fmt: skip


# -- the operations ------------------------------------------------------------------------


def operations(settings: Settings) -> dict[tuple[str, str], Operation]:
    """Every route's operation, by ``(method, path)``."""
    cc_id, vdn = integer(*CC_ID_RANGE), integer(*VDN_RANGE)
    ranges = work_no_ranges(settings.large_work_numbers)
    work_no = {
        "anyOf": [*({"type": "integer", "minimum": lo, "maximum": hi} for lo, hi in ranges),
                  {"type": "string", "pattern": "^[0-9]+$"}]
    }  # fmt: skip
    agent = params({"ccId": cc_id, "vdn": vdn, "agentId": work_no})
    batch = params({"ccId": cc_id, "vdn": vdn, "agentIds": integers(ranges, MAX_AGENT_IDS)})
    tenant = params({"ccId": cc_id, "vdn": vdn})
    skill_ids = integers((SKILL_ID_RANGE,), MAX_SKILL_IDS)
    skills = params({"ccId": cc_id, "vdn": vdn, "skillIds": skill_ids})
    skill = params({"ccId": cc_id, "vdn": vdn, "skillId": integer(*SKILL_ID_RANGE)})

    def page(limit: int) -> Schema:
        return params(
            {
                "ccId": cc_id,
                "vdn": vdn,
                "offset": integer(*OFFSET_RANGE),
                "limit": integer(1, limit),
            }
        )

    stream_query: dict[str, Schema] = {
        "ccId": cc_id, "vdn": vdn, "since": integer(0, 2**53),
        "skills": {"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"},
        "agents": {"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"},
    }  # fmt: skip
    ttl = integer(1, settings.view_token_max_ttl_s)
    nullable = {"type": "null"}
    status_page = params(
        {"ccId": cc_id, "vdn": vdn, "offset": integer(*OFFSET_RANGE)},
        {"status": {"anyOf": [integer(*CTI_STATUS_RANGE), nullable, {"const": ""}]},
         "limit": {"anyOf": [integer(1, 1000), nullable]}},
    )  # fmt: skip
    all_match = {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": "^(?i:true|false)$"},
                           nullable]}  # fmt: skip
    skill_counts = params(
        {"ccId": cc_id, "vdn": vdn, "skillIds": skill_ids}, {"isSkillAllMatch": all_match}
    )
    events = {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": settings.max_events_per_batch,
                "items": {"anyOf": [event_schema(settings), call_event_schema(settings)]},
            }
        },
    }
    ping = params({}, {"say": {"type": "string", "maxLength": 1024}})
    detail = params(
        {"ccId": cc_id, "vdn": vdn, "workNo": work_no},
        {"historyLimit": {"anyOf": [integer(*HISTORY_LIMIT_RANGE), nullable]}},
    )

    moment = integer(0, validation.MAX_AT)
    number: Schema = {
        "anyOf": [
            {
                "type": "string",
                "maxLength": call_schema.MAX_NUMBER,
                "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$",
            },
            nullable,
        ]
    }
    paging: dict[str, Schema] = {
        "limit": {"anyOf": [integer(1, call_schema.MAX_LIMIT), nullable]},
        "offset": {"anyOf": [integer(*OFFSET_RANGE), nullable]},
        "callerNo": number,
        "calleeNo": number,
    }
    calls_v1 = params({"ccId": cc_id, "vdn": vdn, "beginDate": moment, "endDate": moment}, paging)
    direction = {"anyOf": [{"enum": ["true", "false"]}, {"type": "boolean"}]}
    calls_v2 = params(
        {"ccId": cc_id, "vdn": vdn, "beginDate": moment, "endDate": moment, "isCallIn": direction},
        paging,
    )
    call_id = {"type": "string", "maxLength": CALL_ID_MAX, "pattern": "^[0-9]{9,13}-[0-9]{1,10}$"}
    one_call = params({"ccId": cc_id, "vdn": vdn, "callId": call_id})
    # The examples' dates: today, UTC, as the document is built (valid tomorrow too).
    now_ms = int(time.time() * 1000)
    today = {"beginDate": kept_from(now_ms, 1), "endDate": last_day_end(now_ms)}

    def asking(**fields: Any) -> Any:
        return {"queryParam": {"ccId": 1, "vdn": 1, **fields}}

    one, two = asking(agentId=101), asking(agentIds=[101, 102])
    paged = asking(offset=0, limit=10)
    event = {"eventId": "example-1", "ccId": 1, "vdn": 1, "agentId": 101, "at": 1_767_225_600_000,
             "ctiStatus": 1, "name": "Agent 101", "skills": [1]}  # fmt: skip
    post, get = "POST", "GET"
    compat, native, health, board = ("compatible",), ("native",), ("health",), ("wallboard",)
    revalidated = {"304": "Not modified: If-None-Match holds the file's ETag"}
    return {
        (post, wire.PING): Operation(
            "Connectivity check: echoes say", ping, success(TEXT), tags=compat,
            example={"say": "hello"},
            description="Any key; an empty body answers an empty string.",
        ),
        (post, wire.AGENT_BY_WORK_NO): Operation(
            "Details of one agent", agent, success(ref("AgentDetail")), tags=compat, example=one
        ),
        (post, wire.LEGACY_AGENT_BY_WORK_NO): Operation(
            "Details of one agent (legacy, lowercase keys)", agent,
            legacy_success(ref("LegacyAgentDetail")), tags=compat, example=one,
        ),
        (post, wire.AGENT_STATUS_INFOS): Operation(
            "Status details of up to 6,000 agents", batch,
            success(array(ref("AgentStatusInfo"))), tags=compat, example=two,
        ),
        (post, wire.TEAM_STATUS_COUNTS): Operation(
            "Agents in each state, of a list of agents", batch, success(ref("TeamCounts")),
            tags=compat, example=two,
        ),
        (post, wire.AGENT_SKILLS): Operation(
            "Skill queues of a list of agents", batch, success(array(ref("AgentSkills"))),
            tags=compat, example=two,
        ),
        (post, wire.AGENT_CALLS): Operation(
            "Current calls of one agent", agent, success(array(TEXT)), tags=compat, example=one
        ),
        (post, wire.HAS_CALL): Operation(
            "Whether one agent has a call", agent, success({"type": "boolean"}), tags=compat,
            example=one,
        ),
        (post, wire.SYSTEM_STATE): Operation(
            "System state of a VDN", page(100), success(ref("SystemState")), tags=compat,
            example=paged,
        ),
        (post, wire.AGENTS_BY_STATUS): Operation(
            "Agents of a VDN by status, in pages", status_page,
            vendor_success(array(ref("AgentAbstract"))), tags=compat,
            example=asking(status=1, offset=0, limit=10),
        ),
        (post, wire.VDN_AGENTS): Operation(
            "Agents of a VDN, in pages", page(1000),
            success_with_count(array(ref("AgentAbstract"))), tags=compat, example=paged,
        ),
        (post, wire.VDN_AGENT_STATES): Operation(
            "States of the agents of a VDN, in pages", page(1000),
            success_with_count(array(ref("AgentDynamic"))), tags=compat, example=paged,
        ),
        (post, wire.VDN_ALL_AGENT_STATES): Operation(
            "States of every agent of a VDN", tenant, success(array(ref("AgentDynamic"))),
            tags=compat, example=asking(),
        ),
        (post, wire.SKILL_MEMBERS): Operation(
            "Agents signed in to each of up to 1,000 skill queues", skills,
            success(array(ref("SkillMembers"))), tags=compat, example=asking(skillIds=[1]),
        ),
        (post, wire.SKILL_AGENTS): Operation(
            "Agents configured for a skill queue", skill, success(array(ref("SkillAgent"))),
            tags=compat, example=asking(skillId=1),
        ),
        (post, wire.LEGACY_SKILL_AGENTS): Operation(
            "Agents configured for a skill queue (legacy, lowercase keys)", skill,
            legacy_success(array(ref("LegacySkillAgent"))), tags=compat,
            example=asking(skillId=1),
        ),
        (post, wire.SKILL_STATUS_COUNTS): Operation(
            "Agents in each state, of skill queues", skill_counts, success(ref("SkillCounts")),
            tags=compat, example=asking(skillIds=[1], isSkillAllMatch="false"),
        ),
        (post, wire.VDN_CALLS): Operation(
            "Inbound call records of a VDN, in pages", calls_v1,
            plain_success(ref("CallRecords")), tags=compat, example=asking(**today),
            description="Ended calls that entered the VDN from beginDate to endDate (ms,"
            " within the days kept), oldest first; limit at most 100 (docs/calls.md).",
        ),
        (post, wire.VDN_CALLS_V2): Operation(
            "Inbound or outbound call records of a VDN, in pages", calls_v2,
            plain_success(ref("CallRecords")), tags=compat,
            example=asking(**today, isCallIn="true", limit=10, offset=0),
            description="As v1, of the direction isCallIn (\"true\" or \"false\").",
        ),
        (post, wire.BASIC_CALL_INFO): Operation(
            "Basic information about a call in progress", one_call,
            success(ref("BasicCallInfo")), tags=compat,
            example={"ccId": 1, "vdn": 1, "callId": EXAMPLE_CALL},
            description="A call not in progress (unknown, or ended) answers 0100001.",
        ),
        (post, wire.SKILL_CALL_COUNTS): Operation(
            "Call counts of up to 1,000 skill queues in the current 5 minutes", skills,
            success(array(ref("QueueCallCounts"))), tags=compat, example=asking(skillIds=[1]),
            description="From the last moment whose minutes end in 0 or 5 (UTC); each"
            " queue once, in request order (docs/calls.md).",
        ),
        (post, wire.VDN_INDICATORS): Operation(
            "Real-time indicators of up to 100 VDNs (calls and agents now)",
            params(
                {"vdnIds": integers((VDN_RANGE,), call_schema.MAX_VDNS),
                 "indexIds": {"type": "array", "minItems": 1,
                              "maxItems": len(indicators.VDN_INDICATORS),
                              "items": {"enum": list(indicators.VDN_INDICATORS)}}},
                {"ccId": {"anyOf": [cc_id, nullable]}},
            ),
            success(array(ref("VdnIndicators"))), tags=compat,
            example={"vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_VDN_CALL",
                                                 "IDX_COUNT_REAL_AGENT_SIGN_IN"]},
            description="ccId absent: call center 1. Each VDN once, in request order"
            " (docs/calls.md).",
        ),
        (post, wire.SKILL_SERVICE_QUALITY): Operation(
            "Service quality of up to 1,000 skill queues in the last complete 5 minutes",
            skills, plain_success(array(ref("ServiceQuality"))), tags=compat,
            example=asking(skillIds=[1]),
            description="The window of minutes ending in 0 or 5 (UTC) that holds the moment"
            " 5 minutes ago; once per second per access key (HTTP 429 sooner,"
            " service_quality_interval_s); envelope resultCode and resultDesc only"
            " (docs/calls.md).",
        ),
        (post, wire.SKILL_CONFIG): Operation(
            "Limits of up to 1,000 skill queues (the configuration file)", skills,
            success(array(ref("SkillConfig"))), tags=compat, example=asking(skillIds=[1]),
            description="From cc_config_file; a queue it does not list has the file's"
            " top-level values, else the documented defaults (docs/calls.md).",
        ),
        (post, wire.ACCESS_CODE_CALLS): Operation(
            "Calls in progress of up to 500 access codes, by where they are",
            params({"ccId": cc_id, "vdn": vdn,
                    "innoIds": integers((INNO_ID_RANGE,), service_schema.MAX_INNO_IDS)}),
            success(array(ref("AccessCodeCalls"))), tags=compat, example=asking(innoIds=[1]),
            description="An innoId stands for the access code cc_config_file maps it to,"
            " else its decimal digits; each once, in request order (docs/calls.md).",
        ),
        (post, wire.CALL_TRACE): Operation(
            "The legs of a call (its track): IVR, skill queues, agents",
            params({"ccId": cc_id, "vdn": vdn, "callId": call_id,
                    "logDate": integer(*trace_schema.LOG_DATE_RANGE)}),
            plain_success(array(ref("CallLeg"))), tags=compat,
            example={"ccId": 1, "vdn": 1, "callId": EXAMPLE_CALL, "logDate": today["beginDate"]},
            description="Live or ended, in order; callIdNum -1 is the last leg of an ended"
            " call. An unknown call has no legs (docs/calls.md).",
        ),
        (post, wire.PRIVATE_CALL_INFO): Operation(
            "Details of a call in progress at an agent (its private call)", one_call,
            success(ref("PrivateCallInfo")), tags=compat,
            example={"ccId": 1, "vdn": 1, "callId": EXAMPLE_AGENT_CALL},
            description="A call not ringing or talking at an agent answers 0100001.",
        ),
        (post, wire.CALL_DETAIL_BY_ID): Operation(
            "The record of an ended call by its id (no VDN)",
            params({"ccId": cc_id, "isCallin": direction, "callId": call_id}),
            success(ref("CallDetail")), tags=compat,
            example={"queryParam": {"ccId": 1, "isCallin": "true", "callId": EXAMPLE_ENDED_CALL}},
            description="isCallin as this route spells it; a call in progress, unknown or of"
            " the other direction answers 0100001 (docs/calls.md).",
        ),
        (post, wire.SKILL_QUEUE_STATUS): Operation(
            "Waiting calls and agents of up to 1,000 skill queues now", skills,
            success(array(ref("QueueStatus"))), tags=compat, example=asking(skillIds=[1]),
            description="queueTime: the longest wait now, in seconds; callId that call's"
            " (4294967295-4294967295 when none waits). Each queue once (docs/calls.md).",
        ),
        (post, wire.SKILL_STATE_INFO): Operation(
            "Agents per state and calls of up to 1,000 skill queues (now, current 5 minutes)",
            skills, success(array(ref("SkillStateInfo"))), tags=compat,
            example=asking(skillIds=[1]),
            description="Durations in whole seconds; the In5 figures over the current 5"
            " minutes (docs/calls.md).",
        ),
        (post, wire.LEGACY_SKILL_STATE_INFO): Operation(
            "Agents per state and calls of skill queues (legacy: agentSetbusyNums)", skills,
            legacy_success(array(ref("LegacySkillStateInfo"))), tags=compat,
            example=asking(skillIds=[1]),
            description="As skill/stateinfo without allCallCount and cnnedIn20sCallCount.",
        ),
        (post, wire.SKILL_INDICATORS): Operation(
            "Real-time indicators of up to 1,000 skill queues",
            params(
                {"ccId": cc_id, "vdn": vdn, "skillIds": skill_ids,
                 "indexIds": {"type": "array", "minItems": 1,
                              "maxItems": len(SKILL_INDICATORS),
                              "items": {"enum": list(SKILL_INDICATORS)}}},
            ),
            success(array(ref("SkillIndicators"))), tags=compat,
            example=asking(skillIds=[1], indexIds=["IDX_COUNT_REAL_SKILL_QUEUE",
                                                    "IDX_COUNT_REAL_AGENT_SIGN_IN"]),
            description="Each queue once, in request order; the queue's id is a string"
            " (docs/calls.md).",
        ),
        (post, wire.SKILL_QUEUED_CALLS): Operation(
            "The voice calls queued in each of up to 1,000 skill queues", skills,
            success(array(ref("QueuedCalls"))), tags=compat, example=asking(skillIds=[1]),
            description="Longest waiting first; waitTime in seconds in this queue.",
        ),
        (post, wire.SKILL_QUEUE_DEVICES): Operation(
            "The calls queued in one skill queue", skill, success(array(ref("QueueDevice"))),
            tags=compat, example=asking(skillId=1),
            description="Longest waiting first, every media type.",
        ),
        (post, wire.EVENTS): Operation(
            "Take in a batch of agent and call events", events,
            success(record(accepted=INTEGER, duplicates=INTEGER)), tags=native,
            example={"events": [event]},
            description="Idempotent by eventId: a batch sent again counts its duplicates.",
        ),
        (post, wire.AGENT_DETAIL): Operation(
            "One agent, why ccms believes its state, and its newest status events", detail,
            success(ref("NativeAgentDetail")), tags=native,
            example={"ccId": 1, "vdn": 1, "workNo": 101, "historyLimit": 5},
            description="source and rawState are those of the status event the current"
            " status comes from; an unknown agent answers 0100001.",
        ),
        (post, wire.AGENT_LIST): Operation(
            "The agent list: filtered, sorted, in pages, with counts per status",
            list_request_schema(), success(ref("AgentList")), tags=native,
            example={"ccId": 1, "vdn": 1, "sort": "-secondsInState", "limit": 10},
            description="Sorted by time in state (longest first) by default; page with"
            " nextCursor (docs/api.md, The agent list).",
        ),
        (post, wire.TOKENS): Operation(
            "A view token for a browser (the stream and the long poll only)",
            params({}, {"ccId": cc_id, "vdn": vdn, "ttlS": ttl}),
            success(record(token=TEXT, expiresAt=INTEGER)), tags=native,
            example={"ccId": 1, "vdn": 1, "ttlS": 600},
            description="Opaque and random, never logged; ends with its key's removal.",
        ),
        (get, wire.STREAM): Operation(
            "The live stream of agent changes (Server-Sent Events)", None, TEXT,
            media="text/event-stream", tags=native,
            query={**stream_query, "queues": {"enum": ["0", "1", "false", "true"]}},
            required_query=("ccId", "vdn"),
            description="A snapshot, then every change with its seq as the SSE id; resume"
            " with Last-Event-ID or since; queues=1 adds the queue figures (docs/stream.md)."
            " Signed, or ?token=.",
        ),
        (get, wire.CHANGES): Operation(
            "The changes after a seq (the stream's long-poll twin)", None,
            success({"type": "object", "required": ["changes", "nextSeq", "reset"]}),
            tags=native, query={**stream_query, "wait": integer(0, 30)},
            required_query=("ccId", "vdn"),
            description="Answers at the first change after since, or after wait seconds.",
        ),
        (get, wire.OPENAPI_DOCUMENT): Operation(
            "This document", None, {"type": "object", "required": ["openapi", "paths"]},
            tags=native, description="The OpenAPI document itself, not an envelope.",
        ),
        (get, wire.WALLBOARD): Operation(
            "The wallboard page (HTML)", None, TEXT, media="text/html", tags=board,
            responses=revalidated,
            description="No authentication: the page holds no data; it opens the stream"
            " with the view token of its URL's fragment (docs/wallboard.md).",
        ),
        (get, wire.WALLBOARD_FILES): Operation(
            "A script or style sheet of the wallboard page", None, TEXT,
            media="text/javascript", also_media=("text/css",), tags=board,
            path={"file": {"type": "string", "enum": assets.file_names()}},
            responses={**revalidated, "404": "No such file of the wallboard"},
        ),
        (get, wire.HEALTHZ): Operation(
            "Whether the store answers", None, success({"const": "ok"}), tags=health
        ),
        (get, wire.METRICS): Operation(
            "Prometheus metrics (text format)", None, TEXT, media="text/plain", tags=health
        ),
    }  # fmt: skip
