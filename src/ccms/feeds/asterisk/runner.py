"""One adapter process: AMI (live or replayed) -> tracker -> spool -> feed -> ccms.

:class:`Adapter` wires the parts of :mod:`ccms.feeds.asterisk` for ``ccms adapter ami``
and runs them until a stop (or, for a replay, until every event of the file is
acknowledged): the AMI connection or the replayer, a timer for the wrap-ups that end
while no frame comes, a probe of ccms every few seconds (for ``/healthz``), the
:class:`~ccms.feeds.delivery.Feed` and the health listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TextIO

import httpx

from ccms.client import AsyncClient, CCMSClientError, TransportError
from ccms.client.errors import RateLimitedError, ServerError
from ccms.feeds.asterisk.config import AdapterConfig
from ccms.feeds.asterisk.connection import AmiConnection
from ccms.feeds.asterisk.health import AdapterMetrics, Health, HealthServer, LagHistogram
from ccms.feeds.asterisk.replay import ReplayClock, Replayer, origin
from ccms.feeds.asterisk.session import AsteriskClock, Session
from ccms.feeds.asterisk.source import AmiSource
from ccms.feeds.asterisk.spool import Spool
from ccms.feeds.asterisk.tracker import Tracker
from ccms.feeds.asterisk.transcript import Entry, Recorder
from ccms.feeds.delivery import Feed

log = logging.getLogger(__name__)

PROBE_S = 5.0  # how often ccms is probed while nothing is delivered
TIMER_MAX_WAIT_S = 1.0


class Adapter:
    """The whole pipeline of one ``ccms adapter ami``."""

    def __init__(
        self,
        config: AdapterConfig,
        *,
        record: Recorder | None = None,
        replay: Sequence[Entry] | None = None,
        speed: float | None = 1.0,
        progress: TextIO | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.spool = Spool(config.spool_dir, config.spool_max_bytes).open()
        self.tracker = Tracker(
            config.rules, config.directory(), source=config.source,
            send_names=config.send_names, last=self.spool.last,
            calls_mark=self.spool.calls_mark, drop_past=replay is not None,
        )  # fmt: skip
        self.replay = replay
        if replay is not None:
            self.replay_clock: ReplayClock | None = ReplayClock(speed)
            self.clock = AsteriskClock(local=self.replay_clock)
            start = origin(replay)
            if start is not None:
                self.clock.anchor(*start)
        else:
            self.replay_clock = None
            self.clock = AsteriskClock()
        self.lag = LagHistogram()
        self._timer_news = asyncio.Event()
        self.session = Session(self.tracker, self.clock, self._accept)
        self.source = AmiSource(
            self.spool, self.tracker, batch=config.ccms.batch, now=self.clock.now,
            on_lag=self.lag.observe, summary=self._summary,
        )  # fmt: skip
        self.connection = (
            AmiConnection(config.ami, self.session, recorder=record) if replay is None else None
        )
        ccms = config.ccms
        self.client = AsyncClient(
            ccms.url, ccms.ak, ccms.sk, timeout=ccms.timeout_s,
            verify=ccms.ca_bundle or True, retry_deadline=0, transport=transport,
        )  # fmt: skip
        self.feed = Feed(self.client, self.source, batch=ccms.batch, progress=progress)
        self.health_server = (
            HealthServer(config.listen, self.health, AdapterMetrics(self.metrics, self.lag))
            if config.listen
            else None
        )
        self.ccms_ok = False
        self.ccms_error = "not reached yet"
        self._tasks: list[asyncio.Task[None]] = []

    # -- the parts' state ------------------------------------------------------------------

    def _accept(self, events: list[dict[str, object]]) -> None:
        self.source.accept(events, time.monotonic())
        self._timer_news.set()

    def _ami_state(self) -> str:
        if self.connection is not None:
            return self.connection.stats.state
        return "replaying" if self.session.stats.booted else "replay not booted"

    def health(self) -> Health:
        booted = self.session.stats.booted
        retrying = self.feed.stats.retrying
        ccms_ok = self.ccms_ok and not retrying
        detail: dict[str, object] = {
            "ami": self._ami_state(), "ccms": "accepting" if ccms_ok else "not accepting",
            "spooled": self.spool.pending, "agents": len(self.tracker.agents),
        }  # fmt: skip
        reasons = []
        if not booted:
            reasons.append(f"ami: {self._ami_state()}")
        if not ccms_ok:
            reasons.append(f"ccms: {retrying or self.ccms_error}")
        return Health(booted and ccms_ok, detail, "; ".join(reasons))

    def metrics(self) -> dict[str, float]:
        conn = self.connection.stats if self.connection is not None else None
        session = self.session.stats
        return {
            "ccms_ami_connected": float(session.connected),
            "ccms_ami_fully_booted": float(session.booted),
            "ccms_ami_healthy": float(self.health().healthy),
            "ccms_ami_asterisk_uptime_seconds": session.uptime or 0.0,
            "ccms_ami_frames_total": session.frames,
            "ccms_ami_connections_total": session.connections,
            "ccms_ami_reconnects_total": conn.reconnects if conn else 0,
            "ccms_ami_ping_timeouts_total": conn.ping_timeouts if conn else 0,
            "ccms_ami_partial_frames_total": conn.partial_frames if conn else 0,
            "ccms_ami_login_failures_total": conn.login_failures if conn else 0,
            "ccms_ami_asterisk_restarts_total": session.restarts,
            "ccms_ami_snapshots_total": session.snapshots,
            "ccms_ami_unmapped_members": len(self.tracker.directory.unmapped),
            "ccms_ami_agents": len(self.tracker.agents),
            "ccms_ami_events_total": self.tracker.stats.events,
            "ccms_ami_call_events_total": self.tracker.calls.stats.events,
            "ccms_ami_live_calls": len(self.tracker.calls.calls),
            "ccms_ami_call_agents_unmapped_total": self.tracker.calls.stats.unmapped_agents,
            "ccms_ami_events_delivered_total": self.feed.stats.events,
            "ccms_ami_stale_changes_total": self.tracker.stats.stale
            + self.tracker.calls.stats.stale,
            "ccms_ami_spool_pending_events": self.spool.pending,
            "ccms_ami_spool_pending_bytes": self.spool.pending_bytes,
            "ccms_ami_spool_refused_events_total": self.spool.refused,
            "ccms_ami_delivery_retries_total": self.feed.stats.retries,
        }

    def _summary(self) -> str:
        state = "fully booted" if self.session.stats.booted else self._ami_state()
        return f"ami {state} | {len(self.tracker.agents)} agents | spool {self.spool.pending}"

    # -- running ---------------------------------------------------------------------------

    async def _timers(self) -> None:
        while True:
            due = self.tracker.next_due()
            wait = TIMER_MAX_WAIT_S
            if due is not None:
                wait = max(0.0, min(wait, due - self.clock.now()))
                speed = self.replay_clock.speed if self.replay_clock is not None else 1.0
                wait = wait / speed if speed else TIMER_MAX_WAIT_S
            self._timer_news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._timer_news.wait(), wait)
            self.session.tick()

    async def _probe(self) -> None:
        while True:
            try:
                await self.client.ping()
                self.ccms_ok, self.ccms_error = True, ""
            except (TransportError, ServerError, RateLimitedError) as exc:
                self.ccms_ok, self.ccms_error = False, str(exc)
            except CCMSClientError:  # any other answer: ccms is there
                self.ccms_ok, self.ccms_error = True, ""
            await asyncio.sleep(PROBE_S)

    async def _produce(self) -> None:
        if self.connection is not None:
            await self.connection.run()
            return
        assert self.replay is not None and self.replay_clock is not None
        await Replayer(self.replay, self.session, self.replay_clock).run()
        self.source.finish()

    def stop(self) -> None:
        """End after the run in flight (Ctrl-C, SIGTERM)."""
        self.feed.stop()

    async def run(self) -> None:
        """Until :meth:`stop`, or the end of a replay once ccms has all of it."""
        try:
            if self.health_server is not None:
                await self.health_server.start()
                log.info("health and metrics on http://%s:%d", self.health_server.host,
                         self.health_server.port)  # fmt: skip
            self._tasks = [asyncio.create_task(c) for c in
                           (self._produce(), self._timers(), self._probe())]  # fmt: skip
            feeding = asyncio.create_task(self.feed.run())
            producer = self._tasks[0]
            done, _ = await asyncio.wait((feeding, producer), return_when=asyncio.FIRST_COMPLETED)
            if producer in done and producer.exception() is not None:
                self.feed.stop()
                await feeding
                producer.result()
            await feeding
        finally:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(BaseException):
                    await task
            if self.health_server is not None:
                await self.health_server.close()
            await self.client.close()
            self.spool.close()
