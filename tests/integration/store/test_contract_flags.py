"""The store contract of the flag timers, through the protocol only, on every backend: the
signed-in agents page by page, flags raised in the change log once however many store
objects (processes, nodes) ask at once, and what the change feed says of them."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.store.conftest import StoreMaker

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.changes import replay
from ccms.domain.flags import (
    ALERT,
    NO_SKILL,
    RINGING_LONG,
    WARNING,
    Flag,
    FlagRaise,
    FlagRules,
    Limits,
    Thresholds,
)
from ccms.domain.status import CtiStatus
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000
RULES = FlagRules(Thresholds())
# The thresholds after a reload: a ring is flagged after 60 s, not 20, and a ring at 40 s
# no longer has a flag.
LONGER = FlagRules(Thresholds(Limits(ringing_s=60).over(Thresholds().default)))
K101 = AgentKey(1, 1, 101)


def ev(event_id: str, at: int, status: int | None = None, work_no: int = 101,
       cc_id: int = 1, vdn: int = 1, **kw: object) -> AgentEvent:  # fmt: skip
    return AgentEvent(event_id, cc_id, vdn, work_no, at, status, **kw)  # type: ignore[arg-type]


async def test_signed_in_agents_of_every_tenant_in_key_order_page_by_page(store: Store) -> None:
    await store.apply_events([
        ev("a", T0, CtiStatus.IDLE, work_no=103),
        ev("b", T0, CtiStatus.IDLE, work_no=101, vdn=2),
        ev("c", T0, CtiStatus.SIGNED_OUT, work_no=102),
        ev("d", T0, CtiStatus.REST, work_no=101, cc_id=2),
        ev("e", T0, name="Ann", work_no=104),  # known by its name alone: signed out
    ])  # fmt: skip
    first = await store.signed_in_agents(None, 2)
    assert [a.key for a in first] == [AgentKey(1, 1, 103), AgentKey(1, 2, 101)]
    rest = await store.signed_in_agents(first[-1].key, 2)
    assert [a.key for a in rest] == [AgentKey(2, 1, 101)]
    assert await store.signed_in_agents(rest[-1].key, 2) == []


async def test_a_due_flag_is_raised_once_as_a_numbered_entry_with_the_agent_unchanged(
    store: Store,
) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED, skills=(1,))])
    assert await store.raise_flags([K101], RULES, T0 + 19_999) == []  # not due yet
    entries = await store.raise_flags([K101], RULES, T0 + 20_400)
    ringing = Flag(RINGING_LONG, WARNING, T0 + 20_000)
    assert [(e.seq, e.at, e.event_id, e.prev, e.flag) for e in entries] == [
        (2, T0 + 20_000, "", None, FlagRaise(ringing))
    ]
    agent = await store.get_agent(1, 1, 101)
    assert entries[0].cur == agent
    assert await store.raise_flags([K101], RULES, T0 + 21_000) == []  # raised already
    page = await store.read_changes(0, 10)
    assert [(c.seq, c.flag) for c in page.changes] == [(1, None), (2, FlagRaise(ringing))]
    assert page.newest == 2 == await store.change_seq()
    # the snapshot plus the log still make the agents (a flag entry changes no record)
    snap = await store.snapshot(1, 1)
    agents = {a.key: a for a in (await store.snapshot(1, 1)).agents}
    replay(agents, page.changes)
    assert agents == {a.key: a for a in snap.agents}
    # the change feed reports the flagged agent after the agent change's number
    assert (await store.changes_since(1)).agents == frozenset({K101})
    assert (await store.changes_since(1)).seq == 2


async def test_a_flag_is_raised_again_only_for_a_new_moment(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED, skills=(1,))])
    assert len(await store.raise_flags([K101], RULES, T0 + 20_000)) == 1
    await store.apply_events([ev("b", T0 + 30_000, CtiStatus.IDLE)])
    assert await store.raise_flags([K101], RULES, T0 + 60_000) == []  # idle: no flag
    await store.apply_events([ev("c", T0 + 70_000, CtiStatus.ANSWERING)])
    again = await store.raise_flags([K101], RULES, T0 + 90_000)
    assert [e.flag for e in again] == [FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 90_000))]


async def test_several_flags_and_agents_in_one_call_numbered_in_key_order(store: Store) -> None:
    await store.apply_events([
        ev("a", T0, CtiStatus.OCCUPIED, work_no=102),  # no skill queue, and ringing
        ev("b", T0, CtiStatus.IDLE, work_no=101),  # no skill queue
        ev("c", T0, CtiStatus.IDLE, work_no=103, skills=(2,)),  # nothing
    ])  # fmt: skip
    keys = [AgentKey(1, 1, 103), AgentKey(1, 1, 102), AgentKey(1, 1, 101), AgentKey(1, 1, 999)]
    entries = await store.raise_flags(keys, RULES, T0 + 25_000)
    assert [(e.seq, e.key.work_no, e.flag.flag.name if e.flag else "") for e in entries] == [
        (4, 101, NO_SKILL), (5, 102, NO_SKILL), (6, 102, RINGING_LONG),
    ]  # fmt: skip


async def test_stores_racing_raise_each_flag_once(stores: StoreMaker) -> None:
    """Four store objects on one storage (processes or nodes) raise the same due flags at
    the same moment: one entry per flag, numbers without a gap."""
    many = [await stores() for _ in range(4)]
    work_nos = range(101, 141)
    await many[0].apply_events([ev(f"e{w}", T0, CtiStatus.OCCUPIED, work_no=w, skills=(1,))
                                for w in work_nos])  # fmt: skip
    keys = [AgentKey(1, 1, w) for w in work_nos]
    results = await asyncio.gather(*(s.raise_flags(keys, RULES, T0 + 20_000) for s in many))
    written = sorted(e.seq for r in results for e in r)
    assert written == list(range(41, 81))
    page = await many[1].read_changes(40, 100)
    assert sorted(c.key.work_no for c in page.changes) == list(work_nos)
    assert all(c.flag is not None and c.flag.flag.name == RINGING_LONG for c in page.changes)


async def test_a_flag_the_new_thresholds_end_is_taken_back_once_as_a_numbered_entry(
    store: Store,
) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED, skills=(1,))])
    ringing = Flag(RINGING_LONG, WARNING, T0 + 20_000)
    assert len(await store.raise_flags([K101], RULES, T0 + 20_000)) == 1
    assert await store.clear_flags([K101], RULES, T0 + 30_000) == []  # still has it
    entries = await store.clear_flags([K101], LONGER, T0 + 40_000)
    assert [(e.seq, e.at, e.event_id, e.prev, e.flag) for e in entries] == [
        (3, T0 + 40_000, "", None, FlagRaise(ringing, raised=False))
    ]
    assert entries[0].cur == await store.get_agent(1, 1, 101)
    assert await store.clear_flags([K101], LONGER, T0 + 41_000) == []  # taken back already
    page = await store.read_changes(0, 10)
    assert [(c.seq, c.at, c.flag) for c in page.changes] == [
        (1, T0, None), (2, T0 + 20_000, FlagRaise(ringing)),
        (3, T0 + 40_000, FlagRaise(ringing, raised=False)),
    ]  # fmt: skip
    assert page.newest == 3 == await store.change_seq()
    # the change feed reports the agent at the clear's number, as it does a raise
    assert (await store.changes_since(2)).agents == frozenset({K101})
    assert (await store.changes_since(2)).seq == 3
    # the new thresholds raise it at its new moment, and a clear of it is once more due
    again = await store.raise_flags([K101], LONGER, T0 + 60_000)
    assert [e.flag for e in again] == [FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 60_000))]


async def test_a_flag_given_back_by_a_later_reload_is_raised_again_with_its_moment(
    store: Store,
) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED, skills=(1,))])
    await store.raise_flags([K101], RULES, T0 + 20_000)
    await store.clear_flags([K101], LONGER, T0 + 30_000)
    back = await store.raise_flags([K101], RULES, T0 + 40_000)  # the old file again
    assert [e.flag for e in back] == [FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 20_000))]
    assert await store.raise_flags([K101], RULES, T0 + 41_000) == []


async def test_only_the_flags_ended_are_taken_back_with_the_level_they_were_raised_with(
    store: Store,
) -> None:
    """The level is the raise's (an alert switched off is taken back as an alert); a flag
    still held at another moment is not taken back (raising it again replaces it); an
    agent with nothing raised and an unknown one write nothing."""
    alert = FlagRules(Thresholds(Limits(levels={RINGING_LONG: ALERT}).over(Thresholds().default)))
    await store.apply_events([
        ev("a", T0, CtiStatus.OCCUPIED, work_no=101),  # ringing, and no skill queue
        ev("b", T0, CtiStatus.OCCUPIED, work_no=102, skills=(1,)),  # ringing
        ev("c", T0, CtiStatus.IDLE, work_no=103, skills=(1,)),  # nothing
    ])  # fmt: skip
    keys = [AgentKey(1, 1, w) for w in (101, 102, 103, 999)]
    assert len(await store.raise_flags(keys, alert, T0 + 20_000)) == 3
    off = FlagRules(Thresholds(Limits(ringing_s=10, enabled={NO_SKILL: False})
                               .over(Thresholds().default)))  # fmt: skip
    entries = await store.clear_flags(keys, off, T0 + 30_000)
    assert [(e.seq, e.key.work_no, e.flag) for e in entries] == [
        (7, 101, FlagRaise(Flag(NO_SKILL, ALERT, T0), raised=False)),
    ]  # ringing-long is still held, at T0 + 10 s now: raised again, not taken back
    again = await store.raise_flags(keys, off, T0 + 30_000)
    assert [(e.key.work_no, e.flag) for e in again] == [
        (101, FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 10_000))),
        (102, FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 10_000))),
    ]
    ended = await store.clear_flags(keys, no_ringing := FlagRules(Thresholds(
        Limits(enabled={RINGING_LONG: False, NO_SKILL: False}).over(Thresholds().default))),
        T0 + 31_000)  # fmt: skip
    assert [(e.key.work_no, e.flag) for e in ended] == [
        (101, FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 10_000), raised=False)),
        (102, FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 10_000), raised=False)),
    ]
    assert await store.clear_flags(keys, no_ringing, T0 + 32_000) == []


async def test_stores_racing_take_each_flag_back_once(stores: StoreMaker) -> None:
    """Four store objects on one storage (processes or nodes) take back the same flags
    after one reload at the same moment: one entry per flag, numbers without a gap."""
    many = [await stores() for _ in range(4)]
    work_nos = range(101, 141)
    await many[0].apply_events([ev(f"e{w}", T0, CtiStatus.OCCUPIED, work_no=w, skills=(1,))
                                for w in work_nos])  # fmt: skip
    keys = [AgentKey(1, 1, w) for w in work_nos]
    assert len(await many[0].raise_flags(keys, RULES, T0 + 20_000)) == 40
    results = await asyncio.gather(*(s.clear_flags(keys, LONGER, T0 + 30_000) for s in many))
    written = sorted(e.seq for r in results for e in r)
    assert written == list(range(81, 121))
    page = await many[1].read_changes(80, 100)
    assert sorted(c.key.work_no for c in page.changes) == list(work_nos)
    assert all(c.flag == FlagRaise(Flag(RINGING_LONG, WARNING, T0 + 20_000), raised=False)
               for c in page.changes)  # fmt: skip


async def test_a_batch_reports_the_statuses_it_ended_and_their_length(store: Store) -> None:
    await store.apply_events(
        [ev("a", T0, CtiStatus.IDLE), ev("b", T0, CtiStatus.REST, work_no=102)]
    )
    result = await store.apply_events([
        ev("c", T0 + 5_000, CtiStatus.TALKING),
        ev("d", T0 + 6_000, CtiStatus.TALKING),  # the same again: nothing ended
        ev("e", T0 + 9_000, CtiStatus.WORKING),
        ev("f", T0 + 1_000, CtiStatus.IDLE, work_no=102),
    ])  # fmt: skip
    assert sorted(result.exits) == sorted(
        [(CtiStatus.IDLE, 5_000), (CtiStatus.TALKING, 4_000), (CtiStatus.REST, 1_000)]
    )
