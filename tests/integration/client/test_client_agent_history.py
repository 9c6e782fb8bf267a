"""``agent_history``: the native agent-detail route through both clients, typed.

Every test runs twice (``connect``): AsyncClient in-process and Client over loopback."""

from __future__ import annotations

import pytest
from client_support import ApiFactory, ServerClock

from ccms.client import (
    AgentFlag,
    AgentHistory,
    AgentItem,
    AgentNotFoundError,
    AgentStatus,
    CtiStatus,
    InvalidParameterError,
    PermissionDeniedError,
    StatusEvent,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

AMI = "asterisk-ami"


async def test_agent_history_field_by_field(connect: ApiFactory, server_clock: ServerClock) -> None:
    api = connect()
    now = server_clock.now_ms
    await api.post_events([
        {"eventId": "a", "ccId": 1, "vdn": 1, "agentId": 101, "at": now - 90_000,
         "ctiStatus": 1, "name": "Ann", "phoneNumber": "+4930", "mediaType": 5, "skills": [2, 1],
         "source": AMI, "rawState": "sales: Status=1"},
        {"eventId": "b", "ccId": 1, "vdn": 1, "agentId": 101, "at": now - 30_000,
         "ctiStatus": 4, "calls": ["c-7"], "source": AMI, "rawState": "sales: AgentCalled"},
    ])  # fmt: skip

    found = await api.agent_history(1, 1, 101, 1)

    assert isinstance(found, AgentHistory)
    assert found == AgentHistory(
        agent=AgentItem(
            work_no=101, name="Ann", cti_status=CtiStatus.ANSWERING, status=AgentStatus.TALKING,
            since=now - 30_000, seconds_in_state=30, reason=None, skills=(1, 2),
            calls=("c-7",), flags=(),
        ),
        login_date=now - 90_000, phone_number="+4930", media_type=5, source=AMI,
        raw_state="sales: AgentCalled",
        history=(StatusEvent(now - 30_000, CtiStatus.ANSWERING, None, True, "b", AMI,
                             "sales: AgentCalled"),),
    )  # fmt: skip
    assert found.raw["agent"]["rawState"] == "sales: AgentCalled"
    assert len((await api.agent_history(1, 1, 101)).history) == 2  # the default, 20


async def test_agent_history_failures(connect: ApiFactory) -> None:
    api = connect()
    with pytest.raises(AgentNotFoundError) as unknown:
        await api.agent_history(1, 1, 999, 20)
    assert unknown.value.message == "agent 999 is not known in call center 1, vdn 1"
    with pytest.raises(InvalidParameterError) as bad:
        await api.agent_history(1, 1, 101, 1001)
    assert bad.value.message == "historyLimit must be an integer from 0 to 1000"
    with pytest.raises(PermissionDeniedError):
        await connect(ak="scoped").agent_history(1, 2, 101, 20)  # outside its scope


def test_flags_and_answers_that_do_not_fit() -> None:
    flag = AgentFlag.from_wire({"name": "ringing-long", "level": "alert", "since": 5})
    assert flag == AgentFlag("ringing-long", "alert", 5)
    with pytest.raises(ValueError, match="a flag needs a name and a level"):
        AgentFlag.from_wire({"name": "x", "since": 5})
    with pytest.raises(ValueError, match="agent must be a JSON object"):
        AgentHistory.from_wire({"agent": None, "history": []})
