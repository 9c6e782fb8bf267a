"""The ccms command: serve, demo, simulate, agent, events, watch.

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


def uvicorn_kwargs(settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
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
        kwargs["ssl_certfile"] = settings.tls_cert
        kwargs["ssl_keyfile"] = settings.tls_key
    return kwargs


def serve(settings: Settings, environ: Mapping[str, str], demo: bool = False) -> int:
    import uvicorn

    from ccms.auth import load_credentials
    from ccms.http.app import create_app
    from ccms.store.backends import open_store

    check_serve_settings(settings)
    keys = load_credentials(settings.credentials, allow_weak=demo)
    store = open_store(settings)
    asyncio.run(_prepare(store))  # create the store and migrate once, before any worker
    if settings.workers == 1:
        app = create_app(settings, store, keys)
        uvicorn.Server(uvicorn.Config(app, **uvicorn_kwargs(settings))).run()
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
            **uvicorn_kwargs(settings),
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
    _add_simulation_commands(commands)
    from ccms import cli_client, cli_db

    cli_client.add_commands(commands)
    cli_db.add_commands(commands)
    return parser


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("speed is a number (1 = real time) or max") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return value


def _add_simulation_commands(commands: Any) -> None:
    sim = commands.add_parser(
        "simulate", help="Feed a running server with a simulated contact-center floor."
    )
    sim.add_argument("--profile", help="client profile (see docs/client.md)")
    sim.add_argument("--url", help="server URL (env CCMS_URL)")
    sim.add_argument("--ak", help="access key with the ingest role (env CCMS_AK)")
    sim.add_argument("--sk", help="secret key (env CCMS_SK)")
    sim.add_argument("--agents", type=int, default=200, help="agents (default 200)")
    sim.add_argument("--vdns", type=int, default=2, help="VDNs 1..N (default 2)")
    sim.add_argument("--skills", type=int, default=4, help="skill queues per VDN (default 4)")
    sim.add_argument("--call-rate", type=float, help="calls per agent-hour at the daily peak")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument("--speed", type=_speed, default=1.0, help="1 = real time, 60 = a minute "
                     "per second, max = as fast as the server accepts (default 1)")  # fmt: skip
    sim.add_argument("--duration", type=float, help="simulated seconds to run (default: "
                     "until Ctrl-C; 3600 with --speed max)")  # fmt: skip
    sim.add_argument("--batch", type=int, default=1000, help="most events a request (1000)")
    sim.add_argument("--start-hour", type=float, default=9.5,
                     help="the floor's time of day at the start, 0..24 (default 9.5)")  # fmt: skip
    sim.add_argument("--warmup", type=float, default=0.0,
                     help="simulated seconds before --start-hour, sent at once")  # fmt: skip
    sim.add_argument("--state-out", help="write the simulator's final state (JSON) here")
    demo = commands.add_parser("demo", help="A live ccms with simulated agents, in one command.")
    demo.add_argument("--port", type=int, default=28080, help="port on 127.0.0.1 (28080)")
    demo.add_argument("--data-dir", default=".ccms-demo", help="demo folder (.ccms-demo)")
    demo.add_argument("--agents", type=int, default=200, help="agents (default 200)")
    demo.add_argument("--vdns", type=int, default=2, help="VDNs (default 2)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument("--speed", type=float, default=1.0, help="1 = real time (default)")
    demo.add_argument("--no-profile", action="store_true",
                      help="do not write the 'demo' client profile")  # fmt: skip


def _simulate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    import json

    from ccms.client import CCMSClientError, load_config
    from ccms.feed import Feed, FeedOptions
    from ccms.simulator import SimulationConfig

    try:
        config = SimulationConfig(
            seed=args.seed, agents=args.agents, vdns=args.vdns, skills=args.skills,
            call_rate=args.call_rate,
        )  # fmt: skip
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if args.batch < 1 or not 0 <= args.start_hour < 24 or args.warmup < 0:
        raise SettingsError("--batch must be positive, --start-hour within 0..24, --warmup >= 0")
    duration = args.duration if args.duration is not None or args.speed else 3600.0
    options = FeedOptions(args.speed, duration, args.batch, args.start_hour, warmup_s=args.warmup)
    try:
        client_config = load_config(
            environ, profile=args.profile, url=args.url, ak=args.ak, sk=args.sk
        )
    except CCMSClientError as exc:
        raise SettingsError(str(exc)) from None

    async def go() -> int:
        async with client_config.async_client(retry_deadline=0) as client:
            feed = Feed(client, config, options, progress=sys.stderr)
            loop = asyncio.get_running_loop()
            import signal

            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, feed.stop)
            try:
                await feed.run()
            except CCMSClientError as exc:
                print(f"ccms: {exc}", file=sys.stderr)
                return 1
        if args.state_out:
            state = {f"{c}/{v}/{w}": value for (c, v, w), value in feed.expected_state().items()}
            with open(args.state_out, "w", encoding="utf-8") as file:
                json.dump(state, file, indent=1, sort_keys=True)
        return 0

    return asyncio.run(go())


def _demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from pathlib import Path

    from ccms import demo

    options = demo.DemoOptions(
        Path(args.data_dir), args.port, args.agents, args.vdns, args.seed, args.speed,
        write_profile=not args.no_profile,
    )  # fmt: skip
    return asyncio.run(demo.run(options, environ))


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from ccms import cli_client, cli_db

        code = cli_client.run(args, environ)
        if code is None:
            code = cli_db.run(args, environ)
        if code is not None:
            return code
        if args.command == "serve":
            settings = load_settings(environ, _overrides(args), args.config)
            _configure_logging(settings.log_level)
            return serve(settings, environ)
        if args.command == "simulate":
            return _simulate(args, environ)
        if args.command == "demo":
            _configure_logging("warning")
            return _demo(args, environ)
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
