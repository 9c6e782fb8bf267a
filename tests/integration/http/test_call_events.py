"""POST /ccms/v1/events with call events: validation, atomicity, idempotency, scopes, on
every backend (``docs/intake.md``, Call events)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import SCOPED_AK, SCOPED_SK, Api
from tests.integration.http.test_agent_routes import envelope_error

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CALL = "1789999000-17"
BASIC = "/rest/cmsapp/v1/openapi/calldata/querybasiccallinfo"


def call_event(n: int, kind: str, at: int, **fields: Any) -> dict[str, Any]:
    return {"eventId": f"c{n}", "ccId": 1, "vdn": 1, "callId": CALL, "at": at,
            "callEvent": kind, **fields}  # fmt: skip


def agent_event(at: int) -> dict[str, Any]:
    return {"eventId": "a1", "ccId": 1, "vdn": 1, "agentId": 101, "at": at, "ctiStatus": 1}


async def call_state(api: Api, call_id: str = CALL) -> Any:
    answer = await api.post(BASIC, {"ccId": 1, "vdn": 1, "callId": call_id})
    return answer.json()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"callEvent": "ring"}, "events[1].callEvent must be one of arrive, queue, offer,"),
        ({"callEvent": None}, "events[1].callEvent must be one of"),
        ({"callId": "1789999000"}, "events[1].callId must be a call id <start>-<sequence>"),
        ({"callId": "1789999000-17-1"}, "events[1].callId must be a call id"),
        ({"callId": 1789999000}, "events[1].callId must be a call id"),
        ({"callId": "4294967295-4294967295"}, "events[1].callId must be a call id"),
        ({"skillId": 0}, "events[1].skillId must be an integer from 1 to 10000"),
        ({"skillId": True}, "events[1].skillId must be an integer from 1 to 10000"),
        ({"agentId": 7}, "events[1].agentId is not a field of a call event 'queue'"),
        ({"callerNo": "1"}, "events[1].callerNo is not a field of a call event 'queue'"),
        ({"vdn": 5001}, "events[1].vdn must be an integer from 1 to 5000"),
        ({"at": "soon"}, "events[1].at must be an integer from 0 to"),
        ({"eventId": ""}, "events[1].eventId must be a string of 1 to 128 characters"),
        ({"eventId": 7}, "events[1].eventId must be a string of 1 to 128 characters"),
        ({"eventId": "e\x00"}, "events[1].eventId must not contain control characters"),
    ],
)
async def test_one_invalid_call_event_rejects_the_batch(
    list_api: Api, bad: dict[str, Any], message: str
) -> None:
    at = int(list_api.clock() * 1000)
    events = [agent_event(at), {**call_event(2, "queue", at, skillId=3), **bad}]
    text = envelope_error(await list_api.events(events), 200, "0100002")
    assert text.startswith(message), text
    envelope_error(await list_api.agent(), 200, "0100001")  # the agent event was not applied
    assert (await call_state(list_api))["resultCode"] == "0100001"


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("queue", {}, "events[0].skillId is required"),
        ("offer", {"skillId": 1}, "events[0].agentId is required"),
        ("transfer", {}, "events[0].skillId or agentId is required"),
        ("arrive", {"callIn": "true"}, "events[0].callIn must be true or false"),
        ("arrive", {"callerNo": "1" * 33}, "events[0].callerNo must be a string of 0 to 32"),
        ("arrive", {"calleeNo": "65\n0"}, "events[0].calleeNo must not contain control"),
        ("arrive", {"subMediaType": 100}, "events[0].subMediaType must be an integer from -1"),
        ("arrive", {"callType": 256}, "events[0].callType must be an integer from 0 to 255"),
        ("end", {"leaveReason": 256}, "events[0].leaveReason must be an integer from 0 to 255"),
        ("end", {"releaseCause": -1}, "events[0].releaseCause must be an integer from 0 to"),
        ("abandon", {"skillId": 1}, "events[0].skillId is not a field of a call event 'abandon'"),
    ],
)
async def test_the_fields_of_each_kind(
    list_api: Api, kind: str, fields: dict[str, Any], message: str
) -> None:
    event = call_event(1, kind, int(list_api.clock() * 1000), **fields)
    text = envelope_error(await list_api.events([event]), 200, "0100002")
    assert text.startswith(message), text


@pytest.mark.parametrize("missing", ["eventId", "ccId", "vdn", "callId", "at", "callEvent"])
async def test_required_fields_of_a_call_event(list_api: Api, missing: str) -> None:
    event = call_event(1, "arrive", int(list_api.clock() * 1000))
    del event[missing]
    text = envelope_error(await list_api.events([event]), 200, "0100002")
    assert text.startswith(f"events[0].{missing}"), text


async def test_a_mixed_batch_is_applied_whole_and_once(list_api: Api) -> None:
    at = int(list_api.clock() * 1000) - 30_000
    events = [
        call_event(1, "arrive", at, callerNo="88881364", calleeNo="650550"),
        agent_event(at),
        call_event(2, "queue", at + 1_000, skillId=3),
        call_event(3, "offer", at + 2_000, agentId=101),
    ]
    first = (await list_api.events(events)).json()["resultDesc"]
    again = (await list_api.events(events)).json()["resultDesc"]
    assert (first, again) == ({"accepted": 4, "duplicates": 0}, {"accepted": 0, "duplicates": 4})
    assert (await list_api.agent()).json()["resultCode"] == "0100000"
    info = (await call_state(list_api))["resultDesc"]
    assert (info["deviceType"], info["deviceNo"], info["callingNum"]) == (2, 101, "88881364")


async def test_a_call_event_outside_the_keys_scopes_is_refused(list_api: Api) -> None:
    at = int(list_api.clock() * 1000)
    outside = {**call_event(2, "arrive", at), "vdn": 2}
    answer = await list_api.events([agent_event(at), outside], ak=SCOPED_AK, sk=SCOPED_SK)
    text = envelope_error(answer, 200, "0101003")
    assert text == "events[1]: access key is not allowed for ccId 1 and vdn 2"
    envelope_error(await list_api.agent(), 200, "0100001")
    # and an agent event outside is named by its own position in a mixed batch
    agent_outside = {**agent_event(at), "vdn": 2}
    answer = await list_api.events(
        [call_event(3, "arrive", at), agent_outside], ak=SCOPED_AK, sk=SCOPED_SK
    )
    assert envelope_error(answer, 200, "0101003").startswith("events[1]:")
