"""Retries, backoff and answer mapping at the process boundary (httpx.MockTransport).

The transport plays a server that answers from a script; sleeping is injected and moves
a fake monotonic clock, so nothing really waits. Every test runs for both clients.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ccms.client import (
    AgentNotFoundError,
    ApiError,
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidParameterError,
    ServerError,
    TransportError,
    UnexpectedAnswerError,
)
from ccms.client.protocol import retry_after_seconds
from ccms.client.retry import RetryNotice

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

OK_PING = (200, {"result": "0", "resultCode": "0100000", "resultDesc": "pong"}, {})
BUSY = (503, {"result": "0100001", "resultCode": "0100001", "resultDesc": "store down"}, {})
Answer = tuple[int, Any, dict[str, str]] | Exception


class Script:
    """A server answering from a list (the last answer repeats), and a fake clock."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.now = 0.0
        self.waits: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    async def async_handle(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``await run(script, "ping", "x", retry_deadline=10, jitter=...)``."""

    async def call(script: Script, method: str, *args: Any, **options: Any) -> Any:
        options.setdefault("jitter", lambda: 1.0)
        if request.param == "sync":
            with Client("https://cms.test:28443", "ak", "sk-0123456789abcdef",
                        transport=httpx.MockTransport(script.handle), sleep=script.sleep,
                        clock=lambda: script.now, **options) as sync_client:  # fmt: skip
                return getattr(sync_client, method)(*args)
        async with AsyncClient("https://cms.test:28443", "ak", "sk-0123456789abcdef",
                               transport=httpx.MockTransport(script.async_handle),
                               sleep=script.async_sleep, clock=lambda: script.now,
                               **options) as async_client:  # fmt: skip
            return await getattr(async_client, method)(*args)

    return call


async def test_503_twice_then_success_retries_with_exponential_backoff(
    run: Callable[..., Any],
) -> None:
    script = Script(BUSY, BUSY, OK_PING)

    assert await run(script, "ping", "x", jitter=lambda: 0.5) == "pong"

    assert len(script.requests) == 3
    assert script.waits == [0.1, 0.2]  # 0.5 * min(5, 0.2 * 2**n): full jitter, doubling


async def test_on_retry_is_told_of_each_retry_before_its_wait(run: Callable[..., Any]) -> None:
    """The library prints nothing; a caller (the ccms commands) hears of retries by a hook."""
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    script = Script(refused, BUSY, OK_PING)
    notices: list[RetryNotice] = []

    assert await run(script, "ping", "x", on_retry=notices.append) == "pong"

    assert [(n.call, n.retry, n.reason) for n in notices] == [
        ("ping", 1, "connection refused"),
        ("ping", 2, "server unavailable, HTTP 503"),
    ]
    assert [n.wait for n in notices] == script.waits == [0.2, 0.4]
    assert isinstance(notices[0].error, TransportError)


async def test_each_attempt_is_signed_afresh(run: Callable[..., Any]) -> None:
    script = Script(BUSY, OK_PING)

    await run(script, "ping", "x")

    assert all(r.headers["authorization"].startswith("auth-v2/ak/") for r in script.requests)
    assert [r.content for r in script.requests] == [b'{"say":"x"}'] * 2


async def test_retry_after_is_honoured(run: Callable[..., Any]) -> None:
    limited = (429, {"resultCode": "0100001", "resultDesc": "slow down"}, {"Retry-After": "2"})
    script = Script(limited, OK_PING)

    assert await run(script, "ping", "x") == "pong"

    assert script.waits == [2.0]


async def test_retries_stop_at_the_deadline(run: Callable[..., Any]) -> None:
    script = Script(BUSY)

    with pytest.raises(ServerError) as caught:
        await run(script, "ping", "x", retry_deadline=10)

    assert caught.value.http_status == 503
    assert caught.value.message == "store down"
    assert script.waits == [0.2, 0.4, 0.8, 1.6, 3.2]  # the next, 5.0 (cap), ends past 10 s
    assert len(script.requests) == 6


async def test_backoff_is_capped(run: Callable[..., Any]) -> None:
    script = Script(BUSY)

    with pytest.raises(ServerError):
        await run(script, "ping", "x", retry_deadline=20)

    assert script.waits == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert sum(script.waits) <= 20


async def test_deadline_zero_disables_retries(run: Callable[..., Any]) -> None:
    script = Script(BUSY, OK_PING)

    with pytest.raises(ServerError):
        await run(script, "ping", "x", retry_deadline=0)

    assert len(script.requests) == 1


async def test_post_events_is_retried_too(run: Callable[..., Any]) -> None:
    counts = (200, {"resultCode": "0100000", "resultDesc": {"accepted": 0, "duplicates": 1}}, {})
    script = Script(BUSY, counts)

    result = await run(script, "post_events", [{"eventId": "e1"}])

    assert (result.accepted, result.duplicates) == (0, 1)
    assert len(script.requests) == 2
    assert script.requests[0].content == script.requests[1].content


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((400, {"resultCode": "0100002", "resultDesc": "not JSON"}, {}), InvalidParameterError),
        ((200, {"resultCode": "0100002", "resultDesc": "ccId ..."}, {}), InvalidParameterError),
        ((401, {"resultCode": "0100001", "resultDesc": "bad signature"}, {}), AuthenticationError),
        ((500, {"resultCode": "0100999", "resultDesc": "unknown error"}, {}), ServerError),
        ((502, b"<html>Bad Gateway</html>", {}), ServerError),
        ((404, {"resultCode": "0100002", "resultDesc": "no route"}, {}), InvalidParameterError),
        ((403, b"Forbidden", {}), ApiError),
        ((200, {"resultCode": "0100001", "resultDesc": "failed"}, {}), ApiError),  # not an agent
    ],
)
async def test_other_failures_are_not_retried(
    run: Callable[..., Any], answer: Answer, error: type[ApiError]
) -> None:
    script = Script(answer, OK_PING)

    with pytest.raises(error) as caught:
        await run(script, "ping", "x")

    assert type(caught.value) is error
    assert caught.value.http_status == answer[0]  # type: ignore[index]
    assert len(script.requests) == 1
    assert script.waits == []


async def test_connection_errors_are_retried(run: Callable[..., Any]) -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    script = Script(refused, refused, OK_PING)

    assert await run(script, "ping", "x") == "pong"

    assert len(script.requests) == 3


async def test_timeouts_end_in_a_transport_error_at_the_deadline(
    run: Callable[..., Any],
) -> None:
    script = Script(httpx.ReadTimeout("timed out"))

    with pytest.raises(TransportError) as caught:
        await run(script, "agent_detail", 1, 1, 101, retry_deadline=2, timeout=3)

    assert not isinstance(caught.value, ApiError)
    assert "no answer from https://cms.test:28443/rest/cmsapp/v1/openapi/agent/agentbyworkno" \
        " within 3s" in caught.value.message  # fmt: skip
    assert script.waits == [0.2, 0.4, 0.8]
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def _tls_failure() -> httpx.ConnectError:
    try:
        raise ssl.SSLCertVerificationError(1, "certificate verify failed")
    except ssl.SSLError as exc:
        try:
            raise httpx.ConnectError("certificate verify failed") from exc
        except httpx.ConnectError as wrapped:
            return wrapped


async def test_tls_failures_are_not_retried(run: Callable[..., Any]) -> None:
    script = Script(_tls_failure(), OK_PING)

    with pytest.raises(TransportError) as caught:
        await run(script, "ping", "x")

    assert caught.value.retryable is False
    assert caught.value.message.startswith("TLS with https://cms.test:28443/rest/cmsapp/v1/ping")
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        {"resultCode": "0100000", "resultDesc": {"workNo": 101}},
        {"resultCode": "0100000", "resultDesc": {"workNo": 101, "vdnId": 1, "citStatus": 12}},
    ],
)
async def test_answers_outside_the_contract_raise_unexpected_answer(
    run: Callable[..., Any], body: Any
) -> None:
    with pytest.raises(UnexpectedAnswerError) as caught:
        await run(Script((200, body, {})), "agent_detail", 1, 1, 101)

    assert caught.value.http_status == 200


async def test_vendor_success_without_agent_data_is_agent_not_found(
    run: Callable[..., Any],
) -> None:
    empty = (200, {"result": "0", "resultCode": "0100000", "resultDesc": {}}, {})

    with pytest.raises(AgentNotFoundError):
        await run(Script(empty), "agent_detail", 1, 1, 101)


async def test_vendor_legacy_envelope_and_pre_rest_status(run: Callable[..., Any]) -> None:
    data = {
        "workno": "101",
        "vdnid": 1,
        "citStatus": 8,
        "name": "B",
        "phonenumber": None,
        "logindate": 1_700_000_000_000,
        "currentstatetime": 7,
        "mediatype": 0,
        "status": 9,
    }
    script = Script((200, {"result": "0", "resultDatas": data}, {}))  # fmt: skip

    agent = await run(script, "agent_detail_legacy", 1, 1, 101)

    assert agent.work_no == 101
    assert agent.login_date == 1_700_000_000_000
    assert agent.status == 0  # the vendor's 9 ("pre-rest") is not in AgentStatus: unknown
    assert script.requests[0].url.path == "/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno"


@pytest.mark.unit
def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
