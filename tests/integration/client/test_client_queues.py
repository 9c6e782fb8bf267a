"""The client's skill-queue methods against the real app (both clients, ``connect``)."""

from __future__ import annotations

from typing import Any

import pytest
from client_support import ApiFactory, ServerClock

from ccms.client import (
    InvalidParameterError,
    QueuedCall,
    QueueDevice,
    QueueStateInfo,
    QueueStatus,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def events(now: int) -> list[dict[str, Any]]:
    """Agent 101 idle in queue 2 for 30 s, 102 talking; two calls queued in queue 2 (one
    for 40 s with its numbers, one for 5 s), one answered from it within the window."""
    start = now // 300_000 * 300_000

    def e(n: str, call: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
        return {"eventId": n, "ccId": 1, "vdn": 1, "callId": call, "at": at,
                "callEvent": kind, **fields}  # fmt: skip

    return [
        {"eventId": "g1", "ccId": 1, "vdn": 1, "agentId": 101, "at": now - 30_000,
         "ctiStatus": 1, "skills": [2]},
        {"eventId": "g2", "ccId": 1, "vdn": 1, "agentId": 102, "at": now - 30_000,
         "ctiStatus": 5, "skills": [2, 3]},
        e("a1", "1789999000-1", "arrive", now - 41_000, callerNo="88881364", calleeNo="650550"),
        e("a2", "1789999000-1", "queue", now - 40_000, skillId=2),
        e("b1", "1789999000-2", "queue", now - 5_000, skillId=2),
        e("c1", "1789999000-3", "queue", start, skillId=2),
        e("c2", "1789999000-3", "answer", start, agentId=102),
    ]  # fmt: skip


@pytest.fixture
async def api(connect: ApiFactory, server_clock: ServerClock) -> Any:
    server_clock.now = int(server_clock.now) // 300 * 300 + 200  # 200 s into 5 minutes
    client = connect()
    result = await client.post_events(events(server_clock.now_ms))
    assert result.accepted == 7
    return client


async def test_queue_status(api: Any) -> None:
    found = await api.queue_status(1, 1, [2, 9])
    assert found == (
        QueueStatus(2, 2, 40, "1789999000-1", 2, 1, "2", 65535),
        QueueStatus(9, 0, 0, None, 0, 0, "9", 65535),
    )
    with pytest.raises(InvalidParameterError, match="skillIds must be a list of 1 to 1000"):
        await api.queue_status(1, 1, [])


async def test_queue_state_info_and_its_legacy_twin(api: Any) -> None:
    [info] = await api.queue_state_info(1, 1, [2])
    assert isinstance(info, QueueStateInfo)
    assert (info.skill_id, info.signed_in, info.talking, info.idle, info.available) == (
        2, 2, 1, 1, 1,
    )  # fmt: skip
    assert (info.waiting_calls, info.handled_calls, info.processed_calls) == (2, 1, 1)
    assert (info.max_idle_time_in_5, info.max_wait_time_in_5, info.average_wait_time_in_5) == (
        30, 40, 0,
    )  # fmt: skip
    assert (info.calls, info.connected_in_20s) == (3, 1)
    [legacy] = await api.queue_state_info(1, 1, [2], legacy=True)
    assert (legacy.calls, legacy.connected_in_20s) == (None, None)
    assert legacy.raw["agentSetbusyNums"] == 0 and legacy.waiting_calls == 2


async def test_skill_indicators(api: Any) -> None:
    codes = ["IDX_COUNT_REAL_SKILL_QUEUE", "IDX_DURATION_SKILL_MAX_QUEUE_ACK"]
    found = await api.skill_indicators(1, 1, [2, 3], codes)
    assert [(f.skill_id, dict(f.values)) for f in found] == [
        (2, {"IDX_COUNT_REAL_SKILL_QUEUE": 2, "IDX_DURATION_SKILL_MAX_QUEUE_ACK": 40}),
        (3, {"IDX_COUNT_REAL_SKILL_QUEUE": 0, "IDX_DURATION_SKILL_MAX_QUEUE_ACK": 0}),
    ]
    with pytest.raises(InvalidParameterError, match="indexIds must be a list of 1 to 12"):
        await api.skill_indicators(1, 1, [2], ["IDX_NOPE"])


async def test_queued_calls_and_queue_devices(api: Any, server_clock: ServerClock) -> None:
    now = server_clock.now_ms
    [queue] = await api.queued_calls(1, 1, [2])
    assert queue.skill_id == 2
    first, second = queue.calls
    assert isinstance(first, QueuedCall)
    assert (first.call_id, first.calling, first.called, first.original_called) == (
        "1789999000-1", "88881364", "650550", "650550",
    )  # fmt: skip
    assert (first.media_type, first.call_in_time, first.wait_time) == (
        "MEDIA_TYPE_PHONE", now - 41_000, 40,
    )  # fmt: skip
    assert (second.call_id, second.wait_time) == ("1789999000-2", 5)
    devices = await api.queue_devices(1, 1, 2)
    assert devices == (QueueDevice("1789999000-1", 0, 0), QueueDevice("1789999000-2", 0, 0))
    with pytest.raises(InvalidParameterError, match="skillId must be an integer from 1 to 10000"):
        await api.queue_devices(1, 1, 0)
