"""Prometheus metrics of one app: requests by route and result code, latency, intake,
the live stream, and the floor (agents per state and VDN, agents flagged, time in state).

With ``ccms serve --workers N`` the workers share a folder of metric files (the
``prometheus_client`` multiprocess mode, chosen by ``PROMETHEUS_MULTIPROC_DIR``) so a
scrape of any worker reports the sum over all of them. The floor's gauges are the same in
every worker (each follows the whole store): the worker scraped writes its own just
before the scrape, and the scrape reports the most recent value (``mostrecent``), never a
sum over workers. The time in state is observed by the worker that applied the batch
ending the state, so it is counted once.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ccms.domain.flags import FLAG_NAMES

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Seconds in a state, at its end: a ring (seconds) to a shift (hours).
_STATE_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800)
# The state words of the floor's metrics (the wallboard's groups of CTI statuses 0..10).
STATE_OF_CTI = (
    "signed-out", "idle", "talking", "ringing", "ringing", "talking", "wrap-up", "busy",
    "rest", "study", "wrap-up",
)  # fmt: skip


class FlagCounts(Protocol):
    """What the flag timers count (``ccms.flagtimer.FlagSchedule``)."""

    @property
    def in_state(self) -> Mapping[tuple[str, str], int]: ...  # (VDN label, state) -> agents

    @property
    def flagged(self) -> Sequence[int]: ...  # agents per flag, in FLAG_NAMES order


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        """``multiprocess_dir``: the folder the worker processes of one server share
        (``PROMETHEUS_MULTIPROC_DIR``); a scrape of any worker then counts them all."""
        own = CollectorRegistry(auto_describe=True)
        folder = multiprocess_dir
        if folder:
            self._scrape = CollectorRegistry()
            MultiProcessCollector(self._scrape, path=folder)  # type: ignore[no-untyped-call]
        else:
            self._scrape = own
        self.requests = Counter(
            "ccms_requests", "Requests answered, by route and CC-CMS result code",
            ["route", "code", "http_status"], registry=own,
        )  # fmt: skip
        self.latency = Histogram(
            "ccms_request_duration_seconds", "Time to answer a request, by route",
            ["route"], buckets=_BUCKETS, registry=own,
        )  # fmt: skip
        self.events = Counter(
            "ccms_events_ingested", "CTI events taken in, by outcome (accepted, duplicate)",
            ["outcome"], registry=own,
        )  # fmt: skip
        self.store_errors = Counter(
            "ccms_store_errors", "Store calls that failed (answered with HTTP 503)", registry=own
        )
        # the live stream (GET /ccms/v1/stream and the waiting GET /ccms/v1/changes)
        self.streams_open = Gauge(
            "ccms_streams_open", "Open streams and waiting long-polls",
            registry=own, multiprocess_mode="livesum",
        )  # fmt: skip
        self.stream_changes = Counter(
            "ccms_stream_changes_delivered", "Changes written to streams and long-polls",
            registry=own,
        )  # fmt: skip
        self.resets = Counter(
            "ccms_stream_resets", "Stream resets, by reason (cursor-expired, slow-consumer)",
            ["reason"], registry=own,
        )  # fmt: skip
        self.stream_lag = Histogram(
            "ccms_stream_delivery_lag_seconds",
            "Time from an event's 'at' to its change written to a stream (per write, its"
            " oldest change)",
            buckets=_LAG_BUCKETS, registry=own,
        )  # fmt: skip
        # the floor (with a flags file: the flag timers follow every agent)
        self.agents_in_state = Gauge(
            "ccms_agents", "Signed-in agents, by VDN ('ccId/vdn', at most 100, then 'other')"
            " and state", ["vdn", "state"], registry=own, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.agents_flagged = Gauge(
            "ccms_agents_flagged", "Agents with a flag raised, by flag", ["flag"],
            registry=own, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.state_seconds = Histogram(
            "ccms_state_duration_seconds", "Time an agent spent in a state, at its end",
            ["state"], buckets=_STATE_BUCKETS, registry=own,
        )  # fmt: skip
        # the upper bounds of the state histogram's buckets, +Inf last (as prometheus_client)
        self._state_bounds = [*(float(b) for b in _STATE_BUCKETS), float("inf")]
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}
        self._flags: FlagCounts | None = None
        self._flag_names: Sequence[str] = ()
        self._in_state_seen: set[tuple[str, str]] = set()

    def observe(self, route: str, code: str, http_status: int, seconds: float) -> None:
        key = (route, code, http_status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(route, code, str(http_status))
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = self.latency.labels(route)
        histogram.observe(seconds)

    def state_exits(self, exits: Sequence[tuple[int, int]]) -> None:
        """A batch ended these states: (CTI status, ms spent in it) each.

        A batch of 1,000 events ends up to 1,000 states: they are counted per state and
        bucket first, then added to each histogram's sum and buckets once, which is what
        ``observe`` adds one value at a time, for a fraction of its cost on the intake's
        path (``Histogram.observe``'s own fields; prometheus_client is pinned)."""
        bounds = self._state_bounds
        per_state: dict[str, tuple[list[int], list[float]]] = {}
        for cti, ms in exits:
            if 0 <= cti < len(STATE_OF_CTI):
                state = STATE_OF_CTI[cti]
                held = per_state.get(state)
                if held is None:
                    held = per_state[state] = ([0] * len(bounds), [0.0])
                seconds = ms / 1000
                held[0][bisect.bisect_left(bounds, seconds)] += 1
                held[1][0] += seconds
        for state, (counts, total) in per_state.items():
            child = self.state_seconds.labels(state)
            child._sum.inc(total[0])
            for bucket, count in zip(child._buckets, counts, strict=True):
                if count:
                    bucket.inc(count)

    def follow_flags(self, counts: FlagCounts, names: Sequence[str] = ()) -> None:
        """Report the floor's gauges from ``counts`` at each scrape (``names``: the
        flags, in the order of ``counts.flagged``)."""
        self._flags = counts
        self._flag_names = names or FLAG_NAMES

    def _refresh(self) -> None:
        counts = self._flags
        if counts is None:
            return
        now = dict(counts.in_state)
        for labels in self._in_state_seen - now.keys():
            self.agents_in_state.labels(*labels).set(0)
        for labels, n in now.items():
            self.agents_in_state.labels(*labels).set(n)
        self._in_state_seen |= now.keys()
        for name, n in zip(self._flag_names, counts.flagged, strict=True):
            self.agents_flagged.labels(name).set(n)

    def render(self) -> bytes:
        self._refresh()
        return bytes(generate_latest(self._scrape))
