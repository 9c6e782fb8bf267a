"""The call routes (``vdn/querycalls`` v1 and v2, ``calldata/querybasiccallinfo``), fed
through the intake, on every backend: answers field by field, request rules, scopes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import INGEST_AK, INGEST_SK, SCOPED_AK, SCOPED_SK, Api
from tests.integration.http.test_agent_routes import envelope_error

from ccms.domain.call import DAY_MS

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

V1 = "/rest/cmsapp/v1/openapi/vdn/querycalls"
V2 = "/rest/cmsapp/v2/openapi/vdn/querycalls"
BASIC = "/rest/cmsapp/v1/openapi/calldata/querybasiccallinfo"
COUNTS = "/rest/cmsapp/v1/openapi/skill/currentcallstateinfo"


def calls_of_today(now: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Four calls of the last few minutes: answered (inbound), abandoned while queued
    (inbound), outbound (ended), and one in progress, talking to agent 101."""
    t = now - 300_000
    ids = {name: f"{t // 1000}-{n}" for n, name in enumerate(("answered", "lost", "out", "live"))}

    def e(n: int, call: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
        return {"eventId": f"{call}-{n}", "ccId": 1, "vdn": 1, "callId": ids[call], "at": at,
                "callEvent": kind, **fields}  # fmt: skip

    events = [
        e(1, "answered", "arrive", t, callerNo="88881364", calleeNo="650550", accessCode="650550",
          mediaType=5, callType=0),
        e(2, "answered", "queue", t + 2_000, skillId=3),
        e(3, "answered", "offer", t + 14_000, agentId=101, skillId=3),
        e(4, "answered", "answer", t + 17_000, agentId=101),
        e(5, "answered", "end", t + 75_000, leaveReason=16, releaseCause=510),
        e(1, "lost", "arrive", t + 1_000, callerNo="88881365", calleeNo="650550"),
        e(2, "lost", "queue", t + 3_000, skillId=3),
        e(3, "lost", "abandon", t + 33_000),
        e(1, "out", "arrive", t + 5_000, callerNo="650550", calleeNo="13800000000", callType=7),
        e(2, "out", "answer", t + 9_000, agentId=102),
        e(3, "out", "end", t + 20_000),
        e(1, "live", "arrive", t + 200_000, callerNo="88881366", calleeNo="650551",
          accessCode="650551", mediaType=5, subMediaType=-1),
        e(2, "live", "queue", t + 201_000, skillId=4),
        e(3, "live", "offer", t + 230_000, agentId=101),
        e(4, "live", "answer", t + 236_000),
    ]  # fmt: skip
    return events, ids


async def fed(api: Api) -> tuple[int, dict[str, str]]:
    now = int(api.clock() * 1000)
    events, ids = calls_of_today(now)
    accepted = (await api.events(events)).json()["resultDesc"]
    assert accepted == {"accepted": len(events), "duplicates": 0}
    return now, ids


def today(now: int) -> dict[str, int]:
    """From 00:00 UTC yesterday (the oldest moment kept) to now."""
    return {"beginDate": now // DAY_MS * DAY_MS - DAY_MS, "endDate": now}


async def test_querycalls_v1_answers_the_inbound_records_field_by_field(list_api: Api) -> None:
    now, ids = await fed(list_api)
    t = now - 300_000
    answer = await list_api.post(V1, {"ccId": 1, "vdn": 1, **today(now)})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"resultCode", "resultDesc"}  # the vendor's E2 envelope
    assert body["resultCode"] == "0100000"
    assert body["resultDesc"] == {
        "data": [
            {"logDate": t + 75_000, "callerNo": "88881364", "calleeNo": "650550",
             "callId": ids["answered"], "callType": 0, "waitBegin": t + 2_000,
             "ackBegin": t + 14_000, "callBegin": t + 17_000, "callEnd": t + 75_000, "vdn": 1,
             "leaveReason": 16, "mediaType": 5, "subMediaType": -1},
            {"logDate": t + 33_000, "callerNo": "88881365", "calleeNo": "650550",
             "callId": ids["lost"], "callType": 0, "waitBegin": t + 3_000, "ackBegin": 0,
             "callBegin": 0, "callEnd": t + 33_000, "vdn": 1, "leaveReason": 89,
             "mediaType": 5, "subMediaType": -1},
        ],
        "count": 2,
    }  # fmt: skip


async def test_querycalls_v2_by_direction_and_in_pages(list_api: Api) -> None:
    now, ids = await fed(list_api)
    t = now - 300_000
    # the integrator's body: digit strings for the dates, no paging
    strings = {k: str(v) for k, v in today(now).items()}
    out = (await list_api.post(V2, {"ccId": 1, "vdn": 1, **strings, "isCallIn": "false"})).json()
    assert out["resultDesc"] == {
        "data": [
            {"logDate": t + 20_000, "callerNo": "650550", "calleeNo": "13800000000",
             "callId": ids["out"], "callType": 7, "waitBegin": 0, "ackBegin": t + 9_000,
             "callBegin": t + 9_000, "callEnd": t + 20_000, "vdn": 1, "leaveReason": 15,
             "mediaType": 5, "subMediaType": -1},
        ],
        "count": 1,
    }  # fmt: skip
    second = {"queryParam": {"ccId": 1, "vdn": 1, **today(now), "isCallIn": "true",
                             "limit": 1, "offset": 1}}  # fmt: skip
    page = (await list_api.post(V2, second)).json()["resultDesc"]
    assert (page["count"], [r["callId"] for r in page["data"]]) == (2, [ids["lost"]])
    by_caller = {"ccId": 1, "vdn": 1, **today(now), "isCallIn": True, "callerNo": "88881364"}
    page = (await list_api.post(V2, by_caller)).json()["resultDesc"]
    assert (page["count"], [r["callId"] for r in page["data"]]) == (1, [ids["answered"]])
    narrow = {"ccId": 1, "vdn": 1, "beginDate": t + 500, "endDate": t + 2_000, "isCallIn": "true"}
    page = (await list_api.post(V2, narrow)).json()["resultDesc"]
    assert [r["callId"] for r in page["data"]] == [ids["lost"]]  # entered at t + 1 s
    empty = (await list_api.post(V2, {**narrow, "vdn": 2})).json()
    assert empty == {"resultCode": "0100000", "resultDesc": {"data": [], "count": 0}}


async def test_querybasiccallinfo_answers_a_call_in_progress(list_api: Api) -> None:
    now, ids = await fed(list_api)
    t = now - 300_000
    answer = (await list_api.post(BASIC, {"ccId": 1, "vdn": 1, "callId": ids["live"]})).json()
    assert answer["resultCode"] == "0100000" and answer["resultDatas"] == answer["resultDesc"]
    assert answer["resultDesc"] == {
        "time": t + 200_000, "dsn": 0, "handle": 0, "server": 0, "keyId": ids["live"],
        "callingNum": "88881366", "calledNum": "650551", "mid": 0, "trunkNo": 0,
        "priority": 0, "deviceType": 2, "deviceNo": 101, "callSkill": "4", "partyNum": 2,
        "callFeature": 0, "orgiCalledNum": "650551", "mediaType": 5, "submediaType": -1,
        "place": 0, "waitTime": 29, "totalTalkingTimes": 64, "logonTimes": 100,
        "serviceType": 0, "callInCause": 65535, "enterReason": 0, "mediaBillType": "0",
    }  # fmt: skip
    queued = {"eventId": "q1", "ccId": 1, "vdn": 1, "callId": "1789999000-5", "at": now - 7_500,
              "callEvent": "queue", "skillId": 9}  # fmt: skip
    await list_api.events([queued])
    info = (await list_api.post(BASIC, {"ccId": 1, "vdn": 1, "callId": "1789999000-5"})).json()
    desc = info["resultDesc"]
    assert (desc["deviceType"], desc["deviceNo"], desc["callSkill"], desc["waitTime"]) == (
        1, 9, "9", 7,
    )  # fmt: skip


@pytest.mark.parametrize("call", ["answered", "nobody"], ids=["ended", "unknown"])
async def test_querybasiccallinfo_of_a_call_not_in_progress(list_api: Api, call: str) -> None:
    _, ids = await fed(list_api)
    call_id = ids.get(call, "1789999999-1")
    text = envelope_error(
        await list_api.post(BASIC, {"ccId": 1, "vdn": 1, "callId": call_id}), 200, "0100001"
    )
    assert text == f"call {call_id} is not in progress in call center 1, vdn 1"
    # nor in another VDN
    other = await list_api.post(BASIC, {"ccId": 1, "vdn": 2, "callId": ids["live"]})
    envelope_error(other, 200, "0100001")


def _dates(clock_s: float) -> dict[str, int]:
    now = int(clock_s * 1000)
    return {
        "beginDate": now // DAY_MS * DAY_MS - DAY_MS,
        "endDate": (now // DAY_MS + 1) * DAY_MS - 1,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ccId": None}, "ccId is required"),
        ({"vdn": 0}, "vdn must be an integer from 1 to 5000"),
        ({"beginDate": None}, "beginDate is required"),
        ({"endDate": None}, "endDate is required"),
        ({"isCallIn": None}, "isCallIn is required"),
        ({"beginDate": "yesterday"}, "beginDate must be a time in ms since the epoch from"),
        ({"beginDate": 1.5}, "beginDate must be a time in ms"),
        ({"beginDate": -1}, "beginDate must be a time in ms since the epoch from"),
        ({"beginDate": "before"}, "beginDate must be a time in ms since the epoch from"),
        ({"endDate": "after"}, "endDate must be a time in ms since the epoch from"),
        ({"endDate": "first"}, "endDate must not be earlier than beginDate"),
        ({"isCallIn": "yes"}, 'isCallIn must be "true" (inbound) or "false" (outbound)'),
        ({"isCallIn": 1}, 'isCallIn must be "true"'),
        ({"limit": 0}, "limit must be an integer from 1 to 100"),
        ({"limit": 101}, "limit must be an integer from 1 to 100"),
        ({"limit": "ten"}, "limit must be an integer from 1 to 100"),
        ({"offset": -1}, "offset must be an integer from 0 to 2147483647"),
        ({"callerNo": 88881364}, "callerNo must be a string of at most 32 printable characters"),
        ({"calleeNo": "6" * 33}, "calleeNo must be a string of at most 32"),
        ({"calleeNo": "65\t0"}, "calleeNo must be a string of at most 32 printable"),
    ],
)
async def test_querycalls_request_rules(
    list_api: Api, change: dict[str, Any], message: str
) -> None:
    dates = _dates(list_api.clock())
    body: dict[str, Any] = {"ccId": 1, "vdn": 1, **dates, "isCallIn": "true"}
    edge = {"before": dates["beginDate"] - 1, "after": dates["endDate"] + 1,
            "first": dates["beginDate"]}  # fmt: skip
    for name, value in change.items():
        if value is None:
            del body[name]
        elif name == "endDate" and value == "first":
            body["beginDate"], body["endDate"] = dates["beginDate"] + 1, edge["first"]
        else:
            body[name] = edge.get(value, value) if isinstance(value, str) else value
    text = envelope_error(await list_api.post(V2, body), 200, "0100002")
    assert text.startswith(message), text
    if "isCallIn" not in change:  # v1 takes the same rules, and no isCallIn
        v1_body = {k: v for k, v in body.items() if k != "isCallIn"}
        assert envelope_error(await list_api.post(V1, v1_body), 200, "0100002") == text


async def test_querycalls_takes_the_edges_of_the_days_kept(list_api: Api) -> None:
    await fed(list_api)
    dates = _dates(list_api.clock())
    answer = (await list_api.post(V1, {"ccId": "1", "vdn": "1", **dates, "limit": 100})).json()
    assert answer["resultDesc"]["count"] == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ccId": 1, "vdn": 1}, "callId is required"),
        ({"ccId": 1, "vdn": 1, "callId": 1789999000}, "callId must be a call id"),
        ({"ccId": 1, "vdn": 1, "callId": "1789999000-"}, "callId must be a call id"),
        ({"ccId": 1, "vdn": 1, "callId": "12345678901234567-1"}, "callId must be a call id"),
        ({"ccId": 65536, "vdn": 1, "callId": "1789999000-1"}, "ccId must be an integer from"),
    ],
)
async def test_querybasiccallinfo_request_rules(
    list_api: Api, body: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(BASIC, body), 200, "0100002")
    assert text.startswith(message), text


