"""Prometheus metrics of one app: requests by route and result code, latency, intake.

With ``ccms serve --workers N`` the workers share a folder of metric files (the
``prometheus_client`` multiprocess mode, chosen by ``PROMETHEUS_MULTIPROC_DIR``) so a
scrape of any worker reports the sum over all of them.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


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
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

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

    def render(self) -> bytes:
        return bytes(generate_latest(self._scrape))
