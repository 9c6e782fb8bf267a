"""A simulated run posted through the intake to a real SQLite store: its calls are there,
conserved, their queue figures recount, and the agents' lists agree with the calls."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, FrozenClock

from ccms.client import AsyncClient
from ccms.domain.batch import AT_AGENT
from ccms.domain.call import CallState
from ccms.domain.queues import recount
from ccms.feeds import Feed, Schedule, SimulatedSource
from ccms.feeds.delivery import Event
from ccms.http.app import App
from ccms.simulator import SimulationConfig
from ccms.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(autouse=True)
def real_time(clock: FrozenClock) -> None:
    clock.now = time.time()  # the client signs with the real clock


class Recording:
    """A source that keeps what it hands out."""

    def __init__(self, source: SimulatedSource) -> None:
        self.source = source
        self.sent: list[Event] = []

    async def runs(self) -> AsyncIterator[Sequence[Event]]:
        async for run in self.source.runs():
            self.sent += run
            yield run

    def summary(self) -> str:
        return self.source.summary()


async def test_a_simulated_hour_in_a_real_store(app: App, db_path: Path) -> None:
    config = SimulationConfig(seed=11, agents=40, vdns=1, skills=3, transfer_share=0.1)
    source = SimulatedSource(config, Schedule(speed=None, duration_s=3600, start_hour=10.0))
    recording = Recording(source)
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(
        "http://testserver", ADMIN_AK, ADMIN_SK, transport=transport, retry_deadline=0
    ) as cms:
        stats = await Feed(cms, recording).run()
    assert stats.accepted == stats.events == len(recording.sent)
    calls = [e for e in recording.sent if "callId" in e]
    ids = list(dict.fromkeys(str(e["callId"]) for e in calls))
    kinds = {str(e["callEvent"]) for e in calls}
    assert {"arrive", "queue", "offer", "answer", "transfer", "end"} <= kinds
    store = SQLiteStore(str(db_path))  # a second store object on the same file
    await store.open()
    try:
        records = [await store.get_call(1, 1, call_id) for call_id in ids]
        assert all(r is not None for r in records) and len(ids) > 100
        known = [r for r in records if r is not None]
        inbound = [r for r in known if r.call_in]
        # Conservation: each call that entered was answered, abandoned or is still there.
        answered = [r for r in inbound if r.answered_at is not None]
        abandoned = [r for r in inbound if r.abandoned]
        going_on = [r for r in inbound if r.live and r.answered_at is None]
        assert len(answered) + len(abandoned) + len(going_on) == len(inbound)
        assert answered and abandoned
        assert sum(1 for r in inbound if r.devices > 2) > 0  # transferred calls went on
        # The queue figures of every window of the run recount from the calls.
        skills = [101, 102, 103, 999]
        first = min(r.arrived_at for r in known)
        for start in range(first - first % 300_000, first + 3_600_000, 300_000):
            figures = await store.queue_windows(1, 1, skills, start)
            assert figures == recount(known, skills, start)
        window = await store.queue_windows(1, 1, skills, first - first % 300_000)
        assert sum(w.calls for w in window) > 50  # the whole run counted: non-trivial
        # Each agent lists the calls that ring at it or talk to it, as the simulator does.
        listed = 0
        for (cc_id, vdn, work_no), expected in source.simulator.agents().items():
            agent = await store.get_agent(cc_id, vdn, work_no)
            assert agent is not None
            assert list(agent.calls) == [source.call_id(c) for c in expected.calls]
            at_it = [r.call_id for r in known if r.state in AT_AGENT and r.work_no == work_no]
            assert sorted(agent.calls) == sorted(at_it)
            listed += len(agent.calls)
        assert listed == sum(1 for r in known if r.state in (CallState.RINGING, CallState.TALKING))
    finally:
        await store.close()
