"""The store contract: each status event's source and raw state in the history, and an
agent read with its history and the cause of its current status (``agent_history``)."""

from __future__ import annotations

import pytest

from ccms.domain.agent import AgentEvent, StatusChange
from ccms.domain.status import CtiStatus
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000
AMI = "asterisk-ami"


def ev(event_id: str, at: int, status: int | None = None, **kw: object) -> AgentEvent:
    return AgentEvent(event_id, 1, 1, 101, at, status, **kw)  # type: ignore[arg-type]


async def test_history_keeps_source_and_raw_state_field_by_field(store: Store) -> None:
    await store.apply_events(
        [
            ev("a", T0, CtiStatus.IDLE, source=AMI, raw_state="sales: Status=1 InCall=0"),
            ev("b", T0 + 10_000, CtiStatus.REST, reason=4, source="pbx-2", raw_state=""),
            ev("c", T0 + 20_000, CtiStatus.TALKING),  # neither: both None
        ]
    )
    await store.apply_events([ev("late", T0 + 5_000, CtiStatus.BUSY, source=AMI, raw_state="x")])
    history = await store.history(1, 1, 101, 10)
    assert history == [
        StatusChange("c", 1, 1, 101, T0 + 20_000, 5, None, True, None, None),
        StatusChange("b", 1, 1, 101, T0 + 10_000, 8, 4, True, "pbx-2", ""),
        StatusChange("late", 1, 1, 101, T0 + 5_000, 7, None, False, AMI, "x"),
        StatusChange("a", 1, 1, 101, T0, 1, None, True, AMI, "sales: Status=1 InCall=0"),
    ]


async def test_agent_history_reads_agent_history_and_cause(store: Store) -> None:
    await store.apply_events(
        [
            ev("a", T0, CtiStatus.IDLE, source=AMI, raw_state="idle words"),
            ev("b", T0 + 10_000, CtiStatus.TALKING, source=AMI, raw_state="call words"),
        ]
    )
    await store.apply_events([ev("late", T0 + 5_000, CtiStatus.BUSY, source="other")])
    found = await store.agent_history(1, 1, 101, 2)
    assert found is not None
    assert found.record == await store.get_agent(1, 1, 101)
    assert [h.event_id for h in found.history] == ["b", "late"]
    assert found.cause is not None
    assert (found.cause.event_id, found.cause.source, found.cause.raw_state) == (
        "b",
        AMI,
        "call words",
    )
    # the cause whatever the limit, also 0
    none = await store.agent_history(1, 1, 101, 0)
    assert none is not None and none.history == [] and none.cause == found.cause


async def test_the_cause_is_the_newest_applied_event_not_the_newest_row(store: Store) -> None:
    """Out-of-order events are history, never the cause: with limit 1 the only row read is
    not applied, and the cause is still the applied one."""
    await store.apply_events([ev("now", T0 + 10_000, CtiStatus.REST, source=AMI, raw_state="r")])
    await store.apply_events([ev("old", T0, CtiStatus.IDLE, source="late-feed")])
    found = await store.agent_history(1, 1, 101, 1)
    assert found is not None
    assert [(h.event_id, h.applied) for h in found.history] == [("now", True)]
    assert found.cause is not None and found.cause.event_id == "now"
    # the same status again takes over as the cause: it is the newest applied event
    await store.apply_events([ev("again", T0 + 12_000, CtiStatus.REST, source=AMI, raw_state="r2")])
    found = await store.agent_history(1, 1, 101, 5)
    assert found is not None and found.cause is not None
    assert (found.cause.event_id, found.cause.raw_state) == ("again", "r2")
    assert found.record.status_at == T0 + 10_000  # the status still counts from "now"


async def test_agent_history_of_unknown_and_attribute_only_agents(store: Store) -> None:
    assert await store.agent_history(1, 1, 101, 20) is None
    await store.apply_events([ev("n", T0, name="Ann", source=AMI, raw_state="no status")])
    found = await store.agent_history(1, 1, 101, 20)
    assert found is not None
    assert (found.record.name, found.history, found.cause) == ("Ann", [], None)
    assert await store.agent_history(1, 2, 101, 20) is None  # another VDN
