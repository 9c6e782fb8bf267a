"""Typed results of the client: frozen dataclasses with Python names.

Each result has a ``from_wire`` (a function ``..._from_wire`` for the counts, which are the
domain's own ``StateCounts`` and ``SystemState``) that reads the ``resultDesc`` (or legacy
``resultDatas``) of a success answer and raises ``ValueError`` when it does not fit the
contract; the request core turns that into :class:`~ccms.client.errors.UnexpectedAnswerError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ccms.domain.counts import StateCounts as StateCounts
from ccms.domain.counts import SystemState as SystemState
from ccms.domain.status import AgentStatus, CtiStatus
from ccms.wire import SIGNED_OUT_LOGIN_DATE, UNSET_16, UNSET_32


def _int(data: Mapping[str, Any], key: str) -> int:
    """An integer field; like the vendor's Java stack, digit strings are accepted."""
    if key not in data:
        raise ValueError(f"{key} is missing")
    value = data[key]
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    raise ValueError(f"{key} must be an integer, got {value!r}")


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{key} must be a string or null, got {value!r}")


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} must be a JSON object, got {data!r}")
    return data


@dataclass(frozen=True)
class AgentDetail:
    """One agent as ``agent/agentbyworkno`` (or the legacy route) answers it.

    ``login_date`` is the sign-in time in ms since the epoch, ``None`` while signed out
    (the server's placeholder ``4294967295000``). ``current_state_time`` is whole seconds
    in the current CTI status. ``raw`` is the answer's data object as received.
    """

    work_no: int
    vdn_id: int
    cti_status: CtiStatus
    name: str | None
    phone_number: str | None
    login_date: int | None
    current_state_time: int
    media_type: int
    status: AgentStatus
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def signed_in(self) -> bool:
        return self.cti_status != CtiStatus.SIGNED_OUT

    @classmethod
    def from_wire(cls, data: object) -> AgentDetail:
        """Read both key styles: ``workNo``... (current) and ``workno``... (legacy)."""
        raw = _object(data, "agent")
        low = {key.lower(): value for key, value in raw.items()}
        cti = _int(low, "citstatus")
        if cti not in CtiStatus._value2member_map_:
            raise ValueError(f"citStatus must be a CTI status code 0..10, got {cti}")
        status = _int(low, "status")
        login = _int(low, "logindate")
        return cls(
            work_no=_int(low, "workno"),
            vdn_id=_int(low, "vdnid"),
            cti_status=CtiStatus(cti),
            name=_text(low, "name"),
            phone_number=_text(low, "phonenumber"),
            login_date=None if login == SIGNED_OUT_LOGIN_DATE else login,
            current_state_time=_int(low, "currentstatetime"),
            media_type=_int(low, "mediatype"),
            # The vendor documents a status 9 ("pre-rest") that ccms never sends.
            status=AgentStatus(status) if status in AgentStatus._value2member_map_
            else AgentStatus.UNKNOWN,
            raw=dict(raw),
        )  # fmt: skip


@dataclass(frozen=True)
class IngestResult:
    """The answer to ``POST /ccms/v1/events``: events applied, and events already seen."""

    accepted: int
    duplicates: int

    @classmethod
    def from_wire(cls, data: object) -> IngestResult:
        counts = _object(data, "ingest result")
        return cls(accepted=_int(counts, "accepted"), duplicates=_int(counts, "duplicates"))


@dataclass(frozen=True)
class ViewToken:
    """The answer to ``POST /ccms/v1/tokens``: an opaque ``token`` for ``?token=`` on the
    stream, the long-poll route and the wallboard page, valid until ``expires_at`` (ms)."""

    token: str
    expires_at: int

    def __repr__(self) -> str:  # a credential: never in a log line or a traceback
        return f"ViewToken(token='...', expires_at={self.expires_at})"

    @classmethod
    def from_wire(cls, data: object) -> ViewToken:
        raw = _object(data, "token")
        token = raw.get("token")
        if not isinstance(token, str) or not token:
            raise ValueError("token must be a non-empty string")
        return cls(token=token, expires_at=_int(raw, "expiresAt"))


def ping_from_wire(data: object) -> str:
    if not isinstance(data, str):
        raise ValueError(f"ping answer must be a string, got {data!r}")
    return data


# -- the monitoring routes -----------------------------------------------------------------

T = TypeVar("T")


