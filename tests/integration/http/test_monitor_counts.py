"""For any event history, each count route equals a recount of the per-agent answers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import SyncApp
from tests.integration.http.monitor_support import data, path

pytestmark = pytest.mark.integration

SIGNED_IN = set(range(1, 11))
# The documented mappings (docs/api.md), written out here as the oracle of the recount.
TEAM_ORACLE = {
    "loginEd": SIGNED_IN, "talking": {5}, "idle": {1}, "usable": {1}, "setBusy": {7},
    "workSubstateBegin": {6}, "rest": {8}, "studying": {9}, "occupy": {3}, "preoccupy": {2},
    "answering": {4}, "lateAdjust": {10},
}  # fmt: skip
SKILL_ORACLE = {
    ("workSubStateBegin" if k == "workSubstateBegin" else k): v for k, v in TEAM_ORACLE.items()
}
SYSTEM_ORACLE = {
    "busyAgent": {7}, "talkingNum": {2, 3, 4, 5}, "idleAgent": {1}, "totalLoginAgent": SIGNED_IN,
}  # fmt: skip
WORK_NOS = list(range(101, 108))  # 107 is never fed: unknown agents count for nothing


def recount(states: list[int], oracle: dict[str, set[int]]) -> dict[str, int]:
    return {name: sum(1 for s in states if s in codes) for name, codes in oracle.items()}


class Harness(SyncApp):
    """One app for the whole Hypothesis run; each example uses a call center of its own."""

    def __init__(self, db: Path) -> None:
        super().__init__(db)
        self.centers = itertools.count(1)
        self.event_ids = itertools.count(1)

    def post(self, name: str, body: dict[str, Any]) -> Any:
        return data(self.loop.run_until_complete(self.api.post(path(name), body)))

    def feed(self, cc_id: int, batches: list[list[dict[str, Any]]]) -> None:
        now_ms = int(self.clock() * 1000)
        for batch in batches:
            events = [
                {"eventId": f"h{next(self.event_ids)}", "ccId": cc_id, "vdn": 1,
                 "agentId": e["agentId"], "at": now_ms - e["ago_ms"],
                 **{k: e[k] for k in ("ctiStatus", "skills") if k in e}}
                for e in batch
            ]  # fmt: skip
            response = self.loop.run_until_complete(self.api.events(events))
            assert response.json()["resultCode"] == "0100000", response.text


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path / "counts.db")
    yield h
    h.close()


events = st.fixed_dictionaries(
    {"agentId": st.sampled_from(WORK_NOS[:-1]), "ago_ms": st.integers(0, 100_000)},
    optional={"ctiStatus": st.integers(0, 10),
              "skills": st.lists(st.integers(1, 4), max_size=3)},
)  # fmt: skip
histories = st.lists(st.lists(events, min_size=1, max_size=12), min_size=1, max_size=3)
skill_lists = st.lists(st.integers(1, 4), min_size=1, max_size=4)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=histories,
    agent_ids=st.lists(st.sampled_from(WORK_NOS), min_size=1, max_size=10),
    skill_ids=skill_lists,
    all_match=st.booleans(),
    offset=st.integers(0, 7),
    limit=st.integers(1, 100),
)
def test_counts_are_recounts_of_the_per_agent_answers(
    harness: Harness,
    history: list[list[dict[str, Any]]],
    agent_ids: list[int],
    skill_ids: list[int],
    all_match: bool,
    offset: int,
    limit: int,
) -> None:
    cc_id = next(harness.centers)
    harness.feed(cc_id, history)
    tenant = {"ccId": cc_id, "vdn": 1}

    def states_of(work_nos: list[int]) -> list[int]:
        infos = harness.post("agentgroup/agentstatusinfobyagentids",
                             {**tenant, "agentIds": work_nos})  # fmt: skip
        return [info["currentState"] for info in infos]

    # teamagentstatusinfo: a recount of agentstatusinfobyagentids for the same agents
    team = harness.post("agentgroup/teamagentstatusinfo", {**tenant, "agentIds": agent_ids})
    assert team == recount(states_of(agent_ids), TEAM_ORACLE)

    # systemstate: a recount of the same page of totalagentabstractex3
    page = {**tenant, "offset": offset, "limit": limit}
    system = harness.post("agentgroup/systemstate", page)
    listed = harness.post("vdn/totalagentabstractex3", page)
    assert system == recount([item["currentState"] for item in listed], SYSTEM_ORACLE)

    # skill/agentstatusbyskill: a recount of the agents agentsinskill lists
    members = harness.post("realindex/agent/agentsinskill", {**tenant, "skillIds": skill_ids})
    sets = [set(m["agentIds"]) for m in members]
    chosen = set.intersection(*sets) if all_match else set.union(*sets)
    counts = harness.post(
        "skill/agentstatusbyskill",
        {**tenant, "skillIds": skill_ids, "isSkillAllMatch": str(all_match).lower()},
    )
    expected = states_of(sorted(chosen)) if chosen else []
    assert counts == recount(expected, SKILL_ORACLE)

    # ... and, for one queue, of the agents agentbyconfigedskill details
    first = skill_ids[0]
    details = harness.post("skill/agentbyconfigedskill", {**tenant, "skillId": first})
    one = harness.post("skill/agentstatusbyskill", {**tenant, "skillIds": [first]})
    assert one == recount([d["ctiStatus"] for d in details], SKILL_ORACLE)
    assert [d["workNo"] for d in details] == members[0]["agentIds"]
