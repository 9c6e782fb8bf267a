"""``ccms demo``: a live ccms with a simulated floor, in one process.

It starts the server on 127.0.0.1 with a fresh SQLite store in a demo folder, writes fresh
random credentials (and a ``demo`` client profile), feeds the server with the simulator over
real HTTP, and prints what to try next. Ctrl-C (SIGINT) or SIGTERM stops the feed after the
batch in flight, then the server, leaving a consistent store.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ccms import server
from ccms.auth import parse_credentials
from ccms.cli.command import EXIT_FAILED, EXIT_OK, Commands
from ccms.client import AsyncClient, write_profile
from ccms.feeds import Feed, Schedule, SimulatedSource
from ccms.settings import Settings, load_settings
from ccms.simulator import SimulationConfig

DEMO_AK = "demo"
WARMUP_S = 5400.0  # the floor from 08:00: agents are signed in and busy when the demo opens


def add_commands(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="A live ccms with simulated agents, in one command.")
    demo.add_argument("--port", type=int, default=28080, help="port on 127.0.0.1 (28080)")
    demo.add_argument("--data-dir", default=".ccms-demo", help="demo folder (.ccms-demo)")
    demo.add_argument("--agents", type=int, default=200, help="agents (default 200)")
    demo.add_argument("--vdns", type=int, default=2, help="VDNs (default 2)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument("--speed", type=float, default=1.0, help="1 = real time (default)")
    demo.add_argument("--no-profile", action="store_true",
                      help="do not write the 'demo' client profile")  # fmt: skip
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    server.configure_logging("warning")
    options = DemoOptions(
        Path(args.data_dir), args.port, args.agents, args.vdns, args.seed, args.speed,
        write_profile=not args.no_profile,
    )  # fmt: skip
    try:
        return asyncio.run(run_demo(options, environ))
    except KeyboardInterrupt:  # Ctrl-C before the demo took the signals over
        return EXIT_OK


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path
    port: int = 28080
    agents: int = 200
    vdns: int = 2
    seed: int = 1
    speed: float = 1.0
    write_profile: bool = True


def _credentials(folder: Path, sk: str) -> Path:
    path = folder / "credentials.toml"
    path.unlink(missing_ok=True)
    # created 0600 from the start: the secret is never readable by others, not even briefly
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(f'[[access_key]]\nak = "{DEMO_AK}"\nsk = "{sk}"\nroles = ["admin"]\n')
    return path


def prepare(options: DemoOptions) -> tuple[Settings, str]:
    """A fresh demo folder: no old store, new credentials. Returns settings and the SK."""
    folder = options.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("demo.db*"):
        old.unlink()
    sk = secrets.token_urlsafe(32)
    credentials = _credentials(folder, sk)
    settings = load_settings(
        {},
        {"host": "127.0.0.1", "port": options.port, "credentials": str(credentials),
         "store": f"sqlite:///{folder / 'demo.db'}", "log_level": "warning"},
    )  # fmt: skip
    return settings, sk


def banner(
    url: str, sk: str, options: DemoOptions, profile: Path | None, agent: tuple[int, int, int]
) -> str:
    cc, vdn, work_no = agent
    profile_line = f"  client profile 'demo' written to {profile}\n" if profile else ""
    return f"""
ccms demo is running on {url}
  {options.agents} simulated agents in {options.vdns} VDNs, speed {options.speed:g}x
  store {options.data_dir / "demo.db"}
  access key {DEMO_AK}, secret key {sk}
  credentials file {options.data_dir / "credentials.toml"}
{profile_line}
Try, in another terminal:
  .venv/bin/ccms agent {cc} {vdn} {work_no} --profile demo
  .venv/bin/ccms watch {cc} {vdn} {work_no} {work_no + 1} {work_no + 2} --profile demo
  .venv/bin/python -c "from ccms.client import load_config; import os; \\
print(load_config(os.environ, profile='demo').client().agent_detail({cc}, {vdn}, {work_no}))"
  curl -s {url}/metrics | grep ccms_events

Ctrl-C stops the demo.
"""


async def run_demo(options: DemoOptions, environ: Mapping[str, str], out: TextIO = sys.stdout,
              progress: TextIO | None = sys.stderr) -> int:  # fmt: skip
    """The demo, until Ctrl-C or SIGTERM."""
    settings, sk = prepare(options)
    keys = parse_credentials(
        Path(settings.credentials).read_text(encoding="utf-8"), "demo", allow_weak=True
    )  # its own fresh random secret, which a placeholder check could only misjudge
    embedded = server.EmbeddedServer(settings, server.build_app(settings, keys))
    url = f"http://127.0.0.1:{settings.port}"
    if not await embedded.start():
        print(f"ccms demo: the server could not start on {url}", file=sys.stderr)
        return EXIT_FAILED
    profile = (
        write_profile(DEMO_AK, url, DEMO_AK, sk, environ=environ) if options.write_profile else None
    )
    config = SimulationConfig(seed=options.seed, agents=options.agents, vdns=options.vdns)
    async with AsyncClient(url, DEMO_AK, sk, retry_deadline=0) as client:
        source = SimulatedSource(config, Schedule(speed=options.speed, warmup_s=WARMUP_S))
        feed = Feed(client, source, progress=progress)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, feed.stop)
        feeding = asyncio.create_task(feed.run())
        while feed.stats.events == 0 and not feeding.done():
            await asyncio.sleep(0.05)
        signed_in = sorted(k for k, a in source.simulator.agents().items() if a.cti_status != 0)
        agent = signed_in[0] if signed_in else (config.cc_id, 1, 101)
        out.write(banner(url, sk, options, profile, agent))
        out.flush()
        try:
            await feeding
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    await embedded.stop()
    out.write("ccms demo stopped; the store is in " + str(options.data_dir / "demo.db") + "\n")
    return EXIT_OK
