"""The HTTP/1.1 connection: uvicorn's httptools protocol with the limits it lacks.

uvicorn bounds nothing before the application runs: the request line and headers may grow
without end (httptools concatenates a long header chunk by chunk, which costs CPU while
every other client waits), a connection that never completes its headers is never closed,
a body may trickle for ever, and under uvloop a process out of file descriptors accepts
and drops connections without a word. :class:`LimitedProtocol` adds, per connection:

- a size limit on the request line and headers (``max_header_bytes``): HTTP 431;
- a deadline for the headers (``header_timeout``), from the connection's first moment and
  from a later request's first byte: HTTP 408 when part of a request came, else a close;
- a deadline for the body (``body_timeout``), from the end of the headers: HTTP 408 when
  nothing was answered yet, else a close;
- a cap on the connections of the process (``max_connections``), at accept time, so that
  idle or slow connections cannot take every file descriptor: HTTP 503 past it;
- bytes that are not HTTP/1.1 (a malformed request line or header, an absurd
  ``Content-Length``): HTTP 400, in the envelope like every other refusal.

Idle keep-alive connections are closed by uvicorn's own ``timeout_keep_alive``. Each
refusal is an answer in the CC-CMS envelope with ``Connection: close``; the connection is
then half-closed and what the client still sends is read and dropped for at most
:data:`LINGER_S` seconds, so that the client reads the answer instead of a reset. The
refusals are logged, one line per kind at most every :data:`LOG_INTERVAL_S` seconds with
the count since the last line (``RefusalLog``).

An answer of known length leaves in one write, its head joined to its body
(:class:`OneWrite`): one ``send()`` per answer instead of uvicorn's two.

The limits reach the protocol through :class:`LimitedConfig`, a ``uvicorn.Config`` that
carries them; it is pickled into the worker processes of ``--workers`` like any config.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from ccms.errors import (
    CCMSError,
    HeadersTooLargeError,
    MalformedRequestError,
    RequestTimeoutError,
    TooManyConnectionsError,
)
from ccms.http.envelope import JSON_TYPE, failure

log = logging.getLogger(__name__)

# uvicorn's parser callbacks, which the overrides call without super(): they run for
# every request (``benchmarks/RESULTS.md``, the query's HTTP layer)
_on_message_begin = HttpToolsProtocol.on_message_begin
_on_headers_complete = HttpToolsProtocol.on_headers_complete
_on_message_complete = HttpToolsProtocol.on_message_complete


class OneWrite:
    """The connection's transport as one response cycle sees it: an answer of known length
    has its status line and headers held until its body's first write and sent with it in
    one write (one ``send()``, and for a small answer one TCP segment, instead of two: the
    query's HTTP layer, ``benchmarks/RESULTS.md``). Any other write passes through: the
    ``100 Continue`` before the answer, the head of a chunked answer (a stream shows its
    headers at once), of a ``HEAD`` answer (no body follows), the writes after the first.
    Closing sends a head still held first.

    It lets go of its cycle once the answer's head is written: the cycle holds it as its
    transport, and the two would otherwise be a reference cycle, each request's cycle,
    scope and headers left to the garbage collector instead of freed when answered. It
    has no ``__getattr__`` for what else a transport has: a class with one loses CPython's
    fast attribute lookups, and uvicorn's cycle asks its transport for these three only."""

    __slots__ = ("_cycle", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle: RequestResponseCycle | None = cycle  # None: the answer's head written
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            if len(data) <= _JOINED_BODY:
                self._transport.write(head + data)
                return
            self._transport.write(head)
        else:
            cycle = self._cycle
            if cycle is not None and cycle.response_started:  # the head of the answer
                self._cycle = None
                if cycle.chunked_encoding is False and cycle.scope["method"] != "HEAD":
                    self._head = data
                    return
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head)
        self._cycle = None
        self._transport.close()


_JOINED_BODY = 65_536  # a larger body is written after its head, not copied behind it


def _header_bytes(protocol: HttpToolsProtocol) -> int:
    """The size of a parsed request's target and headers, as the limit counts it: the
    target, then each header's name and value with its ``: `` and CRLF."""
    headers = protocol.headers
    return len(protocol.url) + sum(len(name) + len(value) + 4 for name, value in headers)


LINGER_S = 1.0
LOG_INTERVAL_S = 60.0


@dataclass(frozen=True)
class HttpLimits:
    """The limits of one server process (``docs/security.md``, "HTTP limits")."""

    max_header_bytes: int = 16_384
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1024
    # what ``max_connections`` was lowered from by the file-descriptor limit, for the log
    fd_limit: int | None = None


class RefusalLog:
    """Log refusals without flooding: the first of a kind at once, then at most one line
    per kind every ``interval`` seconds, counting the refusals since the last line."""

    def __init__(
        self, interval: float = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}

    def note(self, kind: str, message: str) -> bool:
        """Count one refusal of ``kind``; True when it was logged."""
        now = self.clock()
        count = self._unlogged.get(kind, 0) + 1
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._unlogged[kind] = count
            return False
        self._last[kind] = now
        self._unlogged[kind] = 0
        since = "" if last is None else f" ({count} since the last report)"
        log.warning("%s%s", message, since)
        return True

    def __getstate__(self) -> dict[str, Any]:  # a worker process starts with no history
        return {"interval": self.interval, "clock": self.clock, "_last": {}, "_unlogged": {}}


class LimitedConfig(uvicorn.Config):
    """A uvicorn configuration that serves with :class:`LimitedProtocol` and ``limits``."""

    def __init__(self, app: Any, *, limits: HttpLimits, **options: Any) -> None:
        super().__init__(app, http=LimitedProtocol, **options)
        self.http_limits = limits
        self.refusals = RefusalLog()


# The phase of the connection's current request: plain ints, read in every parser
# callback (an Enum member costs several times a global to look up on CPython 3.11).
_IDLE = 0  # between requests (or before the first byte of the first)
_HEADERS = 1  # a request began, its headers are not complete
_BODY = 2  # headers complete, the body not yet


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a header-size limit, header and body deadlines,
    and a connection cap."""

    # Slots, not the instance's dict: uvicorn's protocol sets 28 attributes, and an
    # instance dict of more than 30 keys loses CPython's shared-key layout, which makes
    # every attribute access of every request slower.
    __slots__ = (
        "_chunk", "_completed", "_deadline", "_deadline_phase", "_max_header_bytes",
        "_phase", "_received", "_refused", "_uncounted", "limits", "refusals",
    )  # fmt: skip

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        if isinstance(config, LimitedConfig):
            self.limits = config.http_limits
            self.refusals = config.refusals
        else:  # uvicorn run by hand with http=LimitedProtocol: the defaults
            self.limits = HttpLimits()
            self.refusals = RefusalLog()
        self._max_header_bytes = self.limits.max_header_bytes
        self._phase = _IDLE
        self._received = 0  # bytes of the headers counted chunk by chunk
        self._chunk = 0  # the size of the chunk being parsed
        self._uncounted = 0  # bytes that may be of the headers, in a chunk not counted
        self._completed = False  # a request ended during the current chunk
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_phase = _IDLE
        self._refused = False

    # -- the connection ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        limits = self.limits
        over = len(self.connections) >= limits.max_connections
        super().connection_made(transport)
        if over:
            cause = (
                f" (lowered from max_connections by the file-descriptor limit {limits.fd_limit})"
                if limits.fd_limit is not None
                else " (max_connections)"
            )
            self.refusals.note(
                "connections",
                f"connection refused with HTTP 503: {limits.max_connections} connections"
                f" open, the most this process takes{cause}",
            )
            # with this many connections, linger only while file descriptors are left
            linger = len(self.connections) < limits.max_connections + 32
            self._refuse(TooManyConnectionsError("too many connections, try again later"), linger)
            return
        self._arm(_HEADERS, limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # answered and half-closed: drop what still comes
            return
        self._unset_keepalive_if_required()
        self._completed = False
        self._chunk = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self._disarm()
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            if isinstance(refusal, CCMSError):
                self._refuse(refusal)
                return
            self.refusals.note("invalid", "invalid HTTP request answered with HTTP 400")
            self._refuse(MalformedRequestError("the request is not valid HTTP/1.1"))
            return
        phase = self._phase
        if phase == _HEADERS:
            if not self._completed:  # the whole chunk belongs to the headers of this request
                self._received += len(data)
                if self._received > self._max_header_bytes:
                    self._refuse(self._too_large())
                    return
            if self._deadline is None:
                self._arm(_HEADERS, self.limits.header_timeout)
        elif phase == _BODY and self._deadline_phase != _BODY:
            self._arm(_BODY, self.limits.body_timeout)

    # -- parser callbacks (uvicorn's, with the phase and the size check) ---------------

    def on_message_begin(self) -> None:
        _on_message_begin(self)
        self._phase = _HEADERS
        self._received = 0
        # a request that begins in the chunk that ended the one before (pipelining): the
        # chunk is not counted, but may hold the start of these headers
        self._uncounted = self._chunk if self._completed else 0

    def on_headers_complete(self) -> None:
        # The headers came in the chunks counted so far and the one being parsed: when
        # those bytes are within the limit, so are the headers; else count them.
        limit = self._max_header_bytes
        seen = self._received + self._uncounted + self._chunk
        if seen > limit and _header_bytes(self) > limit:
            raise self._too_large()  # feed_data raises it as the context of its error
        self._phase = _BODY
        if self._deadline_phase == _HEADERS:
            self._disarm()
        before = self.cycle
        _on_headers_complete(self)
        cycle = self.cycle
        if cycle is not before and cycle is not None:
            cycle.transport = OneWrite(self.transport, cycle)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._phase = _IDLE
        self._completed = True
        if self._deadline_phase == _BODY:
            self._disarm()
        _on_message_complete(self)

    def _unsupported_upgrade_warning(self) -> None:
        """An ``Upgrade`` this server does not speak is served as a plain request; a
        client sending many must not fill the log."""
        self.refusals.note("upgrade", "unsupported Upgrade request served as plain HTTP")

    # -- deadlines ---------------------------------------------------------------------

    def _arm(self, phase: int, seconds: float) -> None:
        self._disarm()
        self._deadline_phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._deadline_phase = _IDLE

    def _expired(self, phase: int) -> None:
        self._deadline = None
        self._deadline_phase = _IDLE
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if phase == _HEADERS:
            if cycle is not None and not cycle.response_complete:
                # a pipelined request is still being answered: close after that answer
                cycle.keep_alive = False
                self.flow.pause_reading()
            elif self._phase == _HEADERS:
                seconds = self.limits.header_timeout
                self.refusals.note("header_timeout", f"request headers not complete in {seconds} s")
                self._refuse(RequestTimeoutError(f"request headers not complete in {seconds} s"))
            else:  # not a byte of a request: nothing to answer
                self.transport.close()
            return
        seconds = self.limits.body_timeout
        self.refusals.note("body_timeout", f"request body not complete in {seconds} s")
        if cycle is not None and not cycle.response_started:
            cycle.disconnected = True  # the application's receive() answers a disconnect
            cycle.message_event.set()
            self._refuse(RequestTimeoutError(f"request body not complete in {seconds} s"))
        else:  # the answer is (being) sent: nothing more to say
            self.transport.close()

    # -- refusals ----------------------------------------------------------------------

    def _too_large(self) -> HeadersTooLargeError:
        limit = self._max_header_bytes
        self.refusals.note("headers", f"request headers larger than {limit} bytes refused")
        return HeadersTooLargeError(f"request line and headers are larger than {limit} bytes")

    def _refuse(self, error: CCMSError, linger: bool = True) -> None:
        """Answer ``error`` and close: half-close first and drop what the client still
        sends for at most ``LINGER_S``, so that the answer is read rather than reset."""
        self._disarm()
        self._refused = True
        body = failure(error)
        head = [STATUS_LINE[error.http_status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        for key, text in error.headers.items():
            head += [key.lower().encode("latin-1"), b": ", text.encode("latin-1"), b"\r\n"]
        head += [
            b"content-type: ", JSON_TYPE, b"\r\n",
            b"content-length: ", str(len(body)).encode(), b"\r\n",
            b"connection: close\r\n\r\n",
        ]  # fmt: skip
        transport = self.transport
        transport.write(b"".join(head) + body)
        if linger and transport.can_write_eof():
            self.flow.resume_reading()
            transport.write_eof()
            self._deadline = self.loop.call_later(LINGER_S, transport.close)
        else:
            transport.close()
