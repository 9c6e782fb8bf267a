"""The live stream on the wire: its queries, agents and changes as JSON, Server-Sent Events.

``GET /ccms/v1/stream`` speaks SSE (``spec/stream.md``): every ``data:`` is one line of
JSON, a change is ``event: change`` with ``id: <seq>``, a snapshot comes in parts of at most
:data:`SNAPSHOT_PART` agents of which only the last carries ``id:``. ``GET
/ccms/v1/changes`` answers the same changes in the envelope. A change is encoded once, when
the hub reads it (:func:`encode_change`), and the same bytes go to every subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from ccms.domain.agent import CC_ID_RANGE, SKILL_ID_RANGE, VDN_RANGE, AgentRecord
from ccms.domain.changes import AgentChange, Snapshot
from ccms.domain.flags import Flag, FlagsOf, no_flags
from ccms.domain.queues import SERVICE_LEVEL_MS, QueueBoard
from ccms.errors import CCMSError, InvalidParameterError
from ccms.http import envelope
from ccms.http.schemas.agent import agent_detail
from ccms.http.schemas.fields import int_field, query_params, work_no_ranges

SNAPSHOT_PART = 500  # agents in one snapshot event
MAX_FILTER_AGENTS = 6000
MAX_FILTER_SKILLS = 1000
MAX_WAIT_S = 30  # the long-poll's longest wait
SEQ_RANGE = (0, 2**63 - 1)
TTL_RANGE_LOW = 1
RETRY_MS = 2000

EVENT_STREAM_TYPE = b"text/event-stream; charset=utf-8"
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
RETRY = f"retry: {RETRY_MS}\n\n".encode()
HEARTBEAT = b": hb\n\n"


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filter:
    """Which agents a subscriber follows: ``None`` is no filter on that dimension.

    An agent matches ``skills`` when its skill queues include one of them, ``agents`` when
    its work number is listed; with both, it must match both. A change matches when the
    agent matches before or after it (an agent leaving a queue is seen leaving it)."""

    skills: frozenset[int] | None = None
    agents: frozenset[int] | None = None

    @property
    def everything(self) -> bool:
        return self.skills is None and self.agents is None

    def agent(self, record: AgentRecord) -> bool:
        if self.agents is not None and record.work_no not in self.agents:
            return False
        return self.skills is None or not self.skills.isdisjoint(record.skills)

    def change(self, change: EncodedChange) -> bool:
        if self.agents is not None and change.work_no not in self.agents:
            return False
        return self.skills is None or not self.skills.isdisjoint(change.skills)


@dataclass(frozen=True, slots=True)
class StreamQuery:
    """A stream or long-poll request: the tenant, the filter, the cursor (``None``: start
    with a snapshot) and, for the long-poll, how long to wait."""

    cc_id: int
    vdn: int
    filter: Filter
    since: int | None
    wait_s: float = 0.0
    queues: bool = False  # the stream carries the VDN's queue figures (``queue`` events)


def _int_list(query: Mapping[str, str], name: str, ranges: tuple[tuple[int, int], ...],
              max_len: int) -> frozenset[int] | None:  # fmt: skip
    text = query.get(name)
    if text is None:
        return None
    spans = " or from ".join(f"{lo} to {hi}" for lo, hi in ranges)
    rule = f"{name} must be a comma-separated list of 1 to {max_len} integers from {spans}"
    items = text.split(",")
    if not 1 <= len(items) <= max_len:
        raise InvalidParameterError(rule)
    numbers = set()
    for item in items:
        item = item.strip()
        if not (item.isascii() and item.isdigit() and len(item) <= 18):
            raise InvalidParameterError(rule)
        number = int(item)
        if not any(lo <= number <= hi for lo, hi in ranges):
            raise InvalidParameterError(rule)
        numbers.add(number)
    return frozenset(numbers)


def _seq(value: str, name: str) -> int:
    value = value.strip()
    lo, hi = SEQ_RANGE
    if not (value.isascii() and value.isdigit() and len(value) <= 19) or int(value) > hi:
        raise InvalidParameterError(f"{name} must be a sequence number from {lo} to {hi}")
    return int(value)


def _base(query: Mapping[str, str], large: bool) -> tuple[int, int, Filter]:
    params: dict[str, Any] = dict(query)
    cc_id = int_field(params, "ccId", *CC_ID_RANGE)
    vdn = int_field(params, "vdn", *VDN_RANGE)
    skills = _int_list(query, "skills", (SKILL_ID_RANGE,), MAX_FILTER_SKILLS)
    agents = _int_list(query, "agents", work_no_ranges(large), MAX_FILTER_AGENTS)
    return cc_id, vdn, Filter(skills, agents)


def stream_query(query: Mapping[str, str], last_event_id: str | None, large: bool) -> StreamQuery:
    """``GET /ccms/v1/stream``: ``ccId``, ``vdn``, ``skills``, ``agents``, ``since``; the
    ``Last-Event-ID`` header, when given and not blank, takes precedence over ``since``."""
    cc_id, vdn, selection = _base(query, large)
    since = None
    if last_event_id is not None and last_event_id.strip():
        since = _seq(last_event_id, "Last-Event-ID")
    elif "since" in query:
        since = _seq(query["since"], "since")
    queues = False
    if "queues" in query:
        text = query["queues"].strip().lower()
        if text not in ("0", "1", "false", "true"):
            raise InvalidParameterError("queues must be 1 or 0 (true or false)")
        queues = text in ("1", "true")
    return StreamQuery(cc_id, vdn, selection, since, queues=queues)


def changes_query(query: Mapping[str, str], large: bool) -> StreamQuery:
    """``GET /ccms/v1/changes``: the stream's parameters and ``wait`` (seconds, 0 to 30)."""
    cc_id, vdn, selection = _base(query, large)
    since = _seq(query["since"], "since") if "since" in query else None
    wait = 0.0
    if "wait" in query:
        text = query["wait"].strip()
        try:
            wait = float(text)
        except ValueError:
            wait = -1.0
        if not 0 <= wait <= MAX_WAIT_S or text.lower() in ("nan", "inf", "infinity"):
            raise InvalidParameterError(f"wait must be a number of seconds from 0 to {MAX_WAIT_S}")
    return StreamQuery(cc_id, vdn, selection, since, wait)


