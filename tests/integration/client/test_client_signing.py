"""C2 signing through the client's request builder: the spec's vectors, and the headers a
real request carries (checked with the server's verifier)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from ccms.auth import AccessKey, Verifier
from ccms.client import Client
from ccms.client import calls as api_calls
from ccms.client.protocol import RequestBuilder, Signer

pytestmark = pytest.mark.integration

VECTOR_AK = "globalaktest"
VECTOR_SK = "example-sk-0123456789"
VECTOR_URL = "http://10.22.26.181:28080"
MIDNIGHT = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("signed", "millis", "authorization"),
    [
        (("host",), False, "auth-v2/globalaktest/2024-01-01T00:00:00Z/host/"
         "00f6b45ba06555021ab6df7df7a0261c204cfadcc8e836307ebb85f1735068c3"),
        (("host", "content-type", "content-length"), False,
         "auth-v2/globalaktest/2024-01-01T00:00:00Z/content-length;content-type;host/"
         "85da6870ef2a30b13651afa1ee597d58037ad629f32d2fa29b2c9ea0db21dd64"),
        (("host",), True, "auth-v2/globalaktest/2024-01-01T00:00:00.123Z/host/"
         "b821fd054ae890f90fddbe9780c30343ddcced189ab8e0a522e84fc3c4b1d3df"),
    ],
    ids=["A", "B", "D"],
)  # fmt: skip
def test_request_builder_reproduces_the_c2_vectors(
    signed: tuple[str, ...], millis: bool, authorization: str
) -> None:
    moment = MIDNIGHT.replace(microsecond=123_000) if millis else MIDNIGHT
    signer = Signer(VECTOR_AK, VECTOR_SK, signed_headers=signed, millis=millis, now=lambda: moment)

    request = RequestBuilder(VECTOR_URL, signer).build(api_calls.agent_detail(1, 1, 101))

    assert request.content == b'{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}'
    assert request.headers["host"] == "10.22.26.181:28080"
    assert request.headers["content-type"] == "application/json;charset=UTF-8"
    assert request.headers["authorization"] == authorization


def _sent(base_url: str) -> httpx.Request:
    """The request the Client really sends (captured at the transport)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"resultCode": "0100000", "resultDesc": "hi"})

    with Client(base_url, VECTOR_AK, VECTOR_SK, transport=httpx.MockTransport(handler)) as cms:
        assert cms.ping("hi") == "hi"
    (request,) = seen
    return request


@pytest.mark.parametrize(
    ("base_url", "host", "path"),
    [
        ("https://127.0.0.1:28443", "127.0.0.1:28443", "/rest/cmsapp/v1/ping"),
        ("https://cms.example:443/", "cms.example", "/rest/cmsapp/v1/ping"),
        ("http://cms.example:8080/prefix/", "cms.example:8080", "/prefix/rest/cmsapp/v1/ping"),
    ],
)
def test_signed_headers_are_those_sent_and_verify(base_url: str, host: str, path: str) -> None:
    request = _sent(base_url)

    assert request.url.path == path
    assert request.headers["host"] == host
    prefix = request.headers["authorization"].rsplit("/", 1)[0]
    assert prefix.endswith("/content-length;content-type;host")
    key = AccessKey(VECTOR_AK, VECTOR_SK, frozenset(["query"]))
    verifier = Verifier({VECTOR_AK: key}, clock_skew_s=900)
    headers = {name.lower(): value for name, value in request.headers.items()}
    verified = verifier.verify(
        headers["authorization"], "POST", path, "", headers, request.content, time.time()
    )
    assert verified is key


def test_signer_never_shows_the_secret() -> None:
    assert VECTOR_SK not in repr(Signer(VECTOR_AK, VECTOR_SK))
