"""The client's methods of a call's track and details against the real app (both
clients, ``connect``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from client_support import ApiFactory, ServerClock
from test_client_calls import calls

from ccms.client import ApiError, CallDetail, CallLeg, InvalidParameterError, PrivateCallInfo

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def api(connect: ApiFactory, server_clock: ServerClock) -> Any:
    client = connect()
    now = server_clock.now_ms
    ringing = [
        {"eventId": "d1", "ccId": 1, "vdn": 1, "callId": "1789999000-4", "at": now - 3_000,
         "callEvent": "offer", "agentId": 105, "skillId": 2},
    ]  # fmt: skip
    result = await client.post_events([*calls(now), *ringing])
    assert result.accepted == 8
    return client


async def test_call_trace(api: Any, server_clock: ServerClock) -> None:
    t = server_clock.now_ms - 60_000
    legs = await api.call_trace(1, 1, "1789999000-1")
    common = {"call_id": "1789999000-1", "caller_no": "88881364", "callee_no": "650550",
              "call_type": 0, "media_type": 5, "sub_media_type": -1, "enter_reason": 0,
              "release_cause": 0}  # fmt: skip
    assert legs == (
        CallLeg(number=1, device_type=3, device_no="0", skill_id="", entered_at=t,
                rang_at=None, answered_at=None, left_at=t + 1_000, leave_reason=0, **common),
        CallLeg(number=2, device_type=1, device_no="3", skill_id="3", entered_at=t + 1_000,
                rang_at=None, answered_at=None, left_at=t + 5_000, leave_reason=0, **common),
        CallLeg(number=-1, device_type=2, device_no="101", skill_id="3", entered_at=t + 5_000,
                rang_at=t + 5_000, answered_at=t + 5_000, left_at=t + 9_000, leave_reason=15,
                **common),
    )  # fmt: skip
    assert [leg.last for leg in legs] == [False, False, True]
    assert await api.call_trace(1, 1, "1789999999-1", log_date=t) == ()
    with pytest.raises(InvalidParameterError, match="logDate must be a time in ms"):
        await api.call_trace(1, 1, "1789999000-1", log_date=-1)


async def test_private_call_info(api: Any, server_clock: ServerClock) -> None:
    info = await api.private_call_info(1, 1, "1789999000-4")
    assert isinstance(info, PrivateCallInfo)
    assert (info.call_id, info.work_no, info.call_skill, info.media_type, info.party_num) == (
        "1789999000-4", 105, "2", "MEDIA_TYPE_PHONE", 1,
    )  # fmt: skip
    assert info.time == (server_clock.now_ms - 3_000) // 1000 and info.raw["callFeature"] == "0"
    with pytest.raises(ApiError, match="not in progress at an agent") as caught:
        await api.private_call_info(1, 1, "1789999000-3")  # queued
    assert caught.value.result_code == "0100001"


async def test_call_detail_by_id(api: Any, server_clock: ServerClock) -> None:
    t = server_clock.now_ms - 60_000

    def utc(ms: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000))

    detail = await api.call_detail_by_id(1, "1789999000-1")
    assert detail == CallDetail(
        vdn=1, call_id="1789999000-1", caller_no="88881364", callee_no="650550", call_type=0,
        work_no=101, skill_id=3, queue_wait_time=4, ivr_call_time=1, ack_time=0, call_time=4,
        release_cause=0, begin_time=utc(t), end_time=utc(t + 9_000),
    )  # fmt: skip
    out = await api.call_detail_by_id(1, "1789999000-2", call_in=False)
    assert (out.call_type, out.work_no, out.ivr_call_time) == (7, 0, 1)
    with pytest.raises(ApiError, match="has no inbound call record") as caught:
        await api.call_detail_by_id(1, "1789999000-2")
    assert caught.value.result_code == "0100001"
    with pytest.raises(TypeError, match="call_in must be True or False"):
        await api.call_detail_by_id(1, "1789999000-2", call_in="false")
