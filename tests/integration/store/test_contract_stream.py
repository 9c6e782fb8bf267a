"""The store contract of the live stream, through the protocol only, on every backend: the
change log (one number per applied change, gap-free, in commit order, the records before
and after), its replay window, snapshots and view tokens."""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FrozenClock
from tests.integration.store.conftest import StoreMaker

from ccms.domain.agent import AgentEvent, AgentKey, AgentRecord, apply_event
from ccms.domain.changes import AgentChange, ViewToken, replay, state
from ccms.domain.status import CtiStatus
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000
ALL = 1_000_000


def ev(event_id: str, at: int, status: int | None = None, work_no: int = 101,
       cc_id: int = 1, vdn: int = 1, **kw: object) -> AgentEvent:  # fmt: skip
    return AgentEvent(event_id, cc_id, vdn, work_no, at, status, **kw)  # type: ignore[arg-type]


def chains(changes: list[AgentChange]) -> dict[AgentKey, list[AgentChange]]:
    by_agent: dict[AgentKey, list[AgentChange]] = defaultdict(list)
    for change in changes:
        by_agent[change.key].append(change)
    return by_agent


async def test_one_number_per_applied_change_with_the_records_before_and_after(
    store: Store,
) -> None:
    first = [
        ev("a1", T0, CtiStatus.IDLE, name="Ann"),
        ev("a2", T0 + 1_000, CtiStatus.BUSY),
        ev("b1", T0, CtiStatus.IDLE, work_no=102),
        ev("a3", T0 + 2_000, CtiStatus.BUSY),  # the same status again: no change
        ev("c1", T0 + 5, work_no=103, name="Cy"),  # an agent known from its name alone
    ]
    await store.apply_events(first)
    page = await store.read_changes(0, 100)
    assert (page.newest, page.expired) == (4, False)
    assert [(c.seq, c.event_id, c.at) for c in page.changes] == [
        (1, "a1", T0), (2, "a2", T0 + 1_000), (3, "b1", T0), (4, "c1", T0 + 5),
    ]  # fmt: skip
    expected: dict[int, AgentRecord] = {}
    for change, event in zip(page.changes, [first[0], first[1], first[2], first[4]], strict=True):
        before = expected.get(event.work_no)
        expected[event.work_no], _ = apply_event(before, event)
        assert change.prev == before
        assert change.cur == expected[event.work_no]
        assert change.key == AgentKey(1, 1, event.work_no)
    # a duplicate, an older status and a repeated status take no number; a reason does
    await store.apply_events(
        [
            ev("a1", T0 + 9_000, CtiStatus.TALKING),
            ev("late", T0 - 1, CtiStatus.REST, work_no=102),
            ev("again", T0 + 3_000, CtiStatus.IDLE, work_no=102),
            ev("why", T0 + 4_000, reason=7),
        ]
    )
    assert await store.change_seq() == 5
    page = await store.read_changes(4, 100)
    assert [(c.seq, c.event_id) for c in page.changes] == [(5, "why")]
    (why,) = page.changes
    assert why.prev is not None and why.cur.reason == 7 and why.prev.reason is None
    assert why.cur == await store.get_agent(1, 1, 101)
    # pages: at most `limit`, after `since`
    assert [c.seq for c in (await store.read_changes(0, 2)).changes] == [1, 2]
    assert [c.seq for c in (await store.read_changes(2, 2)).changes] == [3, 4]
    assert (await store.read_changes(5, 10)).changes == []


async def test_changes_of_one_tenant(store: Store) -> None:
    await store.apply_events(
        [
            ev("x", T0, CtiStatus.IDLE),
            ev("y", T0, CtiStatus.IDLE, vdn=2),
            ev("z", T0, CtiStatus.IDLE, cc_id=2),
            ev("w", T0 + 1, CtiStatus.BUSY, work_no=102),
        ]
    )
    page = await store.read_changes(0, 100, 1, 1)
    assert [c.event_id for c in page.changes] == ["x", "w"]
    assert page.newest == 4
    assert [c.event_id for c in (await store.read_changes(1, 100, 1, 1)).changes] == ["w"]
    assert [c.event_id for c in (await store.read_changes(0, 100, 1)).changes] == ["x", "y", "w"]
    assert [c.event_id for c in (await store.read_changes(0, 100, 2, 1)).changes] == ["z"]
    assert (await store.read_changes(0, 100, 3, 1)).changes == []


