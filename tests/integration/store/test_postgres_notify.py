"""Change notification across nodes: LISTEN/NOTIFY, reconnect and catch-up (what every
backend's change feed does is in the contract suite, test_contract_changes.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from tests.integration.store.conftest import PgSchema, TcpProxy

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.status import CtiStatus
from ccms.errors import StoreUnavailableError
from ccms.store import changes as change_feed
from ccms.store.changes import ChangeSet, ChangeStream
from ccms.store.postgres import PostgresStore
from ccms.store.postgres.notify import (
    MAX_PAYLOAD_BYTES,
    channel_for,
    decode_payload,
    encode_payload,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.anyio]

T0 = 1_789_999_000_000


def batch(tag: str, agents: range, at: int = T0, status: int = CtiStatus.IDLE) -> list[AgentEvent]:
    return [AgentEvent(f"{tag}-{w}", 1, 1, w, at, status) for w in agents]


def keys(agents: range) -> set[AgentKey]:
    return {AgentKey(1, 1, w) for w in agents}


async def collect(stream: ChangeStream, wanted: set[AgentKey], timeout: float = 10.0) -> int:
    """Read the stream until every wanted key was reported; the newest change number."""
    deadline = time.monotonic() + timeout
    seen: set[AgentKey] = set()
    seq = 0
    while not wanted <= seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"missing {sorted(wanted - seen, key=str)[:5]}...")
        try:
            changes: ChangeSet = await asyncio.wait_for(anext(stream), left)
        except TimeoutError:
            continue
        assert changes.seq > seq  # numbers only go up
        seq = changes.seq
        seen |= changes.agents
    return seq


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


@pytest.fixture
async def nodes(pg_schema: PgSchema) -> AsyncIterator[Callable[..., PostgresStore]]:
    opened: list[PostgresStore] = []

    def make(url: str | None = None, **options: object) -> PostgresStore:
        store = PostgresStore(url or pg_schema.url, **options)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


def test_payload_round_trip_and_size_limit() -> None:
    few = [AgentKey(1, 2, 101), AgentKey(65535, 5000, 999999)]
    assert decode_payload(encode_payload(7, 7, few)) == (7, 7, frozenset(few))
    assert decode_payload(encode_payload(5, 9, few)) == (5, 9, frozenset(few))
    many = [AgentKey(65535, 5000, w) for w in range(100_000, 101_000)]
    payload = encode_payload(8, 1_007, many)
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    assert decode_payload(payload) == (8, 1_007, None)  # too many keys: the numbers alone
    assert channel_for("public") == "ccms_changes"
    assert channel_for("t_1") == "ccms_changes.t_1"


async def test_a_node_hears_the_changes_of_another(nodes: Callable[..., PostgresStore]) -> None:
    listener, writer = nodes(), nodes()
    await listener.open()
    await writer.open()
    async with listener.changes() as stream:
        await writer.apply_events(batch("a", range(101, 104)))
        assert await collect(stream, keys(range(101, 104))) == 3
        await writer.apply_events(batch("b", range(103, 106), at=T0 + 1, status=CtiStatus.BUSY))
        assert await collect(stream, keys(range(103, 106))) == 6
        # duplicates, and the same status again, change nothing and notify nothing: the
        # next number is 7
        await writer.apply_events(batch("b", range(103, 106), at=T0 + 1))
        await writer.apply_events(batch("again", range(103, 106), at=T0 + 2, status=CtiStatus.BUSY))
        await writer.apply_events(batch("c", range(107, 108), at=T0 + 2))
        changes = await asyncio.wait_for(anext(stream), 10)
        assert (changes.seq, changes.agents) == (7, frozenset(keys(range(107, 108))))
    assert await writer.change_seq() == 7


async def test_a_large_batch_is_notified_by_number_and_fetched(
    nodes: Callable[..., PostgresStore],
) -> None:
    listener, writer = nodes(), nodes()
    await listener.open()
    await writer.open()
    async with listener.changes() as stream:
        await writer.apply_events(batch("big", range(101, 1101)))
        assert await collect(stream, keys(range(101, 1101))) == 1000


async def test_terminated_listener_reconnects_and_catches_up(
    pg_schema: PgSchema, nodes: Callable[..., PostgresStore]
) -> None:
    listener, writer = nodes(reconnect_delay=0.5), nodes()
    await listener.open()
    await writer.open()
    async with listener.changes() as stream:
        await writer.apply_events(batch("a", range(101, 103)))
        await collect(stream, keys(range(101, 103)))
        assert listener.feed is not None
        assert pg_schema.terminate("listen") == 1
        await until(lambda: listener.feed is not None and not listener.feed.listening)
        await writer.apply_events(batch("missed", range(110, 120), at=T0 + 1))
        await collect(stream, keys(range(110, 120)))
        assert listener.feed.sessions == 2
        await writer.apply_events(batch("after", range(120, 122), at=T0 + 2))
        await collect(stream, keys(range(120, 122)))


async def test_listener_cut_off_catches_up_with_what_it_missed(
    pg_schema: PgSchema, pg_proxy: TcpProxy, nodes: Callable[..., PostgresStore]
) -> None:
    listener = nodes(pg_schema.url_via(pg_proxy.port), reconnect_delay=0.05, command_timeout=1.0)
    writer = nodes()
    await listener.open()
    await writer.open()
    async with listener.changes() as stream:
        await writer.apply_events(batch("a", range(101, 103)))
        await collect(stream, keys(range(101, 103)))
        await pg_proxy.down()
        assert listener.feed is not None
        await until(lambda: listener.feed is not None and not listener.feed.listening)
        for n in range(3):  # committed while the listener cannot reach the server
            await writer.apply_events(batch(f"missed{n}", range(110 + n, 200, 3), at=T0 + 1 + n))
        await pg_proxy.up()
        await collect(stream, keys(range(110, 200)))
        await writer.apply_events(batch("after", range(300, 302), at=T0 + 9))
        assert await collect(stream, keys(range(300, 302))) == 2 + 90 + 2


async def test_a_slow_subscriber_catches_up_from_the_database(
    nodes: Callable[..., PostgresStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_feed, "_QUEUE_SIZE", 2)  # a subscriber's queue holds 2 sets
    listener, writer = nodes(), nodes()
    await listener.open()
    await writer.open()
    await writer.apply_events(batch("before", range(90, 92)))
    async with listener.changes() as stream:
        for n in range(6):  # nobody reads meanwhile: the queue overflows
            await writer.apply_events(batch(f"b{n}", range(101 + n, 102 + n), at=T0 + n))
        await until(lambda: listener.feed is not None and listener.feed.seq == 8)
        changes = await asyncio.wait_for(anext(stream), 10)
        assert (changes.seq, changes.agents) == (8, frozenset(keys(range(101, 107))))
        await writer.apply_events(batch("after", range(200, 201), at=T0 + 9))
        assert await collect(stream, keys(range(200, 201))) == 9


async def test_subscribing_without_a_server_is_unavailable(
    pg_schema: PgSchema, pg_proxy: TcpProxy, nodes: Callable[..., PostgresStore]
) -> None:
    store = nodes(pg_schema.url_via(pg_proxy.port), command_timeout=0.5)
    await store.open()
    await pg_proxy.down()
    with pytest.raises(StoreUnavailableError):
        async with store.changes():
            pass
