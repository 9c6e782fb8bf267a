"""``ccms adapter ami``: feed ccms from Asterisk's queues through the Manager Interface."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Mapping

from ccms.cli.command import EXIT_CODES_HELP, EXIT_OK, Commands, InputError
from ccms.cli.command import speed as speed_type
from ccms.feeds.asterisk import Adapter, load_config
from ccms.feeds.asterisk.spool import SpoolError
from ccms.feeds.asterisk.transcript import Recorder, TranscriptError, read_transcript
from ccms.settings import SettingsError

speed = speed_type("as recorded")


def add_commands(commands: Commands) -> None:
    group = commands.add_parser(
        "adapter", help="Feed ccms from a telephony platform (Asterisk AMI).",
        description="Adapters that feed ccms from a telephony platform.",
    )  # fmt: skip
    kinds = group.add_subparsers(dest="adapter", required=True, metavar="KIND")
    ami = kinds.add_parser(
        "ami",
        help="Follow Asterisk's queues (app_queue) through the Manager Interface.",
        description="Follow Asterisk's queues through the Manager Interface and post each"
        " agent's CTI status to ccms (POST /ccms/v1/events), with its own /healthz and"
        " /metrics. Ctrl-C or SIGTERM stops it after the batch in flight; what ccms has not"
        " acknowledged stays in the spool for the next start. See docs/adapters/asterisk.md.",
        epilog=EXIT_CODES_HELP,
    )
    ami.add_argument("--config", required=True, metavar="FILE", help="the adapter's TOML file")
    ami.add_argument("--record", metavar="FILE", help="also write the AMI stream to FILE")
    ami.add_argument(
        "--replay", metavar="FILE",
        help="read the AMI stream from a recording instead of Asterisk",
    )  # fmt: skip
    ami.add_argument(
        "--speed", type=speed, default=1.0, metavar="{N,max}",
        help="with --replay: 1 = as recorded, 10 = ten times faster, max = at once (default 1)",
    )  # fmt: skip
    ami.add_argument(
        "--listen", metavar="HOST:PORT", help="/healthz and /metrics (overrides the file)"
    )
    ami.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = load_config(args.config)
    if args.listen is not None:
        config = dataclasses.replace(config, listen=args.listen)
    if args.record and args.replay:
        raise SettingsError("--record and --replay do not go together")
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    entries = None
    if args.replay:
        try:
            entries = read_transcript(args.replay)
        except OSError as exc:
            raise InputError(f"cannot read {args.replay}: {exc.strerror or exc}") from None
        except TranscriptError as exc:
            raise InputError(str(exc)) from None
    try:
        recorder = Recorder.open(args.record) if args.record else None
    except OSError as exc:
        raise InputError(f"cannot write {args.record}: {exc.strerror or exc}") from None

    async def go() -> int:
        try:
            adapter = Adapter(
                config, record=recorder, replay=entries, speed=args.speed, progress=sys.stderr
            )
        except SpoolError as exc:
            raise SettingsError(str(exc)) from None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, adapter.stop)
        await adapter.run()
        return EXIT_OK

    try:
        return asyncio.run(go())
    finally:
        if recorder is not None:
            recorder.close()
