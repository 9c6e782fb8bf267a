"""``ccms demo``: a live ccms with a simulated floor, in one process.

It checks everything first (its options, that no demo runs in its folder, that its port is
free) and touches nothing until then. Then it starts the server on 127.0.0.1 with a fresh
SQLite store in its folder, writes fresh random credentials (and a ``demo`` client
profile), feeds the server with the simulator over real HTTP, and prints what to try next.
Ctrl-C (SIGINT) or SIGTERM stops the feed after the batch in flight, then the server,
leaving a consistent store.

A lock on ``demo.lock`` in the folder, held while the demo runs, says which demo runs
there; the system drops it when the process ends, however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import fcntl
import os
import secrets
import shlex
import shutil
import signal
import socket
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ccms import server
from ccms.auth import parse_credentials
from ccms.cli.command import EXIT_OK, Commands
from ccms.cli.wallboard import board_link
from ccms.client import AsyncClient, CCMSClientError, write_profile
from ccms.feeds import Feed, Schedule, SimulatedSource
from ccms.settings import Settings, SettingsError, load_settings
from ccms.simulator import SimulationConfig
from ccms.simulator.transitions import BUSY_REASON_NAMES, REST_REASON_NAMES

DEMO_AK = "demo"
HOST = "127.0.0.1"
WARMUP_S = 5400.0  # the floor from 08:00: agents are signed in and busy when the demo opens
WARMUP_FROM_H = 8.0  # Schedule's start hour (9.5) less the warm-up
LOCK = "demo.lock"


def add_commands(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo", help="A live ccms with simulated agents, in one command.",
        description="A live ccms with simulated agents: the server on 127.0.0.1, a fresh"
        " SQLite store and credentials in the demo folder, the simulator feeding it.",
    )  # fmt: skip
    demo.add_argument("--port", type=int, default=28080, metavar="PORT",
                      help="port on 127.0.0.1 (default 28080)")  # fmt: skip
    demo.add_argument("--data-dir", default=".ccms-demo", metavar="DIR",
                      help="demo folder: store, credentials (default .ccms-demo)")  # fmt: skip
    demo.add_argument("--agents", type=int, default=200, metavar="N", help="agents (default 200)")
    demo.add_argument("--vdns", type=int, default=2, metavar="N", help="VDNs (default 2)")
    demo.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    demo.add_argument("--speed", type=float, default=1.0, metavar="X",
                      help="1 = real time, 60 = a minute a second (default 1)")  # fmt: skip
    demo.add_argument("--no-profile", action="store_true",
                      help="do not write the 'demo' client profile")  # fmt: skip
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
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


def demo_shifts(shifts: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """The floor's shifts in the order they begin from the warm-up's start (08:00) on.

    Work numbers go to the shifts in this order, so agents 101... of each VDN are on the
    08:00 shift: signed in when the demo opens, and until about 16:30 of the floor's day.
    """
    return tuple(sorted(shifts, key=lambda shift: (shift[0] - WARMUP_FROM_H) % 24))


def simulation(options: DemoOptions) -> SimulationConfig:
    """The demo's floor; a bad option is a :class:`SettingsError`."""
    if not options.speed > 0:
        raise SettingsError(f"--speed must be positive, got {options.speed:g}")
    try:
        config = SimulationConfig(seed=options.seed, agents=options.agents, vdns=options.vdns)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return dataclasses.replace(config, shifts=demo_shifts(config.shifts))


def demo_settings(options: DemoOptions) -> Settings:
    folder = options.data_dir
    return load_settings(
        {},
        {"host": HOST, "port": options.port, "credentials": str(folder / "credentials.toml"),
         "store": f"sqlite:///{folder / 'demo.db'}", "log_level": "warning",
         "flags_file": str(folder / FLAGS), "cc_config_file": str(folder / CC_CONFIG)},
    )  # fmt: skip


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[int]:
    """Hold ``demo.lock`` in ``folder`` (created if need be); a :class:`StartError` naming
    the demo that holds it already."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 200).decode(errors="replace").split()
            if len(holder) != 2:  # it is still starting: it writes who it is once it listens
                raise server.StartError(f"a ccms demo is already running in {folder}") from None
            where, pid = holder
            raise server.StartError(
                f"a ccms demo is already running on {where} (data in {folder}, pid {pid})"
            ) from None
        yield descriptor
    except BaseException:
        if created:  # a demo that never started leaves no folder behind
            (folder / LOCK).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        os.close(descriptor)


def _claim(descriptor: int, sockets: list[socket.socket]) -> None:
    """Write who holds the lock: the address and the process."""
    host, port = sockets[0].getsockname()[:2]
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{server.address(host, port)} {os.getpid()}\n".encode(), 0)


def _credentials(folder: Path, sk: str) -> Path:
    path = folder / "credentials.toml"
    path.unlink(missing_ok=True)
    # created 0600 from the start: the secret is never readable by others, not even briefly
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(f'[[access_key]]\nak = "{DEMO_AK}"\nsk = "{sk}"\nroles = ["admin"]\n')
    return path


FLAGS = "flags.toml"
FLAGS_TEXT = """\
# The thresholds of the demo's flags (docs/flags.md). Empty: the documented defaults.
# Edit, then send SIGHUP to the demo to read it again, e.g.:
# ringing_s = 10
"""


CC_CONFIG = "cc.toml"


def cc_config_text() -> str:
    """The demo's configuration file: the names of the simulator's reason codes."""

    def table(names: Mapping[int, str]) -> str:
        return ", ".join(f'{code} = "{name}"' for code, name in sorted(names.items()))

    return f"""\
