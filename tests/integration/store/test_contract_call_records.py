"""The store contract for the count and page of call records (``vdn/querycalls``), on
every backend, against ranges whose edges fall anywhere in a minute (PostgreSQL sums the
whole minutes of a range and reads its edges from the index)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FrozenClock
from tests.integration.store.conftest import StoreMaker

from ccms.domain.call import DAY_MS, CallEvent, CallKind, CallRecord, RecordQuery, apply_call_event
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MINUTE = 60_000
M0 = 1_789_999_000_000 // MINUTE * MINUTE  # a minute's start within the clock's day


def cev(event_id: str, vdn: int, call: int, at: int, kind: CallKind, **kw: object) -> CallEvent:
    return CallEvent(event_id, 1, vdn, f"1789999000-{call}", at, kind, **kw)  # type: ignore[arg-type]


def recount(records: dict[str, CallRecord], q: RecordQuery) -> list[CallRecord]:
    """The records of ``q``, in page order, as the domain defines them."""
    found = [
        r
        for r in records.values()
        if r.ended_at is not None and r.call_in is q.call_in and q.begin <= r.arrived_at <= q.end
    ]
    return sorted(found, key=lambda r: (r.arrived_at, r.call_id.encode()))


_example = itertools.count(1)
# moments on minute edges (one ms either side too) and anywhere, in the minutes around M0
_moments = st.one_of(
    st.tuples(st.integers(-4, 4), st.sampled_from([-1, 0, 1])).map(lambda t: t[0] * MINUTE + t[1]),
    st.integers(-4 * MINUTE, 4 * MINUTE),
)
_events = st.lists(
    st.tuples(
        st.integers(0, 5),  # which call
        st.sampled_from([CallKind.ARRIVE, CallKind.QUEUE, CallKind.END, CallKind.ABANDON]),
        _moments,
        st.one_of(st.none(), st.booleans()),  # the direction an arrive gives
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=_events,
    splits=st.lists(st.integers(0, 25), max_size=3),
    windows=st.lists(st.tuples(_moments, _moments, st.booleans()), min_size=1, max_size=4),
)
async def test_count_and_page_equal_a_recount(
    store: Store,
    raw: list[tuple[int, CallKind, int, bool | None]],
    splits: list[int],
    windows: list[tuple[int, int, bool]],
) -> None:
    """For any call history (calls ending, entering earlier after their end, changing
    direction), sent in any batches, the count and page of any range equal a recount of
    the records the events make."""
    n = next(_example)
    vdn = 1 + n % 5000  # calls of this example only (the store outlives examples)
    events = []
    for i, (call, kind, at, call_in) in enumerate(raw):
        fields: dict[str, object] = {"skill_id": 1} if kind is CallKind.QUEUE else {}
        if kind is CallKind.ARRIVE and call_in is not None:
            fields["call_in"] = call_in
        events.append(cev(f"n{n}-{i}", vdn, call, M0 + at, kind, **fields))
    cuts = sorted({0, len(events), *(min(s, len(events)) for s in splits)})
    for start, stop in itertools.pairwise(cuts):
        if start < stop:
            await store.apply_events([], events[start:stop])
    records: dict[str, CallRecord] = {}
    for event in events:
        records[event.call_id] = apply_call_event(records.get(event.call_id), event)
    for begin, end, call_in in windows:
        q = RecordQuery(M0 + min(begin, end), M0 + max(begin, end), call_in=call_in, limit=3)
        expected = recount(records, q)
        count, page = await store.call_records(1, vdn, q)
        assert (count, page) == (len(expected), expected[:3])
        count, rest = await store.call_records(1, vdn, q._replace(offset=2))
        assert (count, rest) == (len(expected), expected[2:5])


async def test_counts_of_a_day_and_of_its_edges(store: Store) -> None:
    """Records in many minutes, counted over ranges that start and end mid-minute, on a
    minute's first or last ms, and within one minute."""
    events = []
    for k in range(40):  # every 45 s from M0: two records in some minutes, one in others
        at = M0 + k * 45_000
        events += [
            cev(f"d{k}a", 1, k, at, CallKind.ARRIVE),
            cev(f"d{k}e", 1, k, at + 5, CallKind.END),
        ]
    await store.apply_events([], events)
    moments = [M0 + k * 45_000 for k in range(40)]
    for begin, end in [
        (M0, M0 + 40 * MINUTE),  # the whole range, whole minutes
        (M0 + 1, M0 + 40 * MINUTE),  # the first record just left out
        (M0 + 44_999, M0 + 10 * MINUTE - 1),  # mid-minute to a minute's last ms
        (M0 + 3 * MINUTE, M0 + 3 * MINUTE + 59_999),  # exactly one minute
        (M0 + 90_000, M0 + 90_000),  # one ms, one record
        (M0 + 20_000, M0 + 40_000),  # within a minute, no record
        (M0 - DAY_MS, M0 + DAY_MS),
    ]:
        expected = sum(begin <= m <= end for m in moments)
        count, page = await store.call_records(1, 1, RecordQuery(begin, end, True, limit=1))
        assert count == expected
        assert [r.arrived_at for r in page] == [m for m in moments if begin <= m <= end][:1]