async def test_numbers_follow_commit_order_across_store_objects(stores: StoreMaker) -> None:
    a, b = await stores(), await stores()
    batches = [
        [ev(f"n{n}-{i}", T0 + n * 10 + i, 1 + (n + i) % 7, work_no=101 + i % 3) for i in range(6)]
        for n in range(12)
    ]
    await asyncio.gather(*((a if n % 2 else b).apply_events(x) for n, x in enumerate(batches)))
    page = await b.read_changes(0, ALL)
    newest = await a.change_seq()
    assert [c.seq for c in page.changes] == list(range(1, newest + 1))  # no gap, no repeat
    for key, changes in chains(page.changes).items():
        # each change starts from the state the one before it left: commit order
        assert changes[0].prev is None
        for before, after in itertools.pairwise(changes):
            assert after.prev is not None and state(after.prev) == state(before.cur)
        assert changes[-1].cur == await a.get_agent(*key)


async def test_another_store_object_reads_the_changes(stores: StoreMaker) -> None:
    writer, reader = await stores(), await stores()
    await writer.apply_events([ev("a", T0, CtiStatus.IDLE), ev("b", T0, 3, work_no=102)])
    page = await reader.read_changes(0, 100)
    assert [c.event_id for c in page.changes] == ["a", "b"]
    assert page.newest == await reader.change_seq() == 2
    snap = await reader.snapshot(1, 1)
    assert snap.seq == 2
    assert snap.agents == await writer.get_agents(1, 1, [101, 102])


async def test_snapshot_is_the_vdn_by_work_number_at_the_newest_number(store: Store) -> None:
    assert await store.snapshot(1, 1) == ((0, []))
    await store.apply_events(
        [ev("c", T0, 1, work_no=103), ev("a", T0, 1, work_no=101), ev("o", T0, 1, vdn=2)]
    )
    snap = await store.snapshot(1, 1)
    assert snap.seq == 3
    assert [r.work_no for r in snap.agents] == [101, 103]
    assert snap.agents == await store.get_agents(1, 1, [101, 103])


async def test_the_window_keeps_recent_changes_and_says_when_some_are_gone(
    stores: StoreMaker, clock: FrozenClock
) -> None:
    store = await stores(stream_window_s=60)
    await store.apply_events([ev("a", T0, 1), ev("b", T0, 1, work_no=102)])
    assert (await store.read_changes(0, 100)).expired is False
    clock.now += 30
    await store.apply_events([ev("c", T0 + 1, 3)])
    assert [c.seq for c in (await store.read_changes(0, 100)).changes] == [1, 2, 3]
    clock.now += 31  # the first two are more than 60 s old now, the third is not
    await store.apply_events([ev("d", T0 + 2, 4)])
    for since in (0, 1):
        page = await store.read_changes(since, 100)
        assert (page.changes, page.newest, page.expired) == ([], 4, True)
    page = await store.read_changes(2, 100)
    assert ([c.seq for c in page.changes], page.expired) == ([3, 4], False)
    assert (await store.read_changes(4, 100)).expired is False
    # a cursor beyond the newest number is of another history: not in this log either
    assert (await store.read_changes(5, 100)).expired is True


async def test_the_window_keeps_at_most_its_number_of_changes(
    stores: StoreMaker, clock: FrozenClock
) -> None:
    store = await stores(stream_window_changes=3)
    await store.apply_events([ev(f"e{w}", T0, 1, work_no=w) for w in range(101, 106)])
    assert (await store.read_changes(1, 100)).expired is True
    page = await store.read_changes(2, 100)
    assert ([c.seq for c in page.changes], page.expired) == ([3, 4, 5], False)
    clock.now += 1  # pruned about once a second
    await store.apply_events([ev("f", T0 + 1, 3)])
    assert (await store.read_changes(2, 100)).expired is True
    assert [c.seq for c in (await store.read_changes(3, 100)).changes] == [4, 5, 6]
    # what is kept still makes a snapshot at its start plus the changes the end
    assert (await store.snapshot(1, 1)).seq == 6


