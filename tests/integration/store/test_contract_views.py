"""The store contract of the monitoring views, tested through the protocol only."""

from __future__ import annotations

import pytest

from ccms.domain.agent import AgentEvent, AgentState, SkillMember, state_of
from ccms.domain.status import CtiStatus
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000


def ev(
    event_id: str,
    at: int,
    status: int | None = None,
    work_no: int = 101,
    vdn: int = 1,
    cc_id: int = 1,
    **kw: object,
) -> AgentEvent:
    return AgentEvent(event_id, cc_id, vdn, work_no, at, status, **kw)  # type: ignore[arg-type]


async def floor(store: Store) -> None:
    """VDN 1 of call center 1: agents 101..105; 104 has no status yet. Other tenants too."""
    await store.apply_events(
        [
            ev("a1", T0, CtiStatus.IDLE, 101, skills=(1, 2)),
            ev("a2", T0 + 5_000, CtiStatus.TALKING, 101, reason=3),
            ev("b1", T0 + 1_000, CtiStatus.BUSY, 102, reason=205, skills=(2,)),
            ev("c1", T0 + 2_000, CtiStatus.IDLE, 103, skills=(1,)),
            ev("c2", T0 + 9_000, CtiStatus.SIGNED_OUT, 103),
            ev("d1", T0 + 3_000, None, 104, name="Provisioned", skills=(3,)),
            ev("e1", T0 + 4_000, CtiStatus.IDLE, 105),
            ev("x1", T0, CtiStatus.IDLE, 101, vdn=2, skills=(1,)),
            ev("y1", T0, CtiStatus.IDLE, 101, cc_id=2, skills=(1,)),
        ]
    )


async def test_agent_states_are_the_records_without_attributes(store: Store) -> None:
    await floor(store)
    states = await store.get_agent_states(1, 1, [105, 103, 999, 101, 104, 102, 101])
    records = [await store.get_agent(1, 1, w) for w in (101, 102, 103, 104, 105)]
    assert states == [state_of(r) for r in records if r is not None]
    assert states[0] == AgentState(101, CtiStatus.TALKING, T0 + 5_000, CtiStatus.IDLE, 5_000,
                                   T0, 3)  # fmt: skip
    assert states[2] == AgentState(103, CtiStatus.SIGNED_OUT, T0 + 9_000, CtiStatus.IDLE, 7_000,
                                   None, None)  # fmt: skip
    assert states[3] == AgentState(104, CtiStatus.SIGNED_OUT, T0 + 3_000)


async def test_agent_states_of_unknown_agents_and_other_tenants(store: Store) -> None:
    assert await store.get_agent_states(1, 1, [101]) == []
    await floor(store)
    assert [s.work_no for s in await store.get_agent_states(1, 2, [101, 102])] == [101]
    assert await store.get_agent_states(3, 1, [101]) == []


async def test_list_agent_states_pages_by_work_number(store: Store) -> None:
    await floor(store)
    count, page = await store.list_agent_states(1, 1)
    assert count == 5
    assert page == await store.get_agent_states(1, 1, [101, 102, 103, 104, 105])
    count, page = await store.list_agent_states(1, 1, offset=1, limit=2)
    assert (count, [s.work_no for s in page]) == (5, [102, 103])
    count, page = await store.list_agent_states(1, 1, offset=4, limit=10)
    assert (count, [s.work_no for s in page]) == (5, [105])
    assert await store.list_agent_states(1, 1, offset=5, limit=10) == (5, [])
    assert await store.list_agent_states(1, 1, offset=2**31 - 1, limit=1) == (5, [])
    assert await store.list_agent_states(1, 3, offset=0, limit=10) == (0, [])


