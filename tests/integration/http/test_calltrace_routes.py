"""The routes of a call's track and details (``vdn/querycalltracedetail``,
``calldata/querydetailcallinfo``, ``calldata/querycalldetailbyid``), fed through the
intake, on every backend: answers field by field, request rules, scopes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import INGEST_AK, INGEST_SK, SCOPED_AK, SCOPED_SK, Api
from tests.integration.http.test_agent_routes import envelope_error
from tests.integration.http.test_call_routes import _json_blocks, calls_of_today, fed

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TRACE = "/rest/cmsapp/v1/openapi/vdn/querycalltracedetail"
PRIVATE = "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo"
BY_ID = "/rest/cmsapp/v1/openapi/calldata/querycalldetailbyid"


def utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000))


def leg(call_id: str, number: int, device: int, no: str, times: tuple[int, int, int, int],
        enter: int, leave: int, skill: str, cause: int = 0, **call: Any) -> dict[str, Any]:  # fmt: skip
    wait, ack, begin, end = times
    return {
        "callId": call_id, "mediaType": 5, "callIdNum": number,
        "callerNo": call.get("caller", "88881364"), "calleeNo": call.get("callee", "650550"),
        "waitBegin": wait, "ackBegin": ack, "callBegin": begin, "callEnd": end, "subCcNo": 1,
        "deviceType": device, "deviceNo": no, "deviceIn": "", "callType": call.get("type", 0),
        "releaseCause": cause, "EnterReason": enter, "LeaveReason": leave,
        "CurrentSkillID": skill, "subMediaType": -1,
    }  # fmt: skip


async def test_querycalltracedetail_answers_the_legs_field_by_field(list_api: Api) -> None:
    now, ids = await fed(list_api)
    t = now - 300_000
    body = {"ccId": 1, "vdn": 1, "callId": ids["answered"], "logDate": t}
    answer = await list_api.post(TRACE, body)
    assert answer.status_code == 200
    got = answer.json()
    assert set(got) == {"resultCode", "resultDesc"}  # the vendor's E2 envelope
    assert got["resultCode"] == "0100000"
    c = ids["answered"]
    assert got["resultDesc"] == [
        leg(c, 1, 3, "0", (t, 0, 0, t + 2_000), 0, 0, ""),
        leg(c, 2, 1, "3", (t + 2_000, 0, 0, t + 14_000), 0, 0, "3"),
        leg(c, -1, 2, "101", (t + 14_000, t + 14_000, t + 17_000, t + 75_000), 0, 16, "3", 510),
    ]
    lost = (await list_api.post(TRACE, {**body, "callId": ids["lost"]})).json()["resultDesc"]
    c = ids["lost"]
    assert lost == [
        leg(c, 1, 3, "0", (t + 1_000, 0, 0, t + 3_000), 0, 0, "", caller="88881365"),
        leg(c, -1, 1, "3", (t + 3_000, 0, 0, t + 33_000), 0, 89, "3", caller="88881365"),
    ]
    out = (await list_api.post(TRACE, {**body, "callId": ids["out"]})).json()["resultDesc"]
    c, numbers = ids["out"], {"caller": "650550", "callee": "13800000000", "type": 7}
    assert out == [
        leg(c, 1, 3, "0", (t + 5_000, 0, 0, t + 9_000), 0, 0, "", **numbers),
        leg(c, -1, 2, "102", (t + 9_000, t + 9_000, t + 9_000, t + 20_000), 0, 15, "", **numbers),
    ]
    # a call in progress: its legs so far, the current one open (callEnd 0, not -1)
    live = (await list_api.post(TRACE, {"queryParam": {**body, "callId": ids["live"]}})).json()
    c, numbers = ids["live"], {"caller": "88881366", "callee": "650551"}
    assert live["resultDesc"] == [
        leg(c, 1, 3, "0", (t + 200_000, 0, 0, t + 201_000), 0, 0, "", **numbers),
        leg(c, 2, 1, "4", (t + 201_000, 0, 0, t + 230_000), 0, 0, "4", **numbers),
        leg(c, 3, 2, "101", (t + 230_000, t + 230_000, t + 236_000, 0), 0, 0, "4", **numbers),
    ]
    # logDate selects nothing: any moment finds the call; an unknown call has no legs
    assert (await list_api.post(TRACE, {**body, "logDate": "0"})).json() == got
    unknown = await list_api.post(TRACE, {**body, "callId": "1789999999-1"})
    assert unknown.json() == {"resultCode": "0100000", "resultDesc": []}
    other_vdn = await list_api.post(TRACE, {**body, "vdn": 2})
    assert other_vdn.json()["resultDesc"] == []


async def test_querycalltracedetail_of_events_out_of_order_and_sent_twice(list_api: Api) -> None:
    """The intake of the same events in another order, in several batches and some sent
    twice gives the same legs."""
    now = int(list_api.clock() * 1000)
    events, ids = calls_of_today(now)
    mine = [e for e in events if e["callId"] == ids["answered"]]
    other = [{**e, "vdn": 2} for e in reversed(mine)]  # the same call in VDN 2, backwards
    for batch in ([other[0], other[3]], other[1:3], [other[4], other[0]], other):
        assert (await list_api.events(batch)).json()["resultCode"] == "0100000"
    assert (await list_api.events(mine)).json()["resultDesc"]["accepted"] == 5
    body = {"ccId": 1, "vdn": 1, "callId": ids["answered"], "logDate": now}
    in_order = (await list_api.post(TRACE, body)).json()["resultDesc"]
    shuffled = (await list_api.post(TRACE, {**body, "vdn": 2})).json()["resultDesc"]
    assert len(in_order) == 3 and shuffled == in_order


async def test_querydetailcallinfo_answers_a_call_at_an_agent(list_api: Api) -> None:
    now, ids = await fed(list_api)
    t = now - 300_000
    answer = (await list_api.post(PRIVATE, {"ccId": 1, "vdn": 1, "callId": ids["live"]})).json()
    assert answer["resultCode"] == "0100000" and answer["resultDatas"] == answer["resultDesc"]
    assert answer["resultDesc"] == {
        "cb": 0, "time": (t + 200_000) // 1000, "dsn": 0, "handle": 0, "server": 0,
        "keyId": ids["live"], "callingNum": "88881366", "calledNum": "650551", "mid": 0,
        "trunkNo": 0, "priority": 0, "deviceType": 2, "deviceNo": 101, "callData": "",
        "callDataLen": 0, "callSkill": "4", "partyNum": 2, "callFeature": "0",
        "orgiCalledNum": "650551", "mediaType": "MEDIA_TYPE_PHONE", "submediaType": -1,
        "place": 0, "waitTime": 29, "totalTalkingTimes": 64, "logonTimes": 100,
    }  # fmt: skip
    ringing = [
        {"eventId": "r1", "ccId": 1, "vdn": 1, "callId": "1789999000-5", "at": now - 4_000,
         "callEvent": "arrive", "mediaType": 53, "subMediaType": 2, "calleeNo": "650550"},
        {"eventId": "r2", "ccId": 1, "vdn": 1, "callId": "1789999000-5", "at": now - 2_000,
         "callEvent": "transfer", "agentId": 103},
        {"eventId": "r3", "ccId": 1, "vdn": 1, "callId": "1789999000-6", "at": now - 2_000,
         "callEvent": "arrive", "mediaType": 77},
        {"eventId": "r4", "ccId": 1, "vdn": 1, "callId": "1789999000-6", "at": now - 1_000,
         "callEvent": "offer", "agentId": 104},
    ]  # fmt: skip
    await list_api.events(ringing)
    info = (await list_api.post(PRIVATE, {"ccId": 1, "vdn": 1, "callId": "1789999000-5"})).json()
    desc = info["resultDesc"]
    assert (desc["deviceNo"], desc["callSkill"], desc["mediaType"], desc["submediaType"]) == (
        103, "", "MEDIA_TYPE_SOCIAL_CHAT", 2,
    )  # fmt: skip
    assert (desc["waitTime"], desc["totalTalkingTimes"], desc["logonTimes"]) == (0, 0, 4)
    other = (await list_api.post(PRIVATE, {"ccId": 1, "vdn": 1, "callId": "1789999000-6"})).json()
    assert other["resultDesc"]["mediaType"] == "77"  # a code ccms has no name for


@pytest.mark.parametrize("call", ["answered", "queued", "nobody"])
async def test_querydetailcallinfo_of_a_call_not_at_an_agent(list_api: Api, call: str) -> None:
    now, ids = await fed(list_api)
    queued = {"eventId": "q1", "ccId": 1, "vdn": 1, "callId": "1789999000-9", "at": now - 10,
              "callEvent": "queue", "skillId": 9}  # fmt: skip
    await list_api.events([queued])
    call_id = {**ids, "queued": "1789999000-9"}.get(call, "1789999999-1")
    text = envelope_error(
        await list_api.post(PRIVATE, {"ccId": 1, "vdn": 1, "callId": call_id}), 200, "0100001"
    )
    assert text == f"call {call_id} is not in progress at an agent in call center 1, vdn 1"


async def test_querycalldetailbyid_answers_a_call_record_field_by_field(list_api: Api) -> None:
    now, ids = await fed(list_api)
    t = now - 300_000
    body = {"queryParam": {"ccId": 1, "isCallin": "true", "callId": ids["answered"]}}
    answer = (await list_api.post(BY_ID, body)).json()
    assert answer["resultCode"] == "0100000" and answer["resultDatas"] == answer["resultDesc"]
    empty = {"result": "", "resultCode": "", "busiResult": "", "busiSubStatus": ""}
    assert answer["resultDesc"] == {
        "vdn": 1, "callId": ids["answered"], "callerNo": "88881364", "calleeNo": "650550",
        "callType": 0, "agentId": 101, "skillId": 3, "anonyCall": 0, "queueWaitTime": 12,
        "ivrCallTime": 2, "ackTime": 3, "callTime": 58, "releaseCause": 510,
        "beginTime": utc(t), "endTime": utc(t + 75_000), **empty,
    }  # fmt: skip
    lost = await list_api.post(BY_ID, {"ccId": 1, "isCallin": True, "callId": ids["lost"]})
    assert lost.json()["resultDesc"] == {
        "vdn": 1, "callId": ids["lost"], "callerNo": "88881365", "calleeNo": "650550",
        "callType": 0, "agentId": 0, "skillId": 3, "anonyCall": 0, "queueWaitTime": 30,
        "ivrCallTime": 2, "ackTime": 0, "callTime": 0, "releaseCause": 0,
        "beginTime": utc(t + 1_000), "endTime": utc(t + 33_000), **empty,
    }  # fmt: skip
    out = await list_api.post(BY_ID, {"ccId": "1", "isCallin": "false", "callId": ids["out"]})
    assert out.json()["resultDesc"] == {
        "vdn": 1, "callId": ids["out"], "callerNo": "650550", "calleeNo": "13800000000",
        "callType": 7, "agentId": 102, "skillId": 0, "anonyCall": 0, "queueWaitTime": 0,
        "ivrCallTime": 4, "ackTime": 0, "callTime": 11, "releaseCause": 0,
        "beginTime": utc(t + 5_000), "endTime": utc(t + 20_000), **empty,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("call", "call_in"),
    [("live", "true"), ("answered", "false"), ("out", "true"), ("nobody", "true")],
    ids=["in progress", "inbound asked as outbound", "outbound asked as inbound", "unknown"],
)
async def test_querycalldetailbyid_without_a_record(list_api: Api, call: str, call_in: str) -> None:
    _, ids = await fed(list_api)
    call_id = ids.get(call, "1789999999-1")
    answer = await list_api.post(BY_ID, {"ccId": 1, "isCallin": call_in, "callId": call_id})
    way = "inbound" if call_in == "true" else "outbound"
    assert envelope_error(answer, 200, "0100001") == (
        f"call {call_id} has no {way} call record in call center 1"
    )
    assert envelope_error(
        await list_api.post(BY_ID, {"ccId": 2, "isCallin": "true", "callId": ids["answered"]}),
        200,
        "0100001",
    )  # another call center's


async def test_querycalldetailbyid_looks_in_the_vdns_the_key_may_read(list_api: Api) -> None:
    now = int(list_api.clock() * 1000)
    same_id = "1789999000-70"
    events = [
        {"eventId": f"v{vdn}-{n}", "ccId": 1, "vdn": vdn, "callId": same_id, "at": now - 9 + n,
         "callEvent": kind, **({"agentId": 100 + vdn} if kind == "answer" else {})}
        for vdn in (1, 2) for n, kind in enumerate(("arrive", "answer", "end"))
    ]  # fmt: skip
    assert (await list_api.events(events)).json()["resultDesc"]["accepted"] == 6
    body = {"ccId": 1, "isCallin": "true", "callId": same_id}
    admin = (await list_api.post(BY_ID, body)).json()["resultDesc"]
    assert (admin["vdn"], admin["agentId"]) == (1, 101)  # the first VDN
    # the scoped key reads VDN 1 of call center 1 only
    scoped = await list_api.post(BY_ID, body, ak=SCOPED_AK, sk=SCOPED_SK)
    assert scoped.json()["resultDesc"]["vdn"] == 1
    await list_api.events([{**e, "eventId": f"w{e['eventId']}", "callId": "1789999000-71"}
                           for e in events if e["vdn"] == 2])  # fmt: skip
    only_in_2 = {**body, "callId": "1789999000-71"}
    assert (await list_api.post(BY_ID, only_in_2)).json()["resultDesc"]["vdn"] == 2
    hidden = await list_api.post(BY_ID, only_in_2, ak=SCOPED_AK, sk=SCOPED_SK)
    envelope_error(hidden, 200, "0100001")  # not in the key's VDNs: not found for it
    denied = await list_api.post(BY_ID, {**body, "ccId": 2}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert envelope_error(denied, 200, "0101003") == "access key is not allowed for ccId 2"
    no_role = await list_api.post(BY_ID, body, ak=INGEST_AK, sk=INGEST_SK)
    assert envelope_error(no_role, 200, "0101003") == "access key lacks the role 'query'"


CALL_ID_RULE = "callId must be a call id <start>-<sequence> of at most 20 characters"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ccId": None}, "ccId is required"),
        ({"vdn": None}, "vdn is required"),
        ({"callId": None}, "callId is required"),
        ({"logDate": None}, "logDate is required"),
        ({"ccId": "one"}, "ccId must be an integer from 1 to 65535"),
        ({"vdn": 5001}, "vdn must be an integer from 1 to 5000"),
        ({"callId": 1789999000}, CALL_ID_RULE),
        ({"callId": "4294967295-4294967295"}, CALL_ID_RULE),  # 21 characters
        ({"callId": "1789999000-"}, CALL_ID_RULE),
        ({"logDate": "soon"}, "logDate must be a time in ms since the epoch from 0 to"),
        ({"logDate": 1.5}, "logDate must be a time in ms since the epoch"),
        ({"logDate": -1}, "logDate must be a time in ms since the epoch"),
        ({"logDate": 253_402_300_800_000}, "logDate must be a time in ms since the epoch"),
    ],
)
async def test_querycalltracedetail_request_rules(
    list_api: Api, change: dict[str, Any], message: str
) -> None:
    body: dict[str, Any] = {"ccId": 1, "vdn": 1, "callId": "1789999000-1", "logDate": 0}
    for name, value in change.items():
        if value is None:
            del body[name]
        else:
            body[name] = value
    text = envelope_error(await list_api.post(TRACE, body), 200, "0100002")
    assert text.startswith(message), text
    if change.get("callId") == "4294967295-4294967295":  # 20 characters are taken
        ok = await list_api.post(TRACE, {**body, "callId": "4294967295-429496729"})
        assert ok.json() == {"resultCode": "0100000", "resultDesc": []}
    if change.get("logDate") == 253_402_300_800_000:  # the limit itself is taken
        ok = await list_api.post(TRACE, {**body, "logDate": 253_402_300_799_999})
        assert ok.json()["resultCode"] == "0100000"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ccId": 1, "vdn": 1}, "callId is required"),
        ({"vdn": 1, "callId": "1789999000-1"}, "ccId is required"),
        ({"ccId": 1, "callId": "1789999000-1"}, "vdn is required"),
        ({"ccId": 1, "vdn": 1, "callId": ["1789999000-1"]}, CALL_ID_RULE),
        ({"ccId": 1, "vdn": 1, "callId": "4294967295-4294967295"}, CALL_ID_RULE),
        ({"ccId": 65536, "vdn": 1, "callId": "1789999000-1"}, "ccId must be an integer from"),
        ({"queryParam": "ccId=1"}, "queryParam must be a JSON object"),
    ],
)
async def test_querydetailcallinfo_request_rules(
    list_api: Api, body: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(PRIVATE, body), 200, "0100002")
    assert text.startswith(message), text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"isCallin": "true", "callId": "1789999000-1"}, "ccId is required"),
        ({"ccId": 1, "callId": "1789999000-1"}, "isCallin is required"),
        # querycalls' spelling is not this route's
        ({"ccId": 1, "isCallIn": "true", "callId": "1789999000-1"}, "isCallin is required"),
        ({"ccId": 1, "isCallin": "true"}, "callId is required"),
        ({"ccId": 0, "isCallin": "true", "callId": "1789999000-1"}, "ccId must be an integer"),
        ({"ccId": 1, "isCallin": "yes", "callId": "1789999000-1"},
         'isCallin must be "true" (inbound) or "false" (outbound)'),
        ({"ccId": 1, "isCallin": 1, "callId": "1789999000-1"}, 'isCallin must be "true"'),
        ({"ccId": 1, "isCallin": "true", "callId": "4294967295-4294967295"}, CALL_ID_RULE),
        ({"ccId": 1, "isCallin": "true", "callId": None}, CALL_ID_RULE),
    ],
)  # fmt: skip
async def test_querycalldetailbyid_request_rules(
    list_api: Api, body: dict[str, Any], message: str
) -> None:
    text = envelope_error(await list_api.post(BY_ID, body), 200, "0100002")
    assert text.startswith(message), text


@pytest.mark.parametrize("path", [TRACE, PRIVATE])
async def test_scopes_and_roles(list_api: Api, path: str) -> None:
    _, ids = await fed(list_api)
    body: dict[str, Any] = {"ccId": 1, "vdn": 2, "callId": ids["live"], "logDate": 0}
    if path == PRIVATE:
        del body["logDate"]
    denied = await list_api.post(path, body, ak=SCOPED_AK, sk=SCOPED_SK)
    assert envelope_error(denied, 200, "0101003") == (
        "access key is not allowed for ccId 1 and vdn 2"
    )
    allowed = await list_api.post(path, {**body, "vdn": 1}, ak=SCOPED_AK, sk=SCOPED_SK)
    assert allowed.json()["resultCode"] == "0100000"
    no_role = await list_api.post(path, {**body, "vdn": 1}, ak=INGEST_AK, sk=INGEST_SK)
    envelope_error(no_role, 200, "0101003")


async def test_the_calltrace_examples_of_the_docs(api: Api) -> None:
    """docs/api.md's examples of a call's track and details, field by field, after the
    events of the Calls examples (the app's clock is 1790000000000)."""
    docs = Path(__file__).resolve().parents[3] / "docs"
    intake = _json_blocks(docs / "intake.md", "## Call events")[0]
    events = _json_blocks(docs / "api.md", "## Calls")[0]
    blocks = _json_blocks(docs / "api.md", "## A call's track and details")
    trace_body, trace_answer, private_body, private_answer, by_id_body, by_id_answer = blocks
    for batch in (intake, events):
        answer = (await api.events(batch["events"])).json()["resultDesc"]
        assert answer == {"accepted": len(batch["events"]), "duplicates": 0}
    assert (await api.post(TRACE, trace_body)).json() == trace_answer
    unknown = await api.post(TRACE, {**trace_body, "callId": "1789999700-99"})
    assert unknown.json() == {"resultCode": "0100000", "resultDesc": []}
    assert (await api.post(PRIVATE, private_body)).json() == {
        **private_answer,
        "resultDatas": private_answer["resultDesc"],
    }
    ended = await api.post(PRIVATE, {**private_body, "callId": "1789999700-17"})
    assert envelope_error(ended, 200, "0100001") == (
        "call 1789999700-17 is not in progress at an agent in call center 1, vdn 1"
    )
    assert (await api.post(BY_ID, by_id_body)).json() == {
        **by_id_answer,
        "resultDatas": by_id_answer["resultDesc"],
    }
    live = await api.post(BY_ID, {"queryParam": {**by_id_body["queryParam"],
                                                 "callId": "1789999900-18"}})  # fmt: skip
    assert envelope_error(live, 200, "0100001") == (
        "call 1789999900-18 has no inbound call record in call center 1"
    )
