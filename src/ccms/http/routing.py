"""Routes as data: what a route is, what its handler receives and what it answers.

A :class:`Route` says everything the pipeline (``ccms.http.app``) needs before its handler
runs: method and path, how the request authenticates, the role the key must have, how its
body is read and how large it may be, and which envelope its failures use. A handler is a
plain module-level ``async`` function of a :class:`Context` (what it may use, given when
the app is built) and a :class:`Request`; it returns an :class:`Answer` whose body is
``bytes`` or an async iterator of chunks (a stream, sent as it comes).

Adding a route is one handler and one ``Route(...)`` line in a table of
``ccms.http.routes`` (``docs/development.md``, "How to add a route").
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ccms.auth import AccessKey
from ccms.ccconfig import CcConfig
from ccms.domain.changes import ViewToken
from ccms.domain.flags import FlagsOf, no_flags
from ccms.errors import CCMSError, MethodNotAllowedError, NotFoundError
from ccms.http.envelope import FAILURES, JSON_TYPE, Family
from ccms.http.hub import Hub
from ccms.http.metrics import Metrics
from ccms.services import Services
from ccms.settings import Settings
from ccms.store.base import Store
from ccms.wire import SUCCESS, route_name


class Auth(enum.Enum):
    """How a route's requests authenticate."""

    SIGNED = "signed"  # a C2 signature (Authorization: auth-v2/...), any method
    VIEW_TOKEN = "view-token"  # a C2 signature, or a view token (?token=): browser routes
    NONE = "none"  # health and metrics


def view_token_hash(token: str) -> str:
    """What the store keeps of a view token: its SHA-256, in hex (never the token)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Body(enum.Enum):
    """How a route's request body is read."""

    JSON = "json"  # a JSON object, Content-Type application/json (415 otherwise)
    JSON_OR_EMPTY = "json-or-empty"  # the same, and an empty body reads as {}
    NONE = "none"  # not read (GET routes); the signature covers an empty body


@dataclass(frozen=True)
class Context:
    """What handlers may use, built once with the app: no globals, no closures."""

    settings: Settings
    services: Services
    store: Store
    metrics: Metrics
    hub: Hub
    flags: FlagsOf = no_flags  # an agent's flags at a time (the thresholds, when configured)
    cc_config: CcConfig = field(default_factory=CcConfig)  # the configuration file's


