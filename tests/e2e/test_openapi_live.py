"""schemathesis against a live ``ccms serve`` on loopback, with the server's own OpenAPI
document: every operation, requests generated from its schemas and signed by a hook; no
answer is a 500 and every answer (status, content type, headers, body) matches the
document. Bounded: at most ``MAX_EXAMPLES`` requests per operation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER, HookContext
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.conftest import ADMIN_AK, ADMIN_SK
from tests.e2e.conftest import Server, batch

from ccms import wire
from ccms.auth import format_timestamp, sign
from ccms.http.routes import route_table
from ccms.http.schemas.operations import EXAMPLE_AGENT_CALL, EXAMPLE_CALL, EXAMPLE_ENDED_CALL
from ccms.settings import load_settings

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("openapi-live")).start()
    # agents to find (101.. in call center 1, VDN 1, skill queue 1, one with a call), so
    # that the documents' examples get success answers, checked like the refusals
    events = batch("live", 50)
    for event in events:
        event["skills"] = [1]
    events[0]["calls"] = ["call-1"]
    assert server.events(events).json()["resultCode"] == "0100000"
    # calls: one ended today (a call record) and the examples' call, in progress
    now = int(datetime.now(UTC).timestamp() * 1000)
    calls = [
        {"eventId": "call-1", "ccId": 1, "vdn": 1, "callId": f"{now // 1000}-7", "at": now - 9,
         "callEvent": "arrive", "callerNo": "88881364", "calleeNo": "650550"},
        {"eventId": "call-2", "ccId": 1, "vdn": 1, "callId": f"{now // 1000}-7", "at": now - 5,
         "callEvent": "end"},
        {"eventId": "call-3", "ccId": 1, "vdn": 1, "callId": EXAMPLE_CALL, "at": now - 5,
         "callEvent": "queue", "skillId": 1},
        {"eventId": "call-4", "ccId": 1, "vdn": 1, "callId": EXAMPLE_AGENT_CALL, "at": now - 5,
         "callEvent": "offer", "agentId": 101},
        {"eventId": "call-5", "ccId": 1, "vdn": 1, "callId": EXAMPLE_ENDED_CALL, "at": now - 9,
         "callEvent": "arrive"},
        {"eventId": "call-6", "ccId": 1, "vdn": 1, "callId": EXAMPLE_ENDED_CALL, "at": now - 5,
         "callEvent": "end"},
    ]  # fmt: skip
    assert server.events(calls).json()["resultDesc"] == {"accepted": 6, "duplicates": 0}
    yield server
    server.stop()


@pytest.fixture(scope="module")
def signing(live: Server) -> Iterator[None]:
    """The hook that signs each generated request with the test key, over the exact bytes
    sent (schemathesis serializes nothing itself: the body goes as ``data``)."""
    host = f"127.0.0.1:{live.port}"

    def before_call(context: HookContext, case: Any, kwargs: dict[str, Any]) -> None:
        # the stdlib's encoder: generated integers may exceed what orjson writes
        body = b"" if case.body is NOT_SET else json.dumps(case.body).encode()
        stamp = format_timestamp(datetime.now(UTC))
        query = [(k, str(v)) for k, v in (case.query or {}).items()]
        authorization = sign(ADMIN_AK, ADMIN_SK, case.method, case.formatted_path,
                             {"host": host}, body, stamp, query)  # fmt: skip
        headers = dict(case.headers or {})
        headers["Authorization"] = authorization
        if case.method == "POST":
            headers["Content-Type"] = "application/json"
            kwargs["data"] = body
        case.headers = headers

    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(before_call, "before_call")
    yield
    GLOBAL_HOOK_DISPATCHER.unregister(before_call)


@pytest.fixture(scope="module")
def api_schema(live: Server, signing: None) -> Any:
    return schemathesis.openapi.from_url(f"{live.url}/ccms/v1/openapi.json")


OPERATIONS = sorted((r.method, r.path) for r in route_table(load_settings({})))


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_matches_the_document(
    api_schema: Any, live: Server, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    example = operation.definition.raw.get("requestBody", {})
    example = example.get("content", {}).get("application/json", {}).get("example")
    if example is not None:  # the documented example succeeds, and matches the document
        case = operation.Case(body=example, media_type="application/json")
        response = case.call(base_url=live.url, timeout=10)
        case.validate_response(response, checks=CHECKS)
        answer = response.json()
        assert answer.get("result", answer.get("resultCode")) in ("0", wire.SUCCESS), answer
        data = answer.get("resultDesc", answer.get("resultDatas"))
        assert data not in ([], None), answer
        if path in (wire.VDN_CALLS, wire.VDN_CALLS_V2):
            assert data["data"], answer  # the call record of today

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if path == wire.CHANGES and isinstance(case.query, dict) and "wait" in case.query:
            case.query["wait"] = 0  # a long poll answers within wait s: keep the run short
        if path == wire.STREAM and isinstance(case.query, dict):
            case.query.pop("token", None)
            case.headers = {**(case.headers or {}), "Last-Event-ID": "not-a-seq"}
        response = case.call(base_url=live.url, timeout=10)
        case.validate_response(response, checks=CHECKS)
        answers.append(response.status_code)

    answers: list[int] = []
    check()
    assert answers, "no request was sent"


def test_the_live_document_lists_what_the_server_answers(live: Server) -> None:
    document = httpx.get(f"{live.url}/ccms/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):  # a path's {file}: its first
                if parameter["in"] == "path":
                    value = parameter["schema"]["enum"][0]
                    path = path.replace("{" + parameter["name"] + "}", value)
            answer = httpx.request(method.upper(), live.url + path)
            assert answer.status_code != 404, path  # each documented path is served
    assert httpx.get(f"{live.url}/ccms/v1/nothing-here").status_code == 404
