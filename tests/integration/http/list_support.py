"""What the agent-list tests share: an app on either store backend, a floor fed through the
intake, and an oracle of the documented rules written out independently of ccms's code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.conftest import Api, FrozenClock
from tests.integration.http.monitor_support import data

LIST = "/ccms/v1/agents/query"
# The vendor's status of each CTI status (docs/api.md), written out as the oracle.
STATUS = {0: 2, 1: 4, 2: 7, 3: 7, 4: 7, 5: 7, 6: 5, 7: 3, 8: 8, 9: 0, 10: 5}
STATUS_KEYS = ("0", "2", "3", "4", "5", "7", "8")


@dataclass(frozen=True)
class Agent:
    """An agent of a test floor: what its events said."""

    work_no: int
    cti: int
    seconds: float  # in its state, at the clock
    name: str | None = None
    skills: tuple[int, ...] = ()
    reason: int | None = None
    calls: tuple[str, ...] = ()
    vdn: int = 1
    cc_id: int = 1

    def event(self, clock: FrozenClock, event_id: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "eventId": event_id, "ccId": self.cc_id, "vdn": self.vdn, "agentId": self.work_no,
            "at": self.since(clock), "ctiStatus": self.cti, "skills": list(self.skills),
            "calls": list(self.calls),
        }  # fmt: skip
        if self.name is not None:
            fields["name"] = self.name
        if self.reason is not None:
            fields["reason"] = self.reason
        return fields

    def since(self, clock: FrozenClock) -> int:
        return round((clock() - self.seconds) * 1000)


async def feed(api: Api, agents: Iterable[Agent], tag: str = "f") -> None:
    events = [agent.event(api.clock, f"{tag}{n}") for n, agent in enumerate(agents)]
    answer = data(await api.events(events))
    assert answer["accepted"] == len(events)


async def ask(api: Api, **fields: Any) -> dict[str, Any]:
    """The ``resultDesc`` of a list request of call center 1, VDN 1 (``fields`` added)."""
    body = {"ccId": 1, "vdn": 1, **fields}
    return data(await api.post(LIST, body))  # type: ignore[no-any-return]


async def every_page(api: Api, **fields: Any) -> list[dict[str, Any]]:
    """The pages of a request, from the first to the one whose nextCursor is null."""
    pages = [await ask(api, **fields)]
    while pages[-1]["nextCursor"] is not None:
        assert len(pages) < 1000, "the paging does not end"
        pages.append(await ask(api, **{**fields, "cursor": pages[-1]["nextCursor"]}))
    return pages


def ids(page: dict[str, Any]) -> list[int]:
    return [agent["agentId"] for agent in page["agents"]]


def counts_of(agents: Iterable[Agent]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_KEYS, 0)
    for agent in agents:
        counts[str(STATUS[agent.cti])] += 1
    return counts


def fold(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)
