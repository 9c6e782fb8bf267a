"""The skill-queue monitoring routes: agents in queues, their details, counts by state."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import Api, EventFactory
from tests.integration.http.monitor_support import (
    SKILL_LIST_ROUTES,
    SKILL_ROUTES,
    data,
    monitor,
)
from tests.integration.http.test_agent_routes import envelope_error

from ccms.domain.status import SIGNED_OUT_LOGIN_DATE

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

IN_SKILL = "realindex/agent/agentsinskill"
DETAILS = "skill/agentbyconfigedskill"
LEGACY_DETAILS = "agentgroup/agentbyconfigedskill"
COUNTS = "skill/agentstatusbyskill"

SKILL_IDS_RULE = "skillIds must be a list of 1 to 1000 integers from 1 to 10000"


def body(**fields: Any) -> dict[str, Any]:
    return {"ccId": 1, "vdn": 1, **fields}


async def feed_queues(api: Api, event: EventFactory) -> dict[str, Any]:
    """101 talking in 1 and 2; 102 idle in 2; 103 signed out (last in 1); 104 busy in 2
    and 3; 105 idle in no queue; 106 in queue 1 of VDN 2."""
    signed_in = event(offset_s=90, agentId=101, ctiStatus=1, name="Ann", phoneNumber="+49301",
                      mediaType=5, skills=[2, 1])  # fmt: skip
    await api.events(
        [
            signed_in,
            event(offset_s=61.2, agentId=101, ctiStatus=5),
            event(offset_s=10, agentId=102, ctiStatus=1, skills=[2]),
            event(offset_s=50, agentId=103, ctiStatus=1, skills=[1]),
            event(offset_s=40, agentId=103, ctiStatus=0),
            event(offset_s=5, agentId=104, ctiStatus=7, skills=[3, 2]),
            event(offset_s=5, agentId=105, ctiStatus=1),
            event(agentId=106, vdn=2, ctiStatus=1, skills=[1]),
        ]
    )
    return signed_in


# -- field rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SKILL_LIST_ROUTES)
@pytest.mark.parametrize(
    "skill_ids",
    [[], 1, "1", [0], [10001], ["x"], [None], [True], [1.0], [[1]], list(range(1, 1002))],
)
async def test_skill_ids_rule(api: Api, name: str, skill_ids: Any) -> None:
    text = envelope_error(await monitor(api, name, body(skillIds=skill_ids)), 200, "0100002")
    assert text == SKILL_IDS_RULE


@pytest.mark.parametrize("name", SKILL_LIST_ROUTES)
async def test_skill_ids_required_and_limit(api: Api, name: str) -> None:
    text = envelope_error(await monitor(api, name, body()), 200, "0100002")
    assert text == "skillIds is required"
    assert data(await monitor(api, name, body(skillIds=list(range(1, 1001))))) is not None
    assert data(await monitor(api, name, body(skillIds=["10000"]))) is not None


@pytest.mark.parametrize("name", SKILL_ROUTES)
@pytest.mark.parametrize(
    ("skill_id", "message"),
    [(None, "skillId is required"), (0, "skillId must be an integer from 1 to 10000"),
     (10001, "skillId must be an integer from 1 to 10000"),
     ([1], "skillId must be an integer from 1 to 10000"),
     ("one", "skillId must be an integer from 1 to 10000")],
)  # fmt: skip
async def test_skill_id_rule(api: Api, name: str, skill_id: Any, message: str) -> None:
    request = body() if skill_id is None else body(skillId=skill_id)
    assert envelope_error(await monitor(api, name, request), 200, "0100002") == message


@pytest.mark.parametrize("flag", ["yes", "1", 1, 0, [], ""])
async def test_is_skill_all_match_rule(api: Api, flag: Any) -> None:
    request = body(skillIds=[1], isSkillAllMatch=flag)
    text = envelope_error(await monitor(api, COUNTS, request), 200, "0100002")
    assert text == 'isSkillAllMatch must be "true" or "false"'


# -- realindex/agent/agentsinskill -----------------------------------------------------------


async def test_agents_in_skill(api: Api, event: EventFactory) -> None:
    await feed_queues(api, event)
    answer = data(await monitor(api, IN_SKILL, body(skillIds=[2, 1, 9, 2, "3"])))
    assert answer == [
        {"skillId": 2, "agentIds": [101, 102, 104]},
        {"skillId": 1, "agentIds": [101]},  # 103 signed out, 106 in another VDN
        {"skillId": 9, "agentIds": []},
        {"skillId": 3, "agentIds": [104]},
    ]


async def test_agents_follow_their_skill_changes(api: Api, event: EventFactory) -> None:
    await feed_queues(api, event)
    await api.events(
        [
            event(agentId=101, skills=[3]),  # leaves 1 and 2, joins 3
            event(agentId=103, ctiStatus=1),  # signs in again, still in 1
            event(offset_s=1000, agentId=102, skills=[1]),  # older than its skills: ignored
        ]
    )
    answer = data(await monitor(api, IN_SKILL, body(skillIds=[1, 2, 3])))
    assert answer == [
        {"skillId": 1, "agentIds": [103]},
        {"skillId": 2, "agentIds": [102, 104]},
        {"skillId": 3, "agentIds": [101, 104]},
    ]


# -- skill/agentbyconfigedskill and the legacy agentgroup/agentbyconfigedskill ----------------


async def test_agents_by_configured_skill_field_by_field(api: Api, event: EventFactory) -> None:
    signed_in = await feed_queues(api, event)
    answer = data(await monitor(api, DETAILS, body(skillId=1)))
    assert answer == [
        {"workNo": 101, "name": "Ann", "status": 7, "ctiStatus": 5, "groupId": 65535,
         "mediaType": 5, "vdnId": 1, "phoneNumber": "+49301", "currentStateTime": 61,
         "loginDate": signed_in["at"]},
    ]  # fmt: skip
    queue_2 = data(await monitor(api, DETAILS, body(skillId=2)))
    assert [(a["workNo"], a["status"], a["ctiStatus"]) for a in queue_2] == [
        (101, 7, 5), (102, 4, 1), (104, 3, 7),
    ]  # fmt: skip
    assert queue_2[1]["name"] is None
    assert queue_2[1]["phoneNumber"] is None
    assert queue_2[1]["mediaType"] == 0
    assert data(await monitor(api, DETAILS, body(skillId=9))) == []
    assert SIGNED_OUT_LOGIN_DATE not in [a["loginDate"] for a in queue_2]


async def test_legacy_agents_by_configured_skill(api: Api, event: EventFactory) -> None:
    signed_in = await feed_queues(api, event)
    response = await monitor(api, LEGACY_DETAILS, body(skillId=1))
    assert response.json() == {
        "result": "0",
        "resultDatas": [
            {"workno": 101, "name": "Ann", "status": 7, "ctiStatus": 5, "groupid": 65535,
             "mediatype": 5, "vdnid": 1, "phonenumber": "+49301", "currentstatetime": 61,
             "logindate": signed_in["at"]},
        ],
    }  # fmt: skip


# -- skill/agentstatusbyskill ----------------------------------------------------------------

ZERO = {
    "loginEd": 0, "talking": 0, "idle": 0, "usable": 0, "setBusy": 0, "workSubStateBegin": 0,
    "rest": 0, "studying": 0, "occupy": 0, "preoccupy": 0, "answering": 0, "lateAdjust": 0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("skill_ids", "flag", "expected"),
    [
        ([2], None, {"loginEd": 3, "talking": 1, "idle": 1, "usable": 1, "setBusy": 1}),
        ([1, 3], "false", {"loginEd": 2, "talking": 1, "setBusy": 1}),
        ([1, 3], "null", {"loginEd": 2, "talking": 1, "setBusy": 1}),
        ([1, 3], False, {"loginEd": 2, "talking": 1, "setBusy": 1}),
        ([1, 3], "true", {}),
        ([2, 3], "TRUE", {"loginEd": 1, "setBusy": 1}),
        ([2, 3], True, {"loginEd": 1, "setBusy": 1}),
        ([1, 2], "True", {"loginEd": 1, "talking": 1}),
        ([2, 2], "true", {"loginEd": 3, "talking": 1, "idle": 1, "usable": 1, "setBusy": 1}),
        ([9], None, {}),
    ],
)
async def test_agent_status_by_skill(
    api: Api, event: EventFactory, skill_ids: list[int], flag: Any, expected: dict[str, int]
) -> None:
    await feed_queues(api, event)
    request = body(skillIds=skill_ids)
    if flag is not None:
        request["isSkillAllMatch"] = None if flag == "null" else flag
    assert data(await monitor(api, COUNTS, request)) == {**ZERO, **expected}
