"""The simulated floor as an event source: what ``ccms simulate`` and the demo feed.

The simulator (``ccms.simulator``) is pure and runs on its own clock; a
:class:`SimulatedSource` maps that clock onto the wall clock and hands its events to a
:class:`~ccms.feeds.delivery.Feed`, which posts them through the same intake API a CTI
adapter uses (``POST /ccms/v1/events``), with the Python client.

Time mapping. The floor starts at ``start_hour`` of its day (a busy morning by default, so a
demo is lively whatever the hour), optionally after a warm-up sent at once (so agents are
already signed in and working when the feed goes live), and the events' ``at`` are moved
onto the wall clock:

- at a numeric speed S, simulated time runs S times as fast as the wall clock and ``at`` is
  compressed by S as well (``at = wall start + simulated elapsed / S``), so the server's
  ``currentStateTime`` and sign-in times stay coherent with its own clock;
- at ``max`` speed the whole ``duration`` is simulated as fast as the server accepts, with
  ``at`` placed so that the run ends now.

Event ids are stable for a given simulation (config, seed and floor start) and position in
the stream, and differ between simulations, so a batch sent twice is applied once and two
different runs never collide. Each run of the source is one step of the simulation (a
tick of ``tick_s`` in real time, a simulated minute at ``max`` speed): a stopped feed has
sent every event of the steps simulated, so :meth:`SimulatedSource.expected_state` is what
the server holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ccms.simulator import AgentSnapshot, SimulationConfig, Simulator

DAY_MS = 86_400_000
MAX_SPEED_STEP_MS = 60_000  # a run at max speed: one simulated minute


@dataclass(frozen=True)
class Schedule:
    """When the simulated floor's events happen, and how fast they are sent."""

    speed: float | None = 1.0  # None: as fast as the server accepts
    duration_s: float | None = None  # simulated seconds; None: until stopped
    start_hour: float = 9.5
    tick_s: float = 0.25  # how often a real-time feed advances the simulation
    warmup_s: float = 0.0  # simulated seconds before start_hour, sent at once before going live


STATUS_WORDS = {0: "out", 1: "idle", 2: "preocc", 3: "occ", 4: "ans", 5: "talk", 6: "work",
                7: "busy", 8: "rest", 9: "study", 10: "adjust"}  # fmt: skip


class SimulatedSource:
    """A :class:`Simulator` as an :class:`~ccms.feeds.delivery.EventSource`."""

    def __init__(
        self,
        config: SimulationConfig,
        schedule: Schedule,
        *,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.schedule = schedule
        wall = now_ms()
        day = wall - wall % DAY_MS
        floor_start = day + round(schedule.start_hour * 3_600_000)
        self._warmup_from = floor_start - round(schedule.warmup_s * 1000)
        self.simulator = Simulator(dataclasses.replace(config, start_ms=self._warmup_from))
        self._floor_start = floor_start
        if schedule.speed is None:
            span = round((schedule.duration_s or 3600) * 1000)
            self._wall_start, self._scale = wall - span, 1.0
        else:
            self._wall_start, self._scale = wall, schedule.speed
        # The stream is a function of the config (start included): so is the id suffix, and
        # two runs of different floors never share an event id.
        digest = hashlib.sha256(repr(self.simulator.config).encode()).hexdigest()
        self._run_tag = digest[:10]
        # Call ids are ``<wall-clock second the call began>-<sequence>``; the sequence
        # starts at a number of the run's own (9 digits for the first million calls), so
        # two simulations feeding one server do not share call ids either.
        self._call_base = (int(digest[10:18], 16) % 900 + 100) * 1_000_000

    def wall_at(self, sim_ms: int) -> int:
        """The wall-clock ``at`` of a simulated instant."""
        return self._wall_start + round((sim_ms - self._floor_start) / self._scale)

    def _end_ms(self) -> int | None:
        if self.schedule.duration_s is None:
            return None
        return self._floor_start + round(self.schedule.duration_s * 1000)

    def call_id(self, sim_call_id: str) -> str:
        """The call id sent for a call of the simulation (``<second>-<n>``)."""
        second, _, n = sim_call_id.partition("-")
        return f"{self.wall_at(int(second) * 1000) // 1000}-{self._call_base + int(n)}"

    def _outgoing(self, events: Sequence[dict[str, object]]) -> list[dict[str, object]]:
        out = []
        for event in events:
            moved = dict(event)
            moved["eventId"] = f"{event['eventId']}@{self._run_tag}"
            at = event["at"]
            assert isinstance(at, int)
            moved["at"] = self.wall_at(at)
            call_id = event.get("callId")
            if isinstance(call_id, str):
                moved["callId"] = self.call_id(call_id)
            calls = event.get("calls")
            if isinstance(calls, list):
                moved["calls"] = [self.call_id(c) for c in calls]
            out.append(moved)
        return out

    async def runs(self) -> AsyncIterator[list[dict[str, object]]]:
        """One run a step of the simulation, until ``duration_s`` (forever without one)."""
        end = self._end_ms()
        if self.schedule.speed is None:
            while end is None or self.simulator.now_ms < end:
                target = self.simulator.now_ms + MAX_SPEED_STEP_MS
                yield self._outgoing(
                    self.simulator.advance(target if end is None else min(target, end))
                )
            return
        if self._warmup_from < self._floor_start:  # the past of the floor, at once
            yield self._outgoing(self.simulator.advance(self._floor_start))
        wall_origin = time.monotonic()
        while True:
            elapsed_ms = (time.monotonic() - wall_origin) * 1000 * self._scale
            target = self._floor_start + round(elapsed_ms)
            if end is not None:
                target = min(target, end)
            advanced = target > self.simulator.now_ms
            yield self._outgoing(self.simulator.advance(target)) if advanced else []
            if end is not None and self.simulator.now_ms >= end:
                return
            await asyncio.sleep(self.schedule.tick_s)

    def summary(self) -> str:
        """The agents in each CTI status, for the progress line."""
        counts = self.simulator.status_counts()
        return " ".join(f"{STATUS_WORDS[c]} {n}" for c, n in counts.items() if n)

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
