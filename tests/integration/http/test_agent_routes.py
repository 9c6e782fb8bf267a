"""The compatible agent routes, row by row of the DECISIONS.md table."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import QUERY_AK, QUERY_SK, SCOPED_AK, SCOPED_SK, Api, EventFactory, FrozenClock

from ccms.domain.status import SIGNED_OUT_LOGIN_DATE

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DETAIL = "/rest/cmsapp/v1/openapi/agent/agentbyworkno"
LEGACY = "/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno"


def envelope_error(response: Any, http_status: int, code: str) -> str:
    assert response.status_code == http_status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["resultCode"] == code
    assert body["result"] == code
    assert isinstance(body["resultDesc"], str) and body["resultDesc"]
    return str(body["resultDesc"])


async def test_success_answer_has_every_field(api: Api, event: EventFactory) -> None:
    signed_in = event(
        offset_s=75.5, ctiStatus=1, name="Ann Lee", phoneNumber="+8610555", mediaType=5
    )
    assert (await api.events([signed_in])).json()["resultDesc"] == {"accepted": 1, "duplicates": 0}
    response = await api.agent()
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "0"
    assert body["resultCode"] == "0100000"
    assert body["resultDatas"] == body["resultDesc"]
    assert body["resultDesc"] == {
        "workNo": 101,
        "vdnId": 1,
        "citStatus": 1,
        "name": "Ann Lee",
        "phoneNumber": "+8610555",
        "loginDate": signed_in["at"],
        "currentStateTime": 75,
        "mediaType": 5,
        "status": 4,
    }


async def test_flat_body_and_digit_strings_are_accepted(api: Api, event: EventFactory) -> None:
    await api.events([event(ctiStatus=5)])
    response = await api.post(DETAIL, {"ccId": "1", "vdn": 1, "agentId": "101"})
    assert response.json()["resultDesc"]["citStatus"] == 5
    assert response.json()["resultDesc"]["status"] == 7


async def test_legacy_route_uses_lowercase_keys(
    api: Api, event: EventFactory, clock: FrozenClock
) -> None:
    await api.events([event(offset_s=10, ctiStatus=0)])
    body = (await api.post(LEGACY, {"queryParam": {"ccId": 1, "vdn": 1, "agentId": 101}})).json()
    assert body == {
        "result": "0",
        "resultDatas": {
            "workno": 101,
            "vdnid": 1,
            "citStatus": 0,
            "name": None,
            "phonenumber": None,
            "logindate": SIGNED_OUT_LOGIN_DATE,
            "currentstatetime": 10,
            "mediatype": 0,
            "status": 2,
        },
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"vdn": 1, "agentId": 101}, "ccId is required"),
        ({"ccId": 0, "vdn": 1, "agentId": 101}, "ccId must be an integer from 1 to 65535"),
        ({"ccId": 65536, "vdn": 1, "agentId": 101}, "ccId must be an integer from 1 to 65535"),
        ({"ccId": 1, "vdn": 5001, "agentId": 101}, "vdn must be an integer from 1 to 5000"),
        ({"ccId": 1, "vdn": 1, "agentId": 100}, "agentId must be an integer from 101 to 59999"),
        ({"ccId": 1, "vdn": 1, "agentId": 60000}, "agentId must be an integer from 101 to 59999"),
        ({"ccId": 1, "vdn": 1, "agentId": 70000}, "agentId must be an integer from 101 to 59999"),
        ({"ccId": True, "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": 1.0, "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": None, "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": "1a", "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": "-1", "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": [1], "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": {"a": 1}, "vdn": 1, "agentId": 101}, "ccId must be an integer"),
        ({"ccId": "١", "vdn": 1, "agentId": 101}, "ccId must be an integer"),
    ],
)
async def test_invalid_parameters_get_0100002(
    api: Api, params: dict[str, Any], message: str
) -> None:
    text = envelope_error(await api.post(DETAIL, {"queryParam": params}), 200, "0100002")
    assert message in text


async def test_query_param_must_be_an_object(api: Api) -> None:
    text = envelope_error(await api.post(DETAIL, {"queryParam": [1], "ccId": 1}), 200, "0100002")
    assert "queryParam" in text


@pytest.mark.parametrize("settings_overrides", [{"large_work_numbers": True}])
async def test_large_work_numbers_setting_admits_70000_to_999999(
    api: Api, event: EventFactory
) -> None:
    await api.events([event(agentId=999999, ctiStatus=1)])
    assert (await api.agent(agent_id=999999)).json()["resultDesc"]["workNo"] == 999999
    envelope_error(await api.agent(agent_id=69999), 200, "0100002")
    envelope_error(await api.agent(agent_id=1000000), 200, "0100002")


@pytest.mark.parametrize("body", [b"{", b"not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe"])
async def test_unparseable_or_non_object_body_is_400(api: Api, body: bytes) -> None:
    envelope_error(await api.post(DETAIL, body), 400, "0100002")


async def test_unknown_agent_is_0100001(api: Api, event: EventFactory) -> None:
    await api.events([event(agentId=102, ctiStatus=1)])
    text = envelope_error(await api.agent(agent_id=101), 200, "0100001")
    assert "101" in text
    # known in VDN 1, not in VDN 2: tenants do not leak into each other
    envelope_error(await api.agent(vdn=2, agent_id=102), 200, "0100001")


async def test_scope_and_role_give_0101003(api: Api, event: EventFactory) -> None:
    await api.events([event(vdn=2, ctiStatus=1), event(vdn=1, ctiStatus=1)])
    envelope_error(await api.agent(vdn=2, ak=SCOPED_AK, sk=SCOPED_SK), 200, "0101003")
    assert (await api.agent(vdn=1, ak=SCOPED_AK, sk=SCOPED_SK)).json()["resultCode"] == "0100000"
    # a query-only key cannot post events, and nothing changes
    response = await api.events([event(vdn=1, ctiStatus=5)], ak=QUERY_AK, sk=QUERY_SK)
    envelope_error(response, 200, "0101003")
    assert (await api.agent()).json()["resultDesc"]["citStatus"] == 1


async def test_authentication_failures_are_401(
    api: Api, event: EventFactory, clock: FrozenClock
) -> None:
    body = b'{"ccId":1,"vdn":1,"agentId":101}'
    good = api.headers(DETAIL, body)
    cases: list[dict[str, str]] = [
        {"content-type": "application/json"},  # missing
        {**good, "authorization": "Bearer abc"},  # malformed
        {**good, "authorization": good["authorization"].replace("admin-ak", "nobody")},
        {**good, "authorization": good["authorization"][:-4] + "0000"},  # bad signature
        api.headers(DETAIL, body, sk="wrong-secret-0123456789"),
    ]
    for headers in cases:
        response = await api.http.post(DETAIL, content=body, headers=headers)
        envelope_error(response, 401, "0100001")
    # a signature over another body does not pass
    response = await api.http.post(DETAIL, content=body.replace(b"101", b"102"), headers=good)
    envelope_error(response, 401, "0100001")
    # stale: the clock moved 901 s past the signature
    clock.now += 901
    envelope_error(await api.http.post(DETAIL, content=body, headers=good), 401, "0100001")
    clock.now -= 901 - 899
    envelope_error(await api.http.post(DETAIL, content=body, headers=good), 200, "0100001")


async def test_signed_header_must_be_present(api: Api) -> None:
    body = b'{"ccId":1,"vdn":1,"agentId":101}'
    headers = api.headers(DETAIL, body)
    prefix, _, signature = headers["authorization"].rpartition("/")
    headers["authorization"] = prefix.replace("/host", "/host;x-missing") + "/" + signature
    text = envelope_error(
        await api.http.post(DETAIL, content=body, headers=headers), 401, "0100001"
    )
    assert "x-missing" in text


async def test_wrong_method_is_405_with_allow(api: Api) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        response = await api.http.request(method, DETAIL)
        envelope_error(response, 405, "0100002")
        assert response.headers["allow"] == "POST"
    response = await api.http.post("/healthz")
    envelope_error(response, 405, "0100002")
    assert response.headers["allow"] == "GET, HEAD"


async def test_unknown_path_is_404(api: Api) -> None:
    envelope_error(await api.post("/rest/cmsapp/v1/openapi/agent/nope", {}), 404, "0100002")
    envelope_error(await api.http.get("/"), 404, "0100002")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", ""]
)
async def test_wrong_content_type_is_415(api: Api, content_type: str) -> None:
    body = b'{"ccId":1,"vdn":1,"agentId":101}'
    headers = api.headers(DETAIL, body)
    headers["content-type"] = content_type
    envelope_error(await api.http.post(DETAIL, content=body, headers=headers), 415, "0100002")


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/json; charset=utf-8"])
async def test_content_type_any_case_and_parameters(
    api: Api, event: EventFactory, content_type: str
) -> None:
    await api.events([event(ctiStatus=1)])
    body = b'{"ccId":1,"vdn":1,"agentId":101}'
    headers = api.headers(DETAIL, body)
    headers["content-type"] = content_type
    response = await api.http.post(DETAIL, content=body, headers=headers)
    assert response.json()["resultCode"] == "0100000"


@pytest.mark.parametrize("settings_overrides", [{"max_body_bytes": 64}])
async def test_body_too_large_is_413(api: Api) -> None:
    body = b'{"ccId":1,"vdn":1,"agentId":101,"pad":"' + b"x" * 64 + b'"}'
    envelope_error(await api.post(DETAIL, body), 413, "0100002")


@pytest.mark.parametrize("settings_overrides", [{"rate_limit": 1.0, "rate_burst": 3}])
async def test_rate_limit_is_429_per_access_key(
    api: Api, event: EventFactory, clock: FrozenClock
) -> None:
    await api.events([event(ctiStatus=1)])  # spends one of three
    # three different requests (a repeat of one signature is charged to that signature)
    codes = [(await api.agent(agent_id=102 + n)).status_code for n in range(3)]
    assert codes == [200, 200, 429]
    response = await api.agent(agent_id=110)
    envelope_error(response, 429, "0100001")
    assert response.headers["retry-after"] == "1"
    # another key has its own bucket
    assert (await api.agent(ak=QUERY_AK, sk=QUERY_SK)).status_code == 200
    clock.now += 1.0
    assert (await api.agent()).status_code == 200


async def test_ping_echoes_say(api: Api) -> None:
    body = (await api.post("/rest/cmsapp/v1/ping", {"say": "Hello world!"})).json()
    assert body["resultCode"] == "0100000"
    assert body["resultDesc"] == "Hello world!"
    envelope_error(await api.post("/rest/cmsapp/v1/ping", {"say": 5}), 200, "0100002")
    wrapped = await api.post("/rest/cmsapp/v1/ping", {"queryParam": {"say": "wrapped"}})
    assert wrapped.json()["resultDesc"] == "wrapped"


@pytest.mark.parametrize("body", [b"", b"{}"])
async def test_ping_with_an_empty_body_answers_the_ping(api: Api, body: bytes) -> None:
    """The vendor's demo may send its ping without a body (Content-Length 0)."""
    response = await api.post("/rest/cmsapp/v1/ping", body)
    assert response.request.headers["content-length"] == str(len(body))
    assert response.status_code == 200, response.text
    assert response.json()["resultCode"] == "0100000"
    assert response.json()["resultDesc"] == ""


async def test_healthz_needs_no_auth(api: Api) -> None:
    response = await api.http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["resultCode"] == "0100000"
    assert (await api.http.head("/healthz")).content == b""


async def test_metrics_count_requests_by_route_and_code(api: Api, event: EventFactory) -> None:
    first = event(ctiStatus=1)
    await api.events([first, first])
    await api.agent()
    await api.agent(agent_id=102)
    await api.agent(agent_id=1)
    text = (await api.http.get("/metrics")).text
    assert (
        'ccms_requests_total{code="0100000",http_status="200",route="agent/agentbyworkno"} 1.0'
        in text
    )
    assert (
        'ccms_requests_total{code="0100001",http_status="200",route="agent/agentbyworkno"} 1.0'
        in text
    )
    assert (
        'ccms_requests_total{code="0100002",http_status="200",route="agent/agentbyworkno"} 1.0'
        in text
    )
    assert 'ccms_events_ingested_total{outcome="accepted"} 1.0' in text
    assert 'ccms_events_ingested_total{outcome="duplicate"} 1.0' in text
    assert 'ccms_request_duration_seconds_count{route="agent/agentbyworkno"} 3.0' in text