def _cti(data: Mapping[str, Any], key: str) -> CtiStatus:
    code = _int(data, key)
    if code not in CtiStatus._value2member_map_:
        raise ValueError(f"{key} must be a CTI status code 0..10, got {code}")
    return CtiStatus(code)


def _unset(value: int, unset: int) -> int | None:
    return None if value == unset else value


def _list(data: object, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise ValueError(f"{what} must be a JSON array, got {data!r}")
    return data


def list_of(parse: Callable[[object], T], what: str) -> Callable[[object], tuple[T, ...]]:
    """A reader of a JSON array whose items ``parse`` reads."""

    def read(data: object) -> tuple[T, ...]:
        return tuple(parse(item) for item in _list(data, what))

    return read


@dataclass(frozen=True)
class AgentStatusInfo:
    """One agent of ``agentgroup/agentstatusinfobyagentids``.

    Times: ``current_state_time`` and ``prev_state_time`` in seconds, ``logon_time`` in
    ms since the epoch. The vendor's unset values read as ``None``: ``prev_state_time``
    4294967295 (no previous state), ``logon_time`` 4294967295000 (signed out),
    ``current_state_reason`` and ``location_id`` 65535. ``prev_state`` is ``None`` when
    the answer's value is not a CTI code.
    """

    work_no: int
    current_state: CtiStatus
    current_state_time: int
    prev_state: CtiStatus | None
    prev_state_time: int | None
    logon_time: int | None
    current_state_reason: int | None
    location_id: int | None
    agent_release: int
    current_private_call_num: int
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: object) -> AgentStatusInfo:
        raw = _object(data, "agent")
        prev = _int(raw, "prevState")
        logon = _int(raw, "logonTime")
        return cls(
            work_no=_int(raw, "agentId"),
            current_state=_cti(raw, "currentState"),
            current_state_time=_int(raw, "currentStateTime"),
            prev_state=CtiStatus(prev) if prev in CtiStatus._value2member_map_ else None,
            prev_state_time=_unset(_int(raw, "prevStateTime"), UNSET_32),
            logon_time=None if logon == SIGNED_OUT_LOGIN_DATE else logon,
            current_state_reason=_unset(_int(raw, "currentStateReason"), UNSET_16),
            location_id=_unset(_int(raw, "locationId"), UNSET_16),
            agent_release=_int(raw, "agentRelease"),
            current_private_call_num=_int(raw, "currentPrivateCallNum"),
            raw=dict(raw),
        )


def state_counts_from_wire(data: object) -> StateCounts:
    """Agents per state: ``agentgroup/teamagentstatusinfo`` and ``skill/agentstatusbyskill``
    (``working`` is ``workSubstateBegin``, ``adjusting`` is ``lateAdjust``). Keys in any
    case: the vendor spells ``workSubstateBegin`` two ways."""
    low = {key.lower(): value for key, value in _object(data, "counts").items()}
    return StateCounts(*(_int(low, key) for key in (
        "logined", "talking", "idle", "usable", "setbusy", "worksubstatebegin", "rest",
        "studying", "occupy", "preoccupy", "answering", "lateadjust",
    )))  # fmt: skip


@dataclass(frozen=True)
class SkillSignIn:
    skill_id: int
    signed_in: bool


@dataclass(frozen=True)
class AgentSkills:
    """One agent of ``agentgroup/siteagentcallandskillinfobyagentids``."""

    work_no: int
    skills: tuple[SkillSignIn, ...]

    @classmethod
    def from_wire(cls, data: object) -> AgentSkills:
        raw = _object(data, "agent")
        skills = tuple(
            SkillSignIn(_int(skill, "skillId"), _int(skill, "isLogin") == 1)
            for skill in (_object(item, "skill") for item in _list(raw.get("skills"), "skills"))
        )
        return cls(work_no=_int(raw, "agentId"), skills=skills)


def system_state_from_wire(data: object) -> SystemState:
    """``agentgroup/systemstate`` over one page of a VDN's agents."""
    low = {key.lower(): value for key, value in _object(data, "system state").items()}
    return SystemState(
        busy=_int(low, "busyagent"),
        talking=_int(low, "talkingnum"),
        idle=_int(low, "idleagent"),
        signed_in=_int(low, "totalloginagent"),
    )


