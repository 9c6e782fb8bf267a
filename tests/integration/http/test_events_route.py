"""POST /ccms/v1/events: validation, atomicity, idempotency, scopes."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import SCOPED_AK, SCOPED_SK, Api, EventFactory
from tests.integration.http.test_agent_routes import envelope_error

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"eventId": ""}, "events[1].eventId must be a string of 1 to 128 characters"),
        ({"eventId": "x" * 129}, "events[1].eventId must be a string of 1 to 128"),
        ({"eventId": 5}, "events[1].eventId must be a string"),
        ({"agentId": 100}, "events[1].agentId must be an integer from 101 to 59999"),
        ({"vdn": 0}, "events[1].vdn must be an integer from 1 to 5000"),
        ({"ccId": "x"}, "events[1].ccId must be an integer from 1 to 65535"),
        ({"at": -1}, "events[1].at must be an integer"),
        ({"at": 1.5}, "events[1].at must be an integer"),
        ({"ctiStatus": 11}, "events[1].ctiStatus must be an integer from 0 to 10"),
        ({"reason": 65536}, "events[1].reason must be an integer from 0 to 65535"),
        ({"mediaType": 100}, "events[1].mediaType must be an integer from 0 to 99"),
        ({"name": 7}, "events[1].name must be a string"),
        ({"phoneNumber": "1" * 33}, "events[1].phoneNumber must be a string"),
        ({"skills": [0]}, "events[1].skills must be a list"),
        ({"skills": "1"}, "events[1].skills must be a list"),
        ({"calls": [""]}, "events[1].calls must be a list"),
        ({"calls": ["x" * 33]}, "events[1].calls must be a list"),
        ({"citStatus": 1}, "events[1].citStatus is not a known event field"),
    ],
)
async def test_one_invalid_event_rejects_the_batch(
    api: Api, event: EventFactory, bad: dict[str, Any], message: str
) -> None:
    good = event(ctiStatus=1)
    text = envelope_error(
        await api.events([good, event(**{"ctiStatus": 5, **bad})]), 200, "0100002"
    )
    assert text == message or text.startswith(message)
    envelope_error(await api.agent(), 200, "0100001")  # the valid first event was not applied
    # and its eventId is still free: the same event applies now
    assert (await api.events([good])).json()["resultDesc"] == {"accepted": 1, "duplicates": 0}


@pytest.mark.parametrize("missing", ["eventId", "ccId", "vdn", "agentId", "at"])
async def test_required_fields(api: Api, event: EventFactory, missing: str) -> None:
    broken = event(ctiStatus=1)
    del broken[missing]
    text = envelope_error(await api.events([broken]), 200, "0100002")
    assert text == f"events[0].{missing} is required"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "events is required and must be a list"),
        ({"events": {}}, "events is required and must be a list"),
        ({"events": []}, "events must hold at least one event"),
        ({"events": [1]}, "events[0] must be a JSON object"),
    ],
)
async def test_batch_shape(api: Api, body: dict[str, Any], message: str) -> None:
    assert envelope_error(await api.post("/ccms/v1/events", body), 200, "0100002") == message


@pytest.mark.parametrize("settings_overrides", [{"max_events_per_batch": 3}])
async def test_batch_limit(api: Api, event: EventFactory) -> None:
    text = envelope_error(await api.events([event() for _ in range(4)]), 200, "0100002")
    assert text == "events must hold at most 3 events"
    assert (await api.events([event() for _ in range(3)])).json()["resultDesc"]["accepted"] == 3


async def test_scope_is_checked_for_every_event(api: Api, event: EventFactory) -> None:
    batch = [event(vdn=1, ctiStatus=1), event(vdn=2, ctiStatus=1)]
    text = envelope_error(await api.events(batch, ak=SCOPED_AK, sk=SCOPED_SK), 200, "0101003")
    assert text.startswith("events[1]")
    envelope_error(await api.agent(), 200, "0100001")


async def test_attributes_only_event_provisions_a_signed_out_agent(
    api: Api, event: EventFactory
) -> None:
    await api.events([event(offset_s=30, name="Bo", phoneNumber="100", mediaType=51, skills=[4])])
    body = (await api.agent()).json()["resultDesc"]
    assert body["citStatus"] == 0
    assert body["status"] == 2
    assert body["loginDate"] == 4294967295000
    assert body["currentStateTime"] == 30
    assert (body["name"], body["phoneNumber"], body["mediaType"]) == ("Bo", "100", 51)


async def test_every_cti_status_maps_to_its_agent_status(api: Api, event: EventFactory) -> None:
    expected = {0: 2, 1: 4, 2: 7, 3: 7, 4: 7, 5: 7, 6: 5, 7: 3, 8: 8, 9: 0, 10: 5}
    for cti, status in expected.items():
        await api.events([event(offset_s=100 - cti, ctiStatus=cti)])
        body = (await api.agent()).json()["resultDesc"]
        assert (body["citStatus"], body["status"]) == (cti, status)
