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
import signal
import tempfile
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import uvicorn

from ccms.auth import AccessKey
from ccms.credentials import CredentialsFile
from ccms.http.app import App, create_app
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

WORKER_FACTORY = "ccms.server:app_from_environ"


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
    credentials: CredentialsFile | None = None,
) -> App:
    """The app over ``store`` (by default the one ``settings.store`` names). Given the
    ``credentials`` file ``keys`` were read from, the app reads it again when it changes."""
    store = open_store(settings) if store is None else store
    return create_app(settings, store, keys, clock=clock, credentials=credentials)


def credentials_file(settings: Settings) -> CredentialsFile:
    """The credentials file that ``settings`` names, as the server follows it."""
    return CredentialsFile(settings.credentials, settings.allow_open_credentials)


def app_from_environ() -> App:
    """The app of one worker process, from the ``CCMS_*`` variables its parent exported.
    uvicorn calls it in the worker's event loop, once its signal handlers are in place."""
    settings = load_settings(process_environ())
    credentials = credentials_file(settings)
    app = build_app(settings, credentials.load(), credentials=credentials)
    with contextlib.suppress(RuntimeError):  # no running loop: not in a worker
        _close_streams_on_stop(app)
    return app


def _close_streams_on_stop(app: App) -> None:
    """From now on, SIGINT and SIGTERM first end the app's open streams, then do what they
    did (uvicorn's graceful stop). A stream never ends by itself, and uvicorn waits for
    open requests (up to ``timeout_graceful_shutdown``) before it stops the app."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def stop(signum: int, frame: Any, previous: Callable[[int, Any], Any] = previous) -> None:
            loop.call_soon_threadsafe(app.close_streams_soon)
            previous(signum, frame)

        signal.signal(sig, stop)


class _Server(uvicorn.Server):
    """uvicorn serving one app, whose streams end as soon as it is told to stop."""

    def __init__(self, config: uvicorn.Config, app: App) -> None:
        super().__init__(config)
        self._app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            with contextlib.suppress(ValueError):  # not the main thread: no signals
                _close_streams_on_stop(self._app)
            yield


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
        "http": "auto",  # httptools and uvloop where installed (they are dependencies)
        "loop": "auto",
        "timeout_graceful_shutdown": 10,
        "server_header": False,
    }
    if settings.tls:
        options["ssl_certfile"] = settings.tls_cert
        options["ssl_keyfile"] = settings.tls_key
    return options


async def _migrate(store: Store) -> None:
    await store.open()  # opening a store creates and migrates it
    await store.close()


def serve(settings: Settings) -> None:
    """Run the server in the foreground until Ctrl-C / SIGINT or SIGTERM.

    uvicorn shuts down gracefully on either, then raises ``KeyboardInterrupt`` for SIGINT.
    """
    check(settings)
    credentials = credentials_file(settings)
    keys = credentials.load()
    store = open_store(settings)
    asyncio.run(_migrate(store))  # once, before any worker
    if settings.workers == 1:
        app = build_app(settings, keys, store=store, credentials=credentials)
        _Server(uvicorn.Config(app, **uvicorn_options(settings)), app).run()
        return
    with tempfile.TemporaryDirectory(prefix="ccms-metrics-") as metrics_dir:
        variables = {**to_environ(settings), "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        with exported(variables):
            uvicorn.run(
                WORKER_FACTORY, factory=True, workers=settings.workers, **uvicorn_options(settings)
            )


class _UnsignalledServer(uvicorn.Server):
    """uvicorn without its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class EmbeddedServer:
    """A server in the running event loop, leaving the signals to the caller (the demo
    stops its feed first, then the server)."""

    def __init__(self, settings: Settings, app: App) -> None:
        self._app = app
        self._server = _UnsignalledServer(uvicorn.Config(app, **uvicorn_options(settings)))
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
        """End the open streams, finish the requests in flight, then close the store."""
        await self._app.close_streams()
        self._server.should_exit = True
        if self._serving is not None:
            await self._serving
