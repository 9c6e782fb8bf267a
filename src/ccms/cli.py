"""The ``ccms`` command: serve, demo, simulate.

Flags of ``serve`` come from the settings table (``ccms.settings.SETTINGS``), so every
setting has a flag, a ``CCMS_*`` variable and a line of help.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ccms import __version__
from ccms.errors import CCMSError
from ccms.settings import SETTINGS, Settings, SettingsError, load_settings, to_environ

if TYPE_CHECKING:
    from ccms.store.base import Store

log = logging.getLogger("ccms")


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML file of settings (env: CCMS_CONFIG).")
    for setting in SETTINGS:
        help_text = f"{setting.help} (env {setting.env}; default: {setting.default!r})"
        if setting.type is bool:
            parser.add_argument(
                setting.flag, dest=setting.name, action="store_const", const=True, help=help_text
            )
        else:
            parser.add_argument(
                setting.flag, dest=setting.name, type=setting.type, metavar="VALUE", help=help_text
            )


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {s.name: getattr(args, s.name, None) for s in SETTINGS}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_serve_settings(settings: Settings) -> None:
    if not settings.credentials:
        raise SettingsError("a credentials file is required (--credentials or CCMS_CREDENTIALS)")
    if not settings.tls and not is_loopback(settings.host) and not settings.insecure_http:
        raise SettingsError(
            f"refusing plain HTTP on {settings.host}: give --tls-cert/--tls-key, or"
            " --insecure-http behind a TLS-terminating proxy"
        )


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _uvicorn_kwargs(settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "lifespan": "on",
        "http": "httptools",
        "loop": "uvloop",
        "timeout_graceful_shutdown": 10,
        "server_header": False,
    }
    if settings.tls:
        kwargs["ssl_certfile"] = settings.tls_cert
        kwargs["ssl_keyfile"] = settings.tls_key
    return kwargs


def serve(settings: Settings, environ: Mapping[str, str], demo: bool = False) -> int:
    import uvicorn

    from ccms.auth import load_credentials
    from ccms.http.app import create_app
    from ccms.store.base import open_store

    check_serve_settings(settings)
    keys = load_credentials(settings.credentials, allow_weak=demo)
    store = open_store(settings)
    asyncio.run(_prepare(store))  # create the store and migrate once, before any worker
    if settings.workers == 1:
        app = create_app(settings, store, keys)
        uvicorn.Server(uvicorn.Config(app, **_uvicorn_kwargs(settings))).run()
        return 0
    with tempfile.TemporaryDirectory(prefix="ccms-metrics-") as metrics_dir:
        os.environ.update(to_environ(settings))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        if demo:
            os.environ["CCMS_DEMO"] = "1"
        uvicorn.run(
            "ccms.http.factory:app_from_environ",
            factory=True,
            workers=settings.workers,
            **_uvicorn_kwargs(settings),
        )
    return 0


async def _prepare(store: Store) -> None:
    await store.open()
    await store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccms", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ccms {__version__}")
    parser.add_argument("--debug", action="store_true", help="Show tracebacks on errors.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_parser = commands.add_parser("serve", help="Run the CC-CMS compatible server.")
    _add_setting_flags(serve_parser)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            settings = load_settings(environ, _overrides(args), args.config)
            _configure_logging(settings.log_level)
            return serve(settings, environ)
        parser.error(f"unknown command {args.command}")
    except CCMSError as exc:
        if args.debug:
            raise
        print(f"ccms: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # serve and demo shut down gracefully on Ctrl-C / SIGINT before this is raised
        return 0 if args.command in ("serve", "demo") else 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