class TokenRequest(NamedTuple):
    cc_id: int | None
    vdn: int | None
    ttl_s: int


def token_request(body: dict[str, Any], default_ttl_s: int, max_ttl_s: int) -> TokenRequest:
    """``POST /ccms/v1/tokens``: ``ccId`` and ``vdn`` (together, or neither) and ``ttlS``."""
    params = query_params(body)
    present = [name for name in ("ccId", "vdn") if params.get(name) is not None]
    cc_id = vdn = None
    if present == ["ccId", "vdn"]:
        cc_id = int_field(params, "ccId", *CC_ID_RANGE)
        vdn = int_field(params, "vdn", *VDN_RANGE)
    elif present:
        raise InvalidParameterError("ccId and vdn go together: give both, or neither")
    ttl = default_ttl_s
    if params.get("ttlS") is not None:
        ttl = int_field(params, "ttlS", TTL_RANGE_LOW, max_ttl_s)
    return TokenRequest(cc_id, vdn, ttl)


def token_answer(token: str, expires_at: int) -> bytes:
    return envelope.success({"token": token, "expiresAt": expires_at})


# -- agents and changes as JSON ------------------------------------------------------------


def flag_json(flag: Flag) -> dict[str, Any]:
    return {"name": flag.name, "level": flag.level, "since": flag.since}


def agent_json(
    record: AgentRecord, now_ms: int, flags: FlagsOf = no_flags, flags_at: int | None = None
) -> dict[str, Any]:
    """An agent in a snapshot or a change: the agent-detail answer's fields plus ``ccId``,
    ``since`` (ms, the start of the current CTI status), ``reason``, ``skills``, ``calls``
    and ``flags`` (those raised by ``flags_at``, by default ``now_ms``)."""
    fields = agent_detail(record, now_ms)
    fields["ccId"] = record.cc_id
    fields["since"] = record.state_start
    fields["reason"] = record.reason
    fields["skills"] = list(record.skills)
    fields["calls"] = list(record.calls)
    raised = flags(record, now_ms if flags_at is None else flags_at)
    fields["flags"] = [flag_json(f) for f in raised]
    return fields


class EncodedChange(NamedTuple):
    """A change as every subscriber receives it, encoded once: its JSON object (``data``)
    and its SSE event (``sse``), with what a filter looks at."""

    seq: int
    at: int
    cc_id: int
    vdn: int
    work_no: int
    skills: frozenset[int]  # the agent's skill queues before and after
    data: bytes
    sse: bytes


