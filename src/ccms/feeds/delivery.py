"""Delivery of a source's events to a server: the part every feed shares.

An :class:`EventSource` (the simulator, a CTI adapter) produces runs of intake events; a
:class:`Feed` posts them, in order, through :class:`~ccms.client.AsyncClient` to
``POST /ccms/v1/events``, in batches of at most ``batch`` events, and shows its progress.
A source writes only what it alone knows: its events, with stable ``eventId`` values (so a
batch sent again is applied once: the server counts it as duplicates), and a few words on
its state for the progress line.

Delivery. A batch is retried, with exponential backoff and jitter, on HTTP 429, 503 and
connection errors until it is acknowledged: events are never skipped or reordered. Any
other failure (a key without the ``ingest`` role, a server error) ends :meth:`Feed.run`
with the client's exception.

Stopping. :meth:`Feed.stop` (on Ctrl-C or SIGTERM) ends :meth:`Feed.run` between two runs
of the source: the run in flight goes out whole, so what the source has produced is what
the server has. A source waiting for its next run is not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from ccms.client import AsyncClient, RateLimitedError, ServerError, TransportError

Event = Mapping[str, object]  # one intake event, as POST /ccms/v1/events takes it
MAX_BACKOFF_S = 5.0


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
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.client = client
        self.source = source
        self.batch = batch
        self.stats = FeedStats()
        self._progress = progress
        self._sleep = sleep
        self._stop = asyncio.Event()
        self._reported = 0.0

    def stop(self) -> None:
        """Finish the run in flight, then return from :meth:`run`."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> FeedStats:
        """Deliver the source's runs until it ends or :meth:`stop` is called."""
        runs = self.source.runs()
        try:
            while not self.stopped:
                events = await self._next(runs)
                if events is None:
                    break
                await self._send(events)
        finally:
            if isinstance(runs, AsyncGenerator):
                await runs.aclose()
        self._report(final=True)
        return self.stats

    async def _next(self, runs: AsyncIterator[Sequence[Event]]) -> Sequence[Event] | None:
        """The source's next run; None when it has ended, or the feed was stopped first."""
        produced = asyncio.ensure_future(anext(runs))
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait((produced, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not produced.done():
                produced.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await produced
        if produced.cancelled():
            return None
        try:
            return produced.result()
        except StopAsyncIteration:
            return None

    async def _send(self, events: Sequence[Event]) -> None:
        if not events:
            self._report()
        for start in range(0, len(events), self.batch):
            await self._deliver(events[start : start + self.batch])
            self._report()

    async def _deliver(self, batch: Sequence[Event]) -> None:
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
                await self._sleep(delay)
                continue
            self.stats.events += len(batch)
            self.stats.accepted += result.accepted
            self.stats.duplicates += result.duplicates
            return

    def _report(self, final: bool = False) -> None:
        if self._progress is None:
            return
        stats = self.stats
        line = (
            f"{stats.events:,} events ({stats.rate():,.0f}/s, "
            f"{stats.duplicates:,} duplicates, {stats.retries} retries)"
        )
        summary = self.source.summary()
        if summary:
            line += f" | {summary}"
        now = time.monotonic()
        if self._progress.isatty():
            self._progress.write("\r\x1b[2K" + line + ("\n" if final else ""))
        elif final or now - self._reported >= 5.0:  # a log, not a terminal: a line each 5 s
            self._progress.write(line + "\n")
            self._reported = now
        self._progress.flush()
