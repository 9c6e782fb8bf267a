"""A fake Asterisk Manager Interface at the process boundary: the recorded fixture, live.

:class:`FakeAsterisk` listens on loopback in a thread of its own (its own event loop), so
that a test drives it from synchronous code while an adapter process talks to it. It
speaks what the adapter uses: the greeting, ``Login`` (the secret is checked, the
``Events`` classes filter what the session is sent), ``Ping`` and ``QueueStatus``
(answered from the member table the replayed frames keep up to date, in ``QueueStatus``'s
own field names), ``Logoff``. :meth:`play` replays the event frames of the real Asterisk
22 transcript at its recorded pace divided by ``speed``; its faults: a socket closed in
the middle of a frame, a half-open socket (nothing sent, Pings unanswered), ``Shutdown``
then a new boot with a smaller ``Uptime``, dropped and duplicated frames.

Times: the fixture's ``Timestamp``, ``LastCall``, ``LastPause`` and ``LoginTime``, and the
seconds of the channels' ``Uniqueid`` and ``Linkedid`` (the second each channel was made),
are moved by a whole number of seconds (``shift``, fixed by the first :meth:`play`) so that
the first frame played happens just after that call; durations stay in Asterisk seconds
whatever the speed, so the fake's clock runs ahead of the wall clock while it plays fast
(a ``Ping``'s ``Timestamp`` is that clock too).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ccms.feeds.asterisk.protocol import Frame, parse_frame
from ccms.feeds.asterisk.transcript import Entry, read_transcript

FIXTURE = Path(__file__).with_name("asterisk22-queue-scenarios.txt")  # the shared recording
TIME_FIELDS = ("LastCall", "LastPause", "LoginTime")
ID_FIELDS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")  # <seconds>.<sequence>
MEMBER_EVENTS = {"QueueMemberStatus", "QueueMemberAdded", "QueueMemberPause",
                 "QueueMemberPenalty", "QueueMemberRinginuse"}  # fmt: skip
STATUS_FIELDS = ("Queue", "Name", "Location", "StateInterface", "Membership", "Penalty",
                 "CallsTaken", "LastCall", "LastPause", "LoginTime", "InCall", "Status",
                 "Paused", "PausedReason", "Wrapuptime")  # fmt: skip


def fixture_entries() -> list[Entry]:
    return read_transcript(FIXTURE)


def first_timestamp(entries: Iterable[Entry]) -> float:
    for entry in entries:
        if entry.frame is not None and entry.kind == "frame" and "Timestamp" in entry.frame:
            return float(entry.frame["Timestamp"]) - entry.t
    raise ValueError("no Timestamp in the transcript")


def scenario(entries: list[Entry]) -> tuple[list[tuple[float, Frame]], list[Frame]]:
    """The fixture's unsolicited events (t, frame), and its first QueueStatus members."""
    actions: dict[str, str] = {}
    events: list[tuple[float, Frame]] = []
    members: list[Frame] = []
    first_list: str | None = None
    for entry in entries:
        frame = entry.frame
        if entry.kind == "sent" and frame is not None:
            actions[frame.get("ActionID")] = frame.get("Action")
            if frame.get("Action") == "QueueStatus" and first_list is None:
                first_list = frame.get("ActionID")
            continue
        if entry.kind != "frame" or frame is None:
            continue
        if frame.action_id:
            if frame.action_id == first_list and frame.event == "QueueMember":
                members.append(frame)
            continue  # answers to the recording client's own actions
        if frame.event in ("FullyBooted", "SuccessfulAuth"):
            continue  # the fake says these itself, at each login
        events.append((entry.t, frame))
    return events, members


def _classes(frame: Frame) -> set[str]:
    return {c.strip() for c in frame.get("Privilege").split(",") if c.strip()}


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self.classes: set[str] = set()


