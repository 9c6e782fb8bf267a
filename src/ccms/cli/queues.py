"""``ccms queues CCID VDN``: a live table of a VDN's skill queues, from the live stream's
queue figures (``queues=1``, ``docs/stream.md``).

    ccms queues 1 1                 every skill queue of call center 1, VDN 1
    ccms queues 1 1 --skills 1,2    these queues
    ccms queues 1 1 --once          one table, for a script (exit 1 without call data)

A row per queue and a total: calls waiting, the longest wait (counted up every second on
the server's clock, with no event needed), and the calls of the current 5 minutes that
entered, were answered, answered within the service level (as a share of those answered
or abandoned) and were abandoned. "reconnecting" under the table while the stream is down.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import anyio

from ccms.cli.client import Stderr, connection_flags, place_args, positive_float
from ccms.cli.command import EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, Commands
from ccms.cli.wallboard import skill_list
from ccms.cli.watch import CLEAR, Screen, run_live
from ccms.client.clients import AsyncClient
from ccms.client.config import ClientConfig
from ccms.client.display import duration
from ccms.client.stream import StreamQueue, StreamQueues, StreamStatus

HEADERS = ("QUEUE", "WAITING", "LONGEST", "ENTERED", "ANSWERED", "SL", "ABANDONED")


def add_commands(subparsers: Commands) -> None:
    """Add ``queues`` to the ``ccms`` command group."""
    parser = subparsers.add_parser(
        "queues",
        help="Live table of a VDN's skill queues: waiting, longest wait, service level.",
        description="A live table of the skill queues of a VDN, from the live stream: the"
        " calls waiting and the longest wait now, and the current 5 minutes' calls entered,"
        " answered, answered within the service level, and abandoned. The server sends"
        " figures once it has call data for the VDN.",
        epilog=EXIT_CODES_HELP + " (--once: 1 also when no figures came within --wait)",
    )
    place_args(parser)
    parser.add_argument(
        "--skills", type=skill_list, metavar="IDS",
        help="Only these skill queues (a comma list: 1,2; default: every queue of the VDN).",
    )  # fmt: skip
    parser.add_argument("--once", action="store_true", help="Print one table and exit.")
    parser.add_argument(
        "--wait", type=positive_float, default=10.0, metavar="SECONDS",
        help="With --once: how long to wait for the figures (default 10).",
    )  # fmt: skip
    connection_flags(parser)
    parser.set_defaults(handler=_queues)


def _wait(queue: StreamQueue, now_ms: int) -> str:
    waited = queue.longest_wait_ms(now_ms)
    return "-" if waited is None else duration(waited // 1000)


def _level(answered_in: int, answered: int, abandoned: int) -> str:
    offered = answered + abandoned
    return "-" if not offered else f"{round(100 * answered_in / offered)}%"


def queue_table(figures: StreamQueues, now_ms: int) -> str:
    """The table of ``figures`` at ``now_ms`` (server time): a row per queue and a total."""
    rows = [
        (str(q.skill_id), str(q.waiting), _wait(q, now_ms), str(q.entered), str(q.answered),
         _level(q.answered_in_service_level, q.answered, q.abandoned), str(q.abandoned))
        for q in figures.queues
    ]  # fmt: skip
    queues = figures.queues
    waits = [q.longest_wait_since for q in queues if q.longest_wait_since is not None]
    total = StreamQueue(
        0, sum(q.waiting for q in queues), min(waits) if waits else None,
        sum(q.entered for q in queues), sum(q.answered for q in queues),
        sum(q.answered_in_service_level for q in queues), sum(q.abandoned for q in queues),
        sum(q.ended for q in queues),
    )  # fmt: skip
    rows.append(
        ("total", str(total.waiting), _wait(total, now_ms), str(total.entered),
         str(total.answered), _level(total.answered_in_service_level, total.answered,
         total.abandoned), str(total.abandoned))
    )  # fmt: skip
    headers = (*HEADERS[:5], f"SL {figures.service_level_s}s", HEADERS[6])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: tuple[str, ...]) -> str:
        aligned = (c.ljust(w) if i == 0 else c.rjust(w)
                   for i, (c, w) in enumerate(zip(cells, widths, strict=True)))  # fmt: skip
        return "  ".join(aligned).rstrip()

    lines = [line(headers), *(line(row) for row in rows)]
    return "\n".join(lines)


def frame(cc_id: int, vdn: int, figures: StreamQueues, now_ms: int, footer: str = "") -> str:
    window = datetime.fromtimestamp(figures.window_start / 1000, UTC).strftime("%H:%M")
    stamp = time.strftime("%H:%M:%S", time.localtime(now_ms / 1000))
    title = (f"call center {cc_id}, VDN {vdn}: queues at {stamp}"
             f" (the 5 minutes from {window} UTC)")  # fmt: skip
    return f"{title}\n{queue_table(figures, now_ms)}\n" + (f"{footer}\n" if footer else "")


class Board:
    """What the reader saw: the newest figures, the offset of the server's clock, and the
    connection's state."""

    def __init__(self) -> None:
        self.figures: StreamQueues | None = None
        self.offset_ms = 0
        self.footer = ""
        self.changed = asyncio.Event()

    def take(self, item: object) -> None:
        if isinstance(item, StreamQueues):
            self.figures = item
            self.offset_ms = item.server_time - int(time.time() * 1000)
            self.changed.set()
        elif isinstance(item, StreamStatus):
            why = f" ({item.error})" if item.error is not None else ""
            self.footer = "" if item.live else f"reconnecting{why}"
            self.changed.set()

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms


