"""Typed results of the client: frozen dataclasses with Python names.

Each result has a ``from_wire`` that reads the ``resultDesc`` (or legacy ``resultDatas``)
of a success answer and raises ``ValueError`` when it does not fit the contract; the
request core turns that into :class:`~ccms.client.errors.UnexpectedAnswerError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ccms.domain.status import SIGNED_OUT_LOGIN_DATE, AgentStatus, CtiStatus


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


def ping_from_wire(data: object) -> str:
    if not isinstance(data, str):
        raise ValueError(f"ping answer must be a string, got {data!r}")
    return data
