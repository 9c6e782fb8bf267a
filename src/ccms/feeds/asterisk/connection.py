"""A live AMI connection that stays up: connect, log in, boot, ping, resync, reconnect.

:meth:`AmiConnection.run` loops until cancelled:

1. connect over TCP or TLS (``connect_timeout_s`` for the socket, the greeting and the
   login), read the greeting, send ``Login`` with the configured ``Events`` classes;
2. wait for ``FullyBooted`` (only then is the connection usable; its ``Uptime`` tells a
   restart, see :class:`~ccms.feeds.asterisk.session.Session`), then ask ``QueueStatus``:
   nothing that happened while disconnected is replayed by Asterisk, so every login
   starts from a snapshot;
3. while connected: a ``Ping`` every ``ping_interval_s`` that must be answered within
   ``ping_timeout_s`` (the only way to see a half-open socket), and a ``QueueStatus``
   every ``resync_interval_s`` (it repairs whatever frame was lost);
4. on any failure (the socket closed, even in the middle of a frame; a Ping unanswered;
   ``Shutdown``; a refused login) close, wait ``reconnect_min_s`` doubling up to
   ``reconnect_max_s``, with jitter (a random 50..100 % of it), and start again.

Every frame goes to the session; every greeting, action and frame to the recorder, when
there is one (``--record``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ccms.feeds.asterisk.config import AmiConfig
from ccms.feeds.asterisk.protocol import (
    Frame,
    FrameReader,
    ProtocolError,
    action_fields,
    format_action,
    stream_limit,
)
from ccms.feeds.asterisk.session import Session
from ccms.feeds.asterisk.transcript import Recorder

log = logging.getLogger(__name__)


class ConnectionLost(Exception):
    """Why a connection ended (the text is the one the health check shows)."""


@dataclass
class ConnectionStats:
    attempts: int = 0
    reconnects: int = 0
    ping_timeouts: int = 0
    partial_frames: int = 0
    login_failures: int = 0
    resyncs: int = 0
    last_error: str = ""
    state: str = "starting"


def tls_context(config: AmiConfig) -> ssl.SSLContext | None:
    if not config.tls:
        return None
    context = ssl.create_default_context(cafile=config.ca_bundle or None)
    if not config.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class AmiConnection:
    """Keeps one AMI session alive and feeds a :class:`Session`."""

    def __init__(
        self,
        config: AmiConfig,
        session: Session,
        *,
        recorder: Recorder | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.session = session
        self.recorder = recorder
        self.stats = ConnectionStats()
        self._sleep = sleep
        self._jitter = jitter
        self._ids = itertools.count(1)
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[str, tuple[asyncio.Future[Frame], bool]] = {}

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    async def run(self) -> None:
        """Connect, and reconnect after every failure, until cancelled."""
        failures = 0
        while True:
            self.stats.attempts += 1
            booted = False
            try:
                booted = await self._session()
            except (OSError, asyncio.IncompleteReadError, ConnectionLost, ProtocolError,
                    TimeoutError, ssl.SSLError) as exc:  # fmt: skip
                self._lost(exc)
            finally:
                await self._close()
            failures = 0 if booted else failures + 1
            self.stats.reconnects += 1
            delay = min(self.config.reconnect_max_s, self.config.reconnect_min_s * 2**failures)
            delay *= 0.5 + self._jitter() / 2
            self.stats.state = f"reconnecting in {delay:.1f} s ({self.stats.last_error})"
            log.info("AMI %s: %s", self.where, self.stats.state)
            await self._sleep(delay)

    def _lost(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.IncompleteReadError):
            if exc.partial:
                self.stats.partial_frames += 1
                text = "the connection closed in the middle of a frame"
            else:
                text = "the connection closed"
        elif isinstance(exc, TimeoutError):
            text = "timed out"
        elif isinstance(exc, ConnectionLost | ProtocolError):
            text = str(exc)
        else:
            text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        self.stats.last_error = text
        log.warning("AMI %s: %s", self.where, text)

    async def _close(self) -> None:
        for future, _ in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionLost("the connection closed"))
            with contextlib.suppress(BaseException):
                future.exception()
        self._waiting.clear()
        if self.session.stats.connected:
            self.session.closed()
            if self.recorder is not None:
                self.recorder.eof()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _session(self) -> bool:
        """One connection, from connect to its end; True when it got to ``FullyBooted``."""
        config = self.config
        self.stats.state = f"connecting to {self.where}"
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                config.host, config.port, ssl=tls_context(config), limit=stream_limit()
            ),
            config.connect_timeout_s,
        )
        self._writer = writer
        frames = FrameReader(reader)
        banner = await asyncio.wait_for(frames.banner(), config.connect_timeout_s)
        self.session.connected(banner)
        if self.recorder is not None:
            self.recorder.banner(banner)
        reading = asyncio.create_task(self._read(frames))
        booted = False
        try:
            self.stats.state = "logging in"
            login = await self._ask(
                "Login",
                {"Username": config.username, "Secret": config.secret, "Events": config.events},
                config.connect_timeout_s,
                reading,
            )
            if login.response != "Success":
                self.stats.login_failures += 1
                raise ConnectionLost(f"login refused: {login.get('Message') or login.response}")
            self.stats.state = "waiting for FullyBooted"
            while not self.session.stats.booted:
                await self._alive(reading, self.config.ping_interval_s)
            booted = True
            self.stats.state = "fully booted"  # /healthz is healthy from here: say so
            await self._resync(reading)
            await self._keep_alive(reading)
        finally:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
        return booted

    async def _read(self, frames: FrameReader) -> None:
        while True:
            frame = await frames.frame()
            if self.recorder is not None:
                self.recorder.frame(frame)
            self.session.received(frame)
            waiting = self._waiting.get(frame.action_id) if frame.action_id else None
            if waiting is not None:
                future, is_list = waiting
                ends_list = frame.get("EventList") == "Complete"
                failed = frame.response not in ("", "Success")
                if not future.done() and (not is_list or ends_list or failed):
                    future.set_result(frame)
                    del self._waiting[frame.action_id]
            if frame.event == "Shutdown":
                raise ConnectionLost("Asterisk shut down")

    async def _send(self, action: str, action_id: str, fields: dict[str, str]) -> None:
        assert self._writer is not None
        data = format_action(action, action_id, fields)
        frame = Frame(action_fields(data))
        self.session.sent(frame)
        if self.recorder is not None:
            self.recorder.sent(frame.pairs)
        self._writer.write(data)
        await self._writer.drain()

    async def _ask(
        self,
        action: str,
        fields: dict[str, str],
        timeout: float,
        reading: asyncio.Task[None],
        is_list: bool = False,
    ) -> Frame:
        """Send an action; its answer (the list's last frame for a list action)."""
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        action_id = f"ccms-{next(self._ids)}"
        self._waiting[action_id] = (future, is_list)
        await self._send(action, action_id, fields)
        done, _ = await asyncio.wait((future, reading), timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if future in done:
            return future.result()
        if reading in done:
            reading.result()  # the reason the connection ended
            raise ConnectionLost("the connection closed")
        self._waiting.pop(action_id, None)
        raise ConnectionLost(f"no answer to {action} within {timeout:g} s")

    async def _alive(self, reading: asyncio.Task[None], wait: float) -> None:
        """Wait up to ``wait`` seconds while the connection reads; raise if it ended."""
        done, _ = await asyncio.wait((reading,), timeout=wait)
        if reading in done:
            reading.result()
            raise ConnectionLost("the connection closed")

    async def _ping(self, reading: asyncio.Task[None]) -> None:
        try:
            await self._ask("Ping", {}, self.config.ping_timeout_s, reading)
        except ConnectionLost as exc:
            if str(exc).startswith("no answer"):
                self.stats.ping_timeouts += 1
                raise ConnectionLost(
                    f"Ping unanswered for {self.config.ping_timeout_s:g} s (a half-open socket)"
                ) from None
            raise

    async def _resync(self, reading: asyncio.Task[None]) -> None:
        """``QueueStatus``, just after a ``Ping`` (its answer's Timestamp dates the snapshot)."""
        self.stats.resyncs += 1
        await self._ping(reading)
        answer = await self._ask("QueueStatus", {}, max(30.0, self.config.ping_timeout_s),
                                 reading, is_list=True)  # fmt: skip
        if answer.response not in ("", "Success"):
            log.warning("QueueStatus refused: %s", answer.get("Message") or answer.response)

    async def _keep_alive(self, reading: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + self.config.resync_interval_s
        while True:
            await self._alive(reading, self.config.ping_interval_s)
            if not self.session.stats.booted:
                raise ConnectionLost("Asterisk is not fully booted any more")
            await self._ping(reading)
            if loop.time() >= next_resync:
                await self._resync(reading)
                next_resync = loop.time() + self.config.resync_interval_s
