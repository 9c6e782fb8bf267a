"""What PostgreSQL adds to the store contract: several nodes (store instances) on one
database, migrations when they start together, and deadlines on every call."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
import pytest
from tests.conftest import FrozenClock
from tests.integration.store.conftest import PgSchema

from ccms.domain.agent import AgentEvent
from ccms.domain.status import CtiStatus
from ccms.errors import StoreUnavailableError
from ccms.settings import load_settings
from ccms.store.backends import open_store
from ccms.store.base import Store
from ccms.store.migrations import migrations
from ccms.store.postgres import PostgresStore, migrate, redact
from ccms.store.postgres.migrate import MIGRATIONS
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.anyio]

T0 = 1_789_999_000_000


def ev(event_id: str, at: int, status: int | None = None, work_no: int = 101) -> AgentEvent:
    return AgentEvent(event_id, 1, 1, work_no, at, status)


@pytest.fixture
async def nodes(pg_schema: PgSchema) -> AsyncIterator[Callable[..., PostgresStore]]:
    """Open store instances on the test schema, as several ccms nodes would."""
    opened: list[PostgresStore] = []

    def make(**options: object) -> PostgresStore:
        store = PostgresStore(pg_schema.url, **options)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_nodes_starting_together_migrate_once(
    pg_schema: PgSchema, nodes: Callable[..., PostgresStore]
) -> None:
    stores = [nodes() for _ in range(6)]
    await asyncio.gather(*(s.open() for s in stores))
    rows = pg_schema.admin(f"SELECT version FROM {pg_schema.name}.schema_migrations ORDER BY 1")
    assert [r[0] for r in rows] == [m.version for m in migrations(migrate.MIGRATIONS)]
    assert rows[-1][0] == stores[0].latest_version
    assert await stores[0].schema_version() == stores[0].latest_version
    assert await stores[0].migrate() == []  # nothing left to do


async def test_same_batch_on_two_nodes_is_applied_once(
    nodes: Callable[..., PostgresStore],
) -> None:
    a, b = nodes(), nodes()
    await a.open()
    await b.open()
    for round_no in range(5):
        events = [
            ev(f"r{round_no}-{n}", T0 + round_no * 1000 + n, 1 + n % 8, work_no=101 + n % 50)
            for n in range(300)
        ]
        results = await asyncio.gather(a.apply_events(events), b.apply_events(events[::-1]))
        assert sum(r.accepted for r in results) == 300
        assert sum(r.duplicates for r in results) == 300
    history = await a.history(1, 1, 101, 10_000)
    assert len(history) == 5 * 6  # 300 / 50 events per agent per round, once each


async def test_crossing_batches_on_two_nodes_neither_deadlock_nor_lose(
    nodes: Callable[..., PostgresStore],
) -> None:
    a, b = nodes(), nodes()
    await a.open()
    await b.open()
    agents = list(range(101, 181))

    def batch(tag: str, order: list[int], at: int) -> list[AgentEvent]:
        return [ev(f"{tag}-{w}", at, CtiStatus.BUSY, work_no=w) for w in order]

    jobs = []
    for n in range(10):
        jobs.append(a.apply_events(batch(f"a{n}", agents, T0 + 2 * n)))
        jobs.append(b.apply_events(batch(f"b{n}", agents[::-1], T0 + 2 * n + 1)))
    results = await asyncio.gather(*jobs)
    assert sum(r.accepted for r in results) == 20 * len(agents)
    for work_no in (101, 140, 180):
        record = await b.get_agent(1, 1, work_no)
        assert record is not None and record.status_event_at == T0 + 19
        assert len(await a.history(1, 1, work_no, 100)) == 20


async def test_a_blocked_read_times_out_instead_of_hanging(
    pg_schema: PgSchema, nodes: Callable[..., PostgresStore]
) -> None:
    store = nodes(command_timeout=0.5)
    await store.open()
    await store.apply_events([ev("a", T0, CtiStatus.IDLE)])
    with psycopg.connect(pg_schema.server_url, connect_timeout=5) as admin:
        admin.execute(f"LOCK TABLE {pg_schema.name}.agent IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await store.get_agent(1, 1, 101)
        with pytest.raises(StoreUnavailableError):
            await store.apply_events([ev("b", T0 + 1, CtiStatus.BUSY)])
        assert time.monotonic() - started < 4.0
        admin.rollback()
    record = await store.get_agent(1, 1, 101)
    assert record is not None and record.cti_status == CtiStatus.IDLE  # "b" was not applied
    result = await store.apply_events([ev("b", T0 + 1, CtiStatus.BUSY)])
    assert result.accepted == 1


async def test_unreachable_server_is_unavailable(pg_schema: PgSchema) -> None:
    url = pg_schema.url_via(1).replace("postgres@", "postgres:s3cret@")  # nothing on port 1
    store = PostgresStore(url, command_timeout=1.0)
    with pytest.raises(StoreUnavailableError) as caught:
        await store.open()
    assert "s3cret" not in caught.value.message and "127.0.0.1:1" in caught.value.message
    with pytest.raises(StoreUnavailableError):
        await store.get_agent(1, 1, 101)  # not open: unavailable, not a crash


async def test_open_store_reads_the_postgres_settings(pg_schema: PgSchema) -> None:
    store = open_store(load_settings({"CCMS_STORE": pg_schema.url}))
    assert isinstance(store, PostgresStore)
    await store.open()
    try:
        assert await store.get_agent(1, 1, 101) is None
    finally:
        await store.close()


def test_redact_hides_the_password() -> None:
    assert redact("postgresql://u:pw@h:5432/db?x=1") == "postgresql://u:***@h:5432/db?x=1"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


async def test_same_answers_as_sqlite(
    tmp_path: Path, nodes: Callable[..., PostgresStore], clock: FrozenClock
) -> None:
    """A seeded mix of events (out of order, repeated ids, skills, two VDNs) gives the
    same answers to every read on PostgreSQL as on the reference backend."""
    rng = random.Random(7)
    reference = SQLiteStore(str(tmp_path / "reference.db"), clock=clock)
    store = nodes(clock=clock)
    await reference.open()
    await store.open()
    try:
        sent: list[AgentEvent] = []
        for batch_no in range(12):
            events = []
            for n in range(rng.randint(1, 60)):
                if sent and rng.random() < 0.1:
                    events.append(rng.choice(sent))  # an id seen before: a duplicate
                    continue
                skills = tuple(rng.sample(range(1, 8), rng.randint(0, 3)))
                work_no = rng.randint(101, 140)  # 136..140: attributes only, no status
                status = None if work_no > 135 else rng.choice((None, *range(11)))
                events.append(
                    AgentEvent(
                        f"{batch_no}-{n}", 1, rng.choice((1, 2)), work_no,
                        T0 + rng.randint(0, 100_000), status,
                        reason=rng.choice((None, 3)), name=rng.choice((None, f"n{n}")),
                        skills=rng.choice((None, skills)), calls=rng.choice((None, (), ("c",))),
                    )
                )  # fmt: skip
            sent.extend(events)
            assert await store.apply_events(events) == await reference.apply_events(events)
        for vdn in (1, 2):
            assert await every_read(store, vdn) == await every_read(reference, vdn)
    finally:
        await reference.close()


async def every_read(store: Store, vdn: int) -> list[object]:
    agents = list(range(100, 142))
    return [
        await store.get_agents(1, vdn, agents),
        await store.get_agent_states(1, vdn, agents[::-1]),
        await store.list_agent_states(1, vdn),
        await store.list_agent_states(1, vdn, offset=5, limit=7),
        await store.list_agent_states(1, vdn, offset=500, limit=7),
        await store.list_agent_states(1, vdn, cti_status=CtiStatus.IDLE, limit=3),
        await store.agents_in_skills(1, vdn, [2, 5]),
        await store.skill_memberships(1, vdn, [5, 2, 7, 2]),
        [await store.history(1, vdn, w, 1000) for w in agents],
    ]


async def test_a_schema_of_the_previous_version_upgrades_and_keeps_its_agents(
    pg_schema: PgSchema, nodes: Callable[..., PostgresStore]
) -> None:
    with psycopg.connect(pg_schema.server_url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {pg_schema.name}")
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in migrations(MIGRATIONS)[:2]:
            conn.execute(migration.sql)  # type: ignore[call-overload]
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [migration.version])
        conn.execute(
            "INSERT INTO agent (cc_id, vdn, work_no, created_at, cti_status, media_type, skills,"
            " calls, change_seq) VALUES (1, 1, 101, 0, 1, 0, '{2}', '{}', 5),"
            " (1, 1, 102, 0, 3, 0, '{}', '{}', 4)"
        )
        conn.execute("UPDATE change_counter SET seq = 5")
    store = nodes()
    pending = tuple(m.name for m in migrations(MIGRATIONS) if m.version > 2)
    assert pending[:2] == ("0003_change_log", "0004_tenant_event_ids")
    assert (await store.schema_status()).pending == pending
    await store.open()
    snap = await store.snapshot(1, 1)
    assert (snap.seq, [(r.work_no, r.skills) for r in snap.agents]) == (5, [(101, (2,)), (102, ())])
    assert (await store.read_changes(5, 10)).expired is False
    assert (await store.read_changes(4, 10)).expired is True  # never logged
    await store.apply_events([ev("e", T0, CtiStatus.BUSY, work_no=102)])
    page = await store.read_changes(5, 10)
    assert [(c.seq, c.prev) for c in page.changes] == [(6, snap.agents[1])]
