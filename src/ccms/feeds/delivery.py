"""Delivery of a source's events to a server: the part every feed shares.

An :class:`EventSource` (the simulator, a CTI adapter) produces runs of intake events; a
:class:`Feed` posts them, in order, through :class:`~ccms.client.AsyncClient` to
``POST /ccms/v1/events``, in batches of at most ``batch`` events, and shows its progress.
A source writes only what it alone knows: its events, with stable ``eventId`` values (so a
batch sent again is applied once: the server counts it as duplicates), and a few words on
its state for the progress line.

Delivery. A batch is retried, with exponential backoff and jitter, on HTTP 429, 503 and
connection errors and timeouts until it is acknowledged: events are never skipped or
reordered. The progress line says so while it lasts (``retrying: connection refused
(attempt 4)``). Any other failure (a TLS certificate the client does not trust, a key
without the ``ingest`` role, a server error) ends :meth:`Feed.run` with the client's
exception, without a retry.

Stopping. :meth:`Feed.stop` (on Ctrl-C or SIGTERM) ends :meth:`Feed.run` between two runs
of the source: the run in flight goes out whole, so what the source has produced is what
the server has, as long as the server answers. A stop does not wait for a server that does
not: it ends a wait between retries at once, retries nothing, and gives a request in
flight ``grace`` seconds (1 by default) to be answered. The events of the run a stop gave
up on are counted in :attr:`FeedStats.undelivered`, with the reason in
:attr:`FeedStats.failure`. A source waiting for its next run is not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TextIO, TypeVar

from ccms.client import AsyncClient, CCMSClientError, TransportError
from ccms.client.display import plural
from ccms.client.retry import reason, retryable

T = TypeVar("T")
Event = Mapping[str, object]  # one intake event, as POST /ccms/v1/events takes it
MAX_BACKOFF_S = 5.0
STOP_GRACE_S = 1.0  # how long a stop waits for the answer to a request in flight
RATE_WINDOW_S = 10.0  # the progress line's rate is over this many recent seconds
LOG_EVERY_S = 5.0  # a progress line each 5 s when the progress stream is not a terminal


class EventSource(Protocol):
    """Where a :class:`Feed`'s events come from."""

    def runs(self) -> AsyncIterator[Sequence[Event]]:
        """The events, in order, in runs (an ``async def`` with ``yield`` is one). A run goes
        out whole before the feed stops; an empty run only refreshes the progress line. The
        feed ends when the iterator does."""
        ...

    def summary(self) -> str:
        """A few words on the source's state for the progress line ("" for none)."""
        ...


