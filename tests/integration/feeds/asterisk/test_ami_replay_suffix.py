"""Replaying any suffix of a recorded run changes nothing in ccms.

The adapter replays the recorded transcript into the app in-process (a real SQLite store,
the real client over ``httpx.ASGITransport``); then, with the same spool folder (which
remembers each agent's last event), any suffix of the same recording: every agent's
status, its start and its whole history must stay as they were.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import ADMIN_AK, ADMIN_SK, FrozenClock, test_keys
from tests.e2e.feeds.ami_oracle import ALICE, BOB, CALL_EVENTS, CAROL, CONFIG, SEQUENCE
from tests.e2e.feeds.fake_ami import fixture_entries

from ccms.feeds.asterisk import Adapter, parse_config
from ccms.feeds.asterisk.transcript import Entry
from ccms.server import build_app
from ccms.settings import load_settings
from ccms.store.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

ENTRIES = fixture_entries()
# The store's clock stands a minute after the recording's last call ended: the store keeps
# the call records of call_record_days days up to its own today, so on the real clock the
# recording's calls would be pruned once it is two days old.
RECORDED = max(at for events in CALL_EVENTS.values() for _, at, _ in events) / 1000 + 60


class Ccms:
    """The app on its own event loop, driven from the (synchronous) Hypothesis test."""

    def __init__(self, db: Path) -> None:
        self.clock = FrozenClock(time.time())  # the app's: the client signs with the real one
        self.loop = asyncio.new_event_loop()
        self.store = SQLiteStore(str(db), clock=FrozenClock(RECORDED))
        self.app = build_app(load_settings({}), test_keys(), store=self.store, clock=self.clock)
        self.loop.run_until_complete(self.app.startup())

    def replay(self, entries: list[Entry], spool: Path) -> Adapter:
        text = CONFIG.format(ami_port=5038, ping_s=10, resync_s=300, url="http://testserver",
                             ak=ADMIN_AK, sk=ADMIN_SK, listen_port=1, spool=spool)  # fmt: skip
        config = dataclasses.replace(parse_config(text), listen="")
        self.clock.now = time.time()  # the client signs with the real clock
        adapter = Adapter(config, replay=entries, speed=None,
                          transport=httpx.ASGITransport(app=self.app))  # fmt: skip
        self.loop.run_until_complete(adapter.run())
        return adapter

    def state(self) -> dict[Any, Any]:
        async def read() -> dict[Any, Any]:
            out: dict[Any, Any] = {
                "calls": [await self.store.get_call(1, 1, c) for c in CALL_EVENTS]
            }
            for agent in (ALICE, BOB, CAROL):
                record = await self.store.get_agent(1, 1, agent)
                history = await self.store.history(1, 1, agent, 1000)
                out[agent] = (
                    record,
                    [(h.event_id, h.at, h.cti_status, h.applied) for h in history],
                )
            return out

        return self.loop.run_until_complete(read())

    def close(self) -> None:
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


def test_replaying_any_suffix_of_a_recorded_run_changes_nothing_in_ccms(tmp_path: Path) -> None:
    ccms = Ccms(tmp_path / "ccms.db")
    try:
        spool = tmp_path / "spool"
        full = ccms.replay(ENTRIES, spool)
        calls = sum(len(c) for c in CALL_EVENTS.values())
        assert full.feed.stats.accepted == sum(len(s) for s in SEQUENCE.values()) + calls
        before = ccms.state()
        assert [c.ended_at for c in before["calls"]] == [e[-1][1] for e in CALL_EVENTS.values()]
        assert [h[2] for h in reversed(before[ALICE][1])] == [s for s, _, _ in SEQUENCE[ALICE]]

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.integers(min_value=0, max_value=len(ENTRIES) - 1))
        def suffix(start: int) -> None:
            again = ccms.replay(ENTRIES[start:], spool)
            assert again.feed.stats.accepted == 0
            assert ccms.state() == before

        suffix()
    finally:
        ccms.close()
