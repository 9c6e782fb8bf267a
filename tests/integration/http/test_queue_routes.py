"""The skill-queue routes (``skill/totalskillstatusex3``, ``skill/stateinfo`` and
``realindex/skill/stateinfo``, ``skill/rindex``, ``skill/batchmultiskill``,
``skill/queuedevicestatus``), fed through the intake, on every backend: answers field by
field, request rules, scopes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import (
    INGEST_AK,
    INGEST_SK,
    SCOPED_AK,
    SCOPED_SK,
    Api,
    FrozenClock,
    test_keys,
)
from tests.integration.http.test_agent_routes import envelope_error

from ccms.http import create_app
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SKILL = "/rest/cmsapp/v1/openapi/skill"
STATUS = f"{SKILL}/totalskillstatusex3"
STATE = f"{SKILL}/stateinfo"
LEGACY_STATE = "/rest/cmsapp/v1/openapi/realindex/skill/stateinfo"
RINDEX = f"{SKILL}/rindex"
BATCH = f"{SKILL}/batchmultiskill"
DEVICES = f"{SKILL}/queuedevicestatus"
BATCH_ROUTES = [STATUS, STATE, LEGACY_STATE, RINDEX, BATCH]
CODES = [
    "IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_SKILL_HANDLE",
    "IDX_DURATION_SKILL_MAX_QUEUE_ACK", "IDX_COUNT_20S_CALL_FOR_5MIN",
    "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_CONNECT",
    "IDX_COUNT_REAL_AGENT_SET_IDLE", "IDX_COUNT_REAL_AGENT_USABLE",
    "IDX_COUNT_REAL_AGENT_SET_BUSY", "IDX_COUNT_REAL_AGENT_ACW", "IDX_COUNT_REAL_AGENT_REST",
    "IDX_COUNT_REAL_AGENT_STUDY",
]  # fmt: skip
NO_CALL = "4294967295-4294967295"


async def fed(api: Api) -> int:
    """Agents and calls of queues 1 and 2 (VDN 1), around the current 5 minutes (from
    now - 200 s: the clock is set 200 s past a moment whose minutes end in 0 or 5). Queue 1: B waits since now - 95 s, C (a
    chat) since - 40 s, F (from queue 2) since - 10 s; A talks to 101 (queued - 148 s,
    offered - 140 s, answered - 137 s); G was answered 30 s after it queued and ended.
    Queue 2: D answered before the window and ended in it; E abandoned."""
    api.clock.now = int(api.clock()) // 300 * 300 + 200
    now = int(api.clock() * 1000)

    def agent(work_no: int, status: int, skills: list[int], ago_s: int) -> dict[str, Any]:
        return {"eventId": f"g{work_no}", "ccId": 1, "vdn": 1, "agentId": work_no,
                "at": now - ago_s * 1000, "ctiStatus": status, "skills": skills}  # fmt: skip

    def call(n: str, ago_s: int, kind: str, **fields: Any) -> dict[str, Any]:
        number = "ABCDEFG".index(n[0]) + 1
        return {"eventId": f"{n}", "ccId": 1, "vdn": 1, "callId": f"1789999700-{number}",
                "at": now - ago_s * 1000, "callEvent": kind, **fields}  # fmt: skip

    events = [
        agent(101, 5, [1, 2], 30), agent(102, 1, [1], 50), agent(103, 1, [1, 2], 20),
        agent(104, 7, [2], 30), agent(105, 0, [1], 30), agent(106, 8, [1], 30),
        agent(107, 6, [1], 30),
        call("A1", 150, "arrive", callerNo="88881364", calleeNo="650550", accessCode="650550"),
        call("A2", 148, "queue", skillId=1),
        call("A3", 140, "offer", agentId=101),
        call("A4", 137, "answer"),
        call("B1", 100, "arrive", callerNo="88881365", calleeNo="650551"),
        call("B2", 95, "queue", skillId=1),
        call("C1", 45, "arrive", callerNo="88881366", mediaType=1),
        call("C2", 40, "queue", skillId=1),
        call("D1", 400, "queue", skillId=2),
        call("D2", 370, "answer", agentId=104),
        call("D3", 190, "end"),
        call("E1", 60, "queue", skillId=2),
        call("E2", 30, "abandon"),
        call("F1", 250, "queue", skillId=2),
        call("F2", 10, "transfer", skillId=1),
        call("G1", 190, "queue", skillId=1),
        call("G2", 160, "answer", agentId=102),
        call("G3", 100, "end"),
        # another VDN's queued call, in queue 1 too
        {"eventId": "x1", "ccId": 1, "vdn": 2, "callId": "1789999700-9", "at": now - 5_000,
         "callEvent": "queue", "skillId": 1},
    ]  # fmt: skip
    answer = (await api.events(events)).json()["resultDesc"]
    assert answer == {"accepted": len(events), "duplicates": 0}
    return now


def _ok(answer: Any) -> Any:
    body = answer.json()
    assert answer.status_code == 200 and body["resultCode"] == "0100000", body
    assert body["result"] == "0" and body["resultDatas"] == body["resultDesc"]
    return body["resultDesc"]


async def test_totalskillstatusex3_answers_queues_now(list_api: Api) -> None:
    await fed(list_api)
    answer = await list_api.post(STATUS, {"ccId": 1, "vdn": 1, "skillIds": [1, "2", 9, 1]})
    assert _ok(answer) == [
        {"skillId": 1, "queueSize": 3, "queueTime": 95, "loggedOnAgents": 5, "availAgents": 2,
         "skillDescrip": "1", "callId": "1789999700-2", "maxQueueSize": 65535},
        {"skillId": 2, "queueSize": 0, "queueTime": 0, "loggedOnAgents": 3, "availAgents": 1,
         "skillDescrip": "2", "callId": NO_CALL, "maxQueueSize": 65535},
        {"skillId": 9, "queueSize": 0, "queueTime": 0, "loggedOnAgents": 0, "availAgents": 0,
         "skillDescrip": "9", "callId": NO_CALL, "maxQueueSize": 65535},
    ]  # fmt: skip
    other = await list_api.post(STATUS, {"queryParam": {"ccId": 1, "vdn": 2, "skillIds": [1]}})
    assert _ok(other) == [
        {"skillId": 1, "queueSize": 1, "queueTime": 5, "loggedOnAgents": 0, "availAgents": 0,
         "skillDescrip": "1", "callId": "1789999700-9", "maxQueueSize": 65535},
    ]  # fmt: skip


QUEUE_1 = {
    "skillId": 1, "agentLoginNums": 5, "agentTalkingNums": 1, "agentIdleNums": 2,
    "agentAvailableNums": 2, "agentSetBusyNums": 0, "agentRestNums": 1,
    "agentMaxIdleTimeIn5": 50, "agentWorkNums": 1, "agentStudyNums": 0, "agentOccupyNums": 0,
    "agentPreOccupyNums": 0, "totalCallNums": 2, "processingCallNums": 1,
    "maxCallWaitTimesIn5": 95, "callWaitNums": 3, "evenCallTimeIn5": 60,
    "evenWaitTimeIn5": 19, "allCallCount": 4, "cnnedIn20sCallCount": 1,
}  # fmt: skip
QUEUE_2 = {
    "skillId": 2, "agentLoginNums": 3, "agentTalkingNums": 1, "agentIdleNums": 1,
    "agentAvailableNums": 1, "agentSetBusyNums": 1, "agentRestNums": 0,
    "agentMaxIdleTimeIn5": 20, "agentWorkNums": 0, "agentStudyNums": 0, "agentOccupyNums": 0,
    "agentPreOccupyNums": 0, "totalCallNums": 0, "processingCallNums": 0,
    "maxCallWaitTimesIn5": 0, "callWaitNums": 0, "evenCallTimeIn5": 180,
    "evenWaitTimeIn5": 0, "allCallCount": 1, "cnnedIn20sCallCount": 0,
}  # fmt: skip


async def test_stateinfo_answers_agents_and_calls(list_api: Api) -> None:
    await fed(list_api)
    body = {"queryParam": {"ccId": 1, "vdn": 1, "skillIds": [2, 1, 2]}}  # the vendor's shape
    assert _ok(await list_api.post(STATE, body)) == [QUEUE_2, QUEUE_1]
    empty = _ok(await list_api.post(STATE, {"ccId": 1, "vdn": 1, "skillIds": [7]}))
    assert empty == [{key: 7 if key == "skillId" else 0 for key in QUEUE_1}]


async def test_legacy_stateinfo_answers_the_legacy_shape(list_api: Api) -> None:
    await fed(list_api)
    answer = await list_api.post(LEGACY_STATE, {"queryParam": {"ccId": 1, "vdn": 1,
                                                               "skillIds": [1, 2]}})  # fmt: skip
    assert answer.status_code == 200
    legacy = []
    for queue in (QUEUE_1, QUEUE_2):
        item = {k: v for k, v in queue.items() if k not in ("allCallCount", "cnnedIn20sCallCount")}
        item["agentSetbusyNums"] = item.pop("agentSetBusyNums")
        legacy.append(item)
    assert answer.json() == {"result": "0", "resultDatas": legacy}


async def test_skill_rindex_answers_the_codes_asked(list_api: Api) -> None:
    await fed(list_api)
    body = {"ccId": 1, "vdn": 1, "skillIds": [1, 3], "indexIds": CODES}
    values = [3, 1, 95, 1, 5, 1, 2, 2, 0, 1, 1, 0]
    assert _ok(await list_api.post(RINDEX, body)) == [
        {"id": "1", "idxs": [{"id": c, "val": v} for c, v in zip(CODES, values, strict=True)]},
        {"id": "3", "idxs": [{"id": c, "val": 0} for c in CODES]},
    ]
    two = {"ccId": 1, "vdn": 1, "skillIds": [2],
           "indexIds": ["IDX_COUNT_REAL_AGENT_SET_BUSY", "IDX_COUNT_REAL_SKILL_QUEUE",
                        "IDX_COUNT_REAL_AGENT_SET_BUSY"]}  # fmt: skip
    assert _ok(await list_api.post(RINDEX, two)) == [
        {"id": "2", "idxs": [{"id": "IDX_COUNT_REAL_AGENT_SET_BUSY", "val": 1},
                             {"id": "IDX_COUNT_REAL_SKILL_QUEUE", "val": 0}]},
    ]  # fmt: skip


async def test_batchmultiskill_lists_the_queued_voice_calls(list_api: Api) -> None:
    now = await fed(list_api)
    answer = await list_api.post(BATCH, {"ccId": 1, "vdn": 1, "skillIds": [1, 2]})
    assert _ok(answer) == [
        {"skillId": 1, "callPropertyExs": [
            {"callId": "1789999700-2", "customerLevel": 0, "requestType": 0,
             "calling": "88881365", "called": "650551", "mediaType": "MEDIA_TYPE_PHONE",
             "orgiCalled": "650551", "callInTime": now - 100_000, "callPriority": 0,
             "waitTime": 95, "callQueueFlag": 1},
            {"callId": "1789999700-6", "customerLevel": 0, "requestType": 0, "calling": "",
             "called": "", "mediaType": "MEDIA_TYPE_PHONE", "orgiCalled": "",
             "callInTime": now - 250_000, "callPriority": 0, "waitTime": 10,
             "callQueueFlag": 1},
        ]},
        {"skillId": 2, "callPropertyExs": []},
    ]  # fmt: skip


async def test_queuedevicestatus_lists_every_queued_call(list_api: Api) -> None:
    await fed(list_api)
    answer = await list_api.post(DEVICES, {"ccId": 1, "vdn": 1, "skillId": "1"})
    assert _ok(answer) == [
        {"callId": f"1789999700-{n}", "customerLevel": 0, "requestType": 0} for n in (2, 3, 6)
    ]  # longest waiting first; the chat too
    assert _ok(await list_api.post(DEVICES, {"ccId": 1, "vdn": 1, "skillId": 2})) == []
    other = await list_api.post(DEVICES, {"ccId": 1, "vdn": 2, "skillId": 1})
    assert [c["callId"] for c in _ok(other)] == ["1789999700-9"]


def _body(path: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ccId": 1, "vdn": 1, "skillIds": [1]}
    if path == RINDEX:
        body["indexIds"] = ["IDX_COUNT_REAL_SKILL_QUEUE"]
    if path == DEVICES:
        body = {"ccId": 1, "vdn": 1, "skillId": 1}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize("path", BATCH_ROUTES)
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"skillIds": None}, "skillIds is required"),
        ({"skillIds": []}, "skillIds must be a list of 1 to 1000 integers from 1 to 10000"),
        ({"skillIds": [0]}, "skillIds must be a list of 1 to 1000 integers from 1 to 10000"),
        ({"skillIds": [10001]}, "skillIds must be a list of 1 to 1000 integers"),
        ({"skillIds": "1"}, "skillIds must be a list of 1 to 1000 integers"),
        ({"skillIds": [1.5]}, "skillIds must be a list of 1 to 1000 integers"),
        ({"skillIds": list(range(1, 1002))}, "skillIds must be a list of 1 to 1000 integers"),
        ({"ccId": None}, "ccId is required"),
        ({"ccId": "x"}, "ccId must be an integer from 1 to 65535"),
        ({"vdn": 5001}, "vdn must be an integer from 1 to 5000"),
    ],
)
async def test_batch_request_rules(
    list_api: Api, path: str, change: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(path, _body(path, **change)), 200, "0100002")
    assert text.startswith(message), text
    if len(change.get("skillIds") or []) == 1001:  # the limit itself is taken
        ok = await list_api.post(path, _body(path, skillIds=list(range(1, 1001))))
        items = ok.json()["resultDatas"]
        assert len(items) == 1000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"indexIds": None}, "indexIds is required"),
        ({"indexIds": []}, "indexIds must be a list of 1 to 12 of the skill indicator codes"),
        ({"indexIds": ["IDX_NOPE"]}, "indexIds must be a list of 1 to 12"),
        ({"indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}, "indexIds must be a list of 1 to 12"),
        ({"indexIds": ["IDX_SKILL_RESERVED_COL1"]}, "indexIds must be a list of 1 to 12"),
        ({"indexIds": "IDX_COUNT_REAL_SKILL_QUEUE"}, "indexIds must be a list of 1 to 12"),
        ({"indexIds": [1]}, "indexIds must be a list of 1 to 12"),
        ({"indexIds": [*CODES, "IDX_COUNT_REAL_SKILL_QUEUE"]}, "indexIds must be a list of"),
    ],
)
async def test_skill_rindex_request_rules(
    list_api: Api, change: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(RINDEX, _body(RINDEX, **change)), 200, "0100002")
    assert text.startswith(message), text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"skillId": None}, "skillId is required"),
        ({"skillId": 0}, "skillId must be an integer from 1 to 10000"),
        ({"skillId": 10001}, "skillId must be an integer from 1 to 10000"),
        ({"skillId": [1]}, "skillId must be an integer from 1 to 10000"),
        ({"skillId": "one"}, "skillId must be an integer from 1 to 10000"),
        ({"vdn": None}, "vdn is required"),
    ],
)
async def test_queuedevicestatus_request_rules(
    list_api: Api, change: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(DEVICES, _body(DEVICES, **change)), 200, "0100002")
    assert text == message


@pytest.mark.parametrize("path", [*BATCH_ROUTES, DEVICES])
async def test_scopes_and_roles(list_api: Api, path: str) -> None:
    await fed(list_api)
    body = _body(path, vdn=2)
    denied = await list_api.post(path, body, ak=SCOPED_AK, sk=SCOPED_SK)
    envelope_error(denied, 200, "0101003")
    allowed = await list_api.post(path, {**body, "vdn": 1}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert allowed.status_code == 200
    assert allowed.json()["result"] == "0" and allowed.json()["resultDatas"]
    no_role = await list_api.post(path, {**body, "vdn": 1}, ak=INGEST_AK, sk=INGEST_SK)
    envelope_error(no_role, 200, "0101003")


async def test_the_example_of_the_docs(list_api: Api) -> None:
    """docs/api.md's "Skill queues now" example, field by field."""
    await fed(list_api)
    text = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    start = text.index("## Skill queues now")
    section = text[start : text.index("\n## ", start + 1)]
    [example] = [orjson.loads(b) for b in re.findall(r"```json\n(.*?)```", section, re.S)]
    answer = await list_api.post(STATUS, {"ccId": 1, "vdn": 1, "skillIds": [1, 9]})
    assert answer.json() == {**example, "resultDatas": example["resultDesc"]}