async def test_view_tokens_round_trip_and_expire(store: Store, clock: FrozenClock) -> None:
    now = int(clock.now * 1000)
    vdn_token = ViewToken("ab" * 32, "ak-1", 1, 2, now + 60_000)
    key_token = ViewToken("cd" * 32, "ak-2", None, None, now + 1_000)
    await store.put_view_token(vdn_token)
    await store.put_view_token(key_token)
    assert await store.get_view_token(vdn_token.token_hash, now) == vdn_token
    assert await store.get_view_token(key_token.token_hash, now + 999) == key_token
    assert await store.get_view_token(key_token.token_hash, now + 1_000) is None  # expired
    assert await store.get_view_token("ef" * 32, now) is None  # unknown
    # expired tokens are dropped: asked as of an earlier time, it is gone all the same
    clock.now += 2
    await store.put_view_token(ViewToken("01" * 32, "ak-1", 1, 1, now + 120_000))
    assert await store.get_view_token(key_token.token_hash, now) is None
    assert await store.get_view_token(vdn_token.token_hash, now) == vdn_token
    # a token of the same hash is replaced
    narrower = vdn_token._replace(vdn=3, expires_at=now + 5_000)
    await store.put_view_token(narrower)
    assert await store.get_view_token(vdn_token.token_hash, now) == narrower


_example = iter(range(1, 10**9))
_pairs: weakref.WeakKeyDictionary[StoreMaker, tuple[Store, Store]] = weakref.WeakKeyDictionary()


async def _two(stores: StoreMaker) -> tuple[Store, Store]:
    """Two store objects on the test's storage, opened once for all its examples."""
    if stores not in _pairs:
        _pairs[stores] = (await stores(), await stores())
    return _pairs[stores]


_event = st.tuples(
    st.integers(0, 3),  # agent
    st.integers(0, 40),  # time
    st.one_of(st.none(), st.integers(0, 8)),  # CTI status
    st.one_of(st.none(), st.integers(0, 2)),  # reason
    st.one_of(st.none(), st.sampled_from(["Ann", "Bo"])),  # name
    st.one_of(st.none(), st.lists(st.integers(1, 3), max_size=2).map(tuple)),  # skills
)
_history = st.lists(st.lists(_event, min_size=1, max_size=6), min_size=1, max_size=6)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=_history, cut=st.integers(0, 6), resend=st.booleans())
async def test_snapshot_plus_the_changes_after_it_is_the_snapshot_at_the_end(
    stores: StoreMaker,
    history: list[
        list[tuple[int, int, int | None, int | None, str | None, tuple[int, ...] | None]]
    ],
    cut: int,
    resend: bool,
) -> None:
    """For any history of batches, sent through two store objects (two workers or nodes),
    and any point S between them: the snapshot at S plus the logged changes after S,
    applied in order, is the snapshot at the end; an agent's changes follow one another."""
    n = next(_example)
    vdn = n  # a VDN of this example only (the storage outlives examples)
    a, b = await _two(stores)
    batches = [
        [AgentEvent(f"p{n}-{i}-{j}", 1, vdn, 101 + agent, T0 + at, status, reason, name,
                    skills=skills)
         for j, (agent, at, status, reason, name, skills) in enumerate(batch)]
        for i, batch in enumerate(history)
    ]  # fmt: skip
    if resend:  # a batch sent again: duplicates all, it changes nothing
        batches.insert(len(batches) // 2, batches[0])
    cut = min(cut, len(batches))
    start = None
    for i, batch in enumerate(batches):
        if i == cut:
            start = await b.snapshot(1, vdn)
        await (a if i % 2 else b).apply_events(batch)
    if start is None:
        start = await a.snapshot(1, vdn)
    end = await a.snapshot(1, vdn)
    page = await b.read_changes(start.seq, ALL, 1, vdn)
    assert not page.expired and page.newest == end.seq
    agents = {r.key: r for r in start.agents}
    replay(agents, page.changes)
    assert sorted(agents) == [r.key for r in end.agents]
    assert [state(agents[r.key]) for r in end.agents] == [state(r) for r in end.agents]
    seqs = [c.seq for c in page.changes]
    assert seqs == sorted(set(seqs)) and all(start.seq < s <= end.seq for s in seqs)
    known = {r.key: r for r in start.agents}
    for change in page.changes:  # per agent, each change starts where the one before ended
        before = known.get(change.key)
        assert (change.prev is None) == (before is None)
        if change.prev is not None and before is not None:
            assert state(change.prev) == state(before)
        known[change.key] = change.cur
