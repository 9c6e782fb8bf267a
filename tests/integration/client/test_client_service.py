"""The client's service methods against the real app (both clients): service quality,
skill-queue limits and the calls per access code."""

from __future__ import annotations

from typing import Any

import pytest
from client_support import ApiFactory, ServerClock

from ccms.client import (
    AccessCodeCalls,
    InvalidParameterError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceQuality,
    SkillConfig,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WINDOW = 300_000


def events(now: int) -> list[dict[str, Any]]:
    """Two calls of the last complete 5 minutes in queue 1 (one answered after 10 s, one
    lost after 30 s), and one queued now on access code 1."""
    start = (now - WINDOW) // WINDOW * WINDOW

    def e(n: str, call: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
        return {"eventId": n, "ccId": 1, "vdn": 1, "callId": call, "at": at,
                "callEvent": kind, **fields}  # fmt: skip

    return [
        e("a1", "1789999000-1", "queue", start + 1_000, skillId=1),
        e("a2", "1789999000-1", "answer", start + 11_000, agentId=101),
        e("b1", "1789999000-2", "queue", start + 2_000, skillId=1),
        e("b2", "1789999000-2", "abandon", start + 32_000),
        e("c1", "1789999000-3", "arrive", now - 9_000, accessCode="1"),
        e("c2", "1789999000-3", "queue", now - 7_000, skillId=2),
    ]


@pytest.fixture
async def api(connect: ApiFactory, server_clock: ServerClock) -> Any:
    client = connect()
    result = await client.post_events(events(server_clock.now_ms))
    assert result.accepted == 6
    return client


async def test_service_quality(api: Any, server_clock: ServerClock) -> None:
    start = (server_clock.now_ms - WINDOW) // WINDOW * WINDOW
    found = await api.service_quality(1, 1, [1, 2])
    assert found == (
        ServiceQuality(1, start, 2, 1, 1, 1, 0, 1, 0),
        ServiceQuality(2, start, 0, 0, 0, 0, 0, 0, 0),
    )
    with pytest.raises(RateLimitedError) as caught:  # the same second, no retries
        await api.service_quality(1, 1, [1])
    assert caught.value.result_code == "0100001" and caught.value.retry_after == 1
    server_clock.advance(1)
    assert len(await api.service_quality(1, 1, [1])) == 1
    with pytest.raises(InvalidParameterError, match="skillIds must be a list of 1 to 1000"):
        await api.service_quality(1, 1, [])


async def test_skill_configs(api: Any) -> None:
    assert await api.skill_configs(1, 1, [3]) == (SkillConfig(3, 100, 5, 60, 30, 86_400, 2, 5),)
    with pytest.raises(InvalidParameterError, match="skillIds must be a list"):
        await api.skill_configs(1, 1, [10_001])


async def test_access_code_calls(api: Any, connect: ApiFactory) -> None:
    found = await api.access_code_calls(1, 1, [1, 2])
    assert found == (AccessCodeCalls(1, 1, 0, 0, 1, 7), AccessCodeCalls(2, 0, 0, 0, 0, 0))
    with pytest.raises(InvalidParameterError, match="innoIds must be a list of 1 to 500"):
        await api.access_code_calls(1, 1, list(range(1, 502)))
    scoped = connect("scoped")
    with pytest.raises(PermissionDeniedError):
        await scoped.access_code_calls(1, 2, [1])
