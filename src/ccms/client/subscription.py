"""A subscription to the live stream: the sans-I/O session, and the two drivers.

:class:`StreamSession` holds what survives a reconnection: the cursor (the last ``seq``
handed out: a change, the snapshot's last part, an id-only bookmark), the server's retry
time and the backoff. It builds the request of each attempt (``Last-Event-ID`` from the
cursor, a fresh signature), reads the bytes of the answer into typed items
(:mod:`ccms.client.stream`), and after a drop says how long to wait, or raises when
waiting cannot help. :class:`Stream` (blocking) and :class:`AsyncStream` only move the
bytes and sleep.

Resuming: a change at or before the cursor is never delivered twice; after a ``reset``
the cursor is dropped, so the next connection starts with a fresh snapshot. The wait
before reconnection attempt *n* (0-based, counted since the stream last delivered
anything) is the server's ``Retry-After`` when it answered one, else a random time in
``[0, min(30, retry * 2**n)]`` s, ``retry`` being the server's ``retry:`` (2 s until it
says). A stream reconnects for ever unless ``reconnect_deadline`` (seconds without a
useful connection) says otherwise; an answer a wait cannot cure (400, 401, 403, 404, an
in-band ``error``, a TLS failure, something that is not an event stream) is raised.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from types import TracebackType

import httpx
import orjson

from ccms.client.errors import (
    FAILED,
    INVALID_PARAMETER,
    PERMISSION_DENIED,
    ApiError,
    AuthenticationError,
    CCMSClientError,
    InvalidParameterError,
    PermissionDeniedError,
    TransportError,
    UnexpectedAnswerError,
)
from ccms.client.models import _int, _object
from ccms.client.protocol import Call, RequestBuilder, parse_answer, transport_error
from ccms.client.sse import Bookmark, Comment, Event, Retry, SSEError, SSEItem, SSEParser
from ccms.client.stream import (
    StreamAgent,
    StreamChange,
    StreamFlagChange,
    StreamItem,
    StreamQueues,
    StreamReset,
    StreamSnapshot,
    StreamStatus,
    agents_from_wire,
)

__all__ = ["AsyncStream", "Stream", "StreamRequest", "StreamSession", "stream_error"]

EVENT_STREAM = "text/event-stream"
DEFAULT_IDLE_TIMEOUT = 45.0  # three heartbeats of the server's default 15 s
DEFAULT_RETRY_S = 2.0  # until the server's ``retry:`` says otherwise
BACKOFF_CAP_S = 30.0
MIN_WAIT_S = 0.01
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def stream_error(data: str) -> ApiError:
    """The exception of an in-band ``error`` event (the envelope's code and message)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        raw = None
    if not isinstance(raw, dict):
        return UnexpectedAnswerError(
            f"the stream's error event is not JSON: {data[:200]!r}", result_code=None,
            http_status=200,
        )  # fmt: skip
    code = raw.get("resultCode")
    code = None if code is None else str(code)
    desc = raw.get("resultDesc")
    message = desc if isinstance(desc, str) and desc else "the server ended the stream"
    kind: type[ApiError] = {
        FAILED: AuthenticationError,  # an expired token, a key removed from the credentials
        PERMISSION_DENIED: PermissionDeniedError,
        INVALID_PARAMETER: InvalidParameterError,
    }.get(code or "", ApiError)
    return kind(message, result_code=code, http_status=200)


@dataclass(frozen=True)
class StreamRequest:
    """What a stream asks for: the route, its query (``ccId``, ``vdn``, filters, a view
    token), whether it is signed, and the ``since`` of the first attempt."""

    name: str
    path: str
    query: tuple[tuple[str, str], ...]
    signed: bool
    since: int | None


class StreamSession:
    """The state of one subscription across its connections (see the module doc).

    A driver does, for each attempt::

        try:
            answer = send(session.request())      # the headers
            if not session.is_stream(status, headers):
                session.refused(status, headers, body)  # raises what the answer means
            yield session.opened()                # StreamStatus("live")
            for chunk in answer: yield from session.feed(chunk)
            error = session.ended()               # the server closed the stream
        except (CCMSClientError, httpx.RequestError) as exc:
            error = exc
        status = session.dropped(error)           # raises when waiting cannot help
        yield status
        sleep(status.retry_in)
    """

    def __init__(
        self,
        request: StreamRequest,
        builder: RequestBuilder,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        reconnect_deadline: float | None = None,
        clock: Callable[[], float],
        jitter: Callable[[], float],
    ) -> None:
        self._request = request
        self._builder = builder
        self.idle_timeout = idle_timeout
        self._deadline = reconnect_deadline
        self._clock = clock
        self._jitter = jitter
        self.cursor: int | None = request.since
        self.retry_s = DEFAULT_RETRY_S
        self.attempt = 0  # failed attempts since the stream was last useful
        self._first = True
        self._open = False  # the attempt under way got its headers
        self._lost_at: float | None = None  # when the stream was last useful, after a drop
        self._parser = SSEParser()
        self._parts: list[StreamAgent] = []
        self._part = 0
        self._snapshot_seq: int | None = None

    # -- one attempt --------------------------------------------------------------------

    def request(self) -> httpx.Request:
        """The request of the next attempt: the query of the first, then ``Last-Event-ID``
        from the cursor (a fresh signature each time)."""
        query = list(self._request.query)
        headers = {"cache-control": "no-store"}
        if self._first and self._request.since is not None:
            query.append(("since", str(self._request.since)))
        elif not self._first and self.cursor is not None:
            headers["last-event-id"] = str(self.cursor)
        self._first = False
        self._open = False
        self._parser = SSEParser()
        self._parts, self._part, self._snapshot_seq = [], 0, None
        return self._builder.request(
            "GET", self._request.path, query, signed=self._request.signed, accept=EVENT_STREAM,
            headers=headers, read_timeout=self.idle_timeout,
        )  # fmt: skip

    def is_stream(self, status: int, headers: Mapping[str, str]) -> bool:
        """Whether an answer is the event stream (else its body says why not)."""
        kind = headers.get("content-type", "")
        return status == 200 and kind.lower().startswith(EVENT_STREAM)

    def refused(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        """An answer that is not the stream: raise the error it means (a failure envelope,
        or :class:`UnexpectedAnswerError`); :meth:`dropped` decides on a retry."""
        call: Call[object] = Call(self._request.name, self._request.path, b"", lambda d: d)
        parse_answer(call, status, headers, content)
        kind = headers.get("content-type") or "an answer without a content type"
        raise UnexpectedAnswerError(  # a success envelope, or a page of a proxy
            f"the server answered {kind}, not an event stream", result_code=None,
            http_status=status,
        )  # fmt: skip

    def opened(self) -> StreamStatus:
        """The stream's headers arrived: it is live."""
        self._open = True
        return StreamStatus("live")

    def feed(self, chunk: bytes) -> Iterator[StreamItem]:
        """The items of the next bytes; raises the in-band ``error`` as an ApiError.

        Lazy: the cursor moves as each item is handed out, so a reader that stops after
        one item of a chunk holding several resumes from that item, not past the others."""
        try:
            parsed = self._parser.feed(chunk)
        except SSEError as exc:
            raise UnexpectedAnswerError(str(exc), result_code=None, http_status=200) from None
        return self._items(parsed)

    def _items(self, parsed: list[SSEItem]) -> Iterator[StreamItem]:
        for sse in parsed:
            if isinstance(sse, Event):
                item = self._event(sse)
                if item is not None:
                    self._useful()
                    yield item
            elif isinstance(sse, Bookmark):
                seq = _seq(sse.id)
                if seq is not None and (self.cursor is None or seq > self.cursor):
                    self.cursor = seq
                self._useful()
            elif isinstance(sse, Retry):
                self.retry_s = max(MIN_WAIT_S, sse.ms / 1000)
            elif isinstance(sse, Comment):
                self._useful()

    def ended(self) -> TransportError:
        """The server closed the stream (after ``slow-consumer``, on shutdown...): the
        error to hand to :meth:`dropped`."""
        self._parser.close()
        return TransportError(
            "the server closed the stream", url=self._builder.base_url, retryable=True
        )

    # -- after an attempt ---------------------------------------------------------------

    def dropped(self, error: CCMSClientError | httpx.RequestError) -> StreamStatus:
        """The attempt ended with ``error``: the ``reconnecting`` status with the wait
        before the next attempt, or raise ``error`` when waiting cannot cure it (an
        answer other than 429/5xx, a TLS failure, an in-band error, the deadline)."""
        if isinstance(error, httpx.RequestError):
            error = self._transport_error(error)
        if not _retryable(error):
            raise error
        now = self._clock()
        if self._lost_at is None:
            self._lost_at = now
        retry_after = error.retry_after if isinstance(error, ApiError) else None
        if retry_after is not None:
            wait = retry_after
        else:
            wait = self._jitter() * min(BACKOFF_CAP_S, self.retry_s * 2.0**self.attempt)
        wait = max(MIN_WAIT_S, wait)
        if self._deadline is not None and now - self._lost_at + wait > self._deadline:
            raise error  # no wait is taken that would end past the deadline
        self.attempt += 1
        return StreamStatus("reconnecting", error, wait, self.attempt)

    def _transport_error(self, exc: httpx.RequestError) -> TransportError:
        """A failure to connect says why (``connection refused``); a stream that broke off
        once open says so, with the transport's words."""
        error = transport_error(exc, self.idle_timeout)
        if self._open and not isinstance(exc, httpx.TimeoutException):
            detail = str(exc) or type(exc).__name__
            return TransportError(
                f"the stream broke off ({detail})", url=error.url, retryable=error.retryable
            )
        error.__cause__ = exc  # what a progress line names: ``connection refused``
        return error

    def _useful(self) -> None:
        self.attempt = 0
        self._lost_at = None

    # -- events ------------------------------------------------------------------------

    def _event(self, sse: Event) -> StreamItem | None:
        if sse.type == "error":
            raise stream_error(sse.data)
        if sse.type not in ("snapshot", "change", "flag", "queue", "reset"):
            return None  # an event a newer server added: not for this client
        try:
            data = orjson.loads(sse.data)
            if sse.type == "change":
                return self._change(data, sse.id)
            if sse.type == "flag":
                return self._flag(data, sse.id)
            if sse.type == "snapshot":
                return self._snapshot_part(data)
            if sse.type == "queue":
                return StreamQueues.from_wire(data)
            return self._reset(data)
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise UnexpectedAnswerError(
                f"unexpected stream {sse.type} event: {exc}", result_code=None, http_status=200
            ) from None

    def _change(self, data: object, sse_id: str) -> StreamChange | None:
        change = StreamChange.from_wire(data)
        if _seq(sse_id) not in (None, change.seq):
            raise ValueError(f"its id {sse_id} is not its seq {change.seq}")
        if self.cursor is not None and change.seq <= self.cursor:
            return None  # already delivered (a resume that overlapped): never twice
        self.cursor = change.seq
        return change

    def _flag(self, data: object, sse_id: str) -> StreamFlagChange | None:
        flag = StreamFlagChange.from_wire(data)
        if _seq(sse_id) not in (None, flag.seq):
            raise ValueError(f"its id {sse_id} is not its seq {flag.seq}")
        if self.cursor is not None and flag.seq <= self.cursor:
            return None  # already delivered: never twice
        self.cursor = flag.seq
        return flag

    def _snapshot_part(self, data: object) -> StreamSnapshot | None:
        raw = _object(data, "snapshot")
        part, parts, seq = _int(raw, "part"), _int(raw, "parts"), _int(raw, "seq")
        if part == 1:
            self._parts, self._part, self._snapshot_seq = [], 0, seq
        if part != self._part + 1 or seq != self._snapshot_seq or not 1 <= part <= parts:
            raise ValueError(f"part {part} of {parts} at seq {seq} out of order")
        self._parts.extend(agents_from_wire(raw.get("agents")))
        self._part = part
        if part < parts:
            return None
        window = raw.get("replayWindowS")
        snapshot = StreamSnapshot(
            seq=seq,
            server_time=_int(raw, "serverTime"),
            replay_window_s=None if window is None else _int(raw, "replayWindowS"),
            agents=tuple(self._parts),
        )
        self._parts, self._part, self._snapshot_seq = [], 0, None
        self.cursor = seq
        return snapshot

    def _reset(self, data: object) -> StreamReset:
        raw = _object(data, "reset")
        reason = raw.get("reason")
        if not isinstance(reason, str):
            raise ValueError(f"reason must be a string, got {reason!r}")
        self.cursor = None  # too old, or given up: the next connection starts afresh
        return StreamReset(reason, _int(raw, "seq"))


def _seq(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _retryable(error: CCMSClientError) -> bool:
    if isinstance(error, TransportError):
        return error.retryable
    if isinstance(error, UnexpectedAnswerError):
        return False
    return isinstance(error, ApiError) and error.http_status in RETRY_STATUSES


class Stream:
    """The items of a subscription, blocking: an iterator and a context manager.

        with cms.stream(1, 1) as items:
            for item in items: ...

    ``cursor`` is the last ``seq`` received (keep it to resume in another process with
    ``since=``). :meth:`close` ends the connection; a stream not closed is closed with
    its client.
    """

    def __init__(
        self, http: httpx.Client, session: StreamSession, sleep: Callable[[float], None]
    ) -> None:
        self._http = http
        self.session = session
        self._sleep = sleep
        self._items = self._run()

    @property
    def cursor(self) -> int | None:
        return self.session.cursor

    def __iter__(self) -> Iterator[StreamItem]:
        return self

    def __next__(self) -> StreamItem:
        return next(self._items)

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._items.close()

    def _run(self) -> Generator[StreamItem]:
        session = self.session
        while True:
            error: CCMSClientError | httpx.RequestError
            try:
                response = self._http.send(session.request(), stream=True)
                try:
                    if not session.is_stream(response.status_code, response.headers):
                        response.read()
                        session.refused(response.status_code, response.headers, response.content)
                    yield session.opened()
                    for chunk in response.iter_bytes():
                        yield from session.feed(chunk)
                    error = session.ended()
                finally:
                    response.close()
            except (CCMSClientError, httpx.RequestError) as exc:
                error = exc
            status = session.dropped(error)
            yield status
            self._sleep(status.retry_in)


class AsyncStream:
    """The items of a subscription, for asyncio or trio: an async iterator and an async
    context manager (``async with cms.stream(1, 1) as items: async for item in items``)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        session: StreamSession,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._http = http
        self.session = session
        self._sleep = sleep
        self._items = self._run()

    @property
    def cursor(self) -> int | None:
        return self.session.cursor

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self

    async def __anext__(self) -> StreamItem:
        return await self._items.__anext__()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._items.aclose()

    async def _run(self) -> AsyncGenerator[StreamItem]:
        session = self.session
        while True:
            error: CCMSClientError | httpx.RequestError
            try:
                response = await self._http.send(session.request(), stream=True)
                try:
                    if not session.is_stream(response.status_code, response.headers):
                        await response.aread()
                        session.refused(response.status_code, response.headers, response.content)
                    yield session.opened()
                    async for chunk in response.aiter_bytes():
                        for item in session.feed(chunk):
                            yield item
                    error = session.ended()
                finally:
                    await response.aclose()
            except (CCMSClientError, httpx.RequestError) as exc:
                error = exc
            status = session.dropped(error)
            yield status
            await self._sleep(status.retry_in)