async def test_the_examples_of_calls_md(tmp_path: Path) -> None:
    """docs/calls.md's request and answer of each route of this file but
    ``totalskillstatusex3`` (docs/api.md's, above), field by field, for :func:`fed`'s agents
    and calls at the tests' clock (1790000000)."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "calls.md").read_text(encoding="utf-8")

    def examples(heading: str) -> list[Any]:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        section = text[start : end if end != -1 else None]
        return [orjson.loads(b) for b in re.findall(r"```json\n(.*?)```", section, re.S)]

    clock = FrozenClock()
    store = SQLiteStore(str(tmp_path / "ccms.db"), clock=clock)
    app = create_app(load_settings({}), store, test_keys(), clock)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            api = Api(http, clock)
            await fed(api)
            sections = {
                "## skill/stateinfo and realindex/skill/stateinfo": [STATE, LEGACY_STATE],
                "## skill/rindex": [RINDEX],
                "## skill/batchmultiskill": [BATCH],
                "## skill/queuedevicestatus": [DEVICES],
            }
            for heading, paths in sections.items():
                found = examples(heading)
                assert len(found) == 2 * len(paths), heading
                for path, body, expected in zip(paths, found[::2], found[1::2], strict=True):
                    if "resultDesc" in expected:  # left out of the docs: the same again
                        expected = {**expected, "resultDatas": expected["resultDesc"]}
                    assert (await api.post(path, body)).json() == expected, path
    finally:
        await app.shutdown()