async def queues(
    args: argparse.Namespace,
    config: ClientConfig,
    screen: Screen,
    write: Callable[[str], None],
) -> int:
    skills = [int(s) for s in args.skills.split(",")] if args.skills else None
    board = Board()
    failure: list[BaseException] = []
    outcome: int | BaseException = EXIT_FAILED
    async with (
        config.async_client(retry_deadline=args.retry_deadline) as client,
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(_read, client, args, skills, board, failure)
        try:
            outcome = await _draw(args, board, screen, write, failure)
        except Exception as error:  # raised once the reader stopped, not in a group
            outcome = error
        tasks.cancel_scope.cancel()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


async def _read(
    client: AsyncClient,
    args: argparse.Namespace,
    skills: list[int] | None,
    board: Board,
    failure: list[BaseException],
) -> None:
    deadline = args.retry_deadline if args.once else None
    try:
        async with client.stream(
            args.cc_id, args.vdn, skills=skills, queues=True, reconnect_deadline=deadline
        ) as stream:
            async for item in stream:
                board.take(item)
    except Exception as exc:  # shown by the drawing loop, which stops
        failure.append(exc)
        board.changed.set()


async def _draw(
    args: argparse.Namespace,
    board: Board,
    screen: Screen,
    write: Callable[[str], None],
    failure: list[BaseException],
) -> int:
    place = f"call center {args.cc_id}, VDN {args.vdn}"
    if args.once:
        with anyio.move_on_after(args.wait):
            while board.figures is None and not failure:
                board.changed.clear()
                await board.changed.wait()
        if failure:
            raise failure[0]
        if board.figures is None:
            Stderr(sys.stderr).say(
                f"no queue figures for {place} within {args.wait:g} s (no call data yet?)"
            )
            return EXIT_FAILED
        write(frame(args.cc_id, args.vdn, board.figures, board.now_ms()))
        return EXIT_OK
    write(f"waiting for the queue figures of {place} (they come once it has call data)\n")
    while True:
        board.changed.clear()
        with anyio.move_on_after(1.0):  # the longest wait counts up every second
            await board.changed.wait()
        if failure:
            raise failure[0]
        # on a terminal, redrawn every second; into a pipe, a table each time they change
        if board.figures is not None and (screen.redraw or board.changed.is_set()):
            clear = CLEAR if screen.redraw else ""
            text = frame(args.cc_id, args.vdn, board.figures, board.now_ms(), board.footer)
            write(clear + text + ("" if screen.redraw else "\n"))


def _queues(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    return run_live(queues, args, environ)
