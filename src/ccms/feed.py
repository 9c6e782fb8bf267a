"""Feeding a server with simulated traffic: the engine behind ``ccms simulate`` and the demo.

The simulator (``ccms.simulator``) is pure and runs on its own clock; a :class:`Feed` maps
that clock onto the wall clock and posts the events, in order, through the same intake API a
CTI adapter uses (``POST /ccms/v1/events``), with the Python client.

Time mapping. The floor starts at ``start_hour`` of its day (a busy morning by default, so a
demo is lively whatever the hour), optionally after a warm-up sent at once (so agents are
already signed in and working when the feed goes live), and the events' ``at`` are moved
onto the wall clock:

- at a numeric speed S, simulated time runs S times as fast as the wall clock and ``at`` is
  compressed by S as well (``at = wall start + simulated elapsed / S``), so the server's
  ``currentStateTime`` and sign-in times stay coherent with its own clock;
- at ``max`` speed the whole ``duration`` is simulated as fast as the server accepts, with
  ``at`` placed so that the run ends now.

Delivery. A batch is retried, with exponential backoff and jitter, on HTTP 429, 503 and
connection errors until it is acknowledged or the feed is stopped: events are never skipped
or reordered. Event ids are stable for a given simulation (config, seed and floor start) and
position in the stream, and differ between simulations, so a batch sent twice is applied
once and two different runs never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ccms.client import AsyncClient, RateLimitedError, ServerError, TransportError
from ccms.simulator import AgentSnapshot, SimulationConfig, Simulator

DAY_MS = 86_400_000
MAX_BACKOFF_S = 5.0


@dataclass(frozen=True)
class FeedOptions:
    speed: float | None = 1.0  # None: as fast as the server accepts
    duration_s: float | None = None  # simulated seconds; None: until stopped
    batch: int = 1000
    start_hour: float = 9.5
    tick_s: float = 0.25  # how often a real-time feed advances the simulation
    warmup_s: float = 0.0  # simulated seconds before start_hour, sent at once before going live


@dataclass
class FeedStats:
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    retries: int = 0
    started: float = dataclasses.field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.events / elapsed if elapsed > 0 else 0.0


STATUS_WORDS = {0: "out", 1: "idle", 2: "preocc", 3: "occ", 4: "ans", 5: "talk", 6: "work",
                7: "busy", 8: "rest", 9: "study", 10: "adjust"}  # fmt: skip


class Feed:
    """Runs a :class:`Simulator` against a server through an :class:`AsyncClient`."""

    def __init__(
        self,
        client: AsyncClient,
        config: SimulationConfig,
        options: FeedOptions,
        *,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        progress: TextIO | None = None,
    ) -> None:
        self.client = client
        self.options = options
        self.stats = FeedStats()
        self._now_ms = now_ms
        self._progress = progress
        self._stop = asyncio.Event()
        self._reported = 0.0
        wall = now_ms()
        day = wall - wall % DAY_MS
        floor_start = day + round(options.start_hour * 3_600_000)
        self._warmup_from = floor_start - round(options.warmup_s * 1000)
        self.simulator = Simulator(dataclasses.replace(config, start_ms=self._warmup_from))
        self._floor_start = floor_start
        if options.speed is None:
            span = round((options.duration_s or 3600) * 1000)
            self._wall_start, self._scale = wall - span, 1.0
        else:
            self._wall_start, self._scale = wall, options.speed
        # The stream is a function of the config (start included): so is the id suffix, and
        # two runs of different floors never share an event id.
        digest = hashlib.sha256(repr(self.simulator.config).encode()).hexdigest()
        self._run_tag = digest[:10]

    def stop(self) -> None:
        """Finish the batch in flight, then return from :meth:`run`."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wall_at(self, sim_ms: int) -> int:
        """The wall-clock ``at`` of a simulated instant."""
        return self._wall_start + round((sim_ms - self._floor_start) / self._scale)

    def _end_ms(self) -> int | None:
        if self.options.duration_s is None:
            return None
        return self._floor_start + round(self.options.duration_s * 1000)

    def _outgoing(self, events: Sequence[dict[str, object]]) -> list[dict[str, object]]:
        out = []
        for event in events:
            moved = dict(event)
            moved["eventId"] = f"{event['eventId']}@{self._run_tag}"
            at = event["at"]
            assert isinstance(at, int)
            moved["at"] = self.wall_at(at)
            out.append(moved)
        return out

    async def run(self) -> FeedStats:
        end = self._end_ms()
        if self.options.speed is None:
            step = 60_000
            while not self.stopped and (end is None or self.simulator.now_ms < end):
                target = self.simulator.now_ms + step
                await self._send(
                    self.simulator.advance(target if end is None else min(target, end))
                )
        else:
            if self._warmup_from < self._floor_start:  # the past of the floor, at once
                await self._send(self.simulator.advance(self._floor_start))
            wall_origin = time.monotonic()
            while not self.stopped:
                elapsed_ms = (time.monotonic() - wall_origin) * 1000 * self._scale
                target = self._floor_start + round(elapsed_ms)
                if end is not None:
                    target = min(target, end)
                if target > self.simulator.now_ms:
                    await self._send(self.simulator.advance(target))
                self._report()
                if end is not None and self.simulator.now_ms >= end:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.options.tick_s)
        self._report(final=True)
        return self.stats

    async def _send(self, events: Sequence[dict[str, object]]) -> None:
        outgoing = self._outgoing(events)
        size = self.options.batch
        for start in range(0, len(outgoing), size):
            await self._deliver(outgoing[start : start + size])
            if self.options.speed is None:
                self._report()

    async def _deliver(self, batch: list[dict[str, object]]) -> None:
        """Post one batch until it is acknowledged; never skips it."""
        attempt = 0
        while True:
            try:
                result = await self.client.post_events(batch)
            except (RateLimitedError, ServerError, TransportError) as error:
                if isinstance(error, ServerError) and error.http_status != 503:
                    raise  # a server error other than "unavailable" will not pass by waiting
                attempt += 1
                self.stats.retries += 1
                delay = min(MAX_BACKOFF_S, 0.1 * 2**attempt) * (0.5 + random.random() / 2)
                await asyncio.sleep(delay)
                continue
            self.stats.events += len(batch)
            self.stats.accepted += result.accepted
            self.stats.duplicates += result.duplicates
            return

    def _report(self, final: bool = False) -> None:
        if self._progress is None:
            return
        counts = self.simulator.status_counts()
        states = " ".join(f"{STATUS_WORDS[c]} {n}" for c, n in counts.items() if n)
        line = (
            f"{self.stats.events:,} events ({self.stats.rate():,.0f}/s, "
            f"{self.stats.duplicates:,} duplicates, {self.stats.retries} retries) | {states}"
        )
        now = time.monotonic()
        if self._progress.isatty():
            self._progress.write("\r\x1b[2K" + line + ("\n" if final else ""))
        elif final or now - self._reported >= 5.0:  # a log, not a terminal: a line each 5 s
            self._progress.write(line + "\n")
            self._reported = now
        self._progress.flush()

    def expected_state(self) -> dict[tuple[int, int, int], dict[str, Any]]:
        """What a server fed every event so far must answer, with wall-clock times."""
        return {key: self._expected(agent) for key, agent in self.simulator.agents().items()}

    def _expected(self, agent: AgentSnapshot) -> dict[str, Any]:
        return {
            "citStatus": agent.cti_status,
            "name": agent.name,
            "phoneNumber": agent.phone_number,
            "mediaType": agent.media_type,
            "loginDate": None if agent.login_ms is None else self.wall_at(agent.login_ms),
            "since": self.wall_at(agent.status_since_ms),
        }
