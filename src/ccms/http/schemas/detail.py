"""The native agent-detail route on the wire: ``POST /ccms/v1/agents/detail``.

Its request (``ccId``, ``vdn``, ``workNo``, ``historyLimit``) and its answer: the agent as a
native item (:func:`agent_item`, the fields the native agent list shares), plus its
attributes and why ccms believes its state, and its newest status events.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ccms.domain.agent import (
    CC_ID_RANGE,
    VDN_RANGE,
    AgentHistory,
    AgentRecord,
    StatusChange,
    current_state_seconds,
    login_date,
    status_of,
)
from ccms.domain.flags import Flag
from ccms.http.schemas.fields import int_field, query_params, work_no_field

HISTORY_LIMIT_RANGE = (0, 1000)
DEFAULT_HISTORY_LIMIT = 20


class DetailQuery(NamedTuple):
    cc_id: int
    vdn: int
    work_no: int
    history_limit: int


def detail_query(body: dict[str, Any], large_work_numbers: bool) -> DetailQuery:
    """``ccId``, ``vdn``, ``workNo`` (required) and ``historyLimit`` (0..1000; absent or
    ``null``: 20), in either body shape."""
    params = query_params(body)
    cc_id = int_field(params, "ccId", *CC_ID_RANGE)
    vdn = int_field(params, "vdn", *VDN_RANGE)
    work_no = work_no_field(params, "workNo", large_work_numbers)
    limit = DEFAULT_HISTORY_LIMIT
    if params.get("historyLimit") is not None:
        limit = int_field(params, "historyLimit", *HISTORY_LIMIT_RANGE)
    return DetailQuery(cc_id, vdn, work_no, limit)


def flag_json(flag: Flag) -> dict[str, Any]:
    return {"name": flag.name, "level": flag.level, "since": flag.since}


def agent_item(record: AgentRecord, now_ms: int, flags: tuple[Flag, ...]) -> dict[str, Any]:
    """An agent as the native routes list it: ``status`` is the vendor's agent status of its
    CTI status (as on ``agent/agentbyworkno``), ``since`` the start of the current status
    (ms), ``secondsInState`` the whole seconds since then, ``reason`` its reason code (or
    ``null``), and its flags."""
    return {
        "agentId": record.work_no,
        "name": record.name,
        "ctiStatus": record.cti_status,
        "status": status_of(record),
        "since": record.state_start,
        "secondsInState": current_state_seconds(record, now_ms),
        "reason": record.reason,
        "skills": list(record.skills),
        "calls": list(record.calls),
        "flags": [flag_json(flag) for flag in flags],
    }


def history_entry(change: StatusChange) -> dict[str, Any]:
    """One status event of the history: applied to the current status, or not (older than
    the status it found)."""
    return {
        "at": change.at,
        "ctiStatus": change.cti_status,
        "reason": change.reason,
        "applied": change.applied,
        "eventId": change.event_id,
        "source": change.source,
        "rawState": change.raw_state,
    }


def detail_answer(found: AgentHistory, now_ms: int, flags: tuple[Flag, ...]) -> dict[str, Any]:
    """``resultDesc``: the agent (its item, attributes, and the ``source`` and ``rawState``
    of the status event its status comes from) and its history, newest first."""
    record, cause = found.record, found.cause
    agent = agent_item(record, now_ms, flags)
    agent["loginDate"] = login_date(record)
    agent["phoneNumber"] = record.phone_number
    agent["mediaType"] = record.media_type
    agent["source"] = None if cause is None else cause.source
    agent["rawState"] = None if cause is None else cause.raw_state
    return {"agent": agent, "history": [history_entry(change) for change in found.history]}
