"""The client against the real app, in-process: these are also the API's tests.

Every test runs twice (``connect`` is parametrized): AsyncClient over ASGITransport and
the sync Client over loopback HTTP to the same app served by uvicorn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from client_support import SK, ApiFactory, ServerClock, make_app

from ccms.client import (
    AgentDetail,
    AgentNotFoundError,
    AgentStatus,
    ApiError,
    AsyncClient,
    AuthenticationError,
    CtiStatus,
    IngestResult,
    InvalidParameterError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def talking_agent(clock: ServerClock) -> list[dict[str, Any]]:
    """Agent 101 signed in 4000 s ago (idle), talking for the last 3725 s."""
    return [
        {"eventId": "e1", "ccId": 1, "vdn": 1, "agentId": 101, "at": clock.now_ms - 4_000_000,
         "ctiStatus": 1, "name": "Ann Lee", "phoneNumber": "+4930123456", "mediaType": 5},
        {"eventId": "e2", "ccId": 1, "vdn": 1, "agentId": 101, "at": clock.now_ms - 3_725_000,
         "ctiStatus": 5},
    ]  # fmt: skip


async def test_agent_detail_after_post_events(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    api = connect()
    result = await api.post_events(talking_agent(server_clock))
    assert result == IngestResult(accepted=2, duplicates=0)

    agent = await api.agent_detail(1, 1, 101)

    assert isinstance(agent, AgentDetail)
    assert agent.work_no == 101
    assert agent.vdn_id == 1
    assert agent.cti_status is CtiStatus.TALKING
    assert agent.name == "Ann Lee"
    assert agent.phone_number == "+4930123456"
    assert agent.login_date == server_clock.now_ms - 4_000_000
    assert agent.current_state_time == 3725
    assert agent.media_type == 5
    assert agent.status is AgentStatus.TALKING
    assert agent.signed_in is True
    assert agent.raw["citStatus"] == 5
    assert set(agent.raw) == {"workNo", "vdnId", "citStatus", "name", "phoneNumber",
                              "loginDate", "currentStateTime", "mediaType", "status"}  # fmt: skip


async def test_posting_the_same_batch_again_counts_duplicates(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    api = connect()
    events = talking_agent(server_clock)
    await api.post_events(events)

    again = await api.post_events(events)

    assert again == IngestResult(accepted=0, duplicates=2)
    assert (await api.agent_detail(1, 1, 101)).current_state_time == 3725


async def test_legacy_route_gives_the_same_agent(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    api = connect()
    await api.post_events(talking_agent(server_clock))

    legacy = await api.agent_detail_legacy(1, 1, 101)

    assert legacy == await api.agent_detail(1, 1, 101)
    assert legacy.raw["workno"] == 101
    assert legacy.raw["currentstatetime"] == 3725


async def test_signed_out_agent_has_no_login_date(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    api = connect()
    at = server_clock.now_ms
    await api.post_events([
        {"eventId": "a", "ccId": 1, "vdn": 1, "agentId": 102, "at": at - 90_000, "ctiStatus": 1},
        {"eventId": "b", "ccId": 1, "vdn": 1, "agentId": 102, "at": at - 65_000, "ctiStatus": 0},
    ])  # fmt: skip

    agent = await api.agent_detail(1, 1, 102)

    assert agent.raw["loginDate"] == 4_294_967_295_000
    assert agent.login_date is None
    assert agent.signed_in is False
    assert agent.status is AgentStatus.SIGNED_OUT
    assert agent.current_state_time == 65


async def test_ping_echoes(connect: ApiFactory) -> None:
    assert await connect().ping("Hello world!") == "Hello world!"


@pytest.mark.parametrize(
    ("cc_id", "vdn", "work_no", "field"),
    [(0, 1, 101, "ccId"), (1, 5001, 101, "vdn"), (1, 1, 100, "agentId"), (1, 1, 60000, "agentId")],
)
async def test_out_of_range_ids_raise_invalid_parameter(
    connect: ApiFactory, cc_id: int, vdn: int, work_no: int, field: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await connect().agent_detail(cc_id, vdn, work_no)

    assert caught.value.result_code == "0100002"
    assert caught.value.http_status == 200
    assert caught.value.message.startswith(f"{field} must be an integer from")


async def test_invalid_event_rejects_the_batch(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    api = connect()
    good, _ = talking_agent(server_clock)
    bad = {"eventId": "x", "ccId": 1, "vdn": 1, "agentId": 101, "at": 1, "ctiStatus": 11}

    with pytest.raises(InvalidParameterError) as caught:
        await api.post_events([good, bad])

    assert caught.value.message == "events[1].ctiStatus must be an integer from 0 to 10"
    with pytest.raises(AgentNotFoundError):
        await api.agent_detail(1, 1, 101)


@pytest.mark.parametrize("method", ["agent_detail", "agent_detail_legacy"])
async def test_unknown_agent_raises_agent_not_found(connect: ApiFactory, method: str) -> None:
    with pytest.raises(AgentNotFoundError) as caught:
        await getattr(connect(), method)(1, 1, 999)

    assert caught.value.result_code == "0100001"
    assert caught.value.http_status == 200
    assert "999" in caught.value.message


async def test_key_scoped_to_vdn_1_is_denied_vdn_2(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    await connect().post_events(talking_agent(server_clock))
    scoped = connect(ak="scoped")

    assert (await scoped.agent_detail(1, 1, 101)).work_no == 101
    with pytest.raises(PermissionDeniedError) as caught:
        await scoped.agent_detail(1, 2, 101)

    assert caught.value.result_code == "0101003"
    assert caught.value.http_status == 200


async def test_query_key_may_not_post_events(
    connect: ApiFactory, server_clock: ServerClock
) -> None:
    with pytest.raises(PermissionDeniedError, match="ingest"):
        await connect(ak="reader").post_events(talking_agent(server_clock))


@pytest.mark.parametrize(("ak", "sk"), [("admin", "wrong-secret-0123456789"), ("nobody", SK)])
async def test_bad_credentials_raise_authentication_error(
    connect: ApiFactory, ak: str, sk: str
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await connect(ak=ak, sk=sk).ping("x")

    assert caught.value.http_status == 401
    assert caught.value.result_code == "0100001"
    assert isinstance(caught.value, ApiError)


# -- answers only a particular app gives: AsyncClient in-process ------------------------


async def test_rate_limit_raises_then_retry_after_is_honoured(
    tmp_path: Path, server_clock: ServerClock
) -> None:
    app = make_app(tmp_path / "ccms.db", server_clock,
                   {"CCMS_RATE_LIMIT": "1", "CCMS_RATE_BURST": "1"})  # fmt: skip
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the server's clock moves while we wait
        waits.append(seconds)
        server_clock.advance(seconds)

    try:
        async with AsyncClient("http://t", "admin", SK, transport=transport,
                               retry_deadline=0) as once:  # fmt: skip
            assert await once.ping("first") == "first"
            with pytest.raises(RateLimitedError) as caught:
                await once.ping("second")
        async with AsyncClient("http://t", "admin", SK, transport=transport, sleep=sleep) as cms:
            assert await cms.ping("third") == "third"
    finally:
        await app.shutdown()

    assert caught.value.http_status == 429
    assert caught.value.retry_after == 1.0
    assert waits == [1.0]


async def test_store_unavailable_is_a_server_error_retried_until_the_deadline(
    tmp_path: Path, server_clock: ServerClock
) -> None:
    app = make_app(tmp_path / "ccms.db", server_clock)
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    waits: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    try:
        async with AsyncClient("http://t", "admin", SK, transport=transport, sleep=sleep,
                               clock=lambda: now[0], retry_deadline=3) as cms:  # fmt: skip
            await cms.post_events(talking_agent(server_clock))
            for path in tmp_path.glob("ccms.db*"):
                path.unlink()
            with pytest.raises(ServerError) as caught:
                await cms.post_events(talking_agent(server_clock))
    finally:
        await app.shutdown()

    assert caught.value.http_status == 503
    assert caught.value.result_code == "0100001"
    assert waits == [1.0, 1.0, 1.0]  # Retry-After: 1, until the 3 s deadline
