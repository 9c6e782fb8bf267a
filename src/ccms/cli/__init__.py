"""The ccms command: serve, demo, simulate, agent, events, watch, queues, wallboard-url, db,
completion.

One parser: each command group is a module of this package whose ``add_commands`` adds its
commands, each with its handler (``set_defaults(handler=...)``). One dispatch: :func:`main`
parses, calls the handler and turns the errors handlers raise into one line on stderr and
the exit code of the one policy, :mod:`ccms.cli.command`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from types import FrameType


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    # Ctrl-C while the modules below load: the one line and the exit code of an
    # interrupted command (ccms.cli.command.EXIT_INTERRUPTED, not imported yet), never an
    # import's traceback
    sys.stderr.write("ccms: interrupted\n")
    raise SystemExit(130)


_STARTING = threading.current_thread() is threading.main_thread()
_previous_handler = signal.getsignal(signal.SIGINT)
if _STARTING and _previous_handler is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
try:
    from ccms import __version__
    from ccms.cli import (
        adapter,
        agents,
        client,
        completion,
        db,
        demo,
        queues,
        serve,
        simulate,
        wallboard,
        watch,
    )
    from ccms.cli.command import EXIT_INTERRUPTED, EXIT_OK, REPORTED_ERRORS, Handler, report
    from ccms.settings import process_environ
finally:
    if _STARTING and signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, _previous_handler)

# in the order of ``ccms --help``
GROUPS = (serve, simulate, demo, client, agents, watch, queues, wallboard, db, adapter, completion)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccms", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ccms {__version__}")
    parser.add_argument("--debug", action="store_true", help="Show tracebacks on errors.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(commands)
    parser.set_defaults(parser=parser)  # the whole parser, for ``ccms completion``
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run ``ccms ARGV`` in ``environ`` (by default the process's); the exit code."""
    environ = process_environ() if environ is None else environ
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        code = handler(args, environ)
        sys.stdout.flush()  # here, where a reader that went away is caught
        return code
    except REPORTED_ERRORS as error:
        if args.debug:
            raise
        return report(error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # ``ccms ... | head``: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
        return EXIT_OK
