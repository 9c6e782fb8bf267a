"""``ccms watch``: a live table of a floor: a whole VDN, skill queues, or given agents.

    ccms watch 1 1                  every agent of call center 1, VDN 1
    ccms watch 1 1 --skill 3        the signed-in agents of skill queue 3
    ccms watch 1 1 101 102 103      these agents

Each frame draws a title, the agents per status, and the table (by status, talking
first, then longest in state first), fitted to the terminal: rows that do not fit are
summed up as ``+N more``, narrow terminals drop the sign-in time and the CTI status first.

Where the rows come from is the loop's one data source: :class:`StreamFloor`, the live
stream (a snapshot, then each change as it happens; a frame at once on a change, else
every ``--interval``; "reconnecting" under the table while the connection is down), or
:class:`Floor`, the monitoring routes polled every ``--interval`` (``--poll``, and against
a server without the stream, such as a vendor CC-CMS). The loop asks it for the rows, the
names of the rows it shows, what is wrong, and to wait for the next frame.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import anyio
import httpx

from ccms.cli.client import (
    Stderr,
    client_config,
    connection_flags,
    place_args,
    positive_float,
    positive_int,
)
from ccms.cli.command import EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, Commands
from ccms.client.clients import AsyncClient
from ccms.client.config import ClientConfig
from ccms.client.display import WatchRow, cut, plural, watch_counts, watch_table
from ccms.client.errors import AgentNotFoundError, ApiError, CCMSClientError
from ccms.client.models import AgentDetail, AgentStatusInfo
from ccms.client.retry import reason, retryable
from ccms.client.stream import StreamAgent, StreamView
from ccms.domain.status import agent_status
from ccms.settings import SettingsError

NAME_CONCURRENCY = 16  # single queries in flight while reading names
BATCH_LIMIT = 6000  # agentIds of one agentgroup/agentstatusinfobyagentids request
PAGE_LIMIT = 1000  # agents of one vdn/totalagentabstractex3 page
CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear the screen
FRAME_S = 0.1  # at most ten frames a second when changes pour in


def add_commands(subparsers: Commands) -> None:
    """Add ``watch`` to the ``ccms`` command group."""
    watch = subparsers.add_parser(
        "watch",
        help="Live table of a VDN, a skill queue or given agents.",
        description="A live table of the agents of a VDN (no WORKNO), of skill queues"
        " (--skill) or of the agents given: the agents per status, then the agents by status"
        " (talking first), longest in state first, fitted to the terminal.",
        epilog=EXIT_CODES_HELP + " (--once: 1 also when an agent given is not known)",
    )
    place_args(watch)
    watch.add_argument(
        "work_nos", metavar="WORKNO", type=int, nargs="*",
        help="Agents to watch (default: every agent of the VDN).",
    )  # fmt: skip
    watch.add_argument(
        "--skill", dest="skills", metavar="ID", type=positive_int, action="append",
        help="Watch the signed-in agents of skill queue ID; repeat for several queues"
        " (default: the whole VDN).",
    )  # fmt: skip
    watch.add_argument(
        "--interval", type=positive_float, default=1.0, metavar="SECONDS",
        help="Seconds between redraws (default 1); a change on the stream shows at once."
        " With --poll, seconds between polls.",
    )  # fmt: skip
    watch.add_argument("--once", action="store_true", help="Print one table and exit.")
    watch.add_argument(
        "--poll", action="store_true",
        help="Poll the monitoring routes instead of reading the live stream (for a proxy"
        " that buffers it; a server without the stream is polled anyway).",
    )  # fmt: skip
    connection_flags(watch)
    watch.set_defaults(handler=_watch)


@dataclass(frozen=True)
class Scope:
    """Which agents ``watch`` shows: ``work_nos`` given, else ``skills``, else the VDN."""

    cc_id: int
    vdn: int
    work_nos: tuple[int, ...] = ()
    skills: tuple[int, ...] = ()

    @classmethod
    def of(cls, args: argparse.Namespace) -> Scope:
        work_nos = tuple(dict.fromkeys(args.work_nos or ()))
        skills = tuple(dict.fromkeys(args.skills or ()))
        if work_nos and skills:
            raise SettingsError("watch: give work numbers or --skill, not both")
        return cls(args.cc_id, args.vdn, work_nos, skills)

    def title(self) -> str:
        place = f"call center {self.cc_id}, VDN {self.vdn}"
        if self.skills:
            queues = ", ".join(str(skill) for skill in self.skills)
            place += f", skill queue{'s' if len(self.skills) > 1 else ''} {queues}"
        return place


class Floor:
    """The rows of a :class:`Scope`, read through the monitoring routes.

    - given agents: their states through ``agentgroup/agentstatusinfobyagentids``, one
      request per 6,000 agents; an agent the answer leaves out is unknown, and costs no
      request of its own. Against a server without that route (HTTP 404): one
      ``agent/agentbyworkno`` per agent and refresh, an unknown agent asked once only.
    - a VDN: its agents through ``vdn/totalagentabstractex3`` (a request per 1,000), their
      sign-in times through the batch route.
    - skill queues: ``skill/agentbyconfigedskill``, one request per queue (names included).

    Names come from ``agent/agentbyworkno``, once per agent, only for the rows shown.
    """

    def __init__(self, client: AsyncClient, scope: Scope) -> None:
        self.client = client
        self.scope = scope
        self.names: dict[int, str | None] = {}
        self._batch = True  # the server has agentgroup/agentstatusinfobyagentids
        self._unknown: set[int] = set()

    def note(self, interval: float) -> str:
        return f" (every {interval:g}s, Ctrl-C to stop)"

    def trouble(self) -> str:
        return ""  # a failed poll raises: the loop shows it

    async def pause(self, seconds: float, sleep: Callable[[float], Awaitable[None]]) -> None:
        await sleep(seconds)

    async def rows(self) -> list[WatchRow]:
        """Every agent of the scope now (names as far as they are known)."""
        if self.scope.skills:
            return await self._skill_rows()
        if self.scope.work_nos:
            return await self._agent_rows()
        return await self._vdn_rows()

    async def named(self, rows: Sequence[WatchRow], first: int | None) -> list[WatchRow]:
        """``rows`` with names, read once per agent for the ``first`` of the table's order."""
        shown = sorted((r for r in rows if r.known), key=WatchRow.sort_key)[:first]
        missing = [row.work_no for row in shown if row.work_no not in self.names]
        for work_no, found in (await self._details(missing)).items():
            self.names[work_no] = found.name if isinstance(found, AgentDetail) else None
        return [dataclasses.replace(r, name=self.names.get(r.work_no)) for r in rows]

    async def _details(self, work_nos: Sequence[int]) -> dict[int, AgentDetail | None]:
        """Each agent's detail by a single query; None for an agent the server does not know."""
        limit = asyncio.Semaphore(NAME_CONCURRENCY)
        scope = self.scope

        async def one(work_no: int) -> AgentDetail | None:
            async with limit:
                try:
                    return await self.client.agent_detail(scope.cc_id, scope.vdn, work_no)
                except AgentNotFoundError:
                    return None

        found = await asyncio.gather(*(one(n) for n in work_nos))
        return dict(zip(work_nos, found, strict=True))

    async def _infos(self, work_nos: Sequence[int]) -> dict[int, AgentStatusInfo] | None:
        """The batch route's answer by work number; None when the server lacks the route."""
        if not self._batch:
            return None
        infos: dict[int, AgentStatusInfo] = {}
        scope = self.scope
        try:
            for start in range(0, len(work_nos), BATCH_LIMIT):
                chunk = work_nos[start : start + BATCH_LIMIT]
                for info in await self.client.agent_status_infos(scope.cc_id, scope.vdn, chunk):
                    infos[info.work_no] = info
        except ApiError as error:
            if error.http_status != 404:
                raise
            self._batch = False
            return None
        return infos

    def _row(self, info: AgentStatusInfo) -> WatchRow:
        return WatchRow(
            info.work_no, self.names.get(info.work_no), agent_status(info.current_state),
            info.current_state, info.current_state_time, info.logon_time,
        )  # fmt: skip

    async def _agent_rows(self) -> list[WatchRow]:
        work_nos = self.scope.work_nos
        infos = await self._infos(work_nos)
        if infos is not None:
            return [self._row(infos[n]) if n in infos else WatchRow(n) for n in work_nos]
        asked = [n for n in work_nos if n not in self._unknown]
        details = await self._details(asked)
        rows = []
        for work_no in work_nos:
            agent = details.get(work_no)
            if agent is None:
                self._unknown.add(work_no)
                rows.append(WatchRow(work_no))
                continue
            self.names[work_no] = agent.name
            rows.append(WatchRow.of(agent))
        return rows

    async def _vdn_rows(self) -> list[WatchRow]:
        scope = self.scope
        agents: dict[int, WatchRow] = {}
        offset = 0
        while True:
            page = await self.client.vdn_agents(scope.cc_id, scope.vdn, offset, PAGE_LIMIT)
            for agent in page.items:
                agents[agent.work_no] = WatchRow(
                    agent.work_no, self.names.get(agent.work_no),
                    agent_status(agent.current_state), agent.current_state,
                    agent.current_state_time,
                )  # fmt: skip
            offset += len(page.items)
            if not page.items or offset >= page.count:
                break
        infos = await self._infos(list(agents)) or {}
        return [self._row(infos[n]) if n in infos else row for n, row in agents.items()]

    async def _skill_rows(self) -> list[WatchRow]:
        scope = self.scope
        rows: dict[int, WatchRow] = {}
        for skill in scope.skills:
            for agent in await self.client.skill_agents(scope.cc_id, scope.vdn, skill):
                self.names[agent.work_no] = agent.name
                rows[agent.work_no] = WatchRow(
                    agent.work_no, agent.name, agent.status, agent.cti_status,
                    agent.current_state_time, agent.login_date,
                )  # fmt: skip
        return list(rows.values())