async def test_list_agent_states_filters_by_status(store: Store) -> None:
    await floor(store)
    count, page = await store.list_agent_states(1, 1, cti_status=CtiStatus.IDLE)
    assert (count, [s.work_no for s in page]) == (1, [105])
    count, page = await store.list_agent_states(1, 1, cti_status=CtiStatus.SIGNED_OUT, limit=1)
    assert (count, [s.work_no for s in page]) == (2, [103])
    count, page = await store.list_agent_states(
        1, 1, cti_status=CtiStatus.SIGNED_OUT, offset=1, limit=1
    )
    assert (count, [s.work_no for s in page]) == (2, [104])
    assert await store.list_agent_states(1, 1, cti_status=CtiStatus.REST) == (0, [])


async def test_list_agent_states_follows_status_changes(store: Store) -> None:
    await floor(store)
    await store.apply_events([ev("a3", T0 + 20_000, CtiStatus.IDLE, 101)])
    count, page = await store.list_agent_states(1, 1, cti_status=CtiStatus.IDLE)
    assert (count, [s.work_no for s in page]) == (2, [101, 105])


async def test_agents_in_skills_any_of_them(store: Store) -> None:
    await floor(store)

    async def work_nos(*skills: int) -> list[int]:
        return [r.work_no for r in await store.agents_in_skills(1, 1, list(skills))]

    assert await work_nos(1) == [101, 103]  # whatever their status
    assert await work_nos(2) == [101, 102]
    assert await work_nos(1, 2) == [101, 102, 103]  # each agent once
    assert await work_nos(3, 1) == [101, 103, 104]
    assert await work_nos(9) == []
    records = await store.agents_in_skills(1, 1, [2])
    assert records == [await store.get_agent(1, 1, 101), await store.get_agent(1, 1, 102)]
    assert [r.work_no for r in await store.agents_in_skills(1, 2, [1, 2])] == [101]
    assert [r.work_no for r in await store.agents_in_skills(2, 1, [1])] == [101]


async def test_agents_in_skills_follow_skill_changes(store: Store) -> None:
    await floor(store)
    await store.apply_events(
        [
            ev("a3", T0 + 20_000, None, 101, skills=(2, 3)),  # leaves 1, joins 3
            ev("b2", T0 + 20_000, None, 102, skills=()),  # leaves every queue
            ev("c3", T0 - 1, None, 103, skills=(3,)),  # older than its skills: ignored
            ev("f1", T0 + 20_000, CtiStatus.IDLE, 106, skills=(1,)),  # a new agent
        ]
    )

    async def work_nos(*skills: int) -> list[int]:
        return [r.work_no for r in await store.agents_in_skills(1, 1, list(skills))]

    assert await work_nos(1) == [103, 106]
    assert await work_nos(2) == [101]
    assert await work_nos(3) == [101, 104]
    # several changes of one agent inside one batch: the last one counts
    await store.apply_events(
        [
            ev("a4", T0 + 30_000, None, 101, skills=(1,)),
            ev("a5", T0 + 31_000, None, 101, skills=(4,)),
        ]
    )
    assert await work_nos(1) == [103, 106]
    assert await work_nos(4) == [101]
    assert await work_nos(2, 3) == [104]


async def test_skill_memberships_pair_queues_and_agent_states(store: Store) -> None:
    await floor(store)
    assert await store.skill_memberships(1, 1, [3, 1, 2, 9]) == [
        SkillMember(1, 101, CtiStatus.TALKING), SkillMember(1, 103, CtiStatus.SIGNED_OUT),
        SkillMember(2, 101, CtiStatus.TALKING), SkillMember(2, 102, CtiStatus.BUSY),
        SkillMember(3, 104, CtiStatus.SIGNED_OUT),
    ]  # fmt: skip
    assert await store.skill_memberships(1, 1, [9]) == []
    assert await store.skill_memberships(1, 2, [1, 2]) == [SkillMember(1, 101, CtiStatus.IDLE)]
    await store.apply_events([ev("a3", T0 + 20_000, CtiStatus.REST, 101, skills=(3,))])
    assert await store.skill_memberships(1, 1, [1, 3]) == [
        SkillMember(1, 103, CtiStatus.SIGNED_OUT), SkillMember(3, 101, CtiStatus.REST),
        SkillMember(3, 104, CtiStatus.SIGNED_OUT),
    ]  # fmt: skip
