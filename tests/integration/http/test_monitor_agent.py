"""The agent-dimension monitoring routes: batches, calls, system state."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import Api, EventFactory, FrozenClock
from tests.integration.http.monitor_support import BATCH_ROUTES, data, monitor
from tests.integration.http.test_agent_routes import envelope_error

from ccms.domain.status import SIGNED_OUT_LOGIN_DATE

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

INFOS = "agentgroup/agentstatusinfobyagentids"
TEAM = "agentgroup/teamagentstatusinfo"
SKILLS = "agentgroup/siteagentcallandskillinfobyagentids"
CALLS = "agent/queryagentcalls"
IN_CALL = "calldata/isprocesscall"
SYSTEM = "agentgroup/systemstate"

AGENT_IDS_RULE = "agentIds must be a list of 1 to 6000 integers from 101 to 59999"


def batch(agent_ids: Any) -> dict[str, Any]:
    return {"ccId": 1, "vdn": 1, "agentIds": agent_ids}


# -- agentIds: the same rules on every batch route -----------------------------------------


@pytest.mark.parametrize("name", BATCH_ROUTES)
@pytest.mark.parametrize(
    "agent_ids",
    [[], "101", 101, {"a": 101}, [100], [60000], [70000], [101, "x"], [True], [1.5], [None],
     [[101]], ["-101"], list(range(101, 101 + 6001))],
)  # fmt: skip
async def test_agent_ids_rule(api: Api, name: str, agent_ids: Any) -> None:
    text = envelope_error(await monitor(api, name, batch(agent_ids)), 200, "0100002")
    assert text == AGENT_IDS_RULE


@pytest.mark.parametrize("name", BATCH_ROUTES)
async def test_agent_ids_required(api: Api, name: str) -> None:
    text = envelope_error(await monitor(api, name, {"ccId": 1, "vdn": 1}), 200, "0100002")
    assert text == "agentIds is required"


@pytest.mark.parametrize("name", BATCH_ROUTES)
async def test_agent_ids_at_the_limit_and_digit_strings(
    api: Api, event: EventFactory, name: str
) -> None:
    await api.events([event(agentId=59999, ctiStatus=1, skills=[2])])
    full = await monitor(api, name, batch(["59999", *range(101, 101 + 5999)]))
    answer = data(full)
    assert answer == data(await monitor(api, name, batch([59999])))
    assert answer  # agent 59999 is in it (or counted)


@pytest.mark.parametrize("settings_overrides", [{"large_work_numbers": True}])
@pytest.mark.parametrize("name", BATCH_ROUTES)
async def test_large_work_numbers_setting(api: Api, event: EventFactory, name: str) -> None:
    await api.events([event(agentId=999999, ctiStatus=1)])
    assert data(await monitor(api, name, batch([999999, 101])))
    text = envelope_error(await monitor(api, name, batch([69999])), 200, "0100002")
    assert text == (
        "agentIds must be a list of 1 to 6000 integers from 101 to 59999 or from 70000 to 999999"
    )


# -- agentgroup/agentstatusinfobyagentids --------------------------------------------------


async def test_agent_status_infos_field_by_field(
    api: Api, event: EventFactory, clock: FrozenClock
) -> None:
    signed_in = event(offset_s=100, agentId=101, ctiStatus=1)
    await api.events(
        [
            signed_in,
            event(offset_s=40.5, agentId=101, ctiStatus=7, reason=205),
            event(offset_s=30, agentId=102, name="Provisioned only"),
            event(offset_s=20, agentId=103, ctiStatus=8),
            event(offset_s=10, agentId=103, ctiStatus=0),
            event(agentId=101, vdn=2, ctiStatus=5),  # another VDN: not listed
        ]
    )
    answer = data(await monitor(api, INFOS, batch([104, 103, 101, 102, 101])))
    assert answer == [
        {"agentId": 101, "currentState": 7, "currentStateTime": 40, "prevState": 1,
         "prevStateTime": 59, "logonTime": signed_in["at"], "currentStateReason": 205,
         "locationId": 65535, "agentRelease": 0, "currentPrivateCallNum": 0},
        {"agentId": 102, "currentState": 0, "currentStateTime": 30, "prevState": 0,
         "prevStateTime": 4294967295, "logonTime": SIGNED_OUT_LOGIN_DATE,
         "currentStateReason": 65535, "locationId": 65535, "agentRelease": 0,
         "currentPrivateCallNum": 0},
        {"agentId": 103, "currentState": 0, "currentStateTime": 10, "prevState": 8,
         "prevStateTime": 10, "logonTime": SIGNED_OUT_LOGIN_DATE,
         "currentStateReason": 65535, "locationId": 65535, "agentRelease": 0,
         "currentPrivateCallNum": 0},
    ]  # fmt: skip
    clock.now += 5
    later = data(await monitor(api, INFOS, batch([101])))
    assert later[0]["currentStateTime"] == 45


async def test_agent_status_infos_unknown_agents_give_an_empty_list(api: Api) -> None:
    assert data(await monitor(api, INFOS, batch([101, 102]))) == []


# -- agentgroup/teamagentstatusinfo ----------------------------------------------------------

# CTI code -> how many agents in it; distinct numbers so that a swapped field shows.
POPULATION = {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 9, 9: 10, 10: 11}


async def feed_population(api: Api, event: EventFactory) -> list[int]:
    events, work_no = [], 101
    for code, how_many in POPULATION.items():
        for _ in range(how_many):
            events.append(event(agentId=work_no, ctiStatus=code))
            work_no += 1
    await api.events(events)
    return list(range(101, work_no))


async def test_team_counts_field_by_field(api: Api, event: EventFactory) -> None:
    agent_ids = await feed_population(api, event)
    answer = data(await monitor(api, TEAM, batch([*agent_ids, 5000])))  # 5000 unknown
    assert answer == {
        "loginEd": 65, "talking": 6, "idle": 2, "usable": 2, "setBusy": 8,
        "workSubstateBegin": 7, "rest": 9, "studying": 10, "occupy": 4, "preoccupy": 3,
        "answering": 5, "lateAdjust": 11,
    }  # fmt: skip
    # only the agents asked for, each once
    assert data(await monitor(api, TEAM, batch([101, 102, 102])))["loginEd"] == 1
    assert data(await monitor(api, TEAM, batch([102, 102])))["idle"] == 1


# -- agentgroup/siteagentcallandskillinfobyagentids ----------------------------------------


async def test_agent_skills_field_by_field(api: Api, event: EventFactory) -> None:
    await api.events(
        [
            event(agentId=101, ctiStatus=1, skills=[3, 1]),
            event(agentId=102, ctiStatus=0, skills=[2]),
            event(agentId=103, ctiStatus=1),
        ]
    )
    assert data(await monitor(api, SKILLS, batch([103, 102, 101, 104]))) == [
        {"agentId": 101, "skills": [{"skillId": 1, "isLogin": 1}, {"skillId": 3, "isLogin": 1}]},
        {"agentId": 102, "skills": [{"skillId": 2, "isLogin": 0}]},
        {"agentId": 103, "skills": []},
    ]


# -- agent/queryagentcalls and calldata/isprocesscall ----------------------------------------


@pytest.mark.parametrize("name", [CALLS, IN_CALL])
@pytest.mark.parametrize(
    ("agent_id", "message"),
    [(None, "agentId is required"), (100, "agentId must be an integer from 101 to 59999"),
     (60000, "agentId must be an integer from 101 to 59999"),
     ([101], "agentId must be an integer from 101 to 59999")],
)  # fmt: skip
async def test_agent_id_rule(api: Api, name: str, agent_id: Any, message: str) -> None:
    body: dict[str, Any] = {"ccId": 1, "vdn": 1}
    if agent_id is not None:
        body["agentId"] = agent_id
    assert envelope_error(await monitor(api, name, body), 200, "0100002") == message


async def test_agent_calls_and_is_process_call(api: Api, event: EventFactory) -> None:
    await api.events(
        [
            event(agentId=101, ctiStatus=5, calls=["1605492949-1447", "c-2"]),
            event(agentId=102, ctiStatus=1),
        ]
    )
    one = {"ccId": 1, "vdn": 1, "agentId": 101}
    two = {"ccId": 1, "vdn": 1, "agentId": 102}
    assert data(await monitor(api, CALLS, one)) == ["1605492949-1447", "c-2"]
    assert data(await monitor(api, CALLS, two)) == []
    assert data(await monitor(api, IN_CALL, one)) is True
    assert data(await monitor(api, IN_CALL, two)) is False
    # the call ended: the list follows the newest event
    await api.events([event(agentId=101, ctiStatus=6, calls=[])])
    assert data(await monitor(api, CALLS, one)) == []
    assert data(await monitor(api, IN_CALL, one)) is False


@pytest.mark.parametrize("name", [CALLS, IN_CALL])
async def test_unknown_agent_is_0100001(api: Api, event: EventFactory, name: str) -> None:
    await api.events([event(agentId=101, vdn=2, ctiStatus=5, calls=["c"])])
    text = envelope_error(await monitor(api, name, {"ccId": 1, "vdn": 1, "agentId": 101}), 200,
                          "0100001")  # fmt: skip
    assert "101" in text


# -- agentgroup/systemstate ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [({"offset": None}, "offset is required"), ({"limit": None}, "limit is required"),
     ({"offset": -1}, "offset must be an integer from 0 to 2147483647"),
     ({"offset": "x"}, "offset must be an integer from 0 to 2147483647"),
     ({"offset": 2**31}, "offset must be an integer from 0 to 2147483647"),
     ({"limit": 0}, "limit must be an integer from 1 to 100"),
     ({"limit": 101}, "limit must be an integer from 1 to 100"),
     ({"limit": 1.5}, "limit must be an integer from 1 to 100")],
)  # fmt: skip
async def test_system_state_paging_rules(api: Api, change: dict[str, Any], message: str) -> None:
    body: dict[str, Any] = {"ccId": 1, "vdn": 1, "offset": 0, "limit": 100}
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    assert envelope_error(await monitor(api, SYSTEM, body), 200, "0100002") == message


async def test_system_state_counts_a_page_of_the_vdn(api: Api, event: EventFactory) -> None:
    statuses = {101: 7, 102: 5, 103: 4, 104: 1, 105: 0, 106: 8, 107: 2, 108: 10}
    await api.events(
        [event(agentId=w, ctiStatus=c) for w, c in statuses.items()]
        + [event(agentId=109, vdn=2, ctiStatus=1)]
    )

    async def page(offset: int, limit: int) -> Any:
        body = {"ccId": 1, "vdn": 1, "offset": offset, "limit": limit}
        return data(await monitor(api, SYSTEM, body))

    assert await page(0, 100) == {
        "busyAgent": 1, "talkingNum": 3, "idleAgent": 1, "totalLoginAgent": 7,
    }  # fmt: skip
    assert await page(1, 2) == {  # agents 102 and 103
        "busyAgent": 0, "talkingNum": 2, "idleAgent": 0, "totalLoginAgent": 2,
    }  # fmt: skip
    assert await page(3, 3) == {  # agents 104, 105, 106
        "busyAgent": 0, "talkingNum": 0, "idleAgent": 1, "totalLoginAgent": 2,
    }  # fmt: skip
    assert await page(8, 100) == {
        "busyAgent": 0, "talkingNum": 0, "idleAgent": 0, "totalLoginAgent": 0,
    }  # fmt: skip
