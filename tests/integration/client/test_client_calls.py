"""The client's call methods against the real app (both clients, ``connect``)."""

from __future__ import annotations

from typing import Any

import pytest
from client_support import ApiFactory, ServerClock

from ccms.client import (
    ApiError,
    BasicCallInfo,
    CallRecord,
    CallRecordPage,
    InvalidParameterError,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DAY = 86_400_000


def calls(at: int) -> list[dict[str, Any]]:
    """An inbound call answered and ended, an outbound one ended, one queued now."""
    t = at - 60_000

    def e(n: str, call: str, kind: str, when: int, **fields: Any) -> dict[str, Any]:
        return {"eventId": n, "ccId": 1, "vdn": 1, "callId": call, "at": when,
                "callEvent": kind, **fields}  # fmt: skip

    return [
        e("a1", "1789999000-1", "arrive", t, callerNo="88881364", calleeNo="650550"),
        e("a2", "1789999000-1", "queue", t + 1_000, skillId=3),
        e("a3", "1789999000-1", "answer", t + 5_000, agentId=101),
        e("a4", "1789999000-1", "end", t + 9_000),
        e("b1", "1789999000-2", "arrive", t + 2_000, callType=7, subMediaType=8),
        e("b2", "1789999000-2", "end", t + 3_000),
        e("c1", "1789999000-3", "queue", at - 4_000, skillId=2),
    ]


@pytest.fixture
async def api(connect: ApiFactory, server_clock: ServerClock) -> Any:
    client = connect()
    result = await client.post_events(calls(server_clock.now_ms))
    assert result.accepted == 7
    return client


async def test_vdn_calls_v1_and_v2(api: Any, server_clock: ServerClock) -> None:
    now = server_clock.now_ms
    t = now - 60_000
    begin = now // DAY * DAY - DAY
    page = await api.vdn_calls(1, 1, begin, now)
    assert page == CallRecordPage(
        1,
        (
            CallRecord(
                "1789999000-1", 1, "88881364", "650550", 0, 5, -1, t + 1_000, t + 5_000,
                t + 5_000, t + 9_000, t + 9_000, 15,
            ),
        ),
    )  # fmt: skip
    assert page.records[0].answered
    out = await api.vdn_calls(1, 1, begin, now, call_in=False, limit=1, offset=0)
    assert (out.count, out.records[0].call_id, out.records[0].sub_media_type) == (
        1, "1789999000-2", 8,
    )  # fmt: skip
    assert not out.records[0].answered and out.records[0].wait_begin is None
    with pytest.raises(InvalidParameterError, match="limit must be an integer from 1 to 100"):
        await api.vdn_calls(1, 1, begin, now, call_in=True, limit=101)


async def test_basic_call_info(api: Any, server_clock: ServerClock) -> None:
    info = await api.basic_call_info(1, 1, "1789999000-3")
    assert isinstance(info, BasicCallInfo)
    assert (info.call_id, info.device_type, info.device_no, info.wait_time) == (
        "1789999000-3", 1, 2, 4,
    )  # fmt: skip
    assert info.raw["callInCause"] == 65535
    with pytest.raises(ApiError, match="not in progress") as caught:
        await api.basic_call_info(1, 1, "1789999000-1")
    assert caught.value.result_code == "0100001"


async def test_skill_call_counts(api: Any, server_clock: ServerClock) -> None:
    now = server_clock.now_ms
    start = now // 300_000 * 300_000
    counts = await api.skill_call_counts(1, 1, [2, 3])
    assert [c.skill_id for c in counts] == [2, 3] and counts[0].start == start
    queued = calls(now)[-1]["at"]  # queue 2's call queued 4 s ago
    assert counts[0].calls == (1 if queued >= start else 0)
    assert (counts[0].connected, counts[0].abandoned, counts[0].ivr_seconds) == (0, 0, 0)


async def test_vdn_indicators(api: Any) -> None:
    found = await api.vdn_indicators(
        [1, 2], ["IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_VDN_CALL"]
    )
    assert [(f.vdn, dict(f.values)) for f in found] == [
        (1, {"IDX_COUNT_REAL_SKILL_QUEUE": 1, "IDX_COUNT_REAL_VDN_CALL": 1}),
        (2, {"IDX_COUNT_REAL_SKILL_QUEUE": 0, "IDX_COUNT_REAL_VDN_CALL": 0}),
    ]
    with pytest.raises(InvalidParameterError, match="indexIds must be a list"):
        await api.vdn_indicators([1], ["IDX_NOPE"], cc_id=1)
