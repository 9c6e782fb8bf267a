"""The adapter's own ``GET /healthz`` and ``GET /metrics``, on a small HTTP listener.

``/healthz`` answers ``200`` with the CC-CMS success envelope only while the AMI
connection is past ``FullyBooted`` and ccms takes events (the last delivery or probe was
acknowledged); otherwise ``503`` with the failure envelope (``0100001``) and why, in
``resultDesc`` (``ami: reconnecting in 2.0 s (Ping unanswered for 5 s (a half-open
socket))``). ``/metrics`` is the Prometheus text format (``docs/adapters/asterisk.md``
lists the metrics). The listener is a few lines of asyncio: two GET routes do not need a
web framework, and the adapter stays one light process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from ccms import wire

log = logging.getLogger(__name__)

LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0,
               30.0, 60.0)  # fmt: skip


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: dict[str, object]
    reason: str


class LagHistogram:
    """Seconds from an AMI frame received to ccms's acknowledgement of its events."""

    def __init__(self) -> None:
        self.counts = [0] * (len(LAG_BUCKETS) + 1)
        self.total = 0.0
        self.samples = 0

    def observe(self, seconds: float) -> None:
        index = next((i for i, bound in enumerate(LAG_BUCKETS) if seconds <= bound), -1)
        self.counts[index] += 1
        self.total += seconds
        self.samples += 1


class AdapterMetrics:
    """A Prometheus collector reading the adapter's parts at each scrape."""

    def __init__(self, read: Callable[[], dict[str, float]], lag: LagHistogram) -> None:
        self._read = read
        self.lag = lag

    def collect(self):  # type: ignore[no-untyped-def]
        values = self._read()
        for name, value in values.items():
            help_text = METRIC_HELP[name]
            if name.endswith("_total"):
                family: CounterMetricFamily | GaugeMetricFamily = CounterMetricFamily(
                    name[: -len("_total")], help_text, value=value
                )
            else:
                family = GaugeMetricFamily(name, help_text, value=value)
            yield family
        cumulative, buckets = 0, []
        for bound, count in zip((*LAG_BUCKETS, float("inf")), self.lag.counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        yield HistogramMetricFamily(
            "ccms_ami_delivery_lag_seconds",
            "From an AMI frame received to ccms acknowledging the events it caused",
            buckets=buckets, sum_value=self.lag.total,
        )  # fmt: skip


METRIC_HELP = {
    "ccms_ami_connected": "1 while the AMI socket is open",
    "ccms_ami_fully_booted": "1 while the connection is past FullyBooted",
    "ccms_ami_healthy": "1 while /healthz answers 200",
    "ccms_ami_asterisk_uptime_seconds": "Asterisk's Uptime at the last FullyBooted",
    "ccms_ami_frames_total": "AMI frames received",
    "ccms_ami_connections_total": "AMI connections that reached the greeting",
    "ccms_ami_reconnects_total": "AMI connections ended and started again",
    "ccms_ami_ping_timeouts_total": "Pings unanswered in time (half-open sockets)",
    "ccms_ami_partial_frames_total": "Connections that closed in the middle of a frame",
    "ccms_ami_login_failures_total": "Logins Asterisk refused",
    "ccms_ami_asterisk_restarts_total": "Asterisk restarts seen (a smaller Uptime)",
    "ccms_ami_snapshots_total": "QueueStatus snapshots applied",
    "ccms_ami_unmapped_members": "Distinct queue members the identity directory cannot map",
    "ccms_ami_agents": "Agents followed",
    "ccms_ami_events_total": "CTI events made",
    "ccms_ami_call_events_total": "Call events made (queue calls)",
    "ccms_ami_live_calls": "Queue calls followed that have not ended",
    "ccms_ami_call_agents_unmapped_total": "Offers and answers by a member no agent maps",
    "ccms_ami_events_delivered_total": "CTI events ccms acknowledged",
    "ccms_ami_stale_changes_total": "Changes older than the last event written (replays)",
    "ccms_ami_spool_pending_events": "Events in the spool not yet acknowledged",
    "ccms_ami_spool_pending_bytes": "Bytes of the spool not yet acknowledged",
    "ccms_ami_spool_refused_events_total": "Events the full spool refused (state kept)",
    "ccms_ami_delivery_retries_total": "Deliveries to ccms retried",
}


def _answer(status: int, body: bytes, content_type: str) -> bytes:
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable",
              400: "Bad Request"}[status]  # fmt: skip
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _failure(message: str) -> bytes:
    return orjson.dumps({"result": wire.FAILED, "resultCode": wire.FAILED, "resultDesc": message})


class HealthServer:
    """``GET /healthz`` and ``GET /metrics`` on ``host:port``."""

    def __init__(self, listen: str, health: Callable[[], Health], metrics: AdapterMetrics) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self._health = health
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(metrics)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        sockets = list(self._server.sockets or ())
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def render(self, path: str) -> bytes:
        if path == wire.HEALTHZ:
            health = self._health()
            if health.healthy:
                data = health.detail
                body = orjson.dumps({"result": "0", "resultCode": wire.SUCCESS,
                                     "resultDatas": data, "resultDesc": data})  # fmt: skip
                return _answer(200, body, "application/json;charset=UTF-8")
            return _answer(503, _failure(health.reason), "application/json;charset=UTF-8")
        if path == wire.METRICS:
            return _answer(200, generate_latest(self._registry), CONTENT_TYPE_LATEST)
        return _answer(404, _failure(f"no route {path}"), "application/json;charset=UTF-8")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            method, _, rest = head.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method != "GET":
                answer = _answer(405, _failure("only GET"), "application/json;charset=UTF-8")
            else:
                answer = self.render(path)
            writer.write(answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):  # fmt: skip
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