class RecentRate:
    """Events a second over the last ``window`` seconds (not an average since the start)."""

    def __init__(
        self, window: float = RATE_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque([(clock(), 0)])

    def add(self, total: int) -> None:
        """Record that ``total`` events have been delivered so far."""
        self._samples.append((self._clock(), total))
        self._trim(self._clock())

    def _trim(self, now: float) -> None:
        while len(self._samples) > 1 and self._samples[1][0] <= now - self.window:
            self._samples.popleft()

    def per_second(self) -> float:
        now = self._clock()
        self._trim(now)
        since, before = self._samples[0]
        span = now - since
        return (self._samples[-1][1] - before) / span if span > 0 else 0.0


@dataclass
class FeedStats:
    """What a :class:`Feed` has done; ``undelivered`` and ``failure`` are set by a stop that
    gave up on events the server had not acknowledged."""

    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    retries: int = 0
    undelivered: int = 0
    failure: str = ""
    retrying: str = ""  # "connection refused (attempt 4)" while a batch is being retried
    recent: RecentRate = field(default_factory=RecentRate, repr=False)

    def rate(self) -> float:
        """Events a second over the last ten seconds."""
        return self.recent.per_second()


class Feed:
    """Posts the runs of an :class:`EventSource` to a server through an :class:`AsyncClient`."""

    def __init__(
        self,
        client: AsyncClient,
        source: EventSource,
        *,
        batch: int = 1000,
        progress: TextIO | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        grace: float = STOP_GRACE_S,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.client = client
        self.source = source
        self.batch = batch
        self.grace = grace
        self.stats = FeedStats()
        self._progress = progress
        self._sleep = sleep
        self._stop = asyncio.Event()
        self._stopped_at = 0.0
        self._reported = 0.0
        self._line_open = False

    def stop(self) -> None:
        """Finish the run in flight (if the server answers), then return from :meth:`run`."""
        if not self._stop.is_set():
            self._stopped_at = time.monotonic()
            self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> FeedStats:
        """Deliver the source's runs until it ends or :meth:`stop` is called."""
        runs = self.source.runs()
        try:
            while not self.stopped:
                try:
                    events = await self._unless_stopped(anext(runs), grace=False)
                except StopAsyncIteration:
                    break
                if events is None or not await self._send(events):
                    break
        except BaseException:
            self._close_line()
            raise
        finally:
            if isinstance(runs, AsyncGenerator):
                await runs.aclose()
        self._report(final=True)
        return self.stats

    def _grace_left(self) -> float:
        return max(0.0, self._stopped_at + self.grace - time.monotonic())

    async def _unless_stopped(self, work: Awaitable[T], *, grace: bool) -> T | None:
        """The result of ``work``; None when a stop came first (after ``grace`` if asked)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
            if grace and not task.done():
                await asyncio.wait((task,), timeout=self._grace_left())
        finally:
            stopping.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        return None if task.cancelled() else task.result()

    async def _send(self, events: Sequence[Event]) -> bool:
        """Deliver a run; False when a stop gave up on part of it."""
        if not events:
            self._report()
        for start in range(0, len(events), self.batch):
            if not await self._deliver(events[start : start + self.batch]):
                self.stats.undelivered = len(events) - start
                return False
            self._report()
        return True

    async def _deliver(self, batch: Sequence[Event]) -> bool:
        """Post one batch until it is acknowledged (True), or a stop gives up on it."""
        stats = self.stats
        attempt = 0
        while True:
            if self.stopped and self._grace_left() <= 0:
                return False
            try:
                result = await self._unless_stopped(self.client.post_events(batch), grace=True)
            except CCMSClientError as error:
                if not retryable(error):
                    raise  # TLS, credentials, a server error: waiting will not cure it
                attempt += 1
                stats.retries += 1
                where = f" ({error.url})" if isinstance(error, TransportError) else ""
                stats.failure = f"last attempt: {reason(error)}{where}"
                stats.retrying = f"{reason(error)} (attempt {attempt})"
                self._report(force=attempt == 1)
                if self.stopped:
                    return False
                delay = min(MAX_BACKOFF_S, 0.1 * 2**attempt) * (0.5 + random.random() / 2)
                if not await self._unless_stopped(self._wait(delay), grace=False):
                    return False
                continue
            if result is None:
                stats.failure = f"no answer from {self.client.base_url} yet"
                return False
            stats.events += len(batch)
            stats.accepted += result.accepted
            stats.duplicates += result.duplicates
            stats.failure = stats.retrying = ""
            stats.recent.add(stats.events)
            return True

    async def _wait(self, seconds: float) -> bool:
        await self._sleep(seconds)
        return True

    def _line(self) -> str:
        stats = self.stats
        line = (
            f"{plural(stats.events, 'event')} ({stats.rate():,.0f}/s, "
            f"{plural(stats.duplicates, 'duplicate')}, {plural(stats.retries, 'retry', 'retries')})"
        )
        if stats.retrying:
            line += f" | retrying: {stats.retrying}"
        summary = self.source.summary()
        if summary:
            line += f" | {summary}"
        return line

    def _report(self, final: bool = False, force: bool = False) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if self._progress.isatty():
            self._progress.write("\r\x1b[2K" + self._line() + ("\n" if final else ""))
            self._line_open = not final
        elif final or force or now - self._reported >= LOG_EVERY_S:  # a log, not a terminal
            self._progress.write(self._line() + "\n")
            self._reported = now
        self._progress.flush()

    def _close_line(self) -> None:
        """End a terminal's progress line, so that what follows starts on a line of its own."""
        if self._progress is not None and self._line_open:
            self._progress.write("\n")
            self._progress.flush()
            self._line_open = False
