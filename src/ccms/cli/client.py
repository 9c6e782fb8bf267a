"""The client commands of ``ccms``: ``agent``, ``events post`` and ``watch``.

Each command takes ``--profile``, ``--url``, ``--ak``, ``--sk`` (flags override
``CCMS_*`` variables, which override the profile; see :mod:`ccms.client.config`).
Errors are one line on stderr (``ccms: ...``), a traceback only with ``--debug``; the exit
codes are those of :mod:`ccms.cli.command`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import IO, Any

import anyio
import orjson

from ccms.cli.command import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_OK,
    REPORTED_ERRORS,
    Commands,
    InputError,
    report,
)
from ccms.client.clients import AsyncClient
from ccms.client.config import ClientConfig, load_config
from ccms.client.display import WatchRow, agent_panel, watch_table
from ccms.client.errors import ApiError, AuthenticationError, TransportError
from ccms.client.models import AgentDetail, AgentStatusInfo
from ccms.client.retry import DEFAULT_RETRY_DEADLINE
from ccms.domain.status import agent_status

WATCH_CONCURRENCY = 16

# -- argument parsing ------------------------------------------------------------------


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (flags > CCMS_* variables > profile)")
    group.add_argument("--profile", help="Profile of the client file (default: 'default').")
    group.add_argument("--url", help="Server URL, https://host:port (env CCMS_URL).")
    group.add_argument("--ak", help="Access key (env CCMS_AK).")
    group.add_argument(
        "--sk", help="Secret key (env CCMS_SK; prefer the env or sk_command in a profile)."
    )
    group.add_argument(
        "--ca-bundle", metavar="PEM", help="CA bundle to trust for TLS (env CCMS_CA_BUNDLE)."
    )
    group.add_argument(
        "--timeout", type=_positive_float, metavar="SECONDS", help="Per-request timeout."
    )
    group.add_argument(
        "--retry-deadline",
        type=_non_negative_float,
        default=DEFAULT_RETRY_DEADLINE,
        metavar="SECONDS",
        help="Retry 429/503 and connection failures within this time (0: never).",
    )


def _work_no_args(parser: argparse.ArgumentParser, many: bool) -> None:
    parser.add_argument("cc_id", metavar="CCID", type=int, help="Call center id.")
    parser.add_argument("vdn", metavar="VDN", type=int, help="VDN id.")
    if many:
        parser.add_argument("work_nos", metavar="WORKNO", type=int, nargs="+", help="Work numbers.")
    else:
        parser.add_argument("work_no", metavar="WORKNO", type=int, help="Agent work number.")


def add_commands(subparsers: Commands) -> None:
    """Add ``agent``, ``events`` and ``watch`` to the ``ccms`` command group."""
    agent = subparsers.add_parser(
        "agent",
        help="Show one agent's status.",
        description="Show one agent: status, CTI status, time in state, sign-in time.",
        epilog=EXIT_CODES_HELP,
    )
    _work_no_args(agent, many=False)
    agent.add_argument("--json", action="store_true", help="Print the answer's resultDesc.")
    agent.add_argument(
        "--legacy", action="store_true", help="Use the legacy route agentgroup/agentbyworkno."
    )
    _connection_flags(agent)
    agent.set_defaults(handler=_agent)

    events = subparsers.add_parser(
        "events", help="Send CTI events to ccms.", epilog=EXIT_CODES_HELP
    )
    actions = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    post = actions.add_parser(
        "post",
        help="Post events from NDJSON or a JSON array.",
        description="Post CTI events (NDJSON, one object a line, or a JSON array) in batches."
        " Batches are idempotent by eventId: after a failure, resume with --skip.",
        epilog=EXIT_CODES_HELP,
    )
    post.add_argument("file", metavar="FILE", help="Events file, '-' for stdin.")
    post.add_argument(
        "--batch", type=_positive_int, default=1000, help="Events per request (default 1000)."
    )
    post.add_argument(
        "--skip", type=_non_negative_int, default=0, help="Skip the first N events (resume)."
    )
    post.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    _connection_flags(post)
    post.set_defaults(handler=_events)

    watch = subparsers.add_parser(
        "watch",
        help="Live table of agents.",
        description="A live table of agents, by status (talking first), then longest in state.",
        epilog=EXIT_CODES_HELP,
    )
    _work_no_args(watch, many=True)
    watch.add_argument(
        "--interval", type=_positive_float, default=1.0, help="Seconds between refreshes."
    )
    watch.add_argument("--once", action="store_true", help="Print one table and exit.")
    _connection_flags(watch)
    watch.set_defaults(handler=_watch)


# -- running ---------------------------------------------------------------------------


def _config(args: argparse.Namespace, environ: Mapping[str, str]) -> ClientConfig:
    return load_config(
        environ,
        profile=args.profile,
        url=args.url,
        ak=args.ak,
        sk=args.sk,
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
    )


def _colour(stream: IO[str], environ: Mapping[str, str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"


def _agent(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = _config(args, environ)
    with config.client(retry_deadline=args.retry_deadline) as client:
        query = client.agent_detail_legacy if args.legacy else client.agent_detail
        agent = query(args.cc_id, args.vdn, args.work_no)
    if args.json:
        print(orjson.dumps(agent.raw).decode())
    else:
        print(agent_panel(agent, args.cc_id, colour=_colour(sys.stdout, environ)))
    return EXIT_OK


# -- events post -----------------------------------------------------------------------


def _json_line(line: bytes, number: int, source: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{source} line {number}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{source} line {number}: an event must be a JSON object")
    return value


def read_events(lines: Iterable[bytes], source: str) -> Iterator[dict[str, Any]]:
    """Events of NDJSON (one object a line, read lazily) or of one JSON array."""
    numbered = enumerate(lines, 1)
    for number, line in numbered:
        text = line.strip()
        if not text:
            continue
        if not text.startswith(b"["):
            yield _json_line(text, number, source)
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
            yield event
        return


def _batches(events: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(events, size)):
        yield batch


def _open_events(name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    try:
        return open(name, "rb")  # closed by the caller
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror}") from None


def _events(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = _config(args, environ)
    stream = _open_events(args.file)
    source = "stdin" if args.file == "-" else args.file
    tty = sys.stderr.isatty()
    posted = accepted = duplicates = batches = 0
    try:
        events = read_events(stream, source)
        skipped = sum(1 for _ in islice(events, args.skip))
        with config.client(retry_deadline=args.retry_deadline) as client:
            for batch in _batches(events, args.batch):
                result = client.post_events(batch)
                posted += len(batch)
                batches += 1
                accepted += result.accepted
                duplicates += result.duplicates
                progress = (
                    f"ccms: posted {posted} events (accepted {accepted}, duplicates {duplicates})"
                )
                print(("\r" if tty else "") + progress, end="" if tty else "\n", file=sys.stderr)
    except REPORTED_ERRORS as error:
        if tty and posted:
            print(file=sys.stderr)
        if getattr(args, "debug", False):
            raise
        code = report(error)
        if posted or args.skip:
            done = args.skip + posted
            print(f"ccms: {done} events were handled; resume with --skip {done}", file=sys.stderr)
        return code
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if tty and posted:
        print(file=sys.stderr)
    if skipped < args.skip:
        print(f"ccms: {source} holds only {skipped} events, all skipped", file=sys.stderr)
    summary = {"accepted": accepted, "duplicates": duplicates, "posted": posted,
               "skipped": skipped, "batches": batches}  # fmt: skip
    if args.json:
        print(orjson.dumps(summary).decode())
    else:
        print(
            f"accepted {accepted}, duplicates {duplicates}"
            f" ({posted} events in {batches} batches, {skipped} skipped)"
        )
    return EXIT_OK


# -- watch -----------------------------------------------------------------------------


BATCH_LIMIT = 6000  # agentIds of one agentgroup/agentstatusinfobyagentids request


async def _details(
    client: AsyncClient, cc_id: int, vdn: int, work_nos: Sequence[int]
) -> dict[int, AgentDetail | str]:
    """Each agent's detail by a single query, or the message of the answer about it."""
    limit = asyncio.Semaphore(WATCH_CONCURRENCY)

    async def one(work_no: int) -> AgentDetail | str:
        async with limit:
            try:
                return await client.agent_detail(cc_id, vdn, work_no)
            except AuthenticationError:
                raise
            except ApiError as error:
                return error.message

    results = await asyncio.gather(*(one(n) for n in work_nos), return_exceptions=True)
    found: dict[int, AgentDetail | str] = {}
    for work_no, result in zip(work_nos, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        found[work_no] = result
    return found


class _Watcher:
    """The rows of ``watch``: each agent's attributes (name, phone) read once by a single
    query, then every refresh reads the states of all of them through the batch route,
    one request per 6,000 agents. Against a server without the batch route (HTTP 404) it
    falls back to one single query per agent and refresh."""

    def __init__(self, client: AsyncClient, cc_id: int, vdn: int, work_nos: Sequence[int]):
        self.client, self.cc_id, self.vdn, self.work_nos = client, cc_id, vdn, work_nos
        self.known: dict[int, AgentDetail | str] = {}
        self.batch = True

    async def rows(self) -> list[WatchRow]:
        unknown = [n for n in self.work_nos if not isinstance(self.known.get(n), AgentDetail)]
        if unknown or not self.batch:
            fresh = await _details(
                self.client, self.cc_id, self.vdn, self.work_nos if not self.batch else unknown
            )
            self.known.update(fresh)
            if not self.batch:
                return self._rows({})
        try:
            states = await self._states()
        except ApiError as error:
            if error.http_status != 404:
                raise
            self.batch = False
            return await self.rows()
        return self._rows(states)

    async def _states(self) -> dict[int, AgentStatusInfo]:
        states: dict[int, AgentStatusInfo] = {}
        ids = [n for n in self.work_nos if isinstance(self.known.get(n), AgentDetail)]
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            for info in await self.client.agent_status_infos(self.cc_id, self.vdn, chunk):
                states[info.work_no] = info
        return states

    def _rows(self, states: Mapping[int, AgentStatusInfo]) -> list[WatchRow]:
        rows = []
        for work_no in self.work_nos:
            known = self.known.get(work_no)
            if not isinstance(known, AgentDetail):
                rows.append(WatchRow(work_no, error=known or f"agent {work_no} is not known"))
                continue
            info = states.get(work_no)
            if not self.batch or info is None:
                rows.append(WatchRow(work_no, agent=known))
                continue
            agent = dataclasses.replace(
                known,
                cti_status=info.current_state,
                status=agent_status(info.current_state),
                current_state_time=info.current_state_time,
                login_date=info.logon_time,
            )
            rows.append(WatchRow(work_no, agent=agent))
        return rows


async def _watch_loop(
    args: argparse.Namespace,
    config: ClientConfig,
    colour: bool,
    write: Callable[[str], None],
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> int:
    work_nos = list(dict.fromkeys(args.work_nos))
    live = not args.once
    deadline = min(args.retry_deadline, args.interval) if live else args.retry_deadline
    rows: list[WatchRow] = []
    async with config.async_client(retry_deadline=deadline) as client:
        watcher = _Watcher(client, args.cc_id, args.vdn, work_nos)
        while True:
            footer = ""
            try:
                rows = await watcher.rows()
            except TransportError as error:
                if not live:
                    raise
                footer = f"\nccms: {error} (retrying)"
            now = time.time()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
            title = f"call center {args.cc_id}, VDN {args.vdn}: {len(work_nos)} agents at {stamp}"
            if live:
                title += f" (every {args.interval:g}s, Ctrl-C to stop)"
            table = watch_table(rows, now_ms=int(now * 1000), colour=colour)
            clear = "\x1b[H\x1b[2J" if live and colour else ""
            write(f"{clear}{title}\n{table}{footer}\n")
            if not live:
                return EXIT_OK if all(row.agent is not None for row in rows) else EXIT_FAILED
            await sleep(args.interval)


def _watch(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = _config(args, environ)
    colour = _colour(sys.stdout, environ)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        return asyncio.run(_watch_loop(args, config, colour, write))
    except KeyboardInterrupt:
        write("\n")
        return EXIT_OK
