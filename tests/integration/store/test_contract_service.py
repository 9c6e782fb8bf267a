"""The store contract for service quality and the calls per access code
(``docs/calls.md``: skill/servicequality, vdn/queryaccesscodecallinfo), on every backend:
one query each, equal to the domain's recounts for any event history."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.store.test_contract_calls import T0, cev

from ccms.domain.call import CallEvent, CallKind, CallRecord, apply_call_event
from ccms.domain.service import recount_access, recount_quality
from ccms.store.base import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_service_quality_of_a_window(store: Store) -> None:
    start = T0 + 60_000  # the window is [start, start + 5 min)
    end = start + 300_000
    events = [
        # queued before the window, answered in it 15 s after: within 15 s and 20 s
        cev("a1", start - 15_000, CallKind.QUEUE, "1789999000-1", skill_id=1),
        cev("a2", start, CallKind.ANSWER, "1789999000-1", work_no=101),
        # queued in the window, answered 15.001 s later: within 20 s only
        cev("b1", start + 1_000, CallKind.QUEUE, "1789999000-2", skill_id=1),
        cev("b2", start + 16_001, CallKind.ANSWER, "1789999000-2", work_no=102),
        # queued in the window, abandoned after 14.999 s: lost within 15 s and 20 s
        cev("c1", start + 2_000, CallKind.QUEUE, "1789999000-3", skill_id=1),
        cev("c2", start + 16_999, CallKind.ABANDON, "1789999000-3"),
        # queued, offered after 19 s, then lost at the agent: lost within 20 s only
        cev("d1", start + 3_000, CallKind.QUEUE, "1789999000-4", skill_id=1),
        cev("d2", start + 22_000, CallKind.OFFER, "1789999000-4", work_no=103),
        cev("d3", start + 40_000, CallKind.END, "1789999000-4"),
        # queued in the window, lost after exactly 20 s: within neither
        cev("e1", start + 4_000, CallKind.QUEUE, "1789999000-5", skill_id=1),
        cev("e2", start + 24_000, CallKind.ABANDON, "1789999000-5"),
        # in queue 2, entered at the last ms of the window; one at its end counts nowhere
        cev("f1", end - 1, CallKind.QUEUE, "1789999000-6", skill_id=2),
        cev("g1", end, CallKind.QUEUE, "1789999000-7", skill_id=2),
        # queued before the window and lost before it: counts nowhere
        cev("h1", start - 9_000, CallKind.QUEUE, "1789999000-8", skill_id=1),
        cev("h2", start - 1, CallKind.ABANDON, "1789999000-8"),
        # another VDN's call
        cev("i1", start + 5_000, CallKind.QUEUE, "1789999000-9", vdn=2, skill_id=1),
    ]
    await store.apply_events([], events)
    got = await store.service_quality(1, 1, [2, 1, 7, 2], start)
    assert [tuple(q) for q in got] == [
        (2, start, 1, 0, 0, 0, 0, 0, 0),
        (1, start, 4, 2, 3, 1, 1, 2, 2),
        (7, start, 0, 0, 0, 0, 0, 0, 0),
    ]


async def test_calls_per_access_code_now(store: Store) -> None:
    now = T0 + 100_000

    def arrive(n: int, code: str, vdn: int = 1) -> CallEvent:
        return cev(f"r{n}", T0, CallKind.ARRIVE, f"1789999000-{n}", vdn=vdn, access_code=code)

    events = [
        arrive(1, "650550"),  # in the IVR
        arrive(2, "650550"),
        cev("q2", T0 + 10_000, CallKind.QUEUE, "1789999000-2", skill_id=1),  # 90 s in queue
        arrive(3, "650550"),
        cev("q3", T0 + 40_000, CallKind.QUEUE, "1789999000-3", skill_id=1),  # 60 s
        arrive(4, "650550"),
        cev("o4", T0 + 5_000, CallKind.OFFER, "1789999000-4", work_no=101),  # ringing
        arrive(5, "650550"),
        cev("t5", T0 + 5_000, CallKind.ANSWER, "1789999000-5", work_no=102),  # talking
        arrive(6, "650550"),
        cev("e6", T0 + 6_000, CallKind.END, "1789999000-6"),  # ended: not counted
        arrive(7, "1"),  # access code "1": innoId 1 without a mapping
        arrive(8, "650550", vdn=2),  # another VDN
    ]
    await store.apply_events([], events)
    got = await store.access_code_calls(1, 1, [(3, "650550"), (1, "1"), (2, "2")], now)
    assert [tuple(a) for a in got] == [
        (3, 5, 1, 2, 2, 90_000),
        (1, 1, 1, 0, 0, 0),
        (2, 0, 0, 0, 0, 0),
    ]


_example = itertools.count(1)
_grid = st.integers(-80, 80).map(lambda k: k * 5_000)
_codes = st.sampled_from(["650550", "650551", "1"])
# the ends are final: fewer of them, so that live calls (queued, in the IVR) are common
_kinds = st.sampled_from([*CallKind, CallKind.QUEUE, CallKind.OFFER, CallKind.TRANSFER])
# an arrive (its access code, its moment) for some of the calls, before their history
_arrivals = st.dictionaries(
    st.integers(0, 5), st.tuples(_codes, st.one_of(st.integers(-400_000, 400_000), _grid))
)
# whole lives of calls 6 to 11, whose waits sit on the 15 s and 20 s limits
_waits = st.sampled_from([0, 10_000, 14_999, 15_000, 15_001, 19_999, 20_000, 20_001, 45_000])
_ends = st.sampled_from(["answer", "abandon", "offer-end", "queued", "answer-end"])
_lives = st.lists(
    st.tuples(st.integers(6, 11), st.one_of(st.integers(-400_000, 400_000), _grid), _waits,
              _ends, st.integers(1, 3), _codes),
    max_size=6,
)  # fmt: skip


def life_of(name: str, vdn: int, life: tuple[int, int, int, str, int, str]) -> list[CallEvent]:
    """The events of one scripted life: it arrives, queues 1 s later, and after ``wait``
    is answered (and maybe ends a minute later), is lost, or rings and is lost there;
    ``name`` prefixes the event ids."""
    call, base, wait, end, skill, code = life
    call_id, at = f"1789999000-{call}", T0 + base
    q = at + 1_000
    events = [
        cev(name + "1", at, CallKind.ARRIVE, call_id, vdn=vdn, access_code=code),
        cev(name + "2", q, CallKind.QUEUE, call_id, vdn=vdn, skill_id=skill),
    ]
    if end.startswith("answer"):
        events.append(cev(name + "3", q + wait, CallKind.ANSWER, call_id, vdn=vdn, work_no=101))
        if end == "answer-end":
            events.append(cev(name + "4", q + wait + 60_000, CallKind.END, call_id, vdn=vdn))
    elif end == "abandon":
        events.append(cev(name + "3", q + wait, CallKind.ABANDON, call_id, vdn=vdn))
    elif end == "offer-end":
        events.append(cev(name + "3", q + wait, CallKind.OFFER, call_id, vdn=vdn, work_no=102))
        events.append(cev(name + "4", q + wait + 5_000, CallKind.END, call_id, vdn=vdn))
    return events


_histories = st.lists(
    st.tuples(
        st.integers(0, 5),  # which call
        _kinds,
        # at, from the call's base moment: on a 5 s grid mostly, so that the 15 s and 20 s
        # limits are met exactly
        st.one_of(st.integers(0, 10).map(lambda k: k * 5_000), st.integers(-60_000, 120_000)),
        st.integers(1, 3),  # skill queue
        st.one_of(st.none(), st.integers(101, 103)),  # agent
        _codes,  # access code of an arrive
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=_histories,
    # each call's base moment: around the window, on its grid too (its edges met exactly)
    bases=st.lists(st.one_of(st.integers(-400_000, 400_000), _grid), min_size=6, max_size=6),
    arrivals=_arrivals,
    lives=_lives,
    split=st.integers(0, 60),
    shift=st.one_of(st.integers(-300_000, 300_000), _grid),
    now_shift=st.one_of(st.integers(-400_000, 400_000), _grid),
)
async def test_service_figures_equal_a_recount_of_the_calls(
    store: Store,
    raw: list[tuple[int, CallKind, int, int, int | None, str]],
    bases: list[int],
    arrivals: dict[int, tuple[str, int]],
    lives: list[tuple[int, int, int, str, int, str]],
    split: int,
    shift: int,
    now_shift: int,
) -> None:
    """For any call history, sent in any two batches, the store's one-query service
    quality and calls per access code equal the domain's recounts over the calls."""
    n = next(_example)
    vdn = 1 + n % 5000  # calls of this example only (the store outlives examples)
    events = [
        cev(f"s{n}-a{call}", T0 + at, CallKind.ARRIVE, f"1789999000-{call}", vdn=vdn,
            access_code=code)
        for call, (code, at) in arrivals.items()
    ]  # fmt: skip
    for i, (call, kind, at, skill, agent, code) in enumerate(raw):
        if kind is CallKind.OFFER and agent is None:
            agent = 101
        fields: dict[str, object] = {}
        if kind is CallKind.ARRIVE:
            fields["access_code"] = code
        if kind in (CallKind.QUEUE, CallKind.OFFER, CallKind.TRANSFER):
            fields["skill_id"] = skill
        if kind in (CallKind.OFFER, CallKind.ANSWER) or (kind is CallKind.TRANSFER and agent):
            fields["work_no"] = agent
        at = T0 + bases[call] + at
        events.append(cev(f"s{n}-{i}", at, kind, f"1789999000-{call}", vdn=vdn, **fields))
    for j, life in enumerate(lives):
        events += life_of(f"s{n}-l{j}-", vdn, life)
    for batch in (events[:split], events[split:]):
        if batch:
            await store.apply_events([], batch)
    records: dict[str, CallRecord] = {}
    for event in events:
        records[event.call_id] = apply_call_event(records.get(event.call_id), event)
    start = T0 + shift
    skills = [3, 1, 2, 9, 1]
    assert await store.service_quality(1, vdn, skills, start) == recount_quality(
        records.values(), skills, start
    )
    codes = [(1, "650550"), (2, "1"), (3, "650551"), (4, "4")]
    now = T0 + now_shift
    assert await store.access_code_calls(1, vdn, codes, now) == recount_access(
        records.values(), codes, now
    )