# The demo's call-center configuration (docs/calls.md#the-configuration-file): the names
# the wallboard shows for the simulator's reason codes (busy 5, "Phone unavailable", is a
# default). Edit, then send SIGHUP to the demo to read it again.
rest_reasons = {{ {table(REST_REASON_NAMES)} }}
busy_reasons = {{ {table(BUSY_REASON_NAMES)} }}
"""


def prepare(folder: Path) -> str:
    """A fresh demo folder: no old store, new credentials, a flags file (the defaults) and
    a configuration file (the simulator's reason names), each kept if the user edited it.
    Returns the SK."""
    for old in folder.glob("demo.db*"):
        old.unlink()
    sk = secrets.token_urlsafe(32)
    _credentials(folder, sk)
    flags = folder / FLAGS
    if not flags.exists():
        flags.write_text(FLAGS_TEXT, encoding="utf-8")
    cc_config = folder / CC_CONFIG
    if not cc_config.exists():
        cc_config.write_text(cc_config_text(), encoding="utf-8")
    return sk


def ccms_command(environ: Mapping[str, str]) -> str:
    """How to type this ccms in another terminal: ``ccms`` when that is the one on PATH,
    else the full path of this installation's script, else ``python -m ccms``."""
    script = Path(sysconfig.get_path("scripts")) / "ccms"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m ccms"
    found = shutil.which("ccms", path=environ.get("PATH", os.defpath))
    if found and Path(found).resolve() == script.resolve():
        return "ccms"
    return shlex.quote(str(script))


def python_command(environ: Mapping[str, str]) -> str:
    """How to type this Python: ``python`` when it is the one on PATH, else its full path."""
    found = shutil.which("python", path=environ.get("PATH", os.defpath))
    if found and Path(found).absolute() == Path(sys.executable).absolute():
        return "python"
    return shlex.quote(sys.executable)


def banner(url: str, sk: str, options: DemoOptions, profile: Path | None,
           agent: tuple[int, int, int], environ: Mapping[str, str],
           board: str | None = None) -> str:  # fmt: skip
    cc, vdn, work_no = agent
    ccms, python = ccms_command(environ), python_command(environ)
    if profile is not None:
        profile_line = f"  client profile 'demo' written to {profile}\n"
        flags, config = "--profile demo", "profile='demo'"
    else:
        profile_line = ""
        flags = f"--url {url} --ak {DEMO_AK} --sk {sk}"
        config = f"url='{url}', ak='{DEMO_AK}', sk='{sk}'"
    board_line = (
        "" if board is None else f"Open the wallboard of VDN {vdn} in a browser:\n  {board}\n"
    )
    return f"""
ccms demo is running on {url}
  {options.agents} simulated agents in {options.vdns} VDNs, speed {options.speed:g}x
  store {options.data_dir / "demo.db"}
  access key {DEMO_AK}, secret key {sk}
  credentials file {options.data_dir / "credentials.toml"}
{profile_line}
{board_line}
Try, in another terminal:
  {ccms} agent {cc} {vdn} {work_no} {flags}
  {ccms} watch {cc} {vdn} {flags}
  {ccms} wallboard-url {cc} {vdn} {flags}
  {python} -c "from ccms.client import load_config; import os; \\
print(load_config(os.environ, {config}).client().agent_detail({cc}, {vdn}, {work_no}))"
  curl -s {url}/metrics | grep ccms_events

Ctrl-C stops the demo.
"""


async def _signed_in(
    client: AsyncClient, agent: tuple[int, int, int], feeding: asyncio.Task[Any]
) -> None:
    """Until the server answers ``agent`` signed in (the warm-up may take a few batches)."""
    for _ in range(200):  # 10 s at most: then the banner shows what it can
        if feeding.done():
            return
        with contextlib.suppress(CCMSClientError):
            if (await client.agent_detail(*agent)).signed_in:
                return
        await asyncio.sleep(0.05)


async def run_demo(options: DemoOptions, environ: Mapping[str, str], out: TextIO = sys.stdout,
              progress: TextIO | None = sys.stderr) -> int:  # fmt: skip
    """The demo, until Ctrl-C or SIGTERM. It checks everything before it touches anything."""
    config = simulation(options)
    settings = demo_settings(options)
    server.configure_logging(settings)
    with folder_lock(options.data_dir) as lock:
        sockets = server.listen(settings.host, settings.port)
        _claim(lock, sockets)
        sk = prepare(options.data_dir)
        keys = parse_credentials(
            Path(settings.credentials).read_text(encoding="utf-8"), "demo", allow_weak=True
        )  # its own fresh random secret, which a placeholder check could only misjudge
        embedded = server.EmbeddedServer(settings, server.build_app(settings, keys), sockets)
        url = f"http://{server.address(*sockets[0].getsockname()[:2])}"
        if not await embedded.start():
            raise server.StartError(f"the demo's server could not start on {url}")
        profile = (
            write_profile(DEMO_AK, url, DEMO_AK, sk, environ=environ)
            if options.write_profile
            else None
        )
        return await _feed(embedded, options, config, url, sk, profile, environ, out, progress)


async def _feed(embedded: server.EmbeddedServer, options: DemoOptions, config: SimulationConfig,
                url: str, sk: str, profile: Path | None, environ: Mapping[str, str],
                out: TextIO, progress: TextIO | None) -> int:  # fmt: skip
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
        await _signed_in(client, agent, feeding)
        board = None
        with contextlib.suppress(CCMSClientError):
            token = await client.create_view_token(agent[0], agent[1])
            board = board_link(url, agent[0], agent[1], token.token)
        out.write(banner(url, sk, options, profile, agent, environ, board))
        out.flush()
        try:
            await feeding
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    await embedded.stop()
    out.write("ccms demo stopped; the store is in " + str(options.data_dir / "demo.db") + "\n")
    return EXIT_OK