@dataclass(slots=True)
class Request:
    """One request as its handler sees it, after the pipeline's checks.

    ``key`` is the verified access key (``None`` on a route without authentication), and
    ``token`` the view token it came with on a view-token route (``None``: signed);
    ``body`` the JSON object of a JSON route (``{}`` otherwise) and ``raw`` its bytes;
    ``headers`` are lowercase names to their (last) values, decoded as latin-1.
    """

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    key: AccessKey | None
    raw: bytes
    body: dict[str, Any]
    token: ViewToken | None = None
    _query: dict[str, str] | None = field(default=None, repr=False)

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters (the last value of a repeated name)."""
        if self._query is None:
            self._query = dict(parse_qsl(self.query_string, keep_blank_values=True))
        return self._query

    @property
    def signed_key(self) -> AccessKey:
        """The verified access key of a signed route."""
        if self.key is None:
            raise LookupError(f"{self.path} is not a signed route: it has no access key")
        return self.key


@dataclass(slots=True)
class Answer:
    """What a handler returns. ``body`` is the whole body (sent with Content-Length) or an
    async iterator of chunks (sent as they come, without Content-Length; the iterator is
    closed when the client goes away). ``code`` is the result code the metrics count
    (``""`` for an answer that is not an envelope). ``abandon``, for a stream: when it is
    set, the connection is cut even in the middle of a write (a client that stopped
    reading)."""

    body: bytes | AsyncIterator[bytes]
    status: int = 200
    content_type: bytes = JSON_TYPE
    headers: Mapping[str, str] | None = None
    code: str = SUCCESS
    abandon: asyncio.Event | None = None


Handler = Callable[[Context, Request], Awaitable[Answer]]


@dataclass(frozen=True)
class Route:
    """A route. ``name`` is its metrics label (by default :func:`ccms.wire.route_name` of
    the path); ``role`` the role its access key needs (``None``: any key); ``max_body`` the
    largest body it reads, in bytes; ``envelope`` the family its failures are rendered in."""

    method: str
    path: str
    handler: Handler
    auth: Auth = Auth.SIGNED
    role: str | None = None
    body: Body = Body.JSON
    max_body: int = 0
    envelope: Family = Family.STANDARD
    name: str = ""
    # Derived from the fields above, once: the pipeline reads these for every request
    # (an Enum member's lookup and hash cost several times a plain attribute's on 3.11).
    render: Callable[[CCMSError], bytes] = field(init=False, repr=False, compare=False)
    reads_body: bool = field(init=False, repr=False, compare=False)  # body is not NONE
    parses_json: bool = field(init=False, repr=False, compare=False)  # body is JSON
    signed: bool = field(init=False, repr=False, compare=False)  # auth is not NONE
    token: bool = field(init=False, repr=False, compare=False)  # auth is VIEW_TOKEN

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", route_name(self.path))
        set_ = object.__setattr__  # the dataclass is frozen
        set_(self, "render", FAILURES[self.envelope])
        set_(self, "reads_body", self.body is not Body.NONE)
        set_(self, "parses_json", self.body is Body.JSON)
        set_(self, "signed", self.auth is not Auth.NONE)
        set_(self, "token", self.auth is Auth.VIEW_TOKEN)


class PathRoutes:
    """The routes of one path, by method (``HEAD`` answered by the ``GET`` route)."""

    __slots__ = ("allow", "methods", "name")

    def __init__(self, routes: list[Route]) -> None:
        self.methods: dict[str, Route] = {}
        for route in routes:
            if route.method in self.methods:
                raise ValueError(f"two routes for {route.method} {route.path}")
            self.methods[route.method] = route
        if "GET" in self.methods:
            self.methods.setdefault("HEAD", self.methods["GET"])
        self.allow = ", ".join(self.methods)
        self.name = routes[0].name


FILE_PARAMETER = "{file}"  # a path's last segment that stands for any file name


class RouteTable:
    """The routes of an app, looked up by path (one dict lookup) then method.

    A path that ends in ``/{file}`` (the wallboard's files) matches any one last segment
    after its prefix; it is looked up only when no exact path matches."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)
        by_path: dict[str, list[Route]] = {}
        for route in self.routes:
            if route.auth is Auth.VIEW_TOKEN and route.body is not Body.NONE:
                raise ValueError(f"{route.path}: a view-token route reads no body")
            by_path.setdefault(route.path, []).append(route)
        self.paths = {path: PathRoutes(routes) for path, routes in by_path.items()}
        self.prefixes = [
            (path.removesuffix(FILE_PARAMETER), entry)
            for path, entry in self.paths.items()
            if path.endswith("/" + FILE_PARAMETER)
        ]

    def lookup(self, path: str) -> PathRoutes | None:
        """The routes of ``path``: its own, else those of a ``/{file}`` path it is a file
        of (one segment, not ``.`` or ``..``), else ``None``."""
        entry = self.paths.get(path)
        if entry is not None:
            return entry
        for prefix, routes in self.prefixes:
            if path.startswith(prefix):
                name = path[len(prefix) :]
                if "/" not in name and name not in (".", ".."):
                    return routes
        return None

    def match(self, path: str, method: str) -> Route:
        """The route of ``method`` at ``path``; else 404, or 405 with ``Allow``."""
        entry = self.lookup(path)
        if entry is None:
            raise NotFoundError(f"no route for {path}")
        route = entry.methods.get(method)
        if route is None:
            raise MethodNotAllowedError(f"{path} supports only {entry.allow}", allow=entry.allow)
        return route
