"""The store contract for call events and the agents' ``calls`` lists (``docs/calls.md``,
"Agents' calls"), on every backend: a call ringing at or talking to an agent is in its
list, a call that left it is not, and each such change is logged as any agent change."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.store.conftest import StoreMaker

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.call import CallEvent, CallKind
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000
X, Y = "1789999000-1", "1789999000-2"


def cev(event_id: str, at: int, kind: CallKind, call_id: str = X, **kw: object) -> CallEvent:
    return CallEvent(event_id, 1, 1, call_id, at, kind, **kw)  # type: ignore[arg-type]


def sign_in(*work_nos: int, at: int = T0 - 1_000) -> list[AgentEvent]:
    return [AgentEvent(f"in{w}", 1, 1, w, at, 1, skills=(3,)) for w in work_nos]


async def calls_of(store: Store, work_no: int) -> tuple[str, ...] | None:
    agent = await store.get_agent(1, 1, work_no)
    return None if agent is None else agent.calls


async def test_call_events_keep_the_agents_lists_and_log_each_change(store: Store) -> None:
    await store.apply_events(sign_in(101, 102))
    seq = await store.change_seq()
    await store.apply_events([], [cev("q", T0, CallKind.QUEUE, skill_id=3)])
    await store.apply_events([], [cev("o", T0 + 5_000, CallKind.OFFER, work_no=101)])
    assert await calls_of(store, 101) == (X,)
    agent = await store.get_agent(1, 1, 101)
    assert agent is not None and agent.calls_at is None and agent.cti_status == 1
    await store.apply_events([], [cev("a", T0 + 8_000, CallKind.ANSWER)])
    await store.apply_events([], [cev("t", T0 + 30_000, CallKind.TRANSFER, work_no=102)])
    assert (await calls_of(store, 101), await calls_of(store, 102)) == ((), (X,))
    await store.apply_events([], [cev("e", T0 + 90_000, CallKind.END)])
    assert (await calls_of(store, 101), await calls_of(store, 102)) == ((), ())
    page = await store.read_changes(seq, 100)
    logged = [(c.event_id, c.key.work_no, c.prev.calls if c.prev else None, c.cur.calls)
              for c in page.changes]  # fmt: skip
    assert logged == [
        ("o", 101, (), (X,)),
        ("t", 101, (X,), ()),
        ("t", 102, (), (X,)),
        ("e", 102, (X,), ()),
    ]
    assert page.newest == seq + 4
    assert [a.work_no for a in (await store.snapshot(1, 1)).agents] == [101, 102]
    changed = await store.changes_since(seq + 3)
    assert changed.agents == frozenset({AgentKey(1, 1, 102)})


async def test_one_batch_of_both_kinds_and_no_agent_made_by_a_call(store: Store) -> None:
    calls = [
        cev("o", T0, CallKind.OFFER, work_no=101),
        cev("a", T0 + 2_000, CallKind.ANSWER),
        cev("o2", T0 + 3_000, CallKind.OFFER, Y, work_no=103),  # no such agent
    ]
    result = await store.apply_events(sign_in(101), calls)
    assert (result.accepted, result.duplicates) == (4, 0)
    assert await calls_of(store, 101) == (X,)
    assert await store.get_agent(1, 1, 103) is None
    call = await store.get_call(1, 1, Y)
    assert call is not None and call.work_no == 103
    again = await store.apply_events(sign_in(101), calls)  # a resend changes nothing
    assert (again.accepted, again.duplicates) == (0, 4)
    assert [c.event_id for c in (await store.read_changes(0, 10)).changes] == ["in101", "o"]


async def test_a_newer_list_from_the_cti_stands(store: Store) -> None:
    await store.apply_events(sign_in(101))
    await store.apply_events([AgentEvent("l", 1, 1, 101, T0 + 10_000, 5, calls=(Y,))])
    await store.apply_events([], [cev("o", T0 + 9_000, CallKind.OFFER, work_no=101)])
    assert await calls_of(store, 101) == (Y,)  # the call event is older than the list
    await store.apply_events([], [cev("e", T0 + 20_000, CallKind.END, Y)])
    assert await calls_of(store, 101) == (Y,)  # the call model never saw Y at 101
    await store.apply_events([], [cev("o2", T0 + 9_500, CallKind.OFFER, Y, work_no=101)])
    assert await calls_of(store, 101) == ()  # a late offer of Y, ended after the list


async def test_batches_on_two_store_objects_about_one_agent(stores: StoreMaker) -> None:
    """Two store objects (two processes or nodes) apply call events about one agent at
    once: both are applied, as if one after the other."""
    one, two = await stores(), await stores()
    await one.apply_events(sign_in(101))
    await asyncio.gather(
        one.apply_events([], [cev("o", T0, CallKind.OFFER, work_no=101)]),
        two.apply_events([], [cev("o2", T0 + 1, CallKind.OFFER, Y, work_no=101)]),
    )
    assert sorted(await calls_of(one, 101) or ()) == [X, Y]
    assert sorted(await calls_of(two, 101) or ()) == [X, Y]
    await two.apply_events([], [cev("e", T0 + 9, CallKind.END), cev("e2", T0 + 9, CallKind.END, Y)])
    assert await calls_of(one, 101) == ()
