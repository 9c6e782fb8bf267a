"""The feed behind ccms simulate and the demo, against the app in-process."""

from __future__ import annotations

import io
import time

import httpx
import pytest
from tests.conftest import ADMIN_AK, ADMIN_SK, FrozenClock

from ccms.client import AsyncClient
from ccms.feed import Feed, FeedOptions
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
    options = FeedOptions(speed=1.0, duration_s=0, warmup_s=3600, start_hour=10.0)
    config = SimulationConfig(seed=2, agents=30, vdns=1)
    async with client(app) as cms:
        feed = Feed(cms, config, options, now_ms=lambda: now_ms, progress=io.StringIO())
        stats = await feed.run()
        assert stats.events > 30
        assert stats.accepted == stats.events
        expected = feed.expected_state()
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
    options = FeedOptions(speed=None, duration_s=1800, start_hour=9.0)
    config = SimulationConfig(seed=4, agents=20, vdns=1)
    async with client(app) as cms:
        first = await Feed(cms, config, options, now_ms=lambda: now_ms).run()
        again = await Feed(cms, config, options, now_ms=lambda: now_ms).run()
        other = await Feed(
            cms, SimulationConfig(seed=5, agents=20, vdns=1), options, now_ms=lambda: now_ms
        ).run()
    assert first.accepted == first.events > 0
    assert (again.accepted, again.duplicates) == (0, first.events)
    assert other.duplicates == 0


async def test_a_server_error_other_than_503_ends_the_feed(clock: FrozenClock) -> None:
    """Waiting cures 503 and 429, not a 500: the feed stops with the error, never loops."""
    from ccms.client import ServerError

    answers = []

    def handler(request: httpx.Request) -> httpx.Response:
        answers.append(request.url.path)
        body = {"result": "0100999", "resultCode": "0100999", "resultDesc": "unknown error"}
        return httpx.Response(500, json=body)

    transport = httpx.MockTransport(handler)
    async with AsyncClient(
        "http://cms", ADMIN_AK, ADMIN_SK, transport=transport, retry_deadline=0
    ) as cms:
        feed = Feed(
            cms,
            SimulationConfig(seed=1, agents=10, vdns=1),
            FeedOptions(speed=None, duration_s=3600),
        )
        with pytest.raises(ServerError):
            await feed.run()
    assert len(answers) == 1
