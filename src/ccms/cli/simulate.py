"""``ccms simulate``: feed a running server with a simulated contact-center floor."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Mapping

from ccms.cli.command import EXIT_CODES_HELP, EXIT_NO_ANSWER, EXIT_OK, Commands
from ccms.cli.command import speed as speed_type
from ccms.client import CCMSClientError, load_config
from ccms.client.display import plural
from ccms.feeds import Feed, Schedule, SimulatedSource
from ccms.settings import SettingsError
from ccms.simulator import SimulationConfig

speed = speed_type("real time")


def add_commands(commands: Commands) -> None:
    sim = commands.add_parser(
        "simulate",
        help="Feed a running server with a simulated contact-center floor.",
        description="Feed a running server with a simulated contact-center floor, through"
        " POST /ccms/v1/events. Ctrl-C or SIGTERM stops it after the batch in flight.",
        epilog=EXIT_CODES_HELP + "; 3 also when a stop leaves events undelivered",
    )
    sim.add_argument(
        "--profile", metavar="NAME", help="client profile (default: 'default'; see docs/client.md)"
    )
    sim.add_argument("--url", metavar="URL", help="server URL, http(s)://host:port (env CCMS_URL)")
    sim.add_argument("--ak", metavar="AK", help="access key with the ingest role (env CCMS_AK)")
    sim.add_argument("--sk", metavar="SK", help="secret key (env CCMS_SK)")
    sim.add_argument(
        "--ca-bundle", metavar="PEM", help="CA bundle to trust for TLS (env CCMS_CA_BUNDLE)"
    )
    sim.add_argument("--agents", type=int, default=200, metavar="N", help="agents (default 200)")
    sim.add_argument("--vdns", type=int, default=2, metavar="N", help="VDNs 1..N (default 2)")
    sim.add_argument(
        "--skills", type=int, default=4, metavar="N", help="skill queues per VDN (default 4)"
    )
    sim.add_argument(
        "--call-rate",
        type=float,
        metavar="CALLS",
        help="calls per agent-hour at the daily peak (default: ~80%% occupancy at the busy hour)",
    )
    sim.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    sim.add_argument(
        "--speed",
        type=speed,
        default=1.0,
        metavar="{N,max}",
        help="1 = real time, 60 = a minute per second, max = as fast as the server"
        " accepts (default 1)",
    )
    sim.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="simulated seconds to run (default: until Ctrl-C; 3600 with --speed max)",
    )
    sim.add_argument(
        "--batch", type=int, default=1000, metavar="N", help="most events a request (default 1000)"
    )
    sim.add_argument(
        "--start-hour",
        type=float,
        default=9.5,
        metavar="HOUR",
        help="the floor's time of day at the start, 0..24 (default 9.5)",
    )
    sim.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="simulated seconds before --start-hour, sent at once (default 0)",
    )
    sim.add_argument(
        "--state-out",
        metavar="FILE",
        help="write the simulator's final state (JSON) here (default: none)",
    )
    sim.set_defaults(handler=run)  # fmt: skip


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
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
    schedule = Schedule(args.speed, duration, args.start_hour, warmup_s=args.warmup)
    try:
        client_config = load_config(
            environ, profile=args.profile, url=args.url, ak=args.ak, sk=args.sk,
            ca_bundle=args.ca_bundle,
        )  # fmt: skip
    except CCMSClientError as exc:
        raise SettingsError(str(exc)) from None

    async def go() -> int:
        async with client_config.async_client(retry_deadline=0) as client:
            source = SimulatedSource(config, schedule)
            feed = Feed(client, source, batch=args.batch, progress=sys.stderr)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, feed.stop)
            stats = await feed.run()
        if stats.undelivered:
            what = plural(stats.undelivered, "event")
            were = "was" if stats.undelivered == 1 else "were"
            failure = f"; {stats.failure}" if stats.failure else ""
            print(f"ccms: stopped: {what} {were} not delivered{failure}", file=sys.stderr)
            return EXIT_NO_ANSWER  # what the server holds is not the simulator's state
        if args.state_out:
            state = {f"{c}/{v}/{w}": value for (c, v, w), value in source.expected_state().items()}
            with open(args.state_out, "w", encoding="utf-8") as file:
                json.dump(state, file, indent=1, sort_keys=True)
        return EXIT_OK

    return asyncio.run(go())
