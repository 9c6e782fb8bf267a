"""The simulated floor behind ccms simulate and the demo, fed to the app in-process."""

from __future__ import annotations

import io
import time

import httpx
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, FrozenClock

from ccms.client import AsyncClient
from ccms.feeds import Feed, Schedule, SimulatedSource
from ccms.http.app import App
from ccms.simulator import SimulationConfig

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(autouse=True)
def real_time(clock: FrozenClock) -> None:
    clock.now = time.time()  # the client signs with the real clock


def client(app: App) -> AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return AsyncClient(
        "http://testserver", ADMIN_AK, ADMIN_SK, transport=transport, retry_deadline=0
    )


async def test_warmup_is_sent_at_once_and_lies_in_the_past(app: App, clock: FrozenClock) -> None:
    now_ms = int(clock() * 1000)
    schedule = Schedule(speed=1.0, duration_s=0, warmup_s=3600, start_hour=10.0)
    config = SimulationConfig(seed=2, agents=30, vdns=1)
    async with client(app) as cms:
        source = SimulatedSource(config, schedule, now_ms=lambda: now_ms)
        progress = io.StringIO()
        stats = await Feed(cms, source, progress=progress).run()
        assert stats.events > 30
        assert stats.accepted == stats.events
        assert progress.getvalue().endswith(f" retries) | {source.summary()}\n")
        expected = source.expected_state()
        signed_in = [k for k, v in expected.items() if v["loginDate"] is not None]
        assert len(signed_in) > 10
        for cc, vdn, work_no in signed_in:
            detail = await cms.agent_detail(cc, vdn, work_no)
            assert detail.login_date == expected[(cc, vdn, work_no)]["loginDate"]
            assert detail.login_date is not None
            assert now_ms - 3_600_000 <= detail.login_date <= now_ms
            assert detail.cti_status == expected[(cc, vdn, work_no)]["citStatus"]


async def test_a_second_run_of_the_same_simulation_is_all_duplicates(
    app: App, clock: FrozenClock
) -> None:
    now_ms = int(clock() * 1000)
    schedule = Schedule(speed=None, duration_s=1800, start_hour=9.0)
    config = SimulationConfig(seed=4, agents=20, vdns=1)
    other_config = SimulationConfig(seed=5, agents=20, vdns=1)

    def source(config: SimulationConfig) -> SimulatedSource:
        return SimulatedSource(config, schedule, now_ms=lambda: now_ms)

    async with client(app) as cms:
        first = await Feed(cms, source(config)).run()
        again = await Feed(cms, source(config)).run()
        other = await Feed(cms, source(other_config)).run()
    assert first.accepted == first.events > 0
    assert (again.accepted, again.duplicates) == (0, first.events)
    assert other.duplicates == 0
