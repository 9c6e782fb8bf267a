"""The one composition root: settings -> access keys -> store -> app -> uvicorn.

``ccms serve``, ``ccms demo`` and the end-to-end tests get their server from here, and
nothing else wires these parts together.

Before it touches anything (the store, a demo's folder), a start checks what it can: the
settings, the TLS files, the access keys, the store's driver, and the port, which it binds
then and hands to uvicorn. Each refusal is one error: a :class:`~ccms.settings.SettingsError`
for what the operator must change, a :class:`StartError` for a port in use.

Worker processes (``ccms serve --workers N``) are started by uvicorn, which can hand them
nothing but an import string (:data:`WORKER_FACTORY`): the parent exports the settings as
``CCMS_*`` variables (the process boundary) and :func:`app_from_environ` rebuilds the app
from them in each worker.

Logging: one :mod:`logging.config` dictionary (:func:`log_config`) formats the lines of ccms
and of uvicorn alike, as text or as JSON (:class:`JsonFormatter`); uvicorn gets it too, and
applies it in each worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import ipaddress
import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn
from uvicorn.supervisors import Multiprocess

from ccms import __version__
from ccms.auth import AccessKey
from ccms.ccconfig import CcConfig
from ccms.credentials import CredentialsFile
from ccms.http.app import App, create_app
from ccms.http.metrics import Metrics
from ccms.http.protocol import HttpLimits, LimitedConfig
from ccms.settings import (
    Settings,
    SettingsError,
    exported,
    load_settings,
    process_environ,
    to_environ,
)
from ccms.store import backends
from ccms.store.base import Store
from ccms.thresholds import FlagConfig

if sys.platform != "win32":
    import resource

WORKER_FACTORY = "ccms.server:app_from_environ"
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable
POSTGRES_DRIVER = "asyncpg"  # what the ``postgres`` extra installs
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# File descriptors each process keeps beyond its connections: the store's files or
# connections, the log, the event loop's own.
FD_RESERVE = 64

log = logging.getLogger(__name__)


class StartError(Exception):
    """The server cannot start where its settings say: its port is in use."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(settings: Settings) -> None:
    """What ``serve`` refuses before touching anything: no access keys, plain HTTP on an
    address other than loopback without ``--insecure-http``, TLS files it cannot use."""
    if not settings.credentials:
        raise SettingsError("a credentials file is required (--credentials or CCMS_CREDENTIALS)")
    if not settings.tls and not is_loopback(settings.host) and not settings.insecure_http:
        raise SettingsError(
            f"refusing plain HTTP on {settings.host}: give --tls-cert/--tls-key, or"
            " --insecure-http behind a TLS-terminating proxy"
        )
    if settings.tls:
        check_tls(settings.tls_cert, settings.tls_key)


def check_tls(cert: str, key: str) -> None:
    """The certificate and key files can be read and go together (uvicorn loads them the
    same way, later)."""
    for what, path in (("certificate", cert), ("key", key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise SettingsError(f"cannot read the TLS {what} file {path}: {exc.strerror}") from None
    asked: list[bool] = []

    def no_passphrase() -> str:  # never prompt on the terminal: ccms has no passphrase
        asked.append(True)
        return ""

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key, no_passphrase)
    except (ssl.SSLError, ValueError) as exc:
        if asked:
            raise SettingsError(
                f"the TLS key file {key} is encrypted: ccms needs it without a passphrase"
            ) from None
        reason = getattr(exc, "reason", None) or str(exc)
        raise SettingsError(
            f"cannot use the TLS certificate file {cert} with the key file {key}: {reason}"
        ) from None


def open_store(settings: Settings) -> Store:
    """The store ``settings.store`` names (not yet opened); a PostgreSQL URL without the
    ``postgres`` extra installed is a :class:`SettingsError` that says how to install it."""
    try:
        return backends.open_store(settings)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != POSTGRES_DRIVER:
            raise
        raise SettingsError(
            "the PostgreSQL store needs the postgres extra: pip install 'ccms-monitor[postgres]'"
        ) from None


def address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets listening on ``port`` at every address of ``host``, as uvicorn would open
    them: a port in use is a :class:`StartError`, an address this machine does not have a
    :class:`SettingsError`."""
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise SettingsError(f"cannot listen on {host}: {exc.strerror}") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, where in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(where)
            sock.listen(2048)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartError(
                f"cannot listen on {address(host, port)}: the address is in use (give --port"
                " another port, or stop what listens there)"
            ) from None
        raise SettingsError(f"cannot listen on {address(host, port)}: {exc.strerror}") from None
    return sockets


def build_app(
    settings: Settings,
    keys: Mapping[str, AccessKey],
    *,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    credentials: CredentialsFile | None = None,
    metrics: Metrics | None = None,
    flag_config: FlagConfig | None = None,
    cc_config: CcConfig | None = None,
) -> App:
    """The app over ``store`` (by default the one ``settings.store`` names). Given the
    ``credentials`` file ``keys`` were read from, the app reads it again when it changes."""
    store = open_store(settings) if store is None else store
    return create_app(
        settings, store, keys, clock=clock, metrics=metrics, credentials=credentials,
        flag_config=flag_config, cc_config=cc_config,
    )  # fmt: skip


def credentials_file(settings: Settings) -> CredentialsFile:
    """The credentials file that ``settings`` names, as the server follows it."""
    return CredentialsFile(settings.credentials, settings.allow_open_credentials)


def app_from_environ() -> App:
    """The app of one worker process, from the ``CCMS_*`` variables its parent exported.
    uvicorn calls it in the worker's event loop, once its signal handlers are in place."""
    _end_with_parent()
    environ = process_environ()
    settings = load_settings(environ)
    credentials = credentials_file(settings)
    metrics = Metrics(environ.get(METRICS_DIR))  # the folder the workers share
    app = build_app(settings, credentials.load(), credentials=credentials, metrics=metrics)
    with contextlib.suppress(RuntimeError):  # no running loop: not in a worker
        _close_streams_on_stop(app)
        _reload_flags_on_hup(app)
    return app


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_parent() -> None:
    """A worker of ``--workers N`` stops (SIGTERM: its graceful stop) when the supervisor
    dies, even by SIGKILL; otherwise it would go on serving, holding the listening socket,
    and a restarted server could not bind its port. Linux only (``prctl``)."""
    supervisor = multiprocessing.parent_process()
    if not sys.platform.startswith("linux") or supervisor is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != supervisor.pid:  # the supervisor died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _reload_flags_on_hup(app: App) -> None:
    """From now on, SIGHUP reads the flags file and the configuration file again (every
    worker: the parent of ``--workers N`` hands the signal on to each of them)."""
    if sys.platform != "win32":
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, app.reload_files)


