"""The ASGI application: the request pipeline and the one error handler.

ccms speaks raw ASGI rather than through a web framework: the query route is the hot path
and a framework's per-request machinery costs several times the whole lookup. The routes
are data (``ccms.http.routing``, tables in ``ccms.http.routes``); every request goes
through the same pipeline, each step only where its route asks for it, in this order:

    Host (400) -> path (404) -> method (405) -> Content-Type (415)
    -> the Authorization header's form, key id, timestamp and signed headers (401, no byte
    of the body read yet) -> size (413) -> for a large body, its client address's budget
    of failed signatures (429, still unread) -> C2 signature over the body (401)
    -> the route's role (0101003) -> rate limit (429) -> JSON (400)
    -> handler (its own result codes)

A view-token route (``Auth.VIEW_TOKEN``: the stream, the long-poll) takes, instead of the
signature, ``?token=`` when the request has no Authorization header: the token is looked
up in the store by its hash (401 when unknown or expired) and stands for its access key,
as the credentials hold it now (401 when the key was removed).

The app follows its credentials file when it is given one (``credentials``): a changed
file is read again with the checks of the start; a file ccms refuses keeps the keys in
use (one line in the log). The streams of a key that was removed, lost the role or the
scope, or whose secret changed end with an in-band ``error``.

A key without the route's role learns nothing about the body: it is refused before the
body is parsed or validated.

A signature that does not match over a body larger than ``LARGE_BODY`` (64 KiB) is
charged to the client's address (``ccms.auth.FailureBudget``, ``large_body_failures`` a
minute); once its budget is spent, that address's large bodies on signed routes get 429
before they are read, until the budget refills. Small bodies are never refused by it.

Every answer, success or failure, is the CC-CMS envelope (``ccms.http.envelope``), but for
``/metrics`` and streams; an error renders through its route's envelope family with the
headers it carries (``CCMSError.headers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

from ccms.auth import LARGE_BODY, AccessKey, FailureBudget, RateLimiter, Verifier, peer_of
from ccms.ccconfig import CcConfig
from ccms.credentials import CredentialsError, CredentialsFile
from ccms.errors import (
    AuthenticationError,
    CCMSError,
    InternalError,
    MalformedRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    UnsupportedMediaTypeError,
)
from ccms.flagtimer import FlagTimer
from ccms.http.envelope import JSON_TYPE, failure
from ccms.http.hub import Hub, Subscriber
from ccms.http.metrics import Metrics
from ccms.http.routes import route_table
from ccms.http.routing import (
    Answer,
    Context,
    Request,
    Route,
    RouteTable,
    view_token_hash,
)
from ccms.http.schemas.fields import parse_body
from ccms.services import Services
from ccms.settings import Settings
from ccms.store.base import Store
from ccms.thresholds import FlagConfig

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class ClientDisconnectedError(Exception):
    """The client went away before its body arrived; nothing to answer."""


class App:
    """The ccms ASGI application. Build it with :func:`create_app`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        keys: Mapping[str, AccessKey],
        clock: Callable[[], float],
        metrics: Metrics,
        routes: Iterable[Route],
        credentials: CredentialsFile | None = None,
        flag_config: FlagConfig | None = None,
        cc_config: CcConfig | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.keys: dict[str, AccessKey] = {}
        self.verifier = Verifier({}, settings.clock_skew)
        self._use_keys(keys)
        self.services = Services(store, clock, settings.service_quality_interval_s)
        self.cc_config = cc_config or CcConfig()
        self.limiter = RateLimiter(
            settings.rate_limit, settings.rate_burst, window_s=2 * settings.clock_skew
        )
        self.failures = FailureBudget(settings.large_body_failures)
        self.flag_config = flag_config or FlagConfig()
        flags = self.flag_config.flags_of
        self.hub = Hub(
            store,
            metrics,
            self.services.now_ms,
            queue=settings.stream_queue,
            max_per_key=settings.stream_max_per_key,
            flags=flags,
        )
        # Flag timers run only where thresholds are configured (a flags file).
        self.flag_timer: FlagTimer | None = None
        if self.flag_config.configured:
            self.flag_timer = FlagTimer(store, self.flag_config, self.services.now_ms)
            metrics.follow_flags(self.flag_timer.schedule)
        self.context = Context(
            settings, self.services, store, metrics, self.hub, flags, self.cc_config
        )
        self.table = RouteTable(routes)
        self._paths = self.table.paths
        self._credentials = credentials
        self._watching: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None
        self._started = False

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route of the app, in table order."""
        return self.table.routes

    # -- lifecycle ---------------------------------------------------------------------

    async def startup(self) -> None:
        if not self._started:
            await self.store.open()
            self.hub.reopen()
            if self.flag_timer is not None:
                self.flag_timer.start()
            self._started = True
            if self._credentials is not None and self.settings.credentials_reload_s > 0:
                self._watching = asyncio.create_task(
                    self._watch_credentials(self._credentials), name="ccms-credentials"
                )

    async def shutdown(self) -> None:
        if self._started:
            await self.close_streams()
            if self.flag_timer is not None:
                await self.flag_timer.stop()
            if self._watching is not None:
                self._watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watching
                self._watching = None
            await self.store.close()
            self._started = False

    async def close_streams(self) -> None:
        """End every open stream and waiting long-poll (the server is stopping)."""
        await self.hub.stop()

    def reload_flags(self) -> bool:
        """Read the flags file again (SIGHUP); a file refused keeps the thresholds in use."""
        return self.flag_config.reload()

    def reload_files(self) -> bool:
        """SIGHUP: read the flags file and the configuration file again; each refused
        keeps what is in use. True when both are now in use."""
        flags = self.reload_flags()
        config = self.cc_config.reload()
        return flags and config

    def close_streams_soon(self) -> None:
        """:meth:`close_streams` from outside the event loop's tasks (a signal handler)."""
        self._closing = asyncio.ensure_future(self.close_streams())

    # -- access keys -------------------------------------------------------------------

    def _use_keys(self, keys: Mapping[str, AccessKey]) -> None:
        settings = self.settings
        self.keys = dict(keys)
        self.verifier = Verifier(self.keys, settings.clock_skew, settings.allowed_hosts)

    def replace_keys(self, keys: Mapping[str, AccessKey]) -> int:
        """Use ``keys`` from now on; end the streams they no longer allow. Returns how many
        streams ended."""
        self._use_keys(keys)
        return self.hub.revoke(self._refusal)

    def _refusal(self, sub: Subscriber) -> CCMSError | None:
        """Why the current keys no longer allow ``sub``'s stream, or None."""
        key = self.keys.get(sub.key.ak)
        if key is None:
            return AuthenticationError("the access key was removed from the credentials")
        if sub.token is None and key.sk != sub.key.sk:
            return AuthenticationError("the access key's secret changed")
        if not key.has_role("query"):
            return PermissionDeniedError("access key lacks the role 'query'")
        if not key.allows(sub.cc_id, sub.vdn):
            return PermissionDeniedError(
                f"access key is not allowed for ccId {sub.cc_id} and vdn {sub.vdn}"
            )
        return None

    async def _watch_credentials(self, credentials: CredentialsFile) -> None:
        while True:
            await asyncio.sleep(self.settings.credentials_reload_s)
            if not credentials.changed():
                continue
            try:
                keys = credentials.load()
            except CredentialsError as exc:
                log.error("credentials file not reloaded, the keys in use stay: %s", exc)
                continue
            removed = sorted(set(self.keys) - set(keys))
            ended = self.replace_keys(keys)
            log.warning(
                "credentials reloaded: %d keys, %d removed%s, %d streams ended",
                len(keys), len(removed), f" ({', '.join(removed)})" if removed else "", ended,
            )  # fmt: skip

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("ccms failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- requests ----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":  # no WebSocket route: refuse the handshake cleanly
            await receive()
            await send({"type": "websocket.close", "code": 1008})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        entry = self._paths.get(path)
        if entry is None and self.table.prefixes:
            entry = self.table.lookup(path)
        name = "other" if entry is None else entry.name
        render: Callable[[CCMSError], bytes] = failure
        try:
            raw_headers = scope["headers"]
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}
            if len(headers) != len(raw_headers) or "host" not in headers:
                _check_host(raw_headers, scope.get("http_version", "1.1"))
            if entry is None:
                raise NotFoundError(f"no route for {path}")
            route = entry.methods.get(method)
            if route is None:
                raise MethodNotAllowedError(
                    f"{path} supports only {entry.allow}", allow=entry.allow
                )
            render = route.render
            answer = await self._serve(route, scope, receive, headers)
        except ClientDisconnectedError:
            return
        except CCMSError as error:
            answer = Answer(render(error), error.http_status, JSON_TYPE, error.headers,
                            error.result_code)  # fmt: skip
            if error.store_failure:
                self.metrics.store_errors.inc()
        except Exception:
            log.exception("unexpected error on %s", path)
            internal = InternalError("unknown error")
            answer = Answer(render(internal), 500, JSON_TYPE, None, internal.result_code)
        body = answer.body
        if isinstance(body, bytes):
            response = [(b"content-type", answer.content_type),
                        (b"content-length", str(len(body)).encode())]  # fmt: skip
            if answer.headers:
                response.extend(_encoded(answer.headers))
            await send({"type": "http.response.start", "status": answer.status,
                        "headers": response})  # fmt: skip
            await send({"type": "http.response.body", "body": body if method != "HEAD" else b""})
        else:
            await _stream(answer, body, method == "HEAD", receive, send)
        self.metrics.observe(name, answer.code, answer.status, time.perf_counter() - started)

    async def _serve(
        self, route: Route, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> Answer:
        """The pipeline after the route is found: Content-Type, the signature's cheap checks
        (before any byte of the body is read), size, signature, role, rate limit, JSON."""
        reads_body = route.reads_body
        if reads_body:
            content_type = headers.get("content-type", "")
            if content_type.partition(";")[0].strip().lower() != "application/json":
                raise UnsupportedMediaTypeError("Content-Type must be application/json")
        query_string: str = scope["query_string"].decode("latin-1")
        pending = None
        now = 0.0
        if route.token and "authorization" not in headers:
            return await self._serve_token(route, scope, headers, query_string)
        if route.signed:
            now = self.clock()
            pending = self.verifier.precheck(
                headers.get("authorization"),
                scope["method"],
                scope["path"],
                query_string,
                headers,
                now,
            )
        raw = b""
        if reads_body:
            declared = headers.get("content-length")
            if declared is not None and declared.isascii() and declared.isdigit():
                size = int(declared)
                if size > route.max_body:
                    raise PayloadTooLargeError(
                        f"request body is larger than {route.max_body} bytes"
                    )
            else:  # chunked, or no body at all (HTTP/1.1 has no other way to send one)
                size = -1 if "transfer-encoding" in headers else 0
            if pending is not None and (size < 0 or size > LARGE_BODY) and self.failures.enabled:
                self._check_failures(scope, now)
            raw = await _read_body(receive, route.max_body)
        key: AccessKey | None = None
        if pending is not None:
            try:
                key = pending.verify(raw)
            except AuthenticationError:
                if len(raw) > LARGE_BODY and self.failures.enabled:
                    self.failures.charge(_peer(scope), now)
                raise
            role = route.role
            if role is not None and not key.has_role(role):
                raise PermissionDeniedError(f"access key lacks the role {role!r}")
            limiter = self.limiter
            if limiter.enabled and not limiter.allow(key.ak, now, signature=pending.signature):
                raise RateLimitedError("too many requests for this access key")
        body = parse_body(raw) if route.parses_json or (raw and reads_body) else {}
        request = Request(scope["method"], scope["path"], query_string, headers, key, raw, body)
        return await route.handler(self.context, request)

    def _check_failures(self, scope: Scope, now: float) -> None:
        """429 for a large body from a client address whose budget of failed signatures
        over large bodies is spent (the body is not read)."""
        wait = self.failures.wait(_peer(scope), now)
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimitedError(
                f"too many failed signatures over bodies larger than {LARGE_BODY} bytes from"
                f" this client address: such a body is refused for {seconds} s"
                " (large_body_failures)",
                retry_after_s=seconds,
            )

    async def _serve_token(
        self, route: Route, scope: Scope, headers: dict[str, str], query_string: str
    ) -> Answer:
        """A view-token route without a signature: ``?token=`` stands for its key."""
        request = Request(scope["method"], scope["path"], query_string, headers, None, b"", {})
        token = request.query.get("token")
        if not token:
            raise AuthenticationError("Authorization header or ?token= is missing")
        if len(token) > 256:
            raise AuthenticationError("unknown or expired view token")
        now = self.clock()
        view = await self.store.get_view_token(view_token_hash(token), int(now * 1000))
        key = None if view is None else self.keys.get(view.ak)
        if view is None or key is None:
            raise AuthenticationError("unknown or expired view token")
        role = route.role
        if role is not None and not key.has_role(role):
            raise PermissionDeniedError(f"access key lacks the role {role!r}")
        limiter = self.limiter
        if limiter.enabled and not limiter.allow(key.ak, now):
            raise RateLimitedError("too many requests for this access key")
        request.key = key
        request.token = view
        return await route.handler(self.context, request)


def _peer(scope: Scope) -> str:
    """The client address of a request, as :class:`FailureBudget` counts it."""
    client = scope.get("client")
    return peer_of(str(client[0])) if client else ""


def _check_host(raw_headers: list[tuple[bytes, bytes]], http_version: str) -> None:
    """RFC 9112, 3.2: a request with more than one Host header, or an HTTP/1.1 request
    without one, is answered 400."""
    hosts = sum(1 for name, _ in raw_headers if name.lower() == b"host")
    if hosts > 1:
        raise MalformedRequestError("the request has more than one Host header")
    if hosts == 0 and http_version != "1.0":
        raise MalformedRequestError("the request has no Host header")


def _encoded(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()]  # fmt: skip


async def _read_body(receive: Receive, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientDisconnectedError
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > limit:
            raise PayloadTooLargeError(f"request body is larger than {limit} bytes")
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _stream(
    answer: Answer, chunks: AsyncIterator[bytes], head: bool, receive: Receive, send: Send
) -> None:
    """Send a streamed answer chunk by chunk (no Content-Length) until the iterator ends
    or the client goes away; the iterator is closed either way."""
    response = [(b"content-type", answer.content_type)]
    if answer.headers:
        response.extend(_encoded(answer.headers))
    try:
        await send({"type": "http.response.start", "status": answer.status, "headers": response})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        pump = asyncio.ensure_future(_pump(chunks, send))
        watch = asyncio.ensure_future(_disconnected(receive))
        tasks = [pump, watch]
        if answer.abandon is not None:
            tasks.append(asyncio.ensure_future(answer.abandon.wait()))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if pump.cancelled():  # the client went away first, or stopped reading
            return
        error = pump.exception()
        if error is not None:  # the answer is cut short: the server closes the connection
            log.error("a streamed answer failed", exc_info=error)
        elif pump.result():
            await send({"type": "http.response.body", "body": b""})
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def _pump(chunks: AsyncIterator[bytes], send: Send) -> bool:
    """Send every chunk; True when the iterator ended, False when the client is gone.
    A chunk is let go once sent, not kept while the next one is awaited: an idle stream
    would hold its last chunk (a whole snapshot) for as long as it stays open."""
    while True:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return True
        try:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:  # the ASGI server's "client disconnected"
            return False
        del chunk


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def create_app(
    settings: Settings,
    store: Store,
    keys: Mapping[str, AccessKey],
    clock: Callable[[], float] = time.time,
    metrics: Metrics | None = None,
    routes: Iterable[Route] | None = None,
    credentials: CredentialsFile | None = None,
    flag_config: FlagConfig | None = None,
    cc_config: CcConfig | None = None,
) -> App:
    """Wire the application: the one place where settings, store and keys meet.
    ``routes`` default to the full table of ``ccms.http.routes``; ``credentials``, the
    file ``keys`` came from, is followed for changes (``credentials_reload_s``);
    ``flag_config``, the thresholds of the flags (by default those of
    ``settings.flags_file``), is read again by :meth:`App.reload_flags` (SIGHUP), as
    ``cc_config`` (by default that of ``settings.cc_config_file``) is by
    :meth:`App.reload_files`."""
    return App(
        settings,
        store,
        keys,
        clock,
        metrics or Metrics(),
        route_table(settings) if routes is None else routes,
        credentials,
        FlagConfig(settings.flags_file) if flag_config is None else flag_config,
        CcConfig(settings.cc_config_file) if cc_config is None else cc_config,
    )