async def test_pruned_records_leave_the_counts(stores: StoreMaker, clock: FrozenClock) -> None:
    """Pruning takes the records it deletes off the count; a record that entered before
    the oldest day kept but ended in it is still counted."""
    store = await stores(call_record_days=1)
    today = int(clock() * 1000) // DAY_MS * DAY_MS
    events = [
        cev("p1", 1, 1, today - 2 * MINUTE, CallKind.ARRIVE),
        cev("p2", 1, 1, today - MINUTE, CallKind.END),  # ended yesterday: pruned
        cev("p3", 1, 2, today - 2 * MINUTE + 5, CallKind.ARRIVE),
        cev("p4", 1, 2, today + 1, CallKind.END),  # ended today: kept
        cev("p5", 1, 3, today + MINUTE, CallKind.ARRIVE),
        cev("p6", 1, 3, today + 2 * MINUTE, CallKind.END),
    ]
    await store.apply_events([], events[:2])  # the first batch prunes (nothing yet)
    clock.now += 60  # a minute on: the next batch prunes again
    await store.apply_events([], events[2:])
    assert await store.get_call(1, 1, "1789999000-1") is None
    count, page = await store.call_records(
        1, 1, RecordQuery(today - DAY_MS, today + DAY_MS - 1, True)
    )
    assert (count, [r.call_id for r in page]) == (2, ["1789999000-2", "1789999000-3"])
    count, _ = await store.call_records(1, 1, RecordQuery(today - 3 * MINUTE, today - 1, True))
    assert count == 1


async def test_a_record_that_moves_is_counted_where_it_is(store: Store) -> None:
    """A record is counted in the minute it entered and in its direction, as they are
    now: an event seen after the end that moves its entry earlier, or an arrive that
    turns its direction, moves it (each in a batch of its own)."""
    whole = RecordQuery(M0 - 10 * MINUTE, M0 + 10 * MINUTE, True)
    await store.apply_events([], [cev("m1", 1, 1, M0 + 5 * MINUTE, CallKind.QUEUE, skill_id=1)])
    await store.apply_events([], [cev("m2", 1, 1, M0 + 6 * MINUTE, CallKind.END)])
    assert (await store.call_records(1, 1, whole))[0] == 1
    await store.apply_events([], [cev("m3", 1, 1, M0 - 3 * MINUTE, CallKind.ARRIVE)])
    for begin, end, expected in [
        (M0 + 4 * MINUTE, M0 + 7 * MINUTE - 1, 0),  # where it was
        (M0 - 3 * MINUTE, M0 - 2 * MINUTE - 1, 1),  # where it entered after all
    ]:
        assert (await store.call_records(1, 1, RecordQuery(begin, end, True)))[0] == expected
    await store.apply_events([], [cev("m4", 1, 1, M0 - 2 * MINUTE, CallKind.ARRIVE, call_in=False)])
    assert (await store.call_records(1, 1, whole))[0] == 0
    count, page = await store.call_records(1, 1, whole._replace(call_in=False))
    assert (count, [r.arrived_at for r in page]) == (1, [M0 - 3 * MINUTE])
