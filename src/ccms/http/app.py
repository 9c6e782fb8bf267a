"""The ASGI application: routing, the request pipeline and the one error handler.

ccms speaks raw ASGI rather than through a web framework: the query route is the hot path
and a framework's per-request machinery costs several times the whole lookup. Each POST
route goes through the same pipeline, in this order:

    path (404) -> method (405) -> Content-Type (415) -> size (413) -> C2 signature (401)
    -> rate limit (429) -> JSON (400) -> handler (its own result codes)

Every answer, success or failure, is the CC-CMS envelope (``ccms.http.schemas``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ccms.auth import AccessKey, RateLimiter, Verifier
from ccms.errors import (
    CCMSError,
    InternalError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    UnsupportedMediaTypeError,
)
from ccms.http import schemas
from ccms.http.metrics import Metrics
from ccms.services import Services
from ccms.settings import Settings
from ccms.store.base import Store

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_JSON = b"application/json;charset=UTF-8"


class ClientDisconnectedError(Exception):
    """The client went away before its body arrived; nothing to answer."""


@dataclass(frozen=True)
class Request:
    key: AccessKey
    body: dict[str, Any]
    headers: Mapping[str, str]


Handler = Callable[[Request], Awaitable[bytes]]
FailureRenderer = Callable[[CCMSError], bytes]


@dataclass(frozen=True)
class Route:
    """A POST route. ``failure`` renders its failures: the one failure envelope, or a
    superset of it for a route whose vendor page documents another shape."""

    path: str
    name: str
    handler: Handler
    max_body: int
    failure: FailureRenderer = schemas.failure


class App:
    """The ccms ASGI application. Build it with :func:`create_app`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        verifier: Verifier,
        clock: Callable[[], float],
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.store = store
        self.verifier = verifier
        self.clock = clock
        self.metrics = metrics
        self.services = Services(store, clock)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self.routes: dict[str, Route] = {}
        self.get_routes: dict[str, Callable[[], Awaitable[tuple[int, bytes, bytes]]]] = {
            "/healthz": self._healthz,
            "/metrics": self._metrics,
        }
        self._started = False

    def post(
        self,
        path: str,
        name: str,
        handler: Handler,
        max_body: int,
        failure: FailureRenderer = schemas.failure,
    ) -> None:
        self.routes[path] = Route(path, name, handler, max_body, failure)

    # -- lifecycle ---------------------------------------------------------------------

    async def startup(self) -> None:
        if not self._started:
            await self.store.open()
            self._started = True

    async def shutdown(self) -> None:
        if self._started:
            await self.store.close()
            self._started = False

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
        route = self.routes.get(path)
        name = route.name if route is not None else path if path in self.get_routes else "other"
        extra: list[tuple[bytes, bytes]] = []
        render = route.failure if route is not None else schemas.failure
        try:
            if route is None:
                status, content_type, body = await self._get(path, scope["method"])
                code = "" if content_type != _JSON else "0100000"
            else:
                body = await self._post(route, scope, receive)
                status, content_type, code = 200, _JSON, "0100000"
        except ClientDisconnectedError:
            return
        except CCMSError as error:
            status, content_type, body, code = (
                error.http_status,
                _JSON,
                render(error),
                error.result_code,
            )
            extra.extend(
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in error.headers.items()
            )
            if error.store_failure:
                self.metrics.store_errors.inc()
        except Exception:
            log.exception("unexpected error on %s", path)
            internal = InternalError("unknown error")
            status, content_type, body = 500, _JSON, render(internal)
            code = internal.result_code
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        headers.extend(extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""}
        )
        self.metrics.observe(name, code, status, time.perf_counter() - started)

    async def _get(self, path: str, method: str) -> tuple[int, bytes, bytes]:
        handler = self.get_routes.get(path)
        if handler is None:
            raise NotFoundError(f"no route for {path}")
        if method not in ("GET", "HEAD"):
            raise MethodNotAllowedError(f"{path} supports only GET", allow="GET, HEAD")
        return await handler()

    async def _post(self, route: Route, scope: Scope, receive: Receive) -> bytes:
        if scope["method"] != "POST":
            raise MethodNotAllowedError(f"{route.path} supports only POST")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        content_type = headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            raise UnsupportedMediaTypeError("Content-Type must be application/json")
        declared = headers.get("content-length")
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > route.max_body
        ):
            raise PayloadTooLargeError(f"request body is larger than {route.max_body} bytes")
        raw = await _read_body(receive, route.max_body)
        now = self.clock()
        key = self.verifier.verify(
            headers.get("authorization"),
            "POST",
            scope["path"],
            scope["query_string"].decode("latin-1"),
            headers,
            raw,
            now,
        )
        if self.limiter.enabled and not self.limiter.allow(key.ak, now):
            raise RateLimitedError("too many requests for this access key")
        return await route.handler(Request(key, schemas.parse_body(raw), headers))

    async def _healthz(self) -> tuple[int, bytes, bytes]:
        await self.store.ping()
        return 200, _JSON, schemas.success("ok")

    async def _metrics(self) -> tuple[int, bytes, bytes]:
        return 200, self.metrics.content_type.encode(), self.metrics.render()


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


def create_app(
    settings: Settings,
    store: Store,
    keys: Mapping[str, AccessKey],
    clock: Callable[[], float] = time.time,
    metrics: Metrics | None = None,
) -> App:
    """Wire the application: the one place where settings, store and keys meet."""
    from ccms.http import routes, routes_monitor

    app = App(settings, store, Verifier(keys, settings.clock_skew), clock, metrics or Metrics())
    routes.install(app)
    routes_monitor.install(app)
    return app
