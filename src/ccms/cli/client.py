"""The client commands of ``ccms``: ``agent`` and ``events post`` (``watch`` is in
:mod:`ccms.cli.watch`), and what every client command shares.

Each command takes ``--profile``, ``--url``, ``--ak``, ``--sk`` (flags override
``CCMS_*`` variables, which override the profile; see :mod:`ccms.client.config`).
Errors are one line on stderr (``ccms: ...``), a traceback only with ``--debug``; the exit
codes are those of :mod:`ccms.cli.command`. When the client retries, the command says so on
stderr (``ccms: retrying in 0.4s (retry 2): connection refused``).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import IO, Any, TypeVar

import orjson

from ccms.cli.command import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    REPORTED_ERRORS,
    Commands,
    InputError,
    report,
)
from ccms.client.config import ClientConfig, load_config
from ccms.client.display import agent_panel, plural
from ccms.client.errors import ApiError
from ccms.client.retry import DEFAULT_RETRY_DEADLINE, RetryNotice
from ccms.client.why import why_panel

N = TypeVar("N", int, float)

# -- argument parsing ------------------------------------------------------------------


def _number(kind: Callable[[str], N], text: str) -> N:
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _number(int, text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


DEFAULT_HISTORY = 20


def history_limit(text: str) -> int:
    value = _number(int, text)
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1000, got {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(float, text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = _number(float, text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def connection_flags(parser: argparse.ArgumentParser) -> None:
    """``--profile``, ``--url``, ``--ak``, ``--sk``, ``--ca-bundle``, ``--timeout`` and
    ``--retry-deadline``: where and as whom a client command connects."""
    group = parser.add_argument_group("connection (flags > CCMS_* variables > profile)")
    group.add_argument(
        "--profile", metavar="NAME", help="Profile of the client file (default: 'default')."
    )
    group.add_argument("--url", metavar="URL", help="Server URL, https://host:port (env CCMS_URL).")
    group.add_argument("--ak", metavar="AK", help="Access key (env CCMS_AK).")
    group.add_argument(
        "--sk", metavar="SK",
        help="Secret key (env CCMS_SK; prefer the env or sk_command in a profile).",
    )  # fmt: skip
    group.add_argument(
        "--ca-bundle", metavar="PEM",
        help="CA bundle to trust for TLS (env CCMS_CA_BUNDLE; default: the system's CAs).",
    )  # fmt: skip
    group.add_argument(
        "--timeout", type=positive_float, metavar="SECONDS",
        help="Per-request timeout (default: the profile's, else 10).",
    )  # fmt: skip
    group.add_argument(
        "--retry-deadline", type=non_negative_float, default=DEFAULT_RETRY_DEADLINE,
        metavar="SECONDS",
        help="Retry 429/503 and connection failures within this time (0: never; default"
        f" {DEFAULT_RETRY_DEADLINE:g}).",
    )  # fmt: skip


def place_args(parser: argparse.ArgumentParser) -> None:
    """``CCID VDN``: the call center and VDN a command is about."""
    parser.add_argument("cc_id", metavar="CCID", type=int, help="Call center id.")
    parser.add_argument("vdn", metavar="VDN", type=int, help="VDN id.")


def add_commands(subparsers: Commands) -> None:
    """Add ``agent`` and ``events`` to the ``ccms`` command group."""
    agent = subparsers.add_parser(
        "agent",
        help="Show one agent's status (--why: and why ccms believes it).",
        description="Show one agent: status, CTI status, time in state, sign-in time. With"
        " --why, also its reason, skill queues, calls, flags, the source and raw state of the"
        " status event its status comes from, and its newest status events.",
        epilog=EXIT_CODES_HELP,
    )
    place_args(agent)
    agent.add_argument("work_no", metavar="WORKNO", type=int, help="Agent work number.")
    agent.add_argument("--json", action="store_true", help="Print the answer's resultDesc.")
    route = agent.add_mutually_exclusive_group()
    route.add_argument(
        "--legacy", action="store_true", help="Use the legacy route agentgroup/agentbyworkno."
    )
    route.add_argument(
        "--why", action="store_true",
        help="Also show why ccms believes the state (the feed's source and raw state) and the"
        " newest status events (ccms's /ccms/v1/agents/detail).",
    )  # fmt: skip
    agent.add_argument(
        "--history", type=history_limit, default=None, metavar="N",
        help="Status events to show with --why, 0 to 1000 (default 20; implies --why).",
    )  # fmt: skip
    connection_flags(agent)
    agent.set_defaults(handler=_agent)

    events = subparsers.add_parser(
        "events", help="Send CTI events to ccms.", epilog=EXIT_CODES_HELP
    )
    actions = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    post = actions.add_parser(
        "post",
        help="Post events from NDJSON or a JSON array.",
        description="Post CTI events (NDJSON, one object a line, or a JSON array) in batches."
        " Batches are idempotent by eventId: after a failure or Ctrl-C, resume with --skip.",
        epilog=EXIT_CODES_HELP + ", 130 stopped by Ctrl-C",
    )
    post.add_argument("file", metavar="FILE", help="Events file, '-' for stdin.")
    post.add_argument(
        "--batch", type=positive_int, default=1000, metavar="N",
        help="Events per request (default 1000).",
    )  # fmt: skip
    post.add_argument(
        "--skip", type=non_negative_int, default=0, metavar="N",
        help="Skip the first N events, to resume (default 0).",
    )  # fmt: skip
    post.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    connection_flags(post)
    post.set_defaults(handler=_events)


# -- running ---------------------------------------------------------------------------


def client_config(args: argparse.Namespace, environ: Mapping[str, str]) -> ClientConfig:
    return load_config(
        environ,
        profile=args.profile,
        url=args.url,
        ak=args.ak,
        sk=args.sk,
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
    )


def use_colour(stream: IO[str], environ: Mapping[str, str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"


def _agent(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    if args.why or args.history is not None:
        return _agent_why(args, environ)
    config = client_config(args, environ)
    err = Stderr(sys.stderr)
    with config.client(retry_deadline=args.retry_deadline, on_retry=err.retrying) as client:
        query = client.agent_detail_legacy if args.legacy else client.agent_detail
        agent = query(args.cc_id, args.vdn, args.work_no)
    if args.json:
        print(orjson.dumps(agent.raw).decode())
    else:
        print(agent_panel(agent, args.cc_id, colour=use_colour(sys.stdout, environ)))
    return EXIT_OK


def _agent_why(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    if args.legacy:
        raise InputError("--history goes with --why, not with --legacy")
    limit = DEFAULT_HISTORY if args.history is None else args.history
    config = client_config(args, environ)
    err = Stderr(sys.stderr)
    with config.client(retry_deadline=args.retry_deadline, on_retry=err.retrying) as client:
        found = client.agent_history(args.cc_id, args.vdn, args.work_no, limit)
    if args.json:
        print(orjson.dumps(found.raw).decode())
    else:
        colour = use_colour(sys.stdout, environ)
        print(why_panel(found, args.cc_id, args.vdn, colour=colour))
    return EXIT_OK


# -- events post -----------------------------------------------------------------------

Read = tuple[int | None, dict[str, Any]]  # an event and its line of an NDJSON file (else None)


def _json_line(line: bytes, number: int, source: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{source} line {number}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{source} line {number}: an event must be a JSON object")
    return value


def read_events(lines: Iterable[bytes], source: str) -> Iterator[Read]:
    """Events of NDJSON (one object a line, read lazily, each with its line number) or of
    one JSON array (line None)."""
    numbered = enumerate(lines, 1)
    for number, line in numbered:
        text = line.strip()
        if not text:
            continue
        if not text.startswith(b"["):
            yield number, _json_line(text, number, source)
            continue
        whole = text + b"".join(rest for _, rest in numbered)
        try:
            array = orjson.loads(whole)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{source}: not a valid JSON array ({exc})") from None
        if not isinstance(array, list):
            raise InputError(f"{source}: expected a JSON array of events")
        for index, event in enumerate(array):
            if not isinstance(event, dict):
                raise InputError(f"{source}: element {index} of the array is not a JSON object")
            yield None, event
        return


def _batches(events: Iterator[Read], size: int) -> Iterator[list[Read]]:
    while batch := list(islice(events, size)):
        yield batch


def _open_events(name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    try:
        return open(name, "rb")  # closed by the caller
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror}") from None


_EVENT_INDEX = re.compile(r"events\[(\d+)\](\.?)(.*)", re.S)


def _located(error: ApiError, batch: Sequence[Read], first: int, source: str) -> ApiError:
    """``error`` with the server's ``events[i]`` of the batch as the line of the file (or
    the element of the array) it came from; ``first`` is the batch's first element."""
    found = _EVENT_INDEX.match(error.message)
    if found is None or int(found[1]) >= len(batch):
        return error
    index = int(found[1])
    line = batch[index][0]
    where = f"{source} line {line}" if line is not None else f"{source} element {first + index}"
    rest = found[3] if found[2] else f"the event{found[3]}"
    return type(error)(
        f"{where}: {rest}", result_code=error.result_code, http_status=error.http_status,
        retry_after=error.retry_after,
    )  # fmt: skip


