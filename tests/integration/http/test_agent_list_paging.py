"""Properties of the agent list's paging, on every store backend (Hypothesis):

- without changes, every agent the filter matches is listed exactly once over the pages,
  and every page's counts are a recount of the agents listed over all pages;
- with changes arriving between pages (and time passing), every agent that does not change
  is listed exactly once if it matched the filter at the first page, else never; an agent
  that changes is listed at most twice.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import Api, FrozenClock, test_keys
from tests.integration.http.list_support import LIST, STATUS, counts_of, fold
from tests.integration.http.monitor_support import data
from tests.integration.store.conftest import make_schema

from ccms.http import create_app
from ccms.settings import load_settings
from ccms.store.base import Store
from ccms.store.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

SORTS = ["-secondsInState", "secondsInState", "workNo", "-workNo", "name", "-name", "status",
         "-status"]  # fmt: skip
FILTERS: list[dict[str, Any]] = [
    {}, {"ctiStatuses": list(range(11))}, {"statuses": [4, 7]}, {"skills": [2]},
    {"search": "a"}, {"minSecondsInState": 100}, {"ctiStatuses": [0, 1], "skills": [1, 3]},
]  # fmt: skip
NAMES = [None, "Ana", "ana", "Bo", "Cara", "Zed", "Émile"]


class Harness:
    """An app on one store, driven from synchronous code (Hypothesis) on a loop of its own;
    each example takes a VDN of its own."""

    def __init__(self, store: Store, clock: FrozenClock) -> None:
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.app = create_app(load_settings({}), store, test_keys(), clock)
        self.loop.run_until_complete(self.app.startup())
        transport = httpx.ASGITransport(app=self.app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.api = Api(self.http, clock)
        self.vdns = itertools.count(1)
        self.ids = itertools.count(1)

    def post(self, path: str, body: Any) -> Any:
        return data(self.loop.run_until_complete(self.api.post(path, body)))

    def set_agents(
        self, vdn: int, agents: dict[int, tuple[int, int, str | None, list[int]]]
    ) -> None:
        now = self.clock()
        events = []
        for work_no, (cti, seconds, name, skills) in agents.items():
            event = {"eventId": f"p{next(self.ids)}", "ccId": 1, "vdn": vdn, "agentId": work_no,
                     "at": round((now - seconds) * 1000), "ctiStatus": cti, "skills": skills}  # fmt: skip
            if name is not None:
                event["name"] = name
            events.append(event)
        if events:
            assert self.post("/ccms/v1/events", {"events": events})["accepted"] == len(events)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    clock = FrozenClock(float(int(time.time())))
    schema = None
    store: Store
    if request.param == "sqlite":
        store = SQLiteStore(str(tmp_path / "ccms.db"), clock=clock)
    else:
        from ccms.store.postgres import PostgresStore

        schema = make_schema()
        store = PostgresStore(schema.url, clock=clock)
    running = Harness(store, clock)
    try:
        yield running
    finally:
        running.close()
        if schema is not None:
            schema.drop()


def matches(agent: tuple[int, int, str | None, list[int]], fields: dict[str, Any]) -> bool:
    """The documented filter, written out independently (docs/api.md, "The agent list")."""
    cti, seconds, name, skills = agent
    statuses, ctis = fields.get("statuses"), fields.get("ctiStatuses")
    if statuses is None and ctis is None:
        if cti == 0:
            return False
    elif (statuses is not None and STATUS[cti] not in statuses) or (
        ctis is not None and cti not in ctis
    ):
        return False
    if "skills" in fields and not set(fields["skills"]) & set(skills):
        return False
    if seconds < fields.get("minSecondsInState", 0):
        return False
    return "search" not in fields or fields["search"] in fold(name or "")


agent_states = st.tuples(
    st.integers(0, 10), st.integers(0, 400), st.sampled_from(NAMES),
    st.lists(st.integers(1, 3), max_size=2, unique=True).map(sorted),
)  # fmt: skip
floors = st.lists(agent_states, min_size=1, max_size=30)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def pages(h: Harness, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    page = h.post(LIST, body)
    yield page
    for _ in range(100):  # 30 agents at most: a paging longer than that does not end
        if page["nextCursor"] is None:
            return
        page = h.post(LIST, {**body, "cursor": page["nextCursor"]})
        yield page
    raise AssertionError("the paging does not end")


@SETTINGS
@given(floor=floors, fields=st.sampled_from(FILTERS), sort=st.sampled_from(SORTS),
       limit=st.integers(1, 7))  # fmt: skip
def test_counts_are_a_recount_of_every_page(
    harness: Harness, floor: list[Any], fields: dict[str, Any], sort: str, limit: int
) -> None:
    vdn = next(harness.vdns)
    agents = {101 + n: state for n, state in enumerate(floor)}
    harness.set_agents(vdn, agents)
    body = {"ccId": 1, "vdn": vdn, **fields, "sort": sort, "limit": limit}
    answers = list(pages(harness, body))
    listed = [a for page in answers for a in page["agents"]]
    expected = sorted(w for w, state in agents.items() if matches(state, fields))
    assert sorted(a["agentId"] for a in listed) == expected  # each exactly once
    recount = Counter(str(a["status"]) for a in listed)
    assert all(page["counts"] == {**dict.fromkeys(page["counts"], 0), **recount}
               for page in answers)  # fmt: skip
    assert set(answers[0]["counts"]) == set(counts_of([]))
    assert all(len(page["agents"]) == limit for page in answers[:-1])


@SETTINGS
@given(floor=floors, fields=st.sampled_from(FILTERS), sort=st.sampled_from(SORTS),
       limit=st.integers(1, 5), moves=st.data())  # fmt: skip
def test_paging_while_changes_arrive_lists_every_unchanged_agent_once(
    harness: Harness, floor: list[Any], fields: dict[str, Any], sort: str, limit: int,
    moves: st.DataObject,
) -> None:  # fmt: skip
    vdn = next(harness.vdns)
    agents = {101 + n: state for n, state in enumerate(floor)}
    harness.set_agents(vdn, agents)
    at_start = {w for w, state in agents.items() if matches(state, fields)}
    body = {"ccId": 1, "vdn": vdn, **fields, "sort": sort, "limit": limit}
    seen: Counter[int] = Counter()
    changed: Counter[int] = Counter()  # how many times each agent changed while paging
    page = harness.post(LIST, body)
    while True:
        seen.update(a["agentId"] for a in page["agents"])
        if page["nextCursor"] is None:
            break
        assert sum(seen.values()) < 200, "the paging does not end"
        harness.clock.now += moves.draw(st.integers(0, 200), label="seconds passing")
        moved = moves.draw(st.lists(st.sampled_from(sorted(agents)), max_size=3, unique=True),
                           label="agents changing")  # fmt: skip
        news = {w: (moves.draw(agent_states, label=f"agent {w}")[0], 0, agents[w][2],
                    agents[w][3]) for w in moved}  # fmt: skip
        changes = {w: state for w, state in news.items() if state[0] != agents[w][0]}
        harness.set_agents(vdn, changes)  # a new status: a new since, now
        changed.update(list(changes))  # a count per agent, not its state
        page = harness.post(LIST, {**body, "cursor": page["nextCursor"]})
    for work_no in agents:
        if work_no in changed:  # once more at most for each change (it moves past the cursor)
            assert seen[work_no] <= 1 + changed[work_no]
        else:
            assert seen[work_no] == (1 if work_no in at_start else 0), work_no
