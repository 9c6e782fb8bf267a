"""The store contract: what every backend must do, tested through the protocol only."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FrozenClock

from ccms.domain.agent import AgentDetail, AgentEvent, AgentRecord, apply_event, detail_of
from ccms.domain.status import CtiStatus
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_789_999_000_000


def ev(
    event_id: str, at: int, status: int | None = None, work_no: int = 101, **kw: object
) -> AgentEvent:
    return AgentEvent(event_id, 1, 1, work_no, at, status, **kw)  # type: ignore[arg-type]


async def test_unknown_agent_is_none(store: Store) -> None:
    assert await store.get_agent(1, 1, 101) is None
    assert await store.get_agents(1, 1, [101, 102]) == []


async def test_agent_detail_is_the_records_narrow_read(store: Store) -> None:
    """``get_agent_detail`` (the agent query's read) agrees with the full record, for an
    agent signed in with its attributes, one provisioned by attributes only (its status
    counted from its creation), and one signed out; ``None`` for one not known."""
    assert await store.get_agent_detail(1, 1, 101) is None
    await store.apply_events([
        ev("a", T0, CtiStatus.IDLE, name="Ann", phone_number="+86105550101",
           has_phone_number=True, media_type=5, skills=(3,)),
        ev("b", T0 + 1_000, None, work_no=102, name="Bo"),
        ev("c", T0 + 2_000, CtiStatus.IDLE, work_no=103),
    ])  # fmt: skip
    await store.apply_events([
        ev("d", T0 + 4_000, CtiStatus.TALKING, calls=("c-1",)),
        ev("e", T0 + 5_000, CtiStatus.SIGNED_OUT, work_no=103),
    ])  # fmt: skip
    assert await store.get_agent_detail(1, 1, 101) == AgentDetail(
        101, 1, CtiStatus.TALKING, T0 + 4_000, T0, "Ann", "+86105550101", 5
    )
    detail = await store.get_agent_detail(1, 1, 102)
    assert detail is not None and (detail.state_start, detail.login_at) == (T0 + 1_000, None)
    for work_no in (101, 102, 103):
        record = await store.get_agent(1, 1, work_no)
        assert record is not None
        assert await store.get_agent_detail(1, 1, work_no) == detail_of(record)
    assert await store.get_agent_detail(1, 2, 101) is None


async def test_sign_in_sets_login_and_status(store: Store) -> None:
    result = await store.apply_events([ev("a", T0, CtiStatus.IDLE, name="Ann", skills=(3, 1))])
    assert (result.accepted, result.duplicates) == (1, 0)
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert record.cti_status == CtiStatus.IDLE
    assert record.login_at == T0
    assert record.status_at == T0
    assert record.name == "Ann"
    assert record.skills == (3, 1)


async def test_tenants_are_separate(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.IDLE)])
    assert await store.get_agent(1, 2, 101) is None
    assert await store.get_agent(2, 1, 101) is None


async def test_status_change_keeps_previous_and_sign_in(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.IDLE)])
    await store.apply_events([ev("b", T0 + 5_000, CtiStatus.TALKING, calls=("c-1",))])
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert (record.cti_status, record.prev_status, record.prev_duration_ms) == (5, 1, 5_000)
    assert record.login_at == T0
    assert record.calls == ("c-1",)
    await store.apply_events([ev("c", T0 + 9_000, CtiStatus.SIGNED_OUT, calls=())])
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert record.login_at is None
    assert record.calls == ()
    await store.apply_events([ev("d", T0 + 20_000, CtiStatus.BUSY, reason=12)])
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert record.login_at == T0 + 20_000
    assert record.reason == 12


async def test_duplicates_change_nothing(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.IDLE)])
    again = await store.apply_events(
        [ev("a", T0 + 1000, CtiStatus.TALKING), ev("b", T0 + 1, name="B")]
    )
    assert (again.accepted, again.duplicates) == (1, 1)
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert record.cti_status == CtiStatus.IDLE
    assert record.name == "B"
    # the same id twice inside one batch: the first is applied, the second is a duplicate
    inner = await store.apply_events([ev("c", T0 + 2, name="C"), ev("c", T0 + 3, name="D")])
    assert (inner.accepted, inner.duplicates) == (1, 1)
    record = await store.get_agent(1, 1, 101)
    assert record is not None and record.name == "C"


async def test_event_ids_are_per_tenant(store: Store) -> None:
    """An id used in one call center and VDN says nothing about another's: the same id
    there is another event, applied, and its answer shows no trace of the first."""
    first = await store.apply_events([AgentEvent("x", 1, 1, 101, T0, CtiStatus.IDLE)])
    other = await store.apply_events([AgentEvent("x", 7, 170, 101, T0, CtiStatus.BUSY)])
    assert (first.accepted, first.duplicates) == (other.accepted, other.duplicates) == (1, 0)
    record = await store.get_agent(7, 170, 101)
    assert record is not None and record.cti_status == CtiStatus.BUSY
    # each tenant's resend is a duplicate of its own event, and changes nothing
    for cc_id, vdn in ((1, 1), (7, 170)):
        again = await store.apply_events([AgentEvent("x", cc_id, vdn, 101, T0 + 1, 3)])
        assert (again.accepted, again.duplicates) == (0, 1)
    assert [r.cti_status for r in await store.get_agents(1, 1, [101])] == [CtiStatus.IDLE]
    # inside one batch too: one id in three tenants is three events, again in one a duplicate
    inner = await store.apply_events(
        [
            AgentEvent("y", 1, 1, 102, T0, CtiStatus.IDLE),
            AgentEvent("y", 1, 2, 102, T0, CtiStatus.IDLE),
            AgentEvent("y", 2, 1, 102, T0, CtiStatus.IDLE),
            AgentEvent("y", 1, 2, 103, T0, CtiStatus.IDLE),
        ]
    )
    assert (inner.accepted, inner.duplicates) == (3, 1)
    assert await store.get_agent(1, 2, 103) is None
    assert all([await store.get_agent(c, v, 102) for c, v in ((1, 1), (1, 2), (2, 1))])


async def test_event_ids_are_forgotten_after_the_retention(
    store: Store, clock: FrozenClock
) -> None:
    """Applied ids are remembered ``event_id_retention_days`` (7 by default), per tenant."""
    await store.apply_events([ev("a", T0, CtiStatus.IDLE)])
    await store.apply_events([AgentEvent("a", 2, 1, 101, T0, CtiStatus.IDLE)])
    clock.now += 6 * 86_400
    await store.apply_events([AgentEvent("c", 2, 1, 101, T0 + 1, CtiStatus.BUSY)])
    still = await store.apply_events([ev("a", T0 + 2), AgentEvent("a", 2, 1, 101, T0 + 2)])
    assert (still.accepted, still.duplicates) == (0, 2)
    clock.now += 86_400 + 120  # "a" is past 7 days in both tenants, "c" is not
    await store.apply_events([ev("b", T0 + 3)])  # a batch, after which the old ids are gone
    again = await store.apply_events(
        [ev("a", T0 + 4), AgentEvent("a", 2, 1, 101, T0 + 4), AgentEvent("c", 2, 1, 101, T0 + 4)]
    )
    assert (again.accepted, again.duplicates) == (2, 1)


async def test_out_of_order_status_is_history_only(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.IDLE), ev("b", T0 + 10_000, CtiStatus.TALKING)])
    await store.apply_events([ev("late", T0 + 5_000, CtiStatus.BUSY)])
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert (record.cti_status, record.status_at, record.prev_status) == (5, T0 + 10_000, 1)
    assert record.login_at == T0
    history = await store.history(1, 1, 101, 10)
    assert [(h.event_id, h.applied) for h in history] == [("b", True), ("late", False), ("a", True)]


async def test_each_field_takes_the_newest_value(store: Store) -> None:
    await store.apply_events(
        [ev("a", T0 + 2_000, name="new", phone_number="2", has_phone_number=True)]
    )
    await store.apply_events(
        [ev("b", T0 + 1_000, name="old", phone_number="1", has_phone_number=True, media_type=5)]
    )
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert (record.name, record.phone_number, record.media_type) == ("new", "2", 5)


async def test_equal_timestamps_arrival_order_wins(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.IDLE, name="first")])
    await store.apply_events([ev("b", T0, CtiStatus.REST, name="second", reason=3)])
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert (record.cti_status, record.name, record.reason) == (CtiStatus.REST, "second", 3)
    await store.apply_events([ev("c", T0, name="third"), ev("d", T0, name="fourth")])
    record = await store.get_agent(1, 1, 101)
    assert record is not None and record.name == "fourth"


async def test_phone_number_can_be_cleared(store: Store) -> None:
    await store.apply_events([ev("a", T0, phone_number="123", has_phone_number=True)])
    await store.apply_events([ev("b", T0 + 1, phone_number=None, has_phone_number=True)])
    record = await store.get_agent(1, 1, 101)
    assert record is not None and record.phone_number is None


async def test_concurrent_batches_on_one_agent_apply_all(store: Store) -> None:
    batches = [
        [
            ev(f"{n}-{i}", T0 + n * 100 + i, CtiStatus.IDLE if i % 2 else CtiStatus.BUSY)
            for i in range(20)
        ]
        for n in range(8)
    ]
    results = await asyncio.gather(*(store.apply_events(b) for b in batches))
    assert sum(r.accepted for r in results) == 160
    record = await store.get_agent(1, 1, 101)
    assert record is not None
    assert record.status_at == T0 + 7 * 100 + 19  # the newest event wins whatever the order
    assert record.cti_status == CtiStatus.IDLE
    assert len(await store.history(1, 1, 101, 1000)) == 160


async def test_get_agents_in_one_call(store: Store) -> None:
    await store.apply_events([ev(str(n), T0, CtiStatus.IDLE, work_no=n) for n in (105, 101, 103)])
    records = await store.get_agents(1, 1, [103, 101, 104, 105])
    assert [r.work_no for r in records] == [101, 103, 105]


async def test_reopen_keeps_everything(store: Store) -> None:
    await store.apply_events([ev("a", T0, CtiStatus.IDLE, name="Ann")])
    await store.close()
    await store.open()
    record = await store.get_agent(1, 1, 101)
    assert record is not None and record.name == "Ann"
    again = await store.apply_events([ev("a", T0, CtiStatus.IDLE)])
    assert again.duplicates == 1


_example = iter(range(10**9))
_events = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 5_000), st.one_of(st.none(), st.integers(0, 10)),
              st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))),
    min_size=1, max_size=15,
)  # fmt: skip


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_events, split=st.integers(0, 15))
async def test_idempotent_and_order_of_batches_does_not_matter(
    store: Store, raw: list[tuple[int, int, int | None, str | None]], split: int
) -> None:
    """Any history, sent in two batches in either order and then again whole, ends in the
    state of the events applied once in arrival order, with every resend a duplicate."""
    n = next(_example)
    base = 1000 + n * 10  # agents of this example only (the store outlives examples)
    events = [
        AgentEvent(f"x{n}-{i}", 1, 1, base + agent, T0 + at, status, name=name)
        for i, (agent, at, status, name) in enumerate(raw)
    ]
    first, second = events[:split], events[split:]
    for batch in (second, first):
        if batch:
            await store.apply_events(batch)
    again = await store.apply_events(events)
    assert (again.accepted, again.duplicates) == (0, len(events))
    expected: dict[int, AgentRecord] = {}
    for event in second + first:  # the order they arrived in
        expected[event.work_no], _ = apply_event(expected.get(event.work_no), event)
    for work_no, record in expected.items():
        stored = await store.get_agent(1, 1, work_no)
        assert stored is not None
        assert (stored.cti_status, stored.status_at, stored.login_at, stored.name) == (
            record.cti_status, record.status_at, record.login_at, record.name,
        )  # fmt: skip


async def test_an_open_store_is_at_the_latest_schema(store: Store) -> None:
    status = await store.schema_status()
    assert status.backend in store.location.split(":", 1)[0]  # "sqlite", "postgres(ql)"
    assert status.latest >= 1
    assert (status.current, status.pending) == (status.latest, ())
    assert await store.migrate() == []  # nothing left to do, open or not