class StreamFloor:
    """The rows of a :class:`Scope` from the live stream (``GET /ccms/v1/stream``, names
    included): :meth:`run` reads it into a :class:`~ccms.client.stream.StreamView` (a
    snapshot, then each change, resumed by itself after a drop); the loop draws what the
    view holds, a frame at once when it changes.

    While the connection is down the table stays as it was, and :meth:`trouble` says so:
    ``ccms: reconnecting in 1.4s (attempt 2): connection refused; as of 10:42:03``.
    A failure a wait cannot cure (a refused key, an in-band error) ends the watch.
    """

    def __init__(self, client: AsyncClient, scope: Scope, *, give_up_after: float | None) -> None:
        self.scope = scope
        self.view = StreamView()
        self._stream = client.stream(
            scope.cc_id, scope.vdn, skills=scope.skills or None, agents=scope.work_nos or None,
            reconnect_deadline=give_up_after,
        )  # fmt: skip
        self._changed = anyio.Event()
        self._failed: CCMSClientError | None = None
        self._live_until: float | None = None  # when the connection last dropped

    async def run(self) -> None:
        """Read the stream until it fails for good (or the task is cancelled)."""
        try:
            async with self._stream as items:
                async for item in items:
                    was_live = self.view.live
                    if self.view.apply(item):
                        if was_live and not self.view.live:
                            self._live_until = time.time()
                        self._changed.set()
        except CCMSClientError as error:
            self._failed = error
            self._changed.set()

    async def ready(self) -> CCMSClientError | None:
        """Wait for the first snapshot, or the first trouble; the error that ended the
        stream, if it ended."""
        while (
            not self.view.synced
            and self._failed is None
            and (self.view.status is None or self.view.live)
        ):
            await self._next_change()
        return self._failed

    def note(self, interval: float) -> str:
        if self.view.status is not None and not self.view.live:
            return " (reconnecting, Ctrl-C to stop)"  # the table is as of the drop
        return " (live, Ctrl-C to stop)"

    def trouble(self) -> str:
        status = self.view.status
        if status is None or status.live or status.error is None:
            return ""
        text = f"ccms: reconnecting in {status.retry_in:.1f}s (attempt {status.attempt}):"
        text += f" {reason(status.error)}"
        if self._live_until is not None and self.view.synced:
            text += f"; as of {time.strftime('%H:%M:%S', time.localtime(self._live_until))}"
        return text

    async def pause(self, seconds: float, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Until the view changes (then a short pause, so a burst is one frame) or
        ``seconds`` pass (the times in state move on)."""
        with anyio.move_on_after(seconds):
            await self._next_change()
            await sleep(FRAME_S)

    async def _next_change(self) -> None:
        await self._changed.wait()
        self._changed = anyio.Event()

    async def rows(self) -> list[WatchRow]:
        """The agents of the scope as the stream last said."""
        await self.ready()
        if self._failed is not None:
            raise self._failed
        now_ms = self.view.server_now_ms()
        agents = self.view.agents
        if self.scope.work_nos:
            return [self._row(agents[n], now_ms) if n in agents else WatchRow(n)
                    for n in self.scope.work_nos]  # fmt: skip
        wanted = set(self.scope.skills)
        return [
            self._row(agent, now_ms) for agent in agents.values()
            if not wanted or (agent.signed_in and wanted.intersection(agent.skills))
        ]  # fmt: skip

    async def named(self, rows: Sequence[WatchRow], first: int | None) -> list[WatchRow]:
        return list(rows)  # the stream carries the names

    @staticmethod
    def _row(agent: StreamAgent, now_ms: int) -> WatchRow:
        return WatchRow(
            agent.work_no, agent.name, agent.status, agent.cti_status,
            agent.seconds_in_state(now_ms), agent.login_date,
        )  # fmt: skip


Source = Floor | StreamFloor


@dataclass(frozen=True)
class Screen:
    """Where the table goes: colours (not with ``NO_COLOR``, of any value), a redraw in
    place (a live table on a terminal, ``NO_COLOR`` or not), and the terminal's size
    (``None``: not a terminal: every row, at full width)."""

    colour: bool
    redraw: bool
    size: Callable[[], os.terminal_size] | None = None

    @classmethod
    def of(cls, stream: IO[str], environ: Mapping[str, str], *, live: bool) -> Screen:
        terminal = stream.isatty() and environ.get("TERM") != "dumb"
        if not terminal:
            return cls(colour=False, redraw=False)

        def size() -> os.terminal_size:
            return terminal_size(stream, environ)

        return cls(colour="NO_COLOR" not in environ, redraw=live, size=size)


def terminal_size(stream: IO[str], environ: Mapping[str, str]) -> os.terminal_size:
    """The terminal's columns and lines; ``COLUMNS`` and ``LINES`` win, as for ``ls``."""
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        columns, lines = 80, 24
    try:
        columns = int(environ.get("COLUMNS", columns))
        lines = int(environ.get("LINES", lines))
    except ValueError:
        pass
    return os.terminal_size((max(columns, 20), max(lines, 5)))


def _frame(
    scope: Scope, rows: Sequence[WatchRow], screen: Screen, footer: str, note: str, now: float
) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(now))
    title = f"{scope.title()}: {plural(len(rows), 'agent')} at {stamp}"
    counts = watch_counts(rows, colour=screen.colour)
    room = width = None
    if screen.size is not None:
        width, lines = screen.size()
        # the title, the counts, the footer, and the last line left free (no scrolling)
        room = max(2, lines - 3 - (1 if footer else 0))
        note = note if len(title) + len(note) <= width else ""
        title, counts = title[:width], cut(counts, width)
    table = watch_table(rows, now_ms=int(now * 1000), colour=screen.colour, room=room,
                        width=width)  # fmt: skip
    clear = CLEAR if screen.redraw else ""
    return f"{clear}{title}{note}\n{counts}\n{table}\n" + (f"{footer}\n" if footer else "")


