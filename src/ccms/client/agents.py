"""Typed results of the native agent routes: the agent item the native routes share, its
flags, and the agent-detail answer with its history (``POST /ccms/v1/agents/detail``).

Like :mod:`ccms.client.models`, each has a ``from_wire`` that raises ``ValueError`` when the
answer does not fit the contract (the request core turns it into
:class:`~ccms.client.errors.UnexpectedAnswerError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ccms.client.models import _cti, _int, _list, _object, _text
from ccms.domain.status import AgentStatus, CtiStatus
from ccms.wire import SIGNED_OUT_LOGIN_DATE


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    if key not in data:
        raise ValueError(f"{key} is missing")
    return None if data[key] is None else _int(data, key)


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _list(data.get(key), key)
    if not all(isinstance(value, str) for value in values):
        raise ValueError(f"{key} must be a list of strings, got {values!r}")
    return tuple(values)


def _status(data: Mapping[str, Any]) -> AgentStatus:
    status = _int(data, "status")
    if status in AgentStatus._value2member_map_:
        return AgentStatus(status)
    return AgentStatus.UNKNOWN


@dataclass(frozen=True)
class AgentFlag:
    """A raised flag: its ``name`` (``ringing-long``...), ``level`` (``warning`` or
    ``alert``) and ``since``, the ms its threshold was crossed."""

    name: str
    level: str
    since: int

    @classmethod
    def from_wire(cls, data: object) -> AgentFlag:
        raw = _object(data, "flag")
        name, level = raw.get("name"), raw.get("level")
        if not isinstance(name, str) or not isinstance(level, str):
            raise ValueError(f"a flag needs a name and a level, got {raw!r}")
        return cls(name=name, level=level, since=_int(raw, "since"))


@dataclass(frozen=True)
class AgentItem:
    """An agent as the native routes list it. ``since``: ms of the start of the current
    CTI status; ``seconds_in_state``: whole seconds since; ``reason`` ``None``: none."""

    work_no: int
    name: str | None
    cti_status: CtiStatus
    status: AgentStatus
    since: int
    seconds_in_state: int
    reason: int | None
    skills: tuple[int, ...]
    calls: tuple[str, ...]
    flags: tuple[AgentFlag, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)  # as sent

    @classmethod
    def from_wire(cls, data: object) -> AgentItem:
        raw = _object(data, "agent")
        skills = _list(raw.get("skills"), "skills")
        return cls(
            work_no=_int(raw, "agentId"),
            name=_text(raw, "name"),
            cti_status=_cti(raw, "ctiStatus"),
            status=_status(raw),
            since=_int(raw, "since"),
            seconds_in_state=_int(raw, "secondsInState"),
            reason=_optional_int(raw, "reason"),
            skills=tuple(_int({"skill": value}, "skill") for value in skills),
            calls=_strings(raw, "calls"),
            flags=tuple(AgentFlag.from_wire(flag) for flag in _list(raw.get("flags"), "flags")),
            raw=raw,
        )


@dataclass(frozen=True)
class StatusEvent:
    """One status event of an agent's history: ``applied`` false when it arrived older
    than the status it found; ``source`` and ``raw_state`` as the feed sent them."""

    at: int
    cti_status: CtiStatus
    reason: int | None
    applied: bool
    event_id: str
    source: str | None
    raw_state: str | None

    @classmethod
    def from_wire(cls, data: object) -> StatusEvent:
        raw = _object(data, "status event")
        applied, event_id = raw.get("applied"), raw.get("eventId")
        if not isinstance(applied, bool) or not isinstance(event_id, str):
            raise ValueError(f"a status event needs applied and eventId, got {raw!r}")
        return cls(
            at=_int(raw, "at"),
            cti_status=_cti(raw, "ctiStatus"),
            reason=_optional_int(raw, "reason"),
            applied=applied,
            event_id=event_id,
            source=_text(raw, "source"),
            raw_state=_text(raw, "rawState"),
        )


@dataclass(frozen=True)
class AgentHistory:
    """The answer of ``POST /ccms/v1/agents/detail``: the agent (``agent``, its item), its
    attributes, why ccms believes its state (``source`` and ``raw_state`` of the status
    event its status comes from; ``None`` when that event carried none) and its newest
    status events, newest first. ``login_date`` ``None`` while signed out."""

    agent: AgentItem
    login_date: int | None
    phone_number: str | None
    media_type: int
    source: str | None
    raw_state: str | None
    history: tuple[StatusEvent, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: object) -> AgentHistory:
        raw = _object(data, "agent detail")
        agent = _object(raw.get("agent"), "agent")
        login = _int(agent, "loginDate")
        return cls(
            agent=AgentItem.from_wire(agent),
            login_date=None if login == SIGNED_OUT_LOGIN_DATE else login,
            phone_number=_text(agent, "phoneNumber"),
            media_type=_int(agent, "mediaType"),
            source=_text(agent, "source"),
            raw_state=_text(agent, "rawState"),
            history=tuple(StatusEvent.from_wire(e) for e in _list(raw.get("history"), "history")),
            raw=dict(raw),
        )
