"""What every ccms command shares: its handler, its exit codes, its one-line errors.

A command group (a module of :mod:`ccms.cli`) adds each of its commands with
``parser.set_defaults(handler=...)``. A :data:`Handler` takes the parsed arguments and the
environment and returns an exit code, or raises one of :data:`REPORTED_ERRORS`, which
:func:`ccms.cli.main` prints as one line on stderr (``ccms: ...``; the traceback instead
with ``--debug``) and turns into an exit code by :func:`exit_code`.

The exit codes of every command (``docs/development.md`` lists them too):

====  ==================================================================================
0     done; also a stop by Ctrl-C where that is the way to stop (serve, demo, simulate,
      watch)
1     the server answered a failure (the client's ``ApiError``), or what the command
      checks failed (``watch --once`` with an unknown agent), or a server that cannot
      start: its port is in use, a demo already runs in that folder (``StartError``)
2     usage or configuration error: arguments, settings, credentials, the client's
      configuration, an input file that cannot be read, a store ccms cannot use
3     no answer from the server: connection, timeout, TLS (also ``simulate`` stopped by
      Ctrl-C while events it made were still undelivered)
130   interrupted by Ctrl-C where Ctrl-C is not the way to stop
====  ==================================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import TypeAlias

from ccms.client.errors import CCMSClientError, ConfigurationError, TransportError
from ccms.errors import CCMSError
from ccms.server import StartError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_ANSWER = 3
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes: 0 ok, 1 the server answered a failure, 2 usage or configuration
error, 3 no answer from the server (connection, timeout, TLS)"""

Handler = Callable[[argparse.Namespace, Mapping[str, str]], int]
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # ccms's commands


class InputError(Exception):
    """An input file ccms cannot read (exit code 2)."""


REPORTED_ERRORS = (CCMSError, CCMSClientError, InputError, StartError)


def exit_code(error: BaseException) -> int:
    """The exit code of an error of :data:`REPORTED_ERRORS`."""
    if isinstance(error, TransportError):
        return EXIT_NO_ANSWER
    if isinstance(error, ConfigurationError | InputError | CCMSError):
        return EXIT_USAGE
    return EXIT_FAILED


def report(error: BaseException) -> int:
    """Print ``error`` as one line on stderr; its exit code."""
    text = " ".join(str(error).split())
    print(f"ccms: {text}", file=sys.stderr)
    return exit_code(error)


def speed(one: str) -> Callable[[str], float | None]:
    """The ``--speed`` type of a command: a positive number (1 = ``one``), or ``max``
    (``None``: as fast as the server accepts)."""

    def parse(text: str) -> float | None:
        if text == "max":
            return None
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"speed is a number (1 = {one}) or max") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("speed must be positive")
        return value

    return parse
