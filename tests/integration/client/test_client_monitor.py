"""The client's monitoring methods against the real app (both clients, ``connect``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from client_support import ApiFactory, ServerClock

from ccms.client import (
    AgentAbstract,
    AgentCtiState,
    AgentNotFoundError,
    AgentPage,
    AgentSkills,
    AgentStatus,
    AgentStatusInfo,
    ApiError,
    AsyncClient,
    CtiStatus,
    InvalidParameterError,
    PermissionDeniedError,
    SkillAgent,
    SkillMembers,
    SkillSignIn,
    StateCounts,
    SystemState,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def floor(clock: ServerClock) -> list[dict[str, Any]]:
    """101 talking in queues 1 and 2 (idle 40 s before), 102 busy in queue 2 with reason
    205, 103 signed out, 104 idle in no queue."""
    at = clock.now_ms
    base = {"ccId": 1, "vdn": 1}
    return [
        {**base, "eventId": "f1", "agentId": 101, "at": at - 100_000, "ctiStatus": 1,
         "name": "Ann", "phoneNumber": "+49301", "mediaType": 5, "skills": [1, 2]},
        {**base, "eventId": "f2", "agentId": 101, "at": at - 60_000, "ctiStatus": 5,
         "calls": ["c-1"]},
        {**base, "eventId": "f3", "agentId": 102, "at": at - 30_000, "ctiStatus": 7,
         "reason": 205, "skills": [2]},
        {**base, "eventId": "f4", "agentId": 103, "at": at - 20_000, "ctiStatus": 0},
        {**base, "eventId": "f5", "agentId": 104, "at": at - 10_000, "ctiStatus": 1},
    ]  # fmt: skip


@pytest.fixture
async def api(connect: ApiFactory, server_clock: ServerClock) -> Any:
    client = connect()
    await client.post_events(floor(server_clock))
    return client


async def test_agent_status_infos(api: Any, server_clock: ServerClock) -> None:
    infos = await api.agent_status_infos(1, 1, [103, 101, 999])
    assert [info.work_no for info in infos] == [101, 103]
    talking, signed_out = infos
    assert isinstance(talking, AgentStatusInfo)
    assert talking == AgentStatusInfo(
        work_no=101, current_state=CtiStatus.TALKING, current_state_time=60,
        prev_state=CtiStatus.IDLE, prev_state_time=40, logon_time=server_clock.now_ms - 100_000,
        current_state_reason=None, location_id=None, agent_release=0,
        current_private_call_num=0,
    )  # fmt: skip
    assert talking.raw["locationId"] == 65535
    assert signed_out.logon_time is None
    assert signed_out.prev_state is CtiStatus.SIGNED_OUT
    assert signed_out.prev_state_time is None
    busy = (await api.agent_status_infos(1, 1, [102]))[0]
    assert busy.current_state_reason == 205


async def test_team_status_counts(api: Any) -> None:
    counts = await api.team_status_counts(1, 1, [101, 102, 103, 104, 105])
    assert counts == StateCounts(signed_in=3, talking=1, idle=1, usable=1, set_busy=1,
                                 working=0, rest=0, studying=0, occupied=0, preoccupied=0,
                                 answering=0, adjusting=0)  # fmt: skip


async def test_agent_skills(api: Any) -> None:
    assert await api.agent_skills(1, 1, [101, 103]) == (
        AgentSkills(101, (SkillSignIn(1, True), SkillSignIn(2, True))),
        AgentSkills(103, ()),
    )


async def test_agent_calls_and_has_call(api: Any) -> None:
    assert await api.agent_calls(1, 1, 101) == ("c-1",)
    assert await api.agent_calls(1, 1, 104) == ()
    assert await api.has_call(1, 1, 101) is True
    assert await api.has_call(1, 1, 104) is False
    for method in (api.agent_calls, api.has_call):
        with pytest.raises(AgentNotFoundError):
            await method(1, 1, 999)


async def test_system_state(api: Any) -> None:
    assert await api.system_state(1, 1, 0, 100) == SystemState(
        busy=1, talking=1, idle=1, signed_in=3
    )
    assert await api.system_state(1, 1, 2, 1) == SystemState(0, 0, 0, 0)  # agent 103


async def test_vdn_lists(api: Any) -> None:
    by_status = await api.agents_by_status(1, 1, 0, 10, 1)
    assert by_status == (AgentAbstract(104, CtiStatus.IDLE, 10, None),)
    assert [a.work_no for a in await api.agents_by_status(1, 1, 1, 2, None)] == [102, 103]
    page = await api.vdn_agents(1, 1, 1, 2)
    assert isinstance(page, AgentPage)
    assert page.count == 4
    assert page.items == (
        AgentAbstract(102, CtiStatus.BUSY, 30, None),
        AgentAbstract(103, CtiStatus.SIGNED_OUT, 20, None),
    )
    states = await api.vdn_agent_states(1, 1, 3, 1000)
    assert states == AgentPage(count=4, items=(AgentCtiState(104, CtiStatus.IDLE),))
    assert [s.state for s in await api.vdn_all_agent_states(1, 1)] == [
        CtiStatus.TALKING, CtiStatus.BUSY, CtiStatus.SIGNED_OUT, CtiStatus.IDLE,
    ]  # fmt: skip


async def test_skill_queues(api: Any, server_clock: ServerClock) -> None:
    assert await api.skill_members(1, 1, [2, 1, 7]) == (
        SkillMembers(2, (101, 102)),
        SkillMembers(1, (101,)),
        SkillMembers(7, ()),
    )
    agents = await api.skill_agents(1, 1, 1)
    assert agents == (
        SkillAgent(work_no=101, name="Ann", status=AgentStatus.TALKING,
                   cti_status=CtiStatus.TALKING, group_id=None, media_type=5, vdn_id=1,
                   phone_number="+49301", current_state_time=60,
                   login_date=server_clock.now_ms - 100_000),
    )  # fmt: skip
    assert await api.skill_agents_legacy(1, 1, 1) == agents
    assert (await api.skill_agents_legacy(1, 1, 1))[0].raw["workno"] == 101
    any_of = await api.skill_status_counts(1, 1, [1, 2], False)
    all_of = await api.skill_status_counts(1, 1, [1, 2], True)
    assert (any_of.signed_in, any_of.talking, any_of.set_busy) == (2, 1, 1)
    assert (all_of.signed_in, all_of.talking, all_of.set_busy) == (1, 1, 0)


async def test_errors_map_to_exceptions(connect: ApiFactory) -> None:
    api = connect()
    with pytest.raises(InvalidParameterError) as caught:
        await api.agent_status_infos(1, 1, list(range(101, 6102)))
    assert caught.value.message == (
        "agentIds must be a list of 1 to 6000 integers from 101 to 59999"
    )
    with pytest.raises(InvalidParameterError) as caught:
        await api.agents_by_status(1, 1, 0, 1001, None)
    assert caught.value.message == "limit must be an integer from 1 to 1000"
    with pytest.raises(InvalidParameterError) as caught:
        await api.system_state(1, 1, 0, 101)
    assert caught.value.message == "limit must be an integer from 1 to 100"
    with pytest.raises(PermissionDeniedError):
        await connect(ak="scoped").vdn_agents(1, 2, 0, 10)
    with pytest.raises(PermissionDeniedError):
        await connect(ak="scoped").agents_by_status(1, 2, 0, 10, None)


# -- a vendor CC-CMS answers vdn/queryAgentByStatus in its own envelope ---------------------


async def test_vendor_envelope_of_query_agent_by_status() -> None:
    answers = iter(
        [
            {"returnCode": "0", "description": "success",
             "data": [{"agentId": 55002, "locationId": 65535, "currentState": 0,
                       "currentStateTime": 12}]},
            {"returnCode": "0100002", "description": "Invalid parameter"},
        ]
    )  # fmt: skip

    async def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    transport = httpx.MockTransport(handle)
    async with AsyncClient("https://cms.example:28443", "ak", "sk", transport=transport,
                           retry_deadline=0) as cms:  # fmt: skip
        agents = await cms.agents_by_status(1, 170, 0, 10)
        assert agents == (AgentAbstract(55002, CtiStatus.SIGNED_OUT, 12, None),)
        with pytest.raises(ApiError) as caught:
            await cms.agents_by_status(1, 170, 0, 10)
    assert caught.value.result_code == "0100002"
    assert caught.value.message == "Invalid parameter"