def _table_room(screen: Screen) -> int | None:
    return None if screen.size is None else screen.size().lines


async def watch_loop(
    args: argparse.Namespace,
    floor: Source,
    screen: Screen,
    write: Callable[[str], None],
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> int:
    """Draw a frame, then another when the floor says (once with ``--once``: its exit
    code)."""
    scope = floor.scope
    live = not args.once
    rows: list[WatchRow] = []
    while True:
        footer = ""
        try:
            rows = await floor.named(await floor.rows(), _table_room(screen))
            footer = floor.trouble()
        except CCMSClientError as error:
            if not live or not retryable(error):
                raise  # TLS, credentials, a bad argument: the next refresh would not pass
            footer = f"ccms: {error} (retrying)"  # the last table stays, with the reason
        note = floor.note(args.interval) if live else ""
        write(_frame(scope, rows, screen, footer, note, time.time()))
        if not live:
            return EXIT_OK if all(row.known for row in rows) else EXIT_FAILED
        await floor.pause(args.interval, sleep)


def _no_stream(error: CCMSClientError | None) -> bool:
    """A server without the stream route (a vendor CC-CMS, an older ccms): poll it."""
    return isinstance(error, ApiError) and error.http_status == 404


async def watch(
    args: argparse.Namespace,
    config: ClientConfig,
    screen: Screen,
    write: Callable[[str], None],
    *,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """:func:`watch_loop` with its client and its data source: the live stream, or the
    polled monitoring routes with ``--poll`` or when the server has no stream. A live
    table retries (within one interval when polling) and shows the failure under the
    table; ``--once`` says on stderr when it retries, and gives up after
    ``--retry-deadline``."""
    scope = Scope.of(args)
    live = not args.once
    deadline = min(args.retry_deadline, args.interval) if live else args.retry_deadline
    on_retry = None if live else Stderr(sys.stderr).retrying
    async with config.async_client(
        retry_deadline=deadline, transport=transport, on_retry=on_retry
    ) as client:
        if not args.poll:
            floor = StreamFloor(client, scope, give_up_after=None if live else deadline)
            outcome: int | Exception | None = None  # None: no stream, poll instead
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(floor.run)
                try:
                    if not _no_stream(await floor.ready()):
                        outcome = await watch_loop(args, floor, screen, write, sleep)
                except Exception as error:  # raised once the reader stopped, not in a group
                    outcome = error
                tasks.cancel_scope.cancel()
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is not None:
                return outcome
        return await watch_loop(args, Floor(client, scope), screen, write, sleep)


LiveTable = Callable[
    [argparse.Namespace, ClientConfig, "Screen", Callable[[str], None]],
    Coroutine[Any, Any, int],
]


def run_live(table: LiveTable, args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run a live table command (``watch``, ``queues``) on stdout: Ctrl-C stops it, exit 0."""
    config = client_config(args, environ)
    screen = Screen.of(sys.stdout, environ, live=not args.once)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        return asyncio.run(table(args, config, screen, write))
    except KeyboardInterrupt:
        write("\n")
        return EXIT_OK


def _watch(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    Scope.of(args)  # a usage error before anything else
    return run_live(watch, args, environ)
