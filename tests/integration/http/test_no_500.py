"""No input gives a 500: arbitrary JSON and bytes, signed and unsigned, on every route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import SyncApp
from tests.integration.http.monitor_support import ROUTE_NAMES as MONITOR_ROUTE_NAMES

pytestmark = pytest.mark.integration

ROUTES = [
    "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
    "/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno",
    "/rest/cmsapp/v1/ping",
    *(f"/rest/cmsapp/v1/openapi/{name}" for name in MONITOR_ROUTE_NAMES),
    "/rest/cmsapp/v1/openapi/vdn/querycalls",
    "/rest/cmsapp/v2/openapi/vdn/querycalls",
    "/rest/cmsapp/v1/openapi/calldata/querybasiccallinfo",
    "/rest/cmsapp/v1/openapi/skill/currentcallstateinfo",
    "/rest/cmsapp/v1/openapi/rindex/vdn",
    "/rest/cmsapp/v1/openapi/skill/servicequality",  # a second call within 1 s: HTTP 429
    "/rest/cmsapp/v1/openapi/skill/skillcfginfo",
    "/rest/cmsapp/v1/openapi/vdn/queryaccesscodecallinfo",
    "/rest/cmsapp/v1/openapi/vdn/querycalltracedetail",
    "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo",
    "/rest/cmsapp/v1/openapi/calldata/querycalldetailbyid",
    "/rest/cmsapp/v1/openapi/skill/totalskillstatusex3",
    "/rest/cmsapp/v1/openapi/skill/stateinfo",
    "/rest/cmsapp/v1/openapi/realindex/skill/stateinfo",
    "/rest/cmsapp/v1/openapi/skill/rindex",
    "/rest/cmsapp/v1/openapi/skill/batchmultiskill",
    "/rest/cmsapp/v1/openapi/skill/queuedevicestatus",
    "/ccms/v1/events",
    "/ccms/v1/agents/detail",
    "/ccms/v1/tokens",
    "/ccms/v1/stream",  # refused before any stream: GET signed as a POST, or no token
    "/ccms/v1/changes",
    "/healthz",
    "/metrics",
    "/nowhere",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False),
    st.text(max_size=20), st.sampled_from(["101", "1", "0", "65535", "5000", "-1", "1e3"]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["ccId", "vdn", "agentId", "queryParam", "events", "say", "eventId", "at", "ctiStatus",
     "skills", "calls", "name", "phoneNumber", "mediaType", "reason", "agentIds", "skillIds",
     "skillId", "offset", "limit", "status", "isSkillAllMatch", "ttlS", "workNo",
     "historyLimit", "source", "rawState", "callId", "callEvent", "beginDate", "endDate",
     "isCallIn", "callerNo", "calleeNo", "leaveReason", "vdnIds", "indexIds", "innoIds",
     "logDate", "isCallin"]
)  # fmt: skip
shaped = st.recursive(
    st.dictionaries(field_names, json_values, max_size=6),
    lambda inner: st.dictionaries(
        field_names, st.one_of(inner, st.lists(inner, max_size=3)), max_size=4
    ),
    max_leaves=12,
)
ids = st.one_of(st.integers(-5, 70_000), st.sampled_from(["101", "1", "x"]), scalars)
near_valid_event = st.fixed_dictionaries(
    {"eventId": st.one_of(st.text(min_size=1, max_size=8), scalars), "ccId": ids, "vdn": ids,
     "agentId": ids, "at": st.one_of(st.integers(-1, 2**63 - 1), scalars)},
    optional={"ctiStatus": st.one_of(st.integers(-1, 12), scalars), "skills": json_values,
              "calls": json_values, "name": json_values, "phoneNumber": json_values,
              "mediaType": ids, "reason": ids},
)  # fmt: skip
id_lists = st.one_of(
    st.lists(ids, min_size=0, max_size=6),
    st.lists(st.integers(90, 60_010), min_size=1, max_size=20),
    st.integers(0, 7000).map(lambda n: list(range(101, 101 + n))),
    scalars,
)
page = st.one_of(st.integers(-2, 2**31 + 1), st.sampled_from(["0", "100", "1000", "1001"]), scalars)
tenant_ids = st.one_of(st.just(1), ids)
near_valid_monitor = st.fixed_dictionaries(
    {"ccId": tenant_ids, "vdn": tenant_ids},
    optional={"agentIds": id_lists, "skillIds": id_lists, "innoIds": id_lists, "agentId": ids,
              "skillId": ids,
              "offset": page, "limit": page, "status": st.one_of(st.integers(-1, 12), scalars),
              "isSkillAllMatch": st.one_of(st.sampled_from(["true", "false", "TRUE", "no"]),
                                           scalars),
              "indexIds": st.one_of(
                  st.lists(st.sampled_from(["IDX_COUNT_REAL_SKILL_QUEUE",
                                            "IDX_DURATION_SKILL_MAX_QUEUE_ACK", "IDX_NOPE"]),
                           max_size=13),
                  json_values)},
)  # fmt: skip
near_valid_detail = st.fixed_dictionaries(
    {"ccId": tenant_ids, "vdn": tenant_ids, "workNo": ids}, optional={"historyLimit": page}
)
call_ids = st.one_of(
    st.sampled_from(["1789999000-1", "1789999000-17", "4294967295-4294967295", "1-1"]),
    st.from_regex(r"\A[0-9]{8,14}-[0-9]{0,11}\Z"),
    scalars,
)
moments = st.one_of(
    st.integers(1_789_800_000_000, 1_790_200_000_000), st.integers(-1, 2**63), scalars
)
near_valid_call_event = st.fixed_dictionaries(
    {"eventId": st.one_of(st.text(min_size=1, max_size=8), scalars), "ccId": ids, "vdn": ids,
     "callId": call_ids, "at": st.one_of(moments, scalars),
     "callEvent": st.one_of(st.sampled_from(["arrive", "queue", "offer", "answer", "transfer",
                                             "end", "abandon"]), scalars)},
    optional={"skillId": ids, "agentId": ids, "callerNo": json_values, "callType": ids,
              "callIn": json_values, "leaveReason": ids, "subMediaType": ids,
              "releaseCause": ids, "mediaType": ids},
)  # fmt: skip
near_valid_calls = st.fixed_dictionaries(
    {"ccId": tenant_ids, "vdn": tenant_ids},
    optional={"beginDate": moments, "endDate": moments, "limit": page, "offset": page,
              "isCallIn": st.one_of(st.sampled_from(["true", "false"]), scalars),
              "callerNo": json_values, "calleeNo": json_values, "callId": call_ids,
              "logDate": moments,
              "isCallin": st.one_of(st.sampled_from(["true", "false"]), scalars),
              "vdnIds": id_lists, "indexIds": st.one_of(
                  st.lists(st.sampled_from(["IDX_COUNT_REAL_VDN_CALL", "IDX_NOPE"]), max_size=3),
                  json_values)},
)  # fmt: skip
near_valid = st.one_of(
    near_valid_calls,
    near_valid_calls.map(lambda q: {"queryParam": q}),
    st.lists(st.one_of(near_valid_call_event, near_valid_event), min_size=1, max_size=4).map(
        lambda e: {"events": e}
    ),
    near_valid_detail,
    near_valid_detail.map(lambda q: {"queryParam": q}),
    near_valid_monitor,
    near_valid_monitor.map(lambda q: {"queryParam": q}),
    st.lists(near_valid_event, min_size=1, max_size=4).map(lambda e: {"events": e}),
    st.fixed_dictionaries({"ccId": ids, "vdn": ids, "agentId": ids}),
    st.fixed_dictionaries({"ccId": ids, "vdn": ids, "agentId": ids}).map(
        lambda q: {"queryParam": q}
    ),
)
bodies = st.one_of(
    near_valid.map(orjson.dumps),
    shaped.map(orjson.dumps),
    json_values.map(lambda v: orjson.dumps(v)),
    st.binary(max_size=200),
)


class Harness(SyncApp):
    """One app for the whole Hypothesis run of a test (a fresh store per test)."""

    def send(
        self, method: str, path: str, body: bytes, signed: bool, content_type: str
    ) -> httpx.Response:
        headers = self.api.headers(path, body) if signed else {}
        headers["content-type"] = content_type
        return self.run(self.http.request(method, path, content=body, headers=headers))


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    h = Harness(tmp_path / "fuzz.db")
    yield h
    h.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(ROUTES),
    body=bodies,
    signed=st.booleans(),
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]),
    content_type=st.sampled_from(
        ["application/json", "application/json;charset=UTF-8", "text/plain"]
    ),
)
def test_never_500_always_the_envelope(
    harness: Harness, path: str, body: bytes, signed: bool, method: str, content_type: str
) -> None:
    response = harness.send(method, path, body, signed, content_type)
    assert response.status_code < 500, response.text
    if path == "/metrics" and response.status_code == 200:
        return
    answer = response.json()
    assert isinstance(answer, dict)
    if "result" in answer:  # all but vdn/querycalls's success (resultCode, resultDesc)
        assert answer["result"] in ("0", answer.get("resultCode"))
    ok = answer.get("result", answer.get("resultCode")) in ("0", "0100000")
    if response.status_code != 200 or not ok:
        assert answer["resultCode"] in ("0100001", "0100002", "0101003")
        assert isinstance(answer["resultDesc"], str)
