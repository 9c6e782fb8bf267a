"""The one composition root: settings -> access keys -> store -> app -> uvicorn.

``ccms serve``, ``ccms demo`` and the end-to-end tests get their server from here, and
nothing else wires these parts together.

Worker processes (``ccms serve --workers N``) are started by uvicorn, which can hand them
nothing but an import string (:data:`WORKER_FACTORY`): the parent exports the settings as
``CCMS_*`` variables (the process boundary) and :func:`app_from_environ` rebuilds the app
from them in each worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from ccms.auth import AccessKey, load_credentials
from ccms.http.app import App, create_app
from ccms.http.protocol import HttpLimits, LimitedConfig
from ccms.settings import (
    Settings,
    SettingsError,
    exported,
    load_settings,
    process_environ,
    to_environ,
)
from ccms.store.backends import open_store
from ccms.store.base import Store

if sys.platform != "win32":
    import resource

WORKER_FACTORY = "ccms.server:app_from_environ"
# File descriptors each process keeps beyond its connections: the store's files or
# connections, the log, the event loop's own.
FD_RESERVE = 64

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(settings: Settings) -> None:
    """What ``serve`` refuses before touching anything: no access keys, plain HTTP on an
    address other than loopback without ``--insecure-http``."""
    if not settings.credentials:
        raise SettingsError("a credentials file is required (--credentials or CCMS_CREDENTIALS)")
    if not settings.tls and not is_loopback(settings.host) and not settings.insecure_http:
        raise SettingsError(
            f"refusing plain HTTP on {settings.host}: give --tls-cert/--tls-key, or"
            " --insecure-http behind a TLS-terminating proxy"
        )


def build_app(
    settings: Settings,
    keys: Mapping[str, AccessKey],
    *,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
) -> App:
    """The app over ``store`` (by default the one ``settings.store`` names)."""
    store = open_store(settings) if store is None else store
    return create_app(settings, store, keys, clock=clock)


def access_keys(settings: Settings) -> dict[str, AccessKey]:
    """The keys of the credentials file that ``settings`` names, its mode checked."""
    return load_credentials(settings.credentials, allow_open=settings.allow_open_credentials)


def app_from_environ() -> App:
    """The app of one worker process, from the ``CCMS_*`` variables its parent exported."""
    settings = load_settings(process_environ())
    return build_app(settings, access_keys(settings))


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "lifespan": "on",
        "loop": "auto",  # uvloop where installed (a dependency)
        "timeout_keep_alive": settings.keep_alive_timeout,
        "timeout_graceful_shutdown": 10,
        "server_header": False,
    }
    if settings.tls:
        options["ssl_certfile"] = settings.tls_cert
        options["ssl_keyfile"] = settings.tls_key
    return options


def fd_limit() -> int | None:
    """The soft limit of open file descriptors; None where there is none to read."""
    if sys.platform == "win32":
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_fd_limit(wanted: int) -> int | None:
    """Raise the soft limit of open file descriptors towards ``wanted``, as far as the hard
    limit allows; the soft limit then in force (logged when it changed)."""
    if sys.platform == "win32":
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return fd_limit()
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning(
            "could not raise the file-descriptor limit from %d to %d: %s", soft, target, exc
        )
        return soft
    log.info("file-descriptor limit raised from %d to %d (hard limit %s)", soft, target, hard)
    return target


def http_limits(settings: Settings, fds: int | None) -> HttpLimits:
    """The HTTP limits of one process; ``max_connections`` lowered to fit ``fds`` file
    descriptors (less :data:`FD_RESERVE`), so that a flood of connections is answered 503
    and logged rather than dropped unseen when the process runs out of descriptors."""
    cap = settings.max_connections
    lowered = None
    if fds is not None and cap > fds - FD_RESERVE:
        cap = max(1, fds - FD_RESERVE)
        lowered = fds
        log.warning(
            "max_connections lowered from %d to %d: the file-descriptor limit is %d",
            settings.max_connections, cap, fds,
        )  # fmt: skip
    return HttpLimits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=cap,
        fd_limit=lowered,
    )


def server_config(app: Any, settings: Settings, limits: HttpLimits, **extra: Any) -> LimitedConfig:
    """uvicorn's configuration for ``app`` (an app or an import string), with the limits."""
    return LimitedConfig(app, limits=limits, **uvicorn_options(settings), **extra)


async def _migrate(store: Store) -> None:
    await store.open()  # opening a store creates and migrates it
    await store.close()


def serve(settings: Settings) -> None:
    """Run the server in the foreground until Ctrl-C / SIGINT or SIGTERM.

    uvicorn shuts down gracefully on either, then raises ``KeyboardInterrupt`` for SIGINT.
    """
    check(settings)
    keys = access_keys(settings)
    store = open_store(settings)
    asyncio.run(_migrate(store))  # once, before any worker
    # every worker process inherits the limit, and the limits computed from it
    limits = http_limits(settings, raise_fd_limit(settings.max_connections + FD_RESERVE))
    if settings.workers == 1:
        app = build_app(settings, keys, store=store)
        uvicorn.Server(server_config(app, settings, limits)).run()
        return
    with tempfile.TemporaryDirectory(prefix="ccms-metrics-") as metrics_dir:
        variables = {**to_environ(settings), "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        with exported(variables):
            config = server_config(
                WORKER_FACTORY, settings, limits, factory=True, workers=settings.workers
            )
            Multiprocess(config, sockets=[config.bind_socket()]).run()


class _UnsignalledServer(uvicorn.Server):
    """uvicorn without its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class EmbeddedServer:
    """A server in the running event loop, leaving the signals to the caller (the demo
    stops its feed first, then the server)."""

    def __init__(self, settings: Settings, app: App) -> None:
        limits = http_limits(settings, fd_limit())
        self._server = _UnsignalledServer(server_config(app, settings, limits))
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Serve; True once it listens, False when it could not start."""
        self._serving = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # the error that stopped it, if any
                return False
            await asyncio.sleep(0.05)  # uvicorn has no "started" event to wait on
        return True

    async def stop(self) -> None:
        """Finish the requests in flight, then close the store."""
        self._server.should_exit = True
        if self._serving is not None:
            await self._serving
