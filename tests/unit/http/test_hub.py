"""The fan-out hub on a fake store: each change read once, encoded once, handed to every
matching subscriber in order; slow subscribers, caps, revocation and expiry alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tests.unit.http.stream_fakes import FakeStreamStore

from ccms.auth import AccessKey
from ccms.domain.agent import AgentEvent
from ccms.errors import PermissionDeniedError, RateLimitedError, StoreUnavailableError
from ccms.http.hub import CURSOR_EXPIRED, SLOW_CONSUMER, Ending, Hub, Subscriber
from ccms.http.metrics import Metrics
from ccms.http.schemas.stream import Filter

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

KEY = AccessKey("wallboard", "x" * 32, frozenset({"query"}))
OTHER = AccessKey("bot", "y" * 32, frozenset({"query"}))
EVERYTHING = Filter()


async def until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``check`` (letting the loop run) until it is truthy or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := check()):
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
    return value


class Events:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, work_no: int = 101, vdn: int = 1, status: int = 1,
                 skills: tuple[int, ...] | None = None) -> AgentEvent:  # fmt: skip
        self.n += 1
        return AgentEvent(f"e{self.n}", 1, vdn, work_no, 1_000 + self.n, cti_status=status,
                          skills=skills)  # fmt: skip


@pytest.fixture
def store() -> FakeStreamStore:
    return FakeStreamStore()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def hub(store: FakeStreamStore, metrics: Metrics) -> AsyncIterator[Hub]:
    hub = Hub(store, metrics, lambda: 2_000_000, queue=100, max_per_key=3, page=4)
    yield hub
    await hub.stop()


async def joined(hub: Hub, key: AccessKey = KEY, selection: Filter = EVERYTHING,
                 vdn: int = 1) -> Subscriber:  # fmt: skip
    sub = hub.open(key, None, 1, vdn, selection)
    assert hub.join(sub, await hub.ready())
    return sub


def counter(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics._scrape.get_sample_value(name, labels or None)
    return value or 0.0


async def test_every_change_once_in_order_encoded_once(hub: Hub, store: FakeStreamStore) -> None:
    a, b = await joined(hub), await joined(hub, OTHER)
    event = Events()
    for n in range(10):  # pages of 4: the hub reads on until the log is done
        await store.apply_events([event(101 + n % 3, status=1 + n % 2) for _ in range(1)])
    await until(lambda: len(a.items) == 10 and len(b.items) == 10)
    got_a, got_b = a.take(), b.take()
    assert [c.seq for c in got_a] == list(range(1, 11))
    assert all(x.sse is y.sse for x, y in zip(got_a, got_b, strict=True))  # encoded once
    assert hub.seq == 10


async def test_a_subscriber_joins_only_at_the_hubs_position(
    hub: Hub, store: FakeStreamStore
) -> None:
    event = Events()
    await hub.ready()
    await store.apply_events([event(), event(102)])
    await until(lambda: hub.seq == 2)
    sub = hub.open(KEY, None, 1, 1, EVERYTHING)
    assert not hub.join(sub, 1)  # behind: it must read the log up to 2 first
    assert hub.join(sub, 2)
    await store.apply_events([event(103)])
    await until(lambda: sub.items)
    assert [c.seq for c in sub.take()] == [3]


async def test_other_tenants_and_filters_are_not_handed_out(
    hub: Hub, store: FakeStreamStore
) -> None:
    everything = await joined(hub)
    by_agent = await joined(hub, selection=Filter(agents=frozenset({102})))
    by_skill = await joined(hub, selection=Filter(skills=frozenset({7})))
    event = Events()
    await store.apply_events([
        event(101, skills=(7,)), event(102), event(103, vdn=2), event(101, skills=(8,)),
        event(104, skills=(8,)),
    ])  # fmt: skip
    await until(lambda: hub.seq == 5 and len(everything.items) == 4)
    assert [c.work_no for c in everything.take()] == [101, 102, 101, 104]
    assert [c.work_no for c in by_agent.take()] == [102]
    # an agent that leaves the queue is seen leaving it (its skills before matched)
    assert [(c.seq, c.work_no) for c in by_skill.take()] == [(1, 101), (4, 101)]


async def test_a_slow_subscriber_is_ended_alone(store: FakeStreamStore, metrics: Metrics) -> None:
    hub = Hub(store, metrics, lambda: 0, queue=3, max_per_key=10)
    try:
        slow, fast = await joined(hub), await joined(hub)
        event = Events()
        taken: list[int] = []
        for n in range(6):
            await store.apply_events([event(101 + n)])
            await until(lambda n=n: hub.seq == n + 1)
            taken += [c.seq for c in fast.take()]
        assert taken == [1, 2, 3, 4, 5, 6]
        assert slow.ending == Ending(SLOW_CONSUMER)
        assert not slow.items and not slow.live
        assert counter(metrics, "ccms_stream_resets_total", reason=SLOW_CONSUMER) == 1
    finally:
        await hub.stop()


async def test_streams_per_key_are_capped(hub: Hub, metrics: Metrics) -> None:
    subs = [hub.open(KEY, None, 1, 1, EVERYTHING) for _ in range(3)]
    with pytest.raises(RateLimitedError) as refused:
        hub.open(KEY, None, 1, 1, EVERYTHING)
    assert refused.value.http_status == 429 and refused.value.headers["Retry-After"] == "5"
    other = hub.open(OTHER, None, 1, 1, EVERYTHING)  # another key has its own cap
    assert counter(metrics, "ccms_streams_open") == 4
    hub.close(subs[0])
    hub.close(subs[0])  # idempotent
    hub.open(KEY, None, 1, 1, EVERYTHING)
    hub.close(other)
    assert counter(metrics, "ccms_streams_open") == 3


async def test_revoke_ends_the_refused_with_their_error(hub: Hub) -> None:
    mine, theirs = await joined(hub), await joined(hub, OTHER)
    denied = PermissionDeniedError("access key is not allowed for ccId 1 and vdn 1")
    ended = hub.revoke(lambda sub: denied if sub.key.ak == KEY.ak else None)
    assert ended == 1
    assert mine.ending == Ending(error=denied) and mine.pending and not mine.live
    assert theirs.ending is None and theirs.live


async def test_a_hub_behind_the_window_expires_its_subscribers(
    hub: Hub, store: FakeStreamStore, metrics: Metrics
) -> None:
    sub = await joined(hub)
    event = Events()
    feeds = set(store.feeds)
    store.feeds.clear()  # the hub does not hear of these two while the log is pruned
    await store.apply_events([event(), event(102)])
    store.prune(2)
    store.feeds |= feeds
    await store.apply_events([event(103)])  # heard of: the hub reads after 0, too old
    await until(lambda: sub.expired)
    assert not sub.live and not sub.items
    assert hub.seq == 3
    assert counter(metrics, "ccms_stream_resets_total", reason=CURSOR_EXPIRED) == 1


async def test_the_hub_waits_for_a_store_that_fails_then_follows(
    hub: Hub, store: FakeStreamStore
) -> None:
    store.failing = True
    with pytest.raises(StoreUnavailableError):
        await hub.ready(timeout=0.3)
    store.failing = False
    assert await hub.ready() == 0
    sub = await joined(hub)
    await store.apply_events([Events()()])
    await until(lambda: sub.items)


async def test_stop_ends_every_subscriber_without_a_word(hub: Hub) -> None:
    sub = await joined(hub)
    await hub.stop()
    assert sub.ending == Ending() and sub.pending
    with pytest.raises(StoreUnavailableError):
        hub.open(KEY, None, 1, 1, EVERYTHING)
    hub.reopen()  # the app started again
    again = await joined(hub)
    assert again.live and hub.seq == 0