@pytest.mark.parametrize("path", [V1, V2, BASIC, COUNTS])
async def test_scopes_and_roles(list_api: Api, path: str) -> None:
    now, ids = await fed(list_api)
    body: dict[str, Any] = {"ccId": 1, "vdn": 2, **today(now), "isCallIn": "true"}
    if path != V2:
        del body["isCallIn"]
    if path == BASIC:
        body = {"ccId": 1, "vdn": 2, "callId": ids["live"]}
    if path == COUNTS:
        body = {"ccId": 1, "vdn": 2, "skillIds": [3]}
    denied = await list_api.post(path, body, ak=SCOPED_AK, sk=SCOPED_SK)
    envelope_error(denied, 200, "0101003")
    allowed = await list_api.post(path, {**body, "vdn": 1}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert allowed.json()["resultCode"] == "0100000"
    no_role = await list_api.post(path, {**body, "vdn": 1}, ak=INGEST_AK, sk=INGEST_SK)
    envelope_error(no_role, 200, "0101003")


def _json_blocks(path: Path, heading: str) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    section = text[start : end if end != -1 else None]
    return [orjson.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]


async def test_the_calls_examples_of_the_docs(api: Api) -> None:
    """docs/intake.md's call events and docs/api.md's Calls examples, field by field (the
    app's clock is 1790000000000)."""
    docs = Path(__file__).resolve().parents[3] / "docs"
    intake = _json_blocks(docs / "intake.md", "## Call events")[0]
    blocks = _json_blocks(docs / "api.md", "## Calls")
    events, v2_body, v2_answer, basic_body, basic_answer = blocks[:5]
    counts_body, counts_answer, rindex_body, rindex_answer = blocks[5:]
    for batch in (intake, events):
        answer = (await api.events(batch["events"])).json()["resultDesc"]
        assert answer == {"accepted": len(batch["events"]), "duplicates": 0}
    assert (await api.post(V2, v2_body)).json() == v2_answer
    v1_body = {k: v for k, v in v2_body.items() if k != "isCallIn"}
    assert (await api.post(V1, v1_body)).json() == v2_answer
    assert (await api.post(BASIC, basic_body)).json() == {
        **basic_answer,
        "resultDatas": basic_answer["resultDesc"],
    }
    assert (await api.post(COUNTS, counts_body)).json() == {
        **counts_answer,
        "resultDatas": counts_answer["resultDesc"],
    }
    assert (await api.post(RINDEX, rindex_body)).json() == {
        **rindex_answer,
        "resultDatas": rindex_answer["resultDesc"],
    }
    ended = await api.post(BASIC, {**basic_body, "callId": "1789999700-17"})
    assert envelope_error(ended, 200, "0100001") == (
        "call 1789999700-17 is not in progress in call center 1, vdn 1"
    )
    early = await api.post(V1, {**v1_body, "beginDate": "1789862399999"})
    assert envelope_error(early, 200, "0100002") == (
        "beginDate must be a time in ms since the epoch from 1789862400000 to 1790035199999"
        " (the days kept, UTC)"
    )


async def test_currentcallstateinfo_counts_the_current_5_minutes(list_api: Api) -> None:
    now = int(list_api.clock() * 1000)
    start = now // 300_000 * 300_000

    def e(n: str, call: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
        return {"eventId": n, "ccId": 1, "vdn": 1, "callId": call, "at": at,
                "callEvent": kind, **fields}  # fmt: skip

    events = [
        e("a1", "1789999000-1", "arrive", start),
        e("a2", "1789999000-1", "queue", start + 1_000, skillId=1),
        e("a3", "1789999000-1", "answer", start + 15_000, agentId=101),
        e("b1", "1789999000-2", "queue", start - 60_000, skillId=1),
        e("b2", "1789999000-2", "abandon", start + 2_000),
        e("c1", "1789999000-3", "queue", start + 3_000, skillId=2),
        e("c2", "1789999000-3", "transfer", start + 4_000, skillId=1),
    ]
    assert (await list_api.events(events)).json()["resultDesc"]["accepted"] == 7
    answer = await list_api.post(COUNTS, {"queryParam": {"ccId": 1, "vdn": 1,
                                                         "skillIds": [2, "1", 2]}})  # fmt: skip
    body = answer.json()
    assert body["resultCode"] == "0100000" and body["resultDatas"] == body["resultDesc"]
    zero = {"allCallCount": 0, "cnnedCallCount": 0, "abanCallCount": 0, "callEndCount": 0,
            "talkTimeOnIvr": 0, "cnnedIn20sCallCount": 0, "clearUpCallCount": 0,
            "clearUpTime": 0}  # fmt: skip
    assert body["resultDesc"] == [
        {"id": 2, "startTime": start, **zero},  # the call moved on to queue 1
        {"id": 1, "startTime": start, "allCallCount": 2, "cnnedCallCount": 1,
         "abanCallCount": 1, "callEndCount": 1, "talkTimeOnIvr": 1, "cnnedIn20sCallCount": 1,
         "clearUpCallCount": 0, "clearUpTime": 0},
    ]  # fmt: skip
    other = await list_api.post(COUNTS, {"ccId": 1, "vdn": 2, "skillIds": [1]})
    assert other.json()["resultDesc"] == [{"id": 1, "startTime": start, **zero}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ccId": 1, "vdn": 1}, "skillIds is required"),
        ({"ccId": 1, "vdn": 1, "skillIds": []}, "skillIds must be a list of 1 to 1000 integers"),
        ({"ccId": 1, "vdn": 1, "skillIds": [0]}, "skillIds must be a list of 1 to 1000 integers"),
        ({"ccId": 1, "vdn": 1, "skillIds": [10001]}, "skillIds must be a list of 1 to 1000"),
        ({"ccId": 1, "vdn": 1, "skillIds": "1"}, "skillIds must be a list of 1 to 1000"),
        ({"ccId": 1, "vdn": 1, "skillIds": list(range(1, 1002))}, "skillIds must be a list of"),
        ({"vdn": 1, "skillIds": [1]}, "ccId is required"),
    ],
)
async def test_currentcallstateinfo_request_rules(
    list_api: Api, body: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(COUNTS, body), 200, "0100002")
    assert text.startswith(message), text
    if "skillIds" in body and len(body["skillIds"]) == 1001:
        ok = await list_api.post(COUNTS, {**body, "skillIds": list(range(1, 1001))})
        assert len(ok.json()["resultDesc"]) == 1000  # the limit itself is taken


RINDEX = "/rest/cmsapp/v1/openapi/rindex/vdn"
ALL_CODES = [
    "IDX_COUNT_REAL_VDN_CONNECT", "IDX_COUNT_REAL_VDN_CALL", "IDX_COUNT_REAL_IVR_HANDLE",
    "IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_SET_IDLE",
    "IDX_COUNT_REAL_AGENT_SET_BUSY", "IDX_COUNT_REAL_AGENT_CONNECT", "IDX_COUNT_REAL_AGENT_STUDY",
    "IDX_COUNT_REAL_AGENT_ACW", "IDX_COUNT_REAL_AGENT_ANSWER", "IDX_COUNT_REAL_AGENT_PREOCCUPY",
    "IDX_COUNT_REAL_AGENT_OCCUPY", "IDX_COUNT_REAL_AGENT_NOT_SIGN_IN", "IDX_COUNT_REAL_AGENT_REST",
]  # fmt: skip


async def test_rindex_vdn_counts_the_agents_and_calls_now(list_api: Api) -> None:
    now, _ = await fed(list_api)  # VDN 1: one call talking, three ended
    at = now - 10_000
    agents = [
        {"eventId": f"g{work_no}", "ccId": 1, "vdn": vdn, "agentId": work_no, "at": at,
         "ctiStatus": status}
        for vdn, work_no, status in [(1, 101, 5), (1, 102, 1), (1, 103, 7), (1, 104, 0),
                                     (1, 105, 6), (1, 106, 8), (2, 101, 1)]
    ]  # fmt: skip
    more_calls = [
        {"eventId": "v1", "ccId": 1, "vdn": 1, "callId": "1789999000-41", "at": at,
         "callEvent": "arrive"},
        {"eventId": "v2", "ccId": 1, "vdn": 1, "callId": "1789999000-42", "at": at,
         "callEvent": "queue", "skillId": 1},
        {"eventId": "v3", "ccId": 1, "vdn": 1, "callId": "1789999000-43", "at": at,
         "callEvent": "offer", "agentId": 102},
        {"eventId": "v4", "ccId": 1, "vdn": 2, "callId": "1789999000-44", "at": at,
         "callEvent": "queue", "skillId": 1},
    ]  # fmt: skip
    assert (await list_api.events(agents + more_calls)).json()["resultCode"] == "0100000"
    answer = await list_api.post(RINDEX, {"vdnIds": [1, "2", 3, 1], "indexIds": ALL_CODES})
    body = answer.json()
    assert body["resultCode"] == "0100000" and body["resultDatas"] == body["resultDesc"]
    values = [dict.fromkeys(ALL_CODES, 0) for _ in range(3)]
    values[0].update({
        "IDX_COUNT_REAL_VDN_CONNECT": 1, "IDX_COUNT_REAL_VDN_CALL": 4,
        "IDX_COUNT_REAL_IVR_HANDLE": 1, "IDX_COUNT_REAL_SKILL_QUEUE": 1,
        "IDX_COUNT_REAL_AGENT_SIGN_IN": 5, "IDX_COUNT_REAL_AGENT_SET_IDLE": 1,
        "IDX_COUNT_REAL_AGENT_SET_BUSY": 1, "IDX_COUNT_REAL_AGENT_CONNECT": 1,
        "IDX_COUNT_REAL_AGENT_ACW": 1, "IDX_COUNT_REAL_AGENT_NOT_SIGN_IN": 1,
        "IDX_COUNT_REAL_AGENT_REST": 1,
    })  # fmt: skip
    values[1].update({"IDX_COUNT_REAL_VDN_CALL": 1, "IDX_COUNT_REAL_SKILL_QUEUE": 1,
                      "IDX_COUNT_REAL_AGENT_SIGN_IN": 1, "IDX_COUNT_REAL_AGENT_SET_IDLE": 1})  # fmt: skip
    assert body["resultDesc"] == [
        {"id": vdn, "idxs": [{"id": code, "val": v[code]} for code in ALL_CODES]}
        for vdn, v in zip(["1", "2", "3"], values, strict=True)
    ]
    one = await list_api.post(
        RINDEX, {"ccId": 1, "vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_SKILL_QUEUE"]}
    )
    assert one.json()["resultDesc"] == [
        {"id": "1", "idxs": [{"id": "IDX_COUNT_REAL_SKILL_QUEUE", "val": 1}]}
    ]
    other = await list_api.post(
        RINDEX, {"ccId": 2, "vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}
    )
    assert other.json()["resultDesc"][0]["idxs"][0]["val"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}, "vdnIds is required"),
        ({"vdnIds": [1]}, "indexIds is required"),
        ({"vdnIds": [], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}, "vdnIds must be a list of 1 to 100"),
        ({"vdnIds": list(range(1, 102)), "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]},
         "vdnIds must be a list of 1 to 100 integers from 1 to 5000"),
        ({"vdnIds": [5001], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}, "vdnIds must be a list"),
        ({"vdnIds": [1], "indexIds": ["IDX_NOPE"]}, "indexIds must be a list of 1 to 15 of"),
        ({"vdnIds": [1], "indexIds": []}, "indexIds must be a list of 1 to 15"),
        ({"vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"] * 16},
         "indexIds must be a list of 1 to 15"),
        ({"vdnIds": [1], "indexIds": "IDX_COUNT_REAL_VDN_CALL"}, "indexIds must be a list"),
        ({"vdnIds": [1], "indexIds": [1]}, "indexIds must be a list"),
        ({"ccId": 0, "vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]},
         "ccId must be an integer from 1 to 65535"),
    ],
)  # fmt: skip
async def test_rindex_vdn_request_rules(list_api: Api, body: dict[str, Any], message: str) -> None:
    text = envelope_error(await list_api.post(RINDEX, body), 200, "0100002")
    assert text.startswith(message), text
    if len(body.get("vdnIds", [])) == 101:  # the limit itself is taken
        ok = await list_api.post(RINDEX, {**body, "vdnIds": list(range(1, 101))})
        assert len(ok.json()["resultDesc"]) == 100
    if len(body.get("indexIds", [])) == 16:  # the limit itself is taken
        ok = await list_api.post(RINDEX, {**body, "indexIds": body["indexIds"][:15]})
        assert ok.json()["resultDesc"][0]["idxs"] == [{"id": "IDX_COUNT_REAL_VDN_CALL", "val": 0}]


async def test_rindex_vdn_needs_every_vdn_in_the_keys_scopes(list_api: Api) -> None:
    body = {"vdnIds": [1, 2], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}
    envelope_error(await list_api.post(RINDEX, body, ak=SCOPED_AK, sk=SCOPED_SK), 200, "0101003")
    ok = await list_api.post(RINDEX, {**body, "vdnIds": [1]}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert ok.json()["resultCode"] == "0100000"
    envelope_error(await list_api.post(RINDEX, body, ak=INGEST_AK, sk=INGEST_SK), 200, "0101003")