class FakeAsterisk:
    """One fake Asterisk (see the module's docstring); ``with FakeAsterisk() as ami``."""

    def __init__(self, secret: str = "ccmspass", uptime: float = 23.0) -> None:
        self.secret = secret
        self.uptime = uptime
        self.booted_at = time.monotonic()
        self.events, members = scenario(fixture_entries())
        self.origin = first_timestamp(fixture_entries())
        self.shift = int(time.time() - self.origin) + 1  # set again by the first play()
        self._played = False
        self._last_ts = 0.0
        self.table: dict[tuple[str, str], dict[str, str]] = {}
        for frame in members:
            self._keep(frame.fields)
        self.port = 0
        self.logins = 0
        self.pings = 0
        self.answer_pings = True
        self.silent = False
        self.queue_status_asked = 0
        self.queue_status_delay = 0.0  # seconds before QueueStatus is answered
        self.actions: list[str] = []
        self._clients: list[Client] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    # -- life ------------------------------------------------------------------------------

    def __enter__(self) -> FakeAsterisk:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _call(self, coro: Any, timeout: float = 120.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._drop_all()
        if self._server is not None:
            self._server.close()

    async def _drop_all(self) -> None:
        for client in list(self._clients):
            client.writer.close()
        self._clients.clear()

    # -- the member table ----------------------------------------------------------------

    def _keep(self, fields: dict[str, str]) -> None:
        """Keep a member in QueueStatus's own names (Name, Location)."""
        row = {
            "Queue": fields.get("Queue", ""),
            "Name": fields.get("MemberName") or fields.get("Name", ""),
            "Location": fields.get("Interface") or fields.get("Location", ""),
        }
        for key in STATUS_FIELDS[3:]:
            row[key] = fields.get(key, "")
        self.table[(row["Queue"], row["Location"])] = row

    def apply(self, frame: Frame) -> None:
        """What a frame does to the member table (Asterisk's own state) and its clock."""
        if "Timestamp" in frame:
            self._last_ts = max(self._last_ts, float(frame["Timestamp"]) + self.shift)
        if frame.event in MEMBER_EVENTS:
            self._keep(frame.fields)
        elif frame.event == "QueueMemberRemoved":
            self.table.pop((frame.get("Queue"), frame.get("Interface")), None)

    def shifted(self, frame: Frame) -> Frame:
        pairs = []
        for key, value in frame.pairs:
            if key == "Timestamp":
                value = f"{float(value) + self.shift:.6f}"
            elif key in TIME_FIELDS and value not in ("", "0"):
                value = str(int(value) + self.shift)
            elif key in ID_FIELDS and "." in value:
                seconds, sequence = value.split(".", 1)
                value = f"{int(seconds) + self.shift}.{sequence}"
            pairs.append((key, value))
        return Frame(pairs)

    # -- the wire -----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = Client(reader, writer)
        self._clients.append(client)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                data = await reader.readuntil(b"\r\n\r\n")
                await self._action(client, parse_frame(data.decode()))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                self._clients.remove(client)
            writer.close()

    def _write(self, client: Client, *frames: Frame) -> None:
        if self.silent:
            return
        for frame in frames:
            client.writer.write(frame.text().encode() + b"\r\n\r\n")

    async def _action(self, client: Client, action: Frame) -> None:
        name, action_id = action.get("Action"), action.get("ActionID")
        self.actions.append(name)
        if name == "Login":
            if action.get("Secret") != self.secret:
                self._write(client, Frame.of(Response="Error", ActionID=action_id,
                                             Message="Authentication failed"))  # fmt: skip
                return
            client.logged_in = True
            client.classes = {c.strip() for c in action.get("Events", "on").split(",")}
            self.logins += 1
            uptime = self.uptime + (time.monotonic() - self.booted_at)
            self._write(
                client,
                Frame.of(Response="Success", ActionID=action_id, Message="Authentication accepted"),
                Frame.of(Event="FullyBooted", Privilege="system,all", Uptime=f"{uptime:.0f}",
                         LastReload=f"{uptime:.0f}", Status="Fully Booted"),
            )  # fmt: skip
        elif not client.logged_in:
            self._write(client, Frame.of(Response="Error", ActionID=action_id,
                                         Message="Missing action in request"))  # fmt: skip
        elif name == "Ping":
            self.pings += 1
            if self.answer_pings:
                now = max(time.time(), self._last_ts)
                self._write(client, Frame.of(Response="Success", ActionID=action_id, Ping="Pong",
                                             Timestamp=f"{now:.6f}"))  # fmt: skip
        elif name == "QueueStatus":
            self.queue_status_asked += 1
            await asyncio.sleep(self.queue_status_delay)
            frames = [Frame.of(Response="Success", ActionID=action_id, EventList="start",
                               Message="Queue status will follow")]  # fmt: skip
            for row in sorted(self.table.values(), key=lambda r: (r["Queue"], r["Location"])):
                frames.append(self.shifted(Frame([("Event", "QueueMember"), *row.items(),
                                                  ("ActionID", action_id)])))  # fmt: skip
            frames.append(Frame.of(Event="QueueStatusComplete", ActionID=action_id,
                                   EventList="Complete", ListItems=str(len(frames))))  # fmt: skip
            self._write(client, *frames)
        elif name == "Logoff":
            self._write(client, Frame.of(Response="Goodbye", ActionID=action_id))
        else:
            self._write(client, Frame.of(Response="Error", ActionID=action_id,
                                         Message="Invalid/unknown command"))  # fmt: skip
        with contextlib.suppress(ConnectionError):
            await client.writer.drain()

    def _broadcast(self, frame: Frame) -> None:
        wanted = _classes(frame)
        data = self.shifted(frame).text().encode() + b"\r\n\r\n"
        for client in self._clients:
            classes = client.classes
            if (
                client.logged_in
                and not self.silent
                and ({"on", "all"} & classes or wanted & classes)
            ):
                client.writer.write(data)

    # -- what a test does ---------------------------------------------------------------

    def connected(self) -> int:
        return sum(1 for c in self._clients if c.logged_in)

    def play(
        self,
        start: float = 0.0,
        end: float = float("inf"),
        speed: float = 10.0,
        drop: Iterable[int] = (),
        duplicate: Iterable[int] = (),
    ) -> list[tuple[int, float, Frame]]:
        """Replay the fixture's events with ``start <= t < end``; ``drop`` and ``duplicate``
        name events by their index in :attr:`events`. Returns what was played."""
        return self._call(self._play(start, end, speed, set(drop), set(duplicate)))

    async def _play(
        self, start: float, end: float, speed: float, drop: set[int], duplicate: set[int]
    ) -> list[tuple[int, float, Frame]]:
        if not self._played:
            self._played = True
            first = next((t for t, _ in self.events if t >= start), start)
            self.shift = int(time.time() + 0.5 - (self.origin + first)) + 1
        began = time.monotonic()
        played = []
        for index, (t, frame) in enumerate(self.events):
            if not start <= t < end:
                continue
            delay = began + (t - start) / speed - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.apply(frame)
            played.append((index, t, frame))
            if index in drop:
                continue
            for _ in range(2 if index in duplicate else 1):
                self._broadcast(frame)
            for client in self._clients:
                with contextlib.suppress(ConnectionError):
                    await client.writer.drain()
        return played

    def index_of(self, event: str, t: float, **fields: str) -> int:
        """The index of the fixture event named ``event`` at time ``t`` (3 decimals)."""
        for index, (at, frame) in enumerate(self.events):
            if (
                frame.event == event
                and abs(at - t) < 0.0005
                and all(frame.get(k) == v for k, v in fields.items())
            ):
                return index
        raise LookupError(f"no {event} at t={t}")

    def close_mid_frame(self, frame: Frame) -> None:
        """Write the first half of ``frame`` to every session, then close the sockets."""
        self._call(self._close_mid_frame(frame))

    async def _close_mid_frame(self, frame: Frame) -> None:
        data = self.shifted(frame).text().encode()
        for client in self._clients:
            client.writer.write(data[: len(data) // 2])
            with contextlib.suppress(ConnectionError):
                await client.writer.drain()
        await self._drop_all()

    def half_open(self, on: bool = True) -> None:
        """Stop (or start again) answering anything: a socket that is open but dead."""
        self.silent = on
        self.answer_pings = not on

    def restart(self, uptime: float = 2.0) -> None:
        """``Shutdown``, the sockets closed, then an Asterisk whose Uptime starts again."""
        self._call(self._restart(uptime))

    async def _restart(self, uptime: float) -> None:
        shutdown = Frame.of(Event="Shutdown", Privilege="system,all", Shutdown="Cleanly",
                            Restart="True")  # fmt: skip
        for client in self._clients:
            if client.logged_in:
                self._write(client, shutdown)
                with contextlib.suppress(ConnectionError):
                    await client.writer.drain()
        await self._drop_all()
        self.uptime = uptime
        self.booted_at = time.monotonic()
