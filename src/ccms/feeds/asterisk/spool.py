"""The on-disk spool: every event the adapter made, until ccms acknowledged it.

Every event goes through the spool, ccms up or down, so that what ccms has not
acknowledged survives a stop, a crash of the adapter, or ccms being down for as long as
the spool has room. It is a folder of segments (``000000000001.jsonl``: one intake event
a line, appended), a ``cursor`` (the segment and byte offset of the first event not yet
acknowledged, replaced atomically after each acknowledgement), ``agents.json`` (the last
event written for each agent, which makes an adapter that restarts send only what changed),
``calls.json`` (the newest moment of a call event written: a replay makes no call event
older) and a ``lock`` (one adapter a folder). Segments wholly acknowledged are deleted.

Events are never skipped and never reordered: :meth:`Spool.read` hands them out in the
order :meth:`Spool.append` took them, and :meth:`Spool.commit` moves the cursor only past
what was handed out. A resend after a crash (events handed out, acknowledged, the cursor
not yet moved) is a no-op in ccms: the event ids are the same.

The spool is bounded (``[spool] max_mb``): :meth:`Spool.append` refuses events that would
pass the bound, and the caller keeps only each agent's newest state until there is room
again (``docs/adapters/asterisk.md``, "ccms down").

Durability: each append is one ``write`` to the segment (it survives the adapter's crash,
not the machine's: the spool does not fsync).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from ccms.domain.agent import AgentKey

SEGMENT_BYTES = 4 << 20
Event = dict[str, Any]


class SpoolError(Exception):
    """The spool folder cannot be used (another adapter holds it, a broken file)."""


class Last:
    """The last event written for one agent: what the adapter need not send again."""

    __slots__ = ("at", "cti_status", "ordinal", "reason", "skills")

    def __init__(self, at: int, cti_status: int, reason: int | None, skills: tuple[int, ...],
                 ordinal: int) -> None:  # fmt: skip
        self.at = at
        self.cti_status = cti_status
        self.reason = reason
        self.skills = skills
        self.ordinal = ordinal

    def as_list(self) -> list[Any]:
        return [self.at, self.cti_status, self.reason, list(self.skills), self.ordinal]


def event_ordinal(event_id: str) -> int:
    """The ordinal an event id ends with (``ami:1:1:1001:1796155478000:0`` -> 0)."""
    tail = event_id.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _key(event: Mapping[str, Any]) -> AgentKey:
    return AgentKey(int(event["ccId"]), int(event["vdn"]), int(event["agentId"]))


class Spool:
    """A folder of undelivered events; one process at a time (:meth:`open` locks it)."""

    def __init__(self, folder: Path, max_bytes: int, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.last: dict[AgentKey, Last] = {}
        self.calls_mark = 0  # the newest `at` of a call event written (ms)
        self.appended = 0  # events appended by this process
        self.committed = 0  # events acknowledged by this process (older ones included)
        self.refused = 0  # events refused because the spool was full
        self._lock_fd: int | None = None
        self._segments: list[int] = []  # numbers, oldest first
        self._write_fd: int | None = None
        self._write_size = 0
        self._cursor = (0, 0)  # (segment, offset) of the first unacknowledged event
        self._read = (0, 0)  # (segment, offset) of the first event not handed out
        self._handed = 0  # events handed out since the last commit
        self._handed_bytes = 0
        self._pending_events = 0
        self._pending_bytes = 0
        self._wakeup = asyncio.Event()

    # -- opening and closing ----------------------------------------------------------------

    def open(self) -> Spool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SpoolError(f"cannot use the spool folder {self.folder}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SpoolError(
                f"the spool folder {self.folder} is in use by another adapter"
            ) from None
        self._lock_fd = fd
        self._segments = sorted(
            int(p.stem) for p in self.folder.glob("*.jsonl") if p.stem.isdigit()
        )
        self._load_last()
        self._load_cursor()
        self._scan()
        if not self._segments:
            self._segments = [1]
        self._open_writer()
        return self

    def close(self) -> None:
        if self._write_fd is not None:
            os.close(self._write_fd)
            self._write_fd = None
        if self._lock_fd is not None:
            self._save_last()
            os.close(self._lock_fd)
            self._lock_fd = None

    def _path(self, number: int) -> Path:
        return self.folder / f"{number:012d}.jsonl"

    def _load_last(self) -> None:
        calls = self.folder / "calls.json"
        if calls.exists():
            try:
                self.calls_mark = int(orjson.loads(calls.read_bytes())["mark"])
            except (orjson.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
                raise SpoolError(f"{calls} is not a spool index ({exc}): remove it") from None
        path = self.folder / "agents.json"
        if not path.exists():
            return
        try:
            data = orjson.loads(path.read_bytes())
            for key, (at, cti, reason, skills, ordinal) in data.items():
                cc_id, vdn, agent = (int(x) for x in key.split("/"))
                self.last[AgentKey(cc_id, vdn, agent)] = Last(
                    at, cti, reason, tuple(skills), ordinal
                )
        except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
            raise SpoolError(f"{path} is not a spool index ({exc}): remove it") from None

    def _save_last(self) -> None:
        data = {f"{k.cc_id}/{k.vdn}/{k.work_no}": v.as_list() for k, v in self.last.items()}
        tmp = self.folder / "agents.json.tmp"
        tmp.write_bytes(orjson.dumps(data))
        os.replace(tmp, self.folder / "agents.json")
        tmp = self.folder / "calls.json.tmp"
        tmp.write_bytes(orjson.dumps({"mark": self.calls_mark}))
        os.replace(tmp, self.folder / "calls.json")

    def _load_cursor(self) -> None:
        path = self.folder / "cursor"
        first = self._segments[0] if self._segments else 1
        self._cursor = (first, 0)
        if path.exists():
            try:
                segment, offset = (int(x) for x in path.read_text().split())
            except ValueError:
                raise SpoolError(f"{path} is not a spool cursor: remove it") from None
            if segment >= first:
                self._cursor = (segment, offset)
        self._read = self._cursor

    def _scan(self) -> None:
        """Fold every event still on disk into :attr:`last`; count the pending ones."""
        for number in self._segments:
            with open(self._path(number), "r+b") as file:
                offset = 0
                for line in file:
                    if not line.endswith(b"\n"):  # a write cut by a crash: it never was
                        file.truncate(offset)
                        break
                    event = orjson.loads(line)
                    self._remember(event)
                    if (number, offset) >= self._cursor:
                        self._pending_events += 1
                        self._pending_bytes += len(line)
                    offset += len(line)
        if self._pending_events:
            self._wakeup.set()

    def _open_writer(self) -> None:
        path = self._path(self._segments[-1])
        self._write_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._write_size = os.fstat(self._write_fd).st_size

    # -- writing ---------------------------------------------------------------------------

    def _remember(self, event: Mapping[str, Any]) -> None:
        if "callId" in event:  # a call event: the newest moment written is what counts
            self.calls_mark = max(self.calls_mark, int(event["at"]))
            return
        status = event.get("ctiStatus")
        key = _key(event)
        if status is None:  # a change of skill queues alone
            known = self.last.get(key)
            if known is not None:
                known.at = int(event["at"])
                known.skills = tuple(event.get("skills", known.skills))
                known.ordinal = event_ordinal(str(event.get("eventId", "")))
            return
        ordinal = event_ordinal(str(event.get("eventId", "")))
        self.last[key] = Last(
            int(event["at"]), int(status), event.get("reason"), tuple(event.get("skills", ())),
            ordinal,
        )  # fmt: skip

    @property
    def pending(self) -> int:
        """Events not yet acknowledged."""
        return self._pending_events

    @property
    def unread(self) -> int:
        """Events not yet handed out by :meth:`read`."""
        return self._pending_events - self._handed

    def wake(self) -> None:
        """End a :meth:`wait` (the caller has news of its own)."""
        self._wakeup.set()

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def room(self, size: int) -> bool:
        return self._pending_bytes + size <= self.max_bytes

    def append(self, events: list[Event]) -> bool:
        """Write ``events`` after every event before them; False (nothing written) when
        they do not fit in the bound."""
        if not events:
            return True
        lines = [orjson.dumps(e) + b"\n" for e in events]
        size = sum(len(line) for line in lines)
        if not self.room(size):
            self.refused += len(events)
            return False
        assert self._write_fd is not None, "the spool is not open"
        if self._write_size >= self.segment_bytes:
            os.close(self._write_fd)
            self._segments.append(self._segments[-1] + 1)
            self._open_writer()
        os.write(self._write_fd, b"".join(lines))
        self._write_size += size
        for event in events:
            self._remember(event)
        self.appended += len(events)
        self._pending_events += len(events)
        self._pending_bytes += size
        self._wakeup.set()
        return True

    # -- reading and acknowledging -----------------------------------------------------------

    async def wait(self) -> None:
        """Until an event is there to hand out."""
        if self.unread <= 0:
            self._wakeup.clear()
            await self._wakeup.wait()

    def read(self, limit: int) -> list[Event]:
        """Up to ``limit`` events after those already handed out (none acknowledged yet)."""
        events: list[Event] = []
        size = 0
        segment, offset = self._read
        while len(events) < limit and self._pending_events - self._handed - len(events) > 0:
            path = self._path(segment)
            with open(path, "rb") as file:
                file.seek(offset)
                for line in file:
                    if not line.endswith(b"\n"):
                        break
                    events.append(orjson.loads(line))
                    offset += len(line)
                    size += len(line)
                    if len(events) >= limit:
                        break
            if len(events) < limit and self._pending_events - self._handed - len(events) > 0:
                later = [n for n in self._segments if n > segment]
                if not later:
                    break
                segment, offset = later[0], 0
        self._read = (segment, offset)
        self._handed += len(events)
        self._handed_bytes += size
        return events

    def commit(self) -> None:
        """What :meth:`read` handed out is acknowledged: move the cursor past it."""
        if not self._handed:
            return
        self._pending_events -= self._handed
        self._pending_bytes = max(0, self._pending_bytes - self._handed_bytes)
        self.committed += self._handed
        self._handed = 0
        self._handed_bytes = 0
        self._cursor = self._read
        tmp = self.folder / "cursor.tmp"
        tmp.write_text(f"{self._cursor[0]} {self._cursor[1]}\n")
        os.replace(tmp, self.folder / "cursor")
        done = [n for n in self._segments[:-1] if n < self._cursor[0]]
        if done:
            self._save_last()  # the index covers what the deleted segments said
            for number in done:
                with contextlib.suppress(FileNotFoundError):
                    self._path(number).unlink()
            self._segments = [n for n in self._segments if n not in done]

    def rewind(self) -> None:
        """Events handed out but not acknowledged go out again (a delivery given up)."""
        self._read = self._cursor
        self._handed = 0
        self._handed_bytes = 0
