"""The agent list in the client (``POST /ccms/v1/agents/query``, ``docs/client.md``): the
filter and sort as an :class:`AgentQuery`, a page as an :class:`AgentList` of
:class:`ListedAgent` values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ccms.client.agents import AgentItem
from ccms.client.models import _int, _object
from ccms.domain.status import AgentStatus


@dataclass(frozen=True)
class AgentQuery:
    """Which agents of a VDN, in which order (every field optional; the server checks the
    ranges). ``statuses`` are agent statuses (``AgentStatus``), ``cti_statuses`` CTI
    statuses; neither: signed-in agents only. ``sort``: ``secondsInState``, ``workNo``,
    ``name`` or ``status``, a leading ``-`` for descending."""

    skills: Sequence[int] | None = None
    statuses: Sequence[int] | None = None
    cti_statuses: Sequence[int] | None = None
    min_seconds_in_state: int = 0
    flagged: bool = False
    search: str = ""
    sort: str = "-secondsInState"

    def body(self, cc_id: int, vdn: int, limit: int, cursor: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"ccId": cc_id, "vdn": vdn}
        for name, values in (("skills", self.skills), ("statuses", self.statuses),
                             ("ctiStatuses", self.cti_statuses)):  # fmt: skip
            if values is not None:
                fields[name] = [int(value) for value in values]
        if self.min_seconds_in_state:
            fields["minSecondsInState"] = self.min_seconds_in_state
        if self.flagged:
            fields["flagged"] = True
        if self.search:
            fields["search"] = self.search
        fields["sort"] = self.sort
        fields["limit"] = limit
        if cursor is not None:
            fields["cursor"] = cursor
        return fields


# An agent of the list is the agent of the detail route, field by field (one wire form).
ListedAgent = AgentItem


@dataclass(frozen=True)
class AgentList:
    """A page of the list: its agents, the agents per status of every page
    (``counts[AgentStatus.IDLE]``), the cursor of the next page (``None``: the last),
    and the server's time of the answer (ms)."""

    agents: tuple[ListedAgent, ...]
    counts: Mapping[AgentStatus, int]
    next_cursor: str | None
    server_time: int

    @classmethod
    def from_wire(cls, data: object) -> AgentList:
        raw = _object(data, "agent list")
        counts = _object(raw.get("counts"), "counts")
        cursor = raw.get("nextCursor")
        if cursor is not None and not isinstance(cursor, str):
            raise ValueError(f"nextCursor must be a string or null, got {cursor!r}")
        return cls(
            agents=tuple(ListedAgent.from_wire(a) for a in _list(raw.get("agents"), "agents")),
            counts={AgentStatus(int(status)): _int(counts, status) for status in counts},
            next_cursor=cursor,
            server_time=_int(raw, "serverTime"),
        )


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a JSON array, got {value!r}")
    return value