class _Workers(Multiprocess):
    """uvicorn's supervisor of the worker processes, whose SIGHUP reads the flags file
    (and the configuration file) again in every worker (uvicorn's own would restart
    them, ending every stream)."""

    def handle_hup(self) -> None:
        log.info("SIGHUP: the workers read the flags file and the configuration file again")
        for process in self.processes:
            pid = process.pid
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGHUP)


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
            with contextlib.suppress(ValueError, RuntimeError):  # not the main thread
                _close_streams_on_stop(self._app)
                _reload_flags_on_hup(self._app)
            yield


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC), ``level``, ``logger``, ``message``, and the
    ``exception`` when there is one; an access line adds ``client``, ``method``, ``path``,
    ``http_version`` and ``status``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields: dict[str, Any] = {
            "time": stamp.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            names = ("client", "method", "path", "http_version", "status")  # its '%s - "%s %s ..'
            fields.update(zip(names, args, strict=True))
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(fields, default=str).decode()


def log_config(settings: Settings) -> dict[str, Any]:
    """The :mod:`logging.config` dictionary of ccms's and uvicorn's lines: one handler on
    stderr, one format (``log_format``), one level (``log_level``)."""
    if settings.log_format == "json":
        formatter: dict[str, Any] = {"()": f"{__name__}.JsonFormatter"}
    else:
        formatter = {"format": TEXT_FORMAT}
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"ccms": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "ccms",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            name: {"level": level, "handlers": [], "propagate": True} for name in UVICORN_LOGGERS
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))


def _counted(count: int, thing: str) -> str:
    return f"{count} {thing}" if count == 1 else f"{count} {thing}s"


def start_line(settings: Settings, store: Store, keys: int) -> str:
    """What ``serve`` logs once it listens: version, URL, store, access keys, workers."""
    url = f"{'https' if settings.tls else 'http'}://{address(settings.host, settings.port)}"
    return (
        f"ccms {__version__} serving {url}: store {store.location},"
        f" {_counted(keys, 'access key')}, {_counted(settings.workers, 'worker')}"
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": log_config(settings),
        "access_log": settings.access_log,
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
    credentials = credentials_file(settings)
    keys = credentials.load()
    flags = FlagConfig(settings.flags_file)  # a file refused: one line, before anything
    cc_config = CcConfig(settings.cc_config_file)
    store = open_store(settings)
    sockets = listen(settings.host, settings.port)
    try:
        asyncio.run(_migrate(store))  # once, before any worker
        log.info(start_line(settings, store, len(keys)))
        # every worker process inherits the limit, and the limits computed from it
        limits = http_limits(settings, raise_fd_limit(settings.max_connections + FD_RESERVE))
        if settings.workers == 1:
            app = build_app(
                settings, keys, store=store, credentials=credentials, flag_config=flags,
                cc_config=cc_config,
            )  # fmt: skip
            _Server(server_config(app, settings, limits), app).run(sockets=sockets)
            return
        for sock in sockets:
            sock.close()  # uvicorn binds its own, to share with its workers
        with tempfile.TemporaryDirectory(prefix="ccms-metrics-") as metrics_dir:
            variables = {**to_environ(settings), METRICS_DIR: metrics_dir}
            with exported(variables):
                config = server_config(
                    WORKER_FACTORY, settings, limits, factory=True, workers=settings.workers
                )
                _Workers(config, sockets=[config.bind_socket()]).run()
    finally:
        for sock in sockets:
            sock.close()


class _UnsignalledServer(uvicorn.Server):
    """uvicorn without its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class EmbeddedServer:
    """A server in the running event loop on sockets already listening (:func:`listen`),
    leaving the signals to the caller (the demo stops its feed first, then the server)."""

    def __init__(self, settings: Settings, app: App, sockets: list[socket.socket]) -> None:
        self._app = app
        limits = http_limits(settings, fd_limit())
        self._server = _UnsignalledServer(server_config(app, settings, limits))
        self._sockets = sockets
        self._serving: asyncio.Task[None] | None = None

    async def _serve(self) -> None:
        with contextlib.suppress(SystemExit):  # uvicorn's way to fail at start; it logs why
            await self._server.serve(sockets=self._sockets)

    async def start(self) -> bool:
        """Serve; True once it serves, False when it could not start. SIGHUP reads the
        flags file again, as with ``ccms serve``."""
        with contextlib.suppress(ValueError, RuntimeError):  # not the main thread
            _reload_flags_on_hup(self._app)
        self._serving = asyncio.create_task(self._serve())
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
        for sock in self._sockets:
            sock.close()