def encode_change(change: AgentChange, now_ms: int, flags: FlagsOf = no_flags) -> EncodedChange:
    """A change as JSON and SSE. An agent change (``event: change``) carries the agent's
    flags before and after as of the change's ``at``; a flag entry is ``event: flag``,
    ``{seq, at, key, kind: "flag", flag: {name, level, since}, raised}`` (``raised``
    false: a flag taken back, a reload of the thresholds ended it)."""
    cur, prev = change.cur, change.prev
    key = {"ccId": cur.cc_id, "vdn": cur.vdn, "agentId": cur.work_no}
    if change.flag is not None:
        data = orjson.dumps(
            {"seq": change.seq, "at": change.at, "key": key, "kind": "flag",
             "flag": flag_json(change.flag.flag), "raised": change.flag.raised}
        )  # fmt: skip
        sse = b"event: flag\nid: %d\ndata: %b\n\n" % (change.seq, data)
        skills = frozenset(cur.skills)
        return EncodedChange(
            change.seq, change.at, cur.cc_id, cur.vdn, cur.work_no, skills, data, sse
        )
    at = change.at
    data = orjson.dumps(
        {
            "seq": change.seq,
            "at": at,
            "key": key,
            "prev": None if prev is None else agent_json(prev, now_ms, flags, at),
            "cur": agent_json(cur, now_ms, flags, at),
        }
    )
    skills = frozenset(cur.skills) if prev is None else frozenset(cur.skills + prev.skills)
    sse = b"event: change\nid: %d\ndata: %b\n\n" % (change.seq, data)
    return EncodedChange(change.seq, change.at, cur.cc_id, cur.vdn, cur.work_no, skills, data, sse)


# -- Server-Sent Events --------------------------------------------------------------------


def snapshot_events(
    snapshot: Snapshot,
    selection: Filter,
    now_ms: int,
    window_s: int,
    flags: FlagsOf = no_flags,
    reason_names: Mapping[str, Mapping[str, str]] | None = None,
) -> list[bytes]:
    """The snapshot's SSE events: parts of at most :data:`SNAPSHOT_PART` agents (one part,
    empty, for no agent); only the last carries ``id:``. ``reason_names`` (the VDN's names
    of its busy and rest reason codes, ``{"busy": {"5": ...}, "rest": {...}}``), when
    given, is on every part as ``reasonNames``."""
    agents = [agent_json(a, now_ms, flags) for a in snapshot.agents if selection.agent(a)]
    parts = max(1, -(-len(agents) // SNAPSHOT_PART))
    names = {} if reason_names is None else {"reasonNames": reason_names}
    events = []
    for part in range(parts):
        data = orjson.dumps(
            {
                "seq": snapshot.seq,
                "part": part + 1,
                "parts": parts,
                "serverTime": now_ms,
                "replayWindowS": window_s,
                **names,
                "agents": agents[part * SNAPSHOT_PART : (part + 1) * SNAPSHOT_PART],
            }
        )
        last = b"id: %d\n" % snapshot.seq if part == parts - 1 else b""
        events.append(b"event: snapshot\n%bdata: %b\n\n" % (last, data))
    return events


def bookmark(seq: int) -> bytes:
    """An id-only block: moves the client's cursor past changes outside its filter."""
    return b"id: %d\n\n" % seq


def reset_event(reason: str, seq: int) -> bytes:
    """``reason``: ``cursor-expired`` (a fresh snapshot follows on the same stream) or
    ``slow-consumer`` (the stream closes); ``seq`` the newest sequence number known."""
    return b"event: reset\ndata: %b\n\n" % orjson.dumps({"reason": reason, "seq": seq})


def queue_event(board: QueueBoard, start: int, skills: frozenset[int] | None, now_ms: int) -> bytes:
    """The VDN's queue figures now (``docs/stream.md``), those of ``skills`` when the
    stream follows some: no id, it does not move the cursor; each replaces the last."""
    queues = [
        {
            "skillId": q.window.skill_id,
            "waiting": q.waiting,
            "longestWaitSince": q.waiting_since,
            "entered": q.window.calls,
            "answered": q.window.connected,
            "answeredInServiceLevel": q.window.connected_in_20s,
            "abandoned": q.window.abandoned,
            "ended": q.window.ended,
        }
        for q in board.queues
        if skills is None or q.window.skill_id in skills
    ]
    data = {"serverTime": now_ms, "windowStart": start,
            "serviceLevelS": SERVICE_LEVEL_MS // 1000, "queues": queues}  # fmt: skip
    return b"event: queue\ndata: %b\n\n" % orjson.dumps(data)


def error_event(error: CCMSError) -> bytes:
    """An in-band failure (expired token, revoked key or scope); the stream closes after it."""
    data = orjson.dumps({"resultCode": error.result_code, "resultDesc": error.message})
    return b"event: error\ndata: %b\n\n" % data


# -- the long-poll answers -----------------------------------------------------------------


def changes_answer(changes: Iterable[EncodedChange], next_seq: int) -> bytes:
    fragments = [orjson.Fragment(change.data) for change in changes]
    return envelope.success({"changes": fragments, "nextSeq": next_seq, "reset": False})


def reset_answer(
    snapshot: Snapshot, selection: Filter, now_ms: int, flags: FlagsOf = no_flags
) -> bytes:
    agents = [agent_json(a, now_ms, flags) for a in snapshot.agents if selection.agent(a)]
    return envelope.success(
        {
            "changes": [],
            "nextSeq": snapshot.seq,
            "reset": True,
            "snapshot": {"seq": snapshot.seq, "serverTime": now_ms, "agents": agents},
        }
    )
