"""``ccms simulate``: feed a running server with a simulated contact-center floor."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Mapping

from ccms.cli.command import EXIT_OK, Commands
from ccms.client import CCMSClientError, load_config
from ccms.feeds import Feed, Schedule, SimulatedSource
from ccms.settings import SettingsError
from ccms.simulator import SimulationConfig


def speed(text: str) -> float | None:
    """A ``--speed``: a positive number (1 = real time), or ``max`` (None)."""
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("speed is a number (1 = real time) or max") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return value


def add_commands(commands: Commands) -> None:
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
    sim.add_argument("--speed", type=speed, default=1.0, help="1 = real time, 60 = a minute "
                     "per second, max = as fast as the server accepts (default 1)")  # fmt: skip
    sim.add_argument("--duration", type=float, help="simulated seconds to run (default: "
                     "until Ctrl-C; 3600 with --speed max)")  # fmt: skip
    sim.add_argument("--batch", type=int, default=1000, help="most events a request (1000)")
    sim.add_argument("--start-hour", type=float, default=9.5,
                     help="the floor's time of day at the start, 0..24 (default 9.5)")  # fmt: skip
    sim.add_argument("--warmup", type=float, default=0.0,
                     help="simulated seconds before --start-hour, sent at once")  # fmt: skip
    sim.add_argument("--state-out", help="write the simulator's final state (JSON) here")
    sim.set_defaults(handler=run)


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
            environ, profile=args.profile, url=args.url, ak=args.ak, sk=args.sk
        )
    except CCMSClientError as exc:
        raise SettingsError(str(exc)) from None

    async def go() -> int:
        async with client_config.async_client(retry_deadline=0) as client:
            source = SimulatedSource(config, schedule)
            feed = Feed(client, source, batch=args.batch, progress=sys.stderr)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, feed.stop)
            await feed.run()
        if args.state_out:
            state = {f"{c}/{v}/{w}": value for (c, v, w), value in source.expected_state().items()}
            with open(args.state_out, "w", encoding="utf-8") as file:
                json.dump(state, file, indent=1, sort_keys=True)
        return EXIT_OK

    return asyncio.run(go())