@dataclass(frozen=True)
class AgentAbstract:
    """An agent of ``vdn/queryAgentByStatus`` and ``vdn/totalagentabstractex3``
    (``location_id`` ``None`` for the vendor's unset 65535)."""

    work_no: int
    current_state: CtiStatus
    current_state_time: int
    location_id: int | None

    @classmethod
    def from_wire(cls, data: object) -> AgentAbstract:
        raw = _object(data, "agent")
        return cls(
            work_no=_int(raw, "agentId"),
            current_state=_cti(raw, "currentState"),
            current_state_time=_int(raw, "currentStateTime"),
            location_id=_unset(_int(raw, "locationId"), UNSET_16),
        )


@dataclass(frozen=True)
class AgentCtiState:
    """An agent of ``vdn/totalagentdynamicinfo`` and ``vdn/totalagentstate``."""

    work_no: int
    state: CtiStatus

    @classmethod
    def from_wire(cls, data: object) -> AgentCtiState:
        raw = _object(data, "agent")
        return cls(work_no=_int(raw, "agentId"), state=_cti(raw, "state"))


@dataclass(frozen=True)
class AgentPage(Generic[T]):
    """A page of a VDN's agents: ``count`` agents in the VDN, ``items`` on this page."""

    count: int
    items: tuple[T, ...]


def page_of(parse: Callable[[object], T]) -> Callable[[object], AgentPage[T]]:
    """A reader of a whole envelope with a top-level ``count`` and a list of agents."""
    items = list_of(parse, "agents")

    def read(envelope: object) -> AgentPage[T]:
        raw = _object(envelope, "answer")
        data = raw.get("resultDesc", raw.get("resultDatas"))
        return AgentPage(count=_int(raw, "count"), items=items(data))

    return read


def vendor_list_of(parse: Callable[[object], T]) -> Callable[[object], tuple[T, ...]]:
    """A reader of ``vdn/queryAgentByStatus``: ``resultDesc`` (ccms) or ``data`` (vendor)."""
    items = list_of(parse, "agents")

    def read(envelope: object) -> tuple[T, ...]:
        raw = _object(envelope, "answer")
        return items(raw["resultDesc"] if "resultDesc" in raw else raw.get("data"))

    return read


@dataclass(frozen=True)
class SkillMembers:
    """A skill queue of ``realindex/agent/agentsinskill`` and its signed-in agents."""

    skill_id: int
    work_nos: tuple[int, ...]

    @classmethod
    def from_wire(cls, data: object) -> SkillMembers:
        raw = _object(data, "skill queue")
        ids = _list(raw.get("agentIds"), "agentIds")
        return cls(
            skill_id=_int(raw, "skillId"),
            work_nos=tuple(_int({"agentId": value}, "agentId") for value in ids),
        )


@dataclass(frozen=True)
class SkillAgent:
    """A signed-in agent of ``skill/agentbyconfigedskill`` (or its legacy route).

    ``group_id`` is ``None`` for the unset 65535; ``login_date`` ms since the epoch.
    """

    work_no: int
    name: str | None
    status: AgentStatus
    cti_status: CtiStatus
    group_id: int | None
    media_type: int
    vdn_id: int
    phone_number: str | None
    current_state_time: int
    login_date: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: object) -> SkillAgent:
        """Read both key styles: ``workNo``... (current) and ``workno``... (legacy)."""
        raw = _object(data, "agent")
        low = {key.lower(): value for key, value in raw.items()}
        status = _int(low, "status")
        login = _int(low, "logindate")
        return cls(
            work_no=_int(low, "workno"),
            name=_text(low, "name"),
            status=AgentStatus(status) if status in AgentStatus._value2member_map_
            else AgentStatus.UNKNOWN,
            cti_status=_cti(low, "ctistatus"),
            group_id=_unset(_int(low, "groupid"), UNSET_16),
            media_type=_int(low, "mediatype"),
            vdn_id=_int(low, "vdnid"),
            phone_number=_text(low, "phonenumber"),
            current_state_time=_int(low, "currentstatetime"),
            login_date=None if login == SIGNED_OUT_LOGIN_DATE else login,
            raw=dict(raw),
        )  # fmt: skip


def call_ids_from_wire(data: object) -> tuple[str, ...]:
    values = _list(data, "call ids")
    if not all(isinstance(value, str) for value in values):
        raise ValueError(f"call ids must be strings, got {values!r}")
    return tuple(values)


def bool_from_wire(data: object) -> bool:
    if not isinstance(data, bool):
        raise ValueError(f"the answer must be a boolean, got {data!r}")
    return data