class Stderr:
    """What the client commands say on stderr: a progress line (rewritten in place on a
    terminal), and lines of their own, each starting on a line of its own."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._open = False

    def progress(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
            self._open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self._open:
            self.stream.write("\n")
            self._open = False
        self.stream.flush()

    def say(self, text: str) -> None:
        self.end()
        self.stream.write(f"ccms: {text}\n")
        self.stream.flush()

    def retrying(self, notice: RetryNotice) -> None:
        """The client's ``on_retry`` hook: one line a retry."""
        self.say(f"retrying in {notice.wait:.1f}s (retry {notice.retry}): {notice.reason}")


@dataclasses.dataclass
class _Posted:
    """How far ``events post`` got: events handled (skipped or acknowledged), the file line
    of the last of them (NDJSON), and the counts of the answers."""

    handled: int = 0
    line: int | None = None
    posted: int = 0
    accepted: int = 0
    duplicates: int = 0
    batches: int = 0

    def through(self, source: str) -> str:
        return f", through line {self.line} of {source}" if self.line is not None else ""


def _events(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = client_config(args, environ)
    stream = _open_events(args.file)
    source = "stdin" if args.file == "-" else args.file
    err = Stderr(sys.stderr)
    done = _Posted()
    skipped = 0
    try:
        events = read_events(stream, source)
        for line, _ in islice(events, args.skip):
            skipped += 1
            done.handled, done.line = skipped, line
        with config.client(retry_deadline=args.retry_deadline, on_retry=err.retrying) as client:
            for batch in _batches(events, args.batch):
                try:
                    result = client.post_events([event for _, event in batch])
                except ApiError as error:
                    raise _located(error, batch, done.handled, source) from error
                done.handled += len(batch)
                done.line = batch[-1][0]
                done.posted += len(batch)
                done.batches += 1
                done.accepted += result.accepted
                done.duplicates += result.duplicates
                err.progress(
                    f"ccms: posted {plural(done.posted, 'event')} (accepted {done.accepted:,},"
                    f" duplicates {done.duplicates:,})"
                )
    except REPORTED_ERRORS as error:
        err.end()
        if getattr(args, "debug", False):
            raise
        code = report(error)
        if done.handled:
            err.say(
                f"{plural(done.handled, 'event')} {'was' if done.handled == 1 else 'were'}"
                f" handled{done.through(source)}; resume with --skip {done.handled}"
            )
        return code
    except KeyboardInterrupt:
        err.end()
        if not done.handled:
            err.say(f"stopped before any event of {source} was handled")
        elif done.line is not None:
            err.say(
                f"stopped after line {done.line} of {source} ({plural(done.handled, 'event')}"
                f" handled): resume with --skip {done.handled}"
            )
        else:
            err.say(
                f"stopped after {plural(done.handled, 'event')} of {source}:"
                f" resume with --skip {done.handled}"
            )
        return EXIT_INTERRUPTED
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    err.end()
    if skipped < args.skip:
        err.say(f"{source} holds only {plural(skipped, 'event')}, all skipped")
    summary = {"accepted": done.accepted, "duplicates": done.duplicates, "posted": done.posted,
               "skipped": skipped, "batches": done.batches}  # fmt: skip
    if args.json:
        print(orjson.dumps(summary).decode())
    else:
        print(
            f"accepted {done.accepted:,}, duplicates {done.duplicates:,}"
            f" ({plural(done.posted, 'event')} in {plural(done.batches, 'batch', 'batches')},"
            f" {skipped:,} skipped)"
        )
    return EXIT_OK
