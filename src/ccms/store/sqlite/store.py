"""The SQLite store: one file, WAL, one writer thread, reader connections.

Writes (event batches) go through a queue to one writer thread that runs one transaction
per batch; async callers await a future that is resolved only after ``COMMIT`` returned
(with ``synchronous=FULL`` the WAL is on disk by then). Point reads (the hot query path)
run on the caller's thread on a connection of its own: a primary-key lookup costs a few
microseconds, less than handing it to another thread. Batch and list reads run on a small
pool of reader threads so a large answer never stalls the event loop for long.

Several processes (``ccms serve --workers N``) may share one file: SQLite serialises
their writers with its file lock and ``BEGIN IMMEDIATE``. A batch that changes agents
takes a block of change numbers inside that lock and writes its changes to the change log
(:mod:`.stream`); the change feed (:meth:`changes`) hears of this process's commits from
the writer and of the others' through ``PRAGMA data_version``.

When the file disappears or cannot be written (disk full, I/O error), calls raise
:class:`StoreUnavailableError` (HTTP 503). The store then reconnects by itself on a later
call once the file is back; it never creates a new empty file except in :meth:`open` and
:meth:`migrate`.

The WAL file (``PATH-wal``) deleted under open connections would take every commit since
the last checkpoint with it, and SQLite would go on writing into the deleted file. The
writer looks at it (its device and inode) inside each batch's write lock, after each batch
before the answer, and every ``file_check_interval`` while idle: when it is gone, a
checkpoint through the writer's connection, which still has it open, saves what it held
into the main file; the batch gets 503 (never an acknowledgement of a commit in a deleted
file) and every connection is replaced, so that the next ones start a new WAL file.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson

from ccms.domain.agent import (
    AgentDetail,
    AgentEvent,
    AgentHistory,
    AgentKey,
    AgentRecord,
    AgentState,
    SkillMember,
    StatusChange,
)
from ccms.domain.batch import (
    BatchPlan,
    CallPlan,
    EventKey,
    NewEvents,
    new_calls,
    new_events,
    plan_batch,
    plan_call_batch,
    with_call_moves,
)
from ccms.domain.call import CallEvent, CallKey, CallRecord, RecordQuery, kept_from
from ccms.domain.calltrace import CallTrack
from ccms.domain.changes import AgentChange, ChangePage, Snapshot, ViewToken, state_exits
from ccms.domain.flags import FlagsOf
from ccms.domain.indicators import VdnCounts
from ccms.domain.listing import ListedAgents, ListQuery
from ccms.domain.queue_status import QueueNow
from ccms.domain.queues import QueueBoard, QueueWindow
from ccms.domain.service import AccessCodeCalls, ServiceQuality
from ccms.errors import StoreUnavailableError
from ccms.store import calls as call_sql
from ccms.store import calltrace as trace_sql
from ccms.store import listing
from ccms.store import queues as queue_sql
from ccms.store import service as service_sql
from ccms.store.base import IngestResult, SchemaStatus
from ccms.store.changes import ChangeFeed, ChangeSet, ChangeStream
from ccms.store.migrations import migrations, schema_status
from ccms.store.sqlite import flags, intake, stream, views

log = logging.getLogger(__name__)
T = TypeVar("T")

_AGENT_COLUMNS = (
    "cc_id, vdn, work_no, created_at, cti_status, status_at, status_event_at, prev_status,"
    " prev_duration_ms, login_at, reason, reason_at, name, name_at, phone_number, phone_at,"
    " media_type, media_at, skills, skills_at, calls, calls_at"
)
_SELECT_AGENT = f"SELECT {_AGENT_COLUMNS} FROM agent WHERE cc_id = ? AND vdn = ? AND work_no = ?"
# AgentDetail's columns: the query path's point read
_SELECT_DETAIL = (
    "SELECT work_no, vdn, cti_status, coalesce(status_at, created_at), login_at, name,"
    " phone_number, media_type FROM agent WHERE cc_id = ? AND vdn = ? AND work_no = ?"
)
_SELECT_AGENTS = (
    f"SELECT {_AGENT_COLUMNS} FROM agent WHERE cc_id = ? AND vdn = ?"
    " AND work_no IN (SELECT value FROM json_each(?)) ORDER BY work_no"
)
_SELECT_VDN = f"SELECT {_AGENT_COLUMNS} FROM agent WHERE cc_id = ? AND vdn = ? ORDER BY work_no"
_SELECT_IN_SKILLS = (
    f"SELECT {_AGENT_COLUMNS} FROM agent WHERE cc_id = ? AND vdn = ?"
    f" AND work_no IN ({views.SKILL_MEMBERS}) ORDER BY work_no"
)
_HISTORY_COLUMNS = (
    "event_id, cc_id, vdn, work_no, at, cti_status, reason, applied, source, raw_state"
)
_AGENT_HISTORY = (
    f"SELECT {_HISTORY_COLUMNS} FROM status_history WHERE cc_id = ? AND vdn = ? AND work_no = ?"
    " ORDER BY at DESC, id DESC LIMIT ?"
)
# The newest status event applied: why ccms believes the current status.
_CAUSE = (
    f"SELECT {_HISTORY_COLUMNS} FROM status_history WHERE cc_id = ? AND vdn = ? AND work_no = ?"
    " AND applied ORDER BY at DESC, id DESC LIMIT 1"
)
_INSERT_APPLIED = "INSERT INTO applied_event (cc_id, vdn, event_id, applied_at) VALUES (?, ?, ?, ?)"
_SELECT_APPLIED = (
    "SELECT event_id FROM applied_event WHERE cc_id = ? AND vdn = ?"
    " AND event_id IN (SELECT value FROM json_each(?))"
)
# Ids applied before ids were per tenant (schema version 5) whose tenant the history does
# not tell are kept as call center 0, VDN 0: ids of every tenant, until they expire.
_ANY_TENANT = (0, 0)
_ANY_TENANT_LEFT = "SELECT 1 FROM applied_event WHERE cc_id = 0 AND vdn = 0 LIMIT 1"
_SQLITE = listing.Dialect.SQLITE
_SELECT_CALL = call_sql.select_one(_SQLITE)
_SELECT_CALLS = (
    f"SELECT {call_sql.COLUMNS} FROM call WHERE cc_id = ? AND vdn = ?"
    " AND call_id IN (SELECT value FROM json_each(?))"
)
_UPSERT_CALL = call_sql.upsert(_SQLITE)
_QUEUE_WINDOWS = call_sql.queue_windows(_SQLITE)
_VDN_AGENTS, _VDN_CALLS = call_sql.vdn_counts(_SQLITE)
_BOARD_HAS_CALLS, _BOARD_SKILLS, _BOARD_WAITING = call_sql.board(_SQLITE)
_SERVICE_QUALITY = service_sql.quality(_SQLITE)
_ACCESS_CALLS = service_sql.access_calls(_SQLITE)
_PRUNE_CALLS = [*trace_sql.prune(_SQLITE), *call_sql.prune(_SQLITE)]  # the steps first
_INSERT_STEPS = trace_sql.insert(_SQLITE)
_SELECT_STEPS = trace_sql.select_steps(_SQLITE)
_SELECT_BY_ID = trace_sql.select_by_id(_SQLITE)
_QUEUES_NOW = {w: queue_sql.queues_now(_SQLITE, w) for w in (False, True)}
_QUEUED_CALLS = queue_sql.queued_calls(_SQLITE)
_PRUNE_INTERVAL_S = 60.0
_CHANGE_PRUNE_INTERVAL_S = 1.0
# The writer keeps the agents it read or wrote, to skip reading them again (a record is a few
# hundred bytes: 50,000 are some 20 MB).
RECORDS_KEPT = 50_000
# Intake batches waiting on the writer's queue are committed together (group commit), up
# to this many events in one transaction.
GROUP_EVENTS = 10_000
_CHUNK = 500
_MIGRATIONS = "ccms.store.sqlite.migrations"


def _record(row: Sequence[Any]) -> AgentRecord:
    values = list(row)
    values[18] = tuple(orjson.loads(values[18]))
    values[20] = tuple(orjson.loads(values[20]))
    return AgentRecord(*values)


def _status_change(r: Sequence[Any]) -> StatusChange:
    return StatusChange(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9])


def _unavailable(exc: BaseException) -> StoreUnavailableError:
    log.error("SQLite store unavailable: %s", exc)
    return StoreUnavailableError("the store is unavailable, try again later")


class _Batch:
    """An intake batch on the writer's queue (a job: called with the writer's connection,
    it commits alone); the writer commits the batches waiting together."""

    __slots__ = ("calls", "events", "store")

    def __init__(
        self, store: SQLiteStore, events: list[AgentEvent], calls: list[CallEvent]
    ) -> None:
        self.store, self.events, self.calls = store, events, calls

    def __call__(self, conn: sqlite3.Connection) -> IngestResult:
        return self.store._apply_batches(conn, [self])[0]


class SQLiteStore:
    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "FULL",
        readers: int = 2,
        event_id_retention_days: int = 7,
        call_record_days: int = 2,
        clock: Callable[[], float] = time.time,
        mmap_bytes: int = 256 * 1024 * 1024,
        change_poll_interval: float = 0.05,
        stream_window_s: float = 900.0,
        stream_window_changes: int = 1_000_000,
        file_check_interval: float = 0.5,
    ) -> None:
        self._given_path = path
        self.path = os.path.abspath(path)
        self._wal_path = self.path + "-wal"
        self._check_interval = file_check_interval
        self._synchronous = synchronous.upper()
        self._readers = readers
        self._mmap_bytes = mmap_bytes
        self._retention_ms = event_id_retention_days * 86_400_000
        self._call_days = call_record_days
        self._clock = clock
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._wal: tuple[int, int] | None = None  # the WAL file the connections write
        self._generation = 0
        self._checked_at = 0.0
        self._pruned_at = 0.0
        self._changes_pruned_at = 0.0
        self._window_ms = int(stream_window_s * 1000)
        self._window_changes = stream_window_changes
        self._poll_interval = change_poll_interval
        self._feed: ChangeFeed | None = None
        self._feed_loop: asyncio.AbstractEventLoop | None = None
        # The writer's copy of agents it read or wrote, valid while no other connection
        # has committed to the file (PRAGMA data_version unchanged): the writer thread's own.
        self._records: dict[AgentKey, AgentRecord] = {}
        self._records_version: tuple[sqlite3.Connection, int] | None = None
        # The change log's JSON of some of those records (each the text of the record
        # held under its key): the next change of the agent logs it as its ``prev``.
        self._texts: dict[AgentKey, str] = {}

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        self._require_directory()
        self._writer = threading.Thread(target=self._writer_main, name="ccms-sqlite-writer")
        self._writer.daemon = True
        self._writer.start()
        self._pool = ThreadPoolExecutor(self._readers, thread_name_prefix="ccms-sqlite-reader")
        try:
            await self._write(self._migrate, create=True)
        except BaseException:
            await self.close()  # no writer thread or reader pool left behind
            raise

    async def close(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.aclose()
        writer, self._writer = self._writer, None  # later writes: "not open", never stranded
        if writer is not None:
            self._jobs.put(None)
            await asyncio.get_running_loop().run_in_executor(None, writer.join)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._close_all()

    # -- connections -------------------------------------------------------------------

    def _connect(self, create: bool = False) -> sqlite3.Connection:
        """A connection to the file; never creates it unless ``create``."""
        mode = "rwc" if create else "rw"
        try:
            if self._wal is not None and _identity(self._wal_path) != self._wal:
                # Another connection would start a new WAL file while the others still
                # write the lost one: wait for the writer to save it (:meth:`_check_wal`).
                raise RuntimeError(f"{self._wal_path} was deleted or replaced")
            conn = sqlite3.connect(
                f"file:{self.path}?mode={mode}",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=10.0,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute(f"PRAGMA mmap_size={int(self._mmap_bytes)}")
            stat = os.stat(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise _unavailable(exc) from None
        identity = (stat.st_dev, stat.st_ino)
        if self._identity != identity:
            self._identity = identity
            self._generation += 1
            self._wal = None  # another file: its own WAL file
        wal = _identity(self._wal_path)  # None until a new file's first write
        if self._wal is None:
            self._wal = wal
        elif wal != self._wal:  # lost while this connection opened
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            raise _unavailable(RuntimeError(f"{self._wal_path} was deleted or replaced"))
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _drop_connections(self) -> None:
        """Retire every connection: each thread replaces (and closes) its own on its next
        use, so no thread ever closes a connection another one is using."""
        self._generation += 1

    def _close_all(self) -> None:
        """At close, once no thread uses them any more."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
            self._generation += 1
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._wal = None  # the last connection closed: SQLite removed the WAL file

    def _check_file(self) -> None:
        """Raise when the file on disk is no longer the one the connections opened."""
        if self._identity is None:
            if not os.path.exists(self.path):
                raise _unavailable(FileNotFoundError(self.path))
            return  # not connected yet: the next connection records the file
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            self._identity = self._wal = None
            self._drop_connections()
            raise _unavailable(exc) from None
        if (stat.st_dev, stat.st_ino) != self._identity:
            self._identity = self._wal = None
            self._drop_connections()
            raise _unavailable(RuntimeError(f"{self.path} was replaced"))

    def _wal_unchanged(self) -> bool:
        """Whether the WAL file is still the one the connections write."""
        return self._wal is None or _identity(self._wal_path) == self._wal

    def _check_wal(self, conn: sqlite3.Connection) -> None:
        """In the writer, outside a transaction: raise when the WAL file is not the one the
        connections write, once what it held is saved into the main file.

        Deleted (or made anew by a connection that wrote nothing into it yet): only the
        open connections still have it, and ``wal_checkpoint(TRUNCATE)`` through ``conn``
        copies its commits into the main file. Replaced by a file that holds frames:
        another process (``--workers``) saved it and went on, so this one only reconnects.
        Every connection is then replaced; when the save fails (the file busy), ``conn``
        stays to try again at the next batch or check.
        """
        expected = self._wal
        found = _identity(self._wal_path)
        if expected is None:  # a new file's first WAL file
            self._wal = found
            return
        if found == expected:
            return
        if found is None or _size(self._wal_path) == 0:
            try:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.Error as exc:
                raise _unavailable(RuntimeError(f"{self._wal_path} was deleted: {exc}")) from None
            if busy:
                raise _unavailable(
                    RuntimeError(f"{self._wal_path} was deleted; saving it waits for readers")
                )
            log.warning(
                "SQLite store %s: %s was deleted; what it held is saved into the main file,"
                " and a new WAL file follows",
                self.path,
                self._wal_path,
            )
        else:
            log.warning("SQLite store %s: %s was replaced; reconnecting", self.path, self._wal_path)
        self._wal = None
        self._drop_connections()
        raise _unavailable(RuntimeError(f"{self._wal_path} was deleted or replaced"))

    def _thread_conn(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.generation != self._generation:
            self._forget(conn)
            local.conn = None
            conn = self._connect()
            local.conn = conn
            local.generation = self._generation
        return conn

    # -- writer thread -----------------------------------------------------------------

    def _writer_main(self) -> None:
        conn: sqlite3.Connection | None = None
        generation = -1
        # Jobs taken from the queue to run one by one before the queue's next: the batches
        # of a group that failed (each gets the answer it would have got alone), or the
        # job that ended a group.
        backlog: collections.deque[Any] = collections.deque()
        while True:
            if backlog:
                item, alone = backlog.popleft(), True
            else:
                try:
                    item = self._jobs.get(timeout=self._check_interval)
                except queue.Empty:  # idle: is the WAL file still there?
                    if conn is not None and generation == self._generation:
                        with contextlib.suppress(StoreUnavailableError):
                            self._check_wal(conn)
                    continue
                alone = False
            if item is None:
                return
            group = [item]
            if not alone and type(item[0]) is _Batch:
                self._gather(group, backlog)
            create = item[1]
            results: list[Any] | None = None
            try:
                if conn is None or generation != self._generation:
                    self._forget(conn)
                    conn = None
                    conn = self._connect(create=create)
                    generation = self._generation
                if not create:
                    self._check_file()
                try:
                    if len(group) == 1:
                        results = [item[0](conn)]
                    else:
                        try:
                            results = self._apply_batches(conn, [job[0] for job in group])
                        except sqlite3.Error:
                            self._forget(conn)  # the batches run again alone, reconnecting
                            conn = None
                        except Exception as exc:  # each batch runs again alone
                            log.debug("a group of %d batches failed: %r", len(group), exc)
                finally:
                    if conn is not None:
                        self._check_wal(conn)  # before any answer: a commit is in the WAL file
            except sqlite3.Error as exc:
                # Disk full, I/O error, lock timeout: SQLite rolled the batch back. Start
                # the next batch on a fresh connection; readers keep theirs.
                self._forget(conn)
                conn = None
                error = _unavailable(exc)
                for _, _, future, loop in group:
                    loop.call_soon_threadsafe(_resolve, future, None, error)
            except BaseException as exc:
                # A connection retired by a check is replaced at the next batch.
                for _, _, future, loop in group:
                    loop.call_soon_threadsafe(_resolve, future, None, exc)
            else:
                if results is None:  # the group failed: nothing of it was committed
                    backlog.extendleft(reversed(group))
                    continue
                for (_, _, future, loop), result in zip(group, results, strict=True):
                    loop.call_soon_threadsafe(_resolve, future, result, None)

    def _gather(self, group: list[Any], backlog: collections.deque[Any]) -> None:
        """Add to ``group`` (an intake batch) the intake batches waiting right behind it,
        up to :data:`GROUP_EVENTS` events; a job of another kind goes to ``backlog``."""
        events = len(group[0][0].events) + len(group[0][0].calls)
        while events < GROUP_EVENTS:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                return
            if item is None or type(item[0]) is not _Batch or item[1]:
                backlog.append(item)
                return
            group.append(item)
            events += len(item[0].events) + len(item[0].calls)

    def _forget(self, conn: sqlite3.Connection | None) -> None:
        """Close one connection after an error, leaving the others open."""
        if conn is None:
            return
        with self._conns_lock:
            if conn in self._conns:
                self._conns.remove(conn)
            last = not self._conns
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        if last:
            self._wal = None  # the last connection closed: SQLite removed the WAL file

    async def _write(self, fn: Callable[[sqlite3.Connection], T], create: bool = False) -> T:
        if self._writer is None:
            raise StoreUnavailableError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, create, future, loop))
        # The write goes on even if the caller is cancelled: shield the awaited future.
        return await asyncio.shield(future)

    def _migrate(self, conn: sqlite3.Connection) -> list[int]:
        applied = []
        for number, _name, sql in migrations(_MIGRATIONS):
            # Read the version inside the write lock: several workers may start at once.
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                conn.execute("COMMIT")
                continue
            try:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(number)
            log.info("SQLite store %s migrated to version %d", self.path, number)
        return applied

    # -- schema ------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return f"sqlite:///{self._given_path}"

    async def schema_status(self) -> SchemaStatus:
        return schema_status("sqlite", _MIGRATIONS, await asyncio.to_thread(self._file_version))

    def _file_version(self) -> int:
        """``PRAGMA user_version`` on a read-only connection of its own (0: an empty file)."""
        if not os.path.exists(self.path):
            self._require_directory()
            raise StoreUnavailableError(
                f"no store at {self.location}: {self.path} does not exist"
                " (ccms serve or ccms db migrate creates it)"
            )
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                return int(conn.execute("PRAGMA user_version").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _unavailable(exc) from None

    async def migrate(self) -> list[int]:
        if self._writer is not None:
            return await self._write(self._migrate, create=True)
        return await asyncio.to_thread(self._migrate_alone)

    def _migrate_alone(self) -> list[int]:
        """Migrate a store that is not open, on a connection of its own."""
        self._require_directory()
        conn = self._connect(create=True)
        try:
            return self._migrate(conn)
        except sqlite3.Error as exc:
            raise _unavailable(exc) from None
        finally:
            self._forget(conn)

    def _require_directory(self) -> None:
        """Refuse a file in a directory that does not exist: a mistyped path must not
        become a new, empty store (nor a new directory)."""
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            reason = "is not a directory" if os.path.exists(folder) else "does not exist"
            raise StoreUnavailableError(
                f"the directory {folder} of the store {self.location} {reason}"
            )

    # -- reads -------------------------------------------------------------------------

    def _read_check(self) -> None:
        now = time.monotonic()
        if now - self._checked_at > self._check_interval:
            self._check_file()
            self._checked_at = now

    def _point_read(self, sql: str, params: tuple[Any, ...]) -> Any:
        """One row by primary key, on the caller's thread and connection (a few µs)."""
        self._read_check()
        conn = self._thread_conn()
        try:
            return conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            self._local.conn = None
            self._forget(conn)
            raise _unavailable(exc) from None

    async def get_agent(self, cc_id: int, vdn: int, work_no: int) -> AgentRecord | None:
        row = self._point_read(_SELECT_AGENT, (cc_id, vdn, work_no))
        return None if row is None else _record(row)

    async def get_agent_detail(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail | None:
        row = self._point_read(_SELECT_DETAIL, (cc_id, vdn, work_no))
        return None if row is None else AgentDetail._make(row)

    async def get_call(self, cc_id: int, vdn: int, call_id: str) -> CallRecord | None:
        row = self._point_read(_SELECT_CALL, (cc_id, vdn, call_id))
        return None if row is None else call_sql.record(row)

    async def call_records(
        self, cc_id: int, vdn: int, query: RecordQuery
    ) -> tuple[int, list[CallRecord]]:
        page, count, params = call_sql.records(_SQLITE, cc_id, vdn, query)

        def run(conn: sqlite3.Connection) -> tuple[int, list[CallRecord]]:
            conn.execute("BEGIN")
            try:
                total = int(conn.execute(count, params).fetchone()[0])
                rows = conn.execute(page, (*params, query.limit, query.offset)).fetchall()
            finally:
                conn.execute("COMMIT")
            return total, [call_sql.record(r) for r in rows]

        return await self._read(run)

    async def queue_windows(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
    ) -> list[QueueWindow]:
        ids = orjson.dumps(list(dict.fromkeys(skill_ids))).decode()

        def run(conn: sqlite3.Connection) -> list[QueueWindow]:
            named = {"cc": cc_id, "vdn": vdn, "skills": ids, "start": start}
            rows = conn.execute(_QUEUE_WINDOWS, named).fetchall()
            return call_sql.windows(rows, skill_ids, start)

        return await self._read(run)

    async def queue_board(self, cc_id: int, vdn: int, start: int) -> QueueBoard:
        def run(conn: sqlite3.Connection) -> QueueBoard:
            conn.execute("BEGIN")  # one read transaction: the figures agree
            try:
                has_calls = conn.execute(_BOARD_HAS_CALLS, (cc_id, vdn)).fetchone()[0]
                skills = conn.execute(_BOARD_SKILLS, (cc_id, vdn)).fetchall()
                waiting = conn.execute(_BOARD_WAITING, (cc_id, vdn)).fetchall()
                ids = call_sql.board_skills(skills, waiting)
                named = {"cc": cc_id, "vdn": vdn, "skills": orjson.dumps(ids).decode(),
                         "start": start}  # fmt: skip
                rows = conn.execute(_QUEUE_WINDOWS, named).fetchall() if ids else []
            finally:
                conn.execute("COMMIT")
            return call_sql.board_of(has_calls, call_sql.windows(rows, ids, start), waiting)

        return await self._read(run)

    async def vdn_counts(self, cc_id: int, vdns: Sequence[int]) -> dict[int, VdnCounts]:
        wanted = list(dict.fromkeys(vdns))
        ids = orjson.dumps(wanted).decode()

        def run(conn: sqlite3.Connection) -> dict[int, VdnCounts]:
            conn.execute("BEGIN")  # one read transaction: the agents and the calls agree
            try:
                agents = conn.execute(_VDN_AGENTS, (cc_id, ids)).fetchall()
                live = conn.execute(_VDN_CALLS, (cc_id, ids)).fetchall()
            finally:
                conn.execute("COMMIT")
            return call_sql.counts_of(wanted, agents, live)

        return await self._read(run)

    async def service_quality(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
    ) -> list[ServiceQuality]:
        ids = orjson.dumps(list(dict.fromkeys(skill_ids))).decode()

        def run(conn: sqlite3.Connection) -> list[ServiceQuality]:
            named = {"cc": cc_id, "vdn": vdn, "skills": ids, "start": start}
            rows = conn.execute(_SERVICE_QUALITY, named).fetchall()
            return service_sql.qualities(rows, skill_ids, start)

        return await self._read(run)

    async def access_code_calls(
        self, cc_id: int, vdn: int, codes: Sequence[tuple[int, str]], now_ms: int
    ) -> list[AccessCodeCalls]:
        wanted = orjson.dumps(list(dict.fromkeys(code for _, code in codes))).decode()

        def run(conn: sqlite3.Connection) -> list[AccessCodeCalls]:
            named = {"cc": cc_id, "vdn": vdn, "codes": wanted, "now": now_ms}
            rows = conn.execute(_ACCESS_CALLS, named).fetchall()
            return service_sql.access_counts(rows, codes)

        return await self._read(run)

    async def call_track(self, cc_id: int, vdn: int, call_id: str) -> CallTrack | None:
        def run(conn: sqlite3.Connection) -> CallTrack | None:
            conn.execute("BEGIN")  # one read transaction: the call and its steps agree
            try:
                row = conn.execute(_SELECT_CALL, (cc_id, vdn, call_id)).fetchone()
                rows = [] if row is None else conn.execute(_SELECT_STEPS, (cc_id, vdn, call_id))
                steps = tuple(map(trace_sql.step, rows))
            finally:
                conn.execute("COMMIT")
            return None if row is None else CallTrack(call_sql.record(row), steps)

        return await self._read(run)

    async def calls_by_id(self, cc_id: int, call_id: str) -> list[CallRecord]:
        def run(conn: sqlite3.Connection) -> list[CallRecord]:
            rows = conn.execute(_SELECT_BY_ID, {"cc": cc_id, "id": call_id}).fetchall()
            return [call_sql.record(r) for r in rows]

        return await self._read(run)

    async def queues_now(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int | None
    ) -> list[QueueNow]:
        named = {"cc": cc_id, "vdn": vdn, "skills": orjson.dumps(list(skill_ids)).decode()}
        if start is not None:
            named["start"] = start
        statement = _QUEUES_NOW[start is not None]

        def run(conn: sqlite3.Connection) -> list[QueueNow]:
            return queue_sql.figures(conn.execute(statement, named).fetchall(), skill_ids)

        return await self._read(run)

    async def queued_calls(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[CallRecord]:
        params = (cc_id, vdn, orjson.dumps(list(skill_ids)).decode())

        def run(conn: sqlite3.Connection) -> list[CallRecord]:
            return [call_sql.record(r) for r in conn.execute(_QUEUED_CALLS, params)]

        return await self._read(run)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._pool is None:
            raise StoreUnavailableError("the store is not open")
        self._read_check()

        def run() -> T:
            conn = self._thread_conn()
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                self._local.conn = None
                self._forget(conn)
                raise _unavailable(exc) from None

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    async def get_agents(self, cc_id: int, vdn: int, work_nos: Sequence[int]) -> list[AgentRecord]:
        ids = orjson.dumps(list(work_nos)).decode()

        def run(conn: sqlite3.Connection) -> list[AgentRecord]:
            return [_record(r) for r in conn.execute(_SELECT_AGENTS, (cc_id, vdn, ids))]

        return await self._read(run)

    async def get_agent_states(
        self, cc_id: int, vdn: int, work_nos: Sequence[int]
    ) -> list[AgentState]:
        return await self._read(lambda conn: views.agent_states(conn, cc_id, vdn, work_nos))

    async def list_agent_states(
        self,
        cc_id: int,
        vdn: int,
        *,
        offset: int = 0,
        limit: int | None = None,
        cti_status: int | None = None,
    ) -> tuple[int, list[AgentState]]:
        return await self._read(
            lambda conn: views.list_agent_states(conn, cc_id, vdn, offset, limit, cti_status)
        )

    async def list_agents(self, cc_id: int, vdn: int, query: ListQuery) -> ListedAgents:
        sql = listing.statements(listing.Dialect.SQLITE, _AGENT_COLUMNS, cc_id, vdn, query)

        def run(conn: sqlite3.Connection) -> ListedAgents:
            conn.execute("BEGIN")  # one read transaction: the page and the counts agree
            try:
                counts = dict(conn.execute(sql.counts, sql.counts_params).fetchall())
                rows = conn.execute(sql.page, sql.page_params).fetchall()
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            return ListedAgents([_record(r) for r in rows], counts)

        return await self._read(run)

    async def agents_in_skills(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[AgentRecord]:
        ids = orjson.dumps(list(skill_ids)).decode()

        def run(conn: sqlite3.Connection) -> list[AgentRecord]:
            rows = conn.execute(_SELECT_IN_SKILLS, (cc_id, vdn, cc_id, vdn, ids))
            return [_record(r) for r in rows]

        return await self._read(run)

    async def skill_memberships(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[SkillMember]:
        return await self._read(lambda conn: views.skill_memberships(conn, cc_id, vdn, skill_ids))

    async def history(self, cc_id: int, vdn: int, work_no: int, limit: int) -> list[StatusChange]:
        def run(conn: sqlite3.Connection) -> list[StatusChange]:
            rows = conn.execute(_AGENT_HISTORY, (cc_id, vdn, work_no, limit))
            return [_status_change(r) for r in rows]

        return await self._read(run)

    async def agent_history(
        self, cc_id: int, vdn: int, work_no: int, limit: int
    ) -> AgentHistory | None:
        key = (cc_id, vdn, work_no)

        def run(conn: sqlite3.Connection) -> AgentHistory | None:
            conn.execute("BEGIN")  # one read transaction: the agent and its history agree
            try:
                row = conn.execute(_SELECT_AGENT, key).fetchone()
                if row is None:
                    return None
                history = [_status_change(r) for r in conn.execute(_AGENT_HISTORY, (*key, limit))]
                cause = next((h for h in history if h.applied), None)
                if cause is None:
                    found = conn.execute(_CAUSE, key).fetchone()
                    cause = None if found is None else _status_change(found)
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            return AgentHistory(_record(row), history, cause)

        return await self._read(run)

    async def ping(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("SELECT 1 FROM agent LIMIT 1").fetchall()

        await self._read(run)

    # -- the change feed ---------------------------------------------------------------

    def changes(self, since: int | None = None) -> ChangeStream:
        """The agents changed by every process's batches on this file, as they commit:
        this process's right after their ``COMMIT``, other processes' within
        ``change_poll_interval`` (``PRAGMA data_version`` tells when the file changed)."""
        if self._writer is None:
            raise StoreUnavailableError("the store is not open")
        if self._feed is None:
            self._feed_loop = asyncio.get_running_loop()
            self._feed = ChangeFeed(self._follow, name="ccms-sqlite-changes")
        return ChangeStream(self._feed, self.changes_since, since)

    async def changes_since(self, seq: int) -> ChangeSet:
        return await self._read(lambda conn: views.changes_since(conn, seq))

    async def change_seq(self) -> int:
        return await self._read(views.newest_change)

    @property
    def feed(self) -> ChangeFeed | None:
        """The change feed, once a stream was opened (for tests)."""
        return self._feed

    # -- the live stream: change log, snapshots, view tokens ---------------------------

    async def read_changes(
        self, since: int, limit: int, cc_id: int | None = None, vdn: int | None = None
    ) -> ChangePage:
        return await self._read(lambda conn: stream.read_changes(conn, since, limit, cc_id, vdn))

    async def snapshot(self, cc_id: int, vdn: int) -> Snapshot:
        return await self._read(
            lambda conn: stream.snapshot(conn, _SELECT_VDN, _record, cc_id, vdn)
        )

    async def put_view_token(self, token: ViewToken) -> None:
        now_ms = int(self._clock() * 1000)
        await self._write(lambda conn: stream.put_token(conn, token, now_ms))

    async def get_view_token(self, token_hash: str, now_ms: int) -> ViewToken | None:
        return stream.token(self._point_read(stream.GET_TOKEN, (token_hash, now_ms)))

    # -- flags -------------------------------------------------------------------------

    async def signed_in_agents(self, after: AgentKey | None, limit: int) -> list[AgentRecord]:
        return await self._read(
            lambda conn: flags.signed_in_agents(conn, _AGENT_COLUMNS, _record, after, limit)
        )

    async def raise_flags(
        self, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int
    ) -> list[AgentChange]:
        keys = list(keys)
        if not keys:
            return []
        return await self._write(lambda conn: self._raise(conn, keys, flags_of, now_ms))

    async def clear_flags(
        self, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int
    ) -> list[AgentChange]:
        keys = list(keys)
        if not keys:
            return []
        return await self._write(lambda conn: self._raise(conn, keys, flags_of, now_ms, True))

    def _raise(
        self,
        conn: sqlite3.Connection,
        keys: list[AgentKey],
        flags_of: FlagsOf,
        now_ms: int,
        clear: bool = False,
    ) -> list[AgentChange]:
        write = flags.clear_flags if clear else flags.raise_flags
        entries = write(conn, keys, flags_of, now_ms, self._load)
        if entries:
            agents = frozenset(e.key for e in entries)
            self._announce(entries[-1].seq, agents, entries[0].seq)
        return entries

    async def _follow(self, feed: ChangeFeed) -> None:
        """The follower of the feed: this process's commits come from the writer
        (:meth:`_announce`); the file's data version, read every ``change_poll_interval``,
        tells when any other connection committed, and the feed catches up."""
        version = self._data_version()
        await feed.resume(self)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.behind.wait(), self._poll_interval)
            seen = self._data_version()
            if feed.behind.is_set() or seen != version:
                version = seen
                await feed.catch_up(self)

    def _data_version(self) -> tuple[int, int]:
        """Changes whenever another connection commits to the file (a point read on the
        event loop's own connection, like :meth:`get_agent`)."""
        self._read_check()
        conn = self._thread_conn()
        try:
            return self._generation, int(conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            self._local.conn = None
            self._forget(conn)
            raise _unavailable(exc) from None

    def _announce(self, seq: int, agents: frozenset[AgentKey], first: int) -> None:
        """From the writer thread, right after a ``COMMIT``: hand the changes ``first`` to
        ``seq`` to the feed (before the batch's caller resumes, as callbacks run in order)."""
        feed, loop = self._feed, self._feed_loop
        if feed is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(feed.offer, seq, agents, first)

    # -- writes ------------------------------------------------------------------------

    async def apply_events(
        self, events: Sequence[AgentEvent], calls: Sequence[CallEvent] = ()
    ) -> IngestResult:
        result: IngestResult = await self._write(_Batch(self, list(events), list(calls)))
        return result

    def _apply_batches(
        self, conn: sqlite3.Connection, batches: Sequence[_Batch]
    ) -> list[IngestResult]:
        """Batches in one transaction, each following the domain's batch plan after the
        one before it (it sees that one's writes): the intake batches waiting on the
        writer's queue are committed together (group commit: one ``COMMIT``, one sync of
        the WAL, each page written once for all of them), and answered after it. Nothing
        of them is committed when one fails."""
        now_ms = int(self._clock() * 1000)
        conn.execute("BEGIN IMMEDIATE")
        done = []
        try:
            if not self._wal_unchanged():  # checked holding the write lock of every process
                raise StoreUnavailableError("the store is unavailable, try again later")
            for batch in batches:
                done.append(self._apply(conn, batch.events, batch.calls, now_ms))
            self._maybe_prune(conn, now_ms)
            conn.execute("COMMIT")
        except BaseException:
            self._records.clear()
            self._texts.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        for _, seq, agents, first in done:
            if seq:
                self._announce(seq, agents, first)
        return [result for result, _, _, _ in done]

    def _apply(
        self,
        conn: sqlite3.Connection,
        events: list[AgentEvent],
        calls: list[CallEvent],
        now_ms: int,
    ) -> tuple[IngestResult, int, frozenset[AgentKey], int]:
        """One batch inside the transaction: its answer, and the numbers of the changes it
        logged (the last, 0 for none; the first) with their agents, to announce after the
        commit. The writer's copy of the records takes the batch's (valid within the
        transaction, dropped when it rolls back)."""
        new = self._new_events(conn, events, now_ms)
        loaded = self._load(conn, new.keys)
        plan = plan_batch(new, loaded)
        if calls:
            fresh, again = new_calls(calls, self._applied(conn, calls), new.event_keys)
            call_plan = self._plan_calls(conn, fresh)
            if call_plan.moves:
                loaded.update(self._load(conn, call_plan.agents))
                plan = with_call_moves(plan, loaded, call_plan.moves)
        intake.write_history(conn, plan.history)
        seq = base = 0
        logged: intake.Texts = {}
        if plan.log:
            seq = views.take_changes(conn, len(plan.log))
            base = seq - len(plan.log)
            logged = intake.write_log(conn, plan.log, base, now_ms, loaded, self._texts)
        if plan.changes:
            intake.write_agents(conn, plan.changes, plan.last_changes, base)
            views.sync_skills(conn, plan.changes.values())
        accepted, duplicates = len(new.events), new.duplicates
        if calls:
            self._apply_calls(conn, fresh, call_plan, now_ms)
            accepted, duplicates = accepted + len(fresh), duplicates + again
        self._remember(loaded, plan, logged)
        result = IngestResult(accepted, duplicates, tuple(state_exits(plan.log)))
        return result, seq, frozenset(plan.last_changes), base + 1

    def _new_events(
        self, conn: sqlite3.Connection, events: list[AgentEvent], now_ms: int
    ) -> NewEvents:
        """The batch's new agent events, their ids claimed (:func:`.intake.claim_ids`);
        while ids of every tenant (:data:`_ANY_TENANT`) are left, or before SQLite 3.35
        (no ``RETURNING``), the ids applied before are read first, then the new ones
        inserted."""
        if intake.CLAIMS and not conn.execute(_ANY_TENANT_LEFT).fetchone():
            return new_events(events, intake.claim_ids(conn, events, now_ms))
        new = new_events(events, self._applied(conn, events))
        conn.executemany(
            _INSERT_APPLIED, [(e.cc_id, e.vdn, e.event_id, now_ms) for e in new.events]
        )
        return new

    @staticmethod
    def _plan_calls(conn: sqlite3.Connection, fresh: list[CallEvent]) -> CallPlan:
        """The plan of the new call events of a batch, inside its transaction: the calls
        they are about (one query per call center and VDN), what the events change."""
        groups: dict[tuple[int, int], set[str]] = {}
        for call in fresh:
            groups.setdefault((call.cc_id, call.vdn), set()).add(call.call_id)
        known: dict[CallKey, CallRecord] = {}
        for (cc_id, vdn), ids in groups.items():
            rows = conn.execute(_SELECT_CALLS, (cc_id, vdn, orjson.dumps(sorted(ids)).decode()))
            for found in map(call_sql.record, rows):
                known[found.key] = found
        return plan_call_batch(fresh, known)

    @staticmethod
    def _apply_calls(
        conn: sqlite3.Connection, fresh: list[CallEvent], plan: CallPlan, now_ms: int
    ) -> None:
        """The new call events' ids and the calls they changed, inside the transaction."""
        conn.executemany(_INSERT_APPLIED, [(c.cc_id, c.vdn, c.event_id, now_ms) for c in fresh])
        rows = [call_sql.row(r, _SQLITE) for r in plan.changed.values()]
        conn.executemany(_UPSERT_CALL, rows)
        conn.executemany(_INSERT_STEPS, trace_sql.step_rows(fresh))

    def _load(
        self, conn: sqlite3.Connection, keys: Iterable[AgentKey]
    ) -> dict[AgentKey, AgentRecord]:
        """The agents among ``keys`` that exist: from the writer's copy while it is valid
        (no other connection committed since this one last wrote), the rest from the file
        in one query per call center and VDN. Called holding the write lock."""
        version = (conn, conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._records_version:  # another connection wrote, or a new one
            self._records.clear()
            self._texts.clear()
            self._records_version = version
        known = self._records
        found: dict[AgentKey, AgentRecord] = {}
        groups: dict[tuple[int, int], list[int]] = {}
        for key in keys:
            record = known.get(key)
            if record is not None:
                found[key] = record
            else:
                groups.setdefault((key.cc_id, key.vdn), []).append(key.work_no)
        for (cc_id, vdn), work_nos in groups.items():
            ids = orjson.dumps(work_nos).decode()
            for row in conn.execute(_SELECT_AGENTS, (cc_id, vdn, ids)):
                record = _record(row)
                found[record.key] = record
        return found

    def _remember(
        self, loaded: dict[AgentKey, AgentRecord], plan: BatchPlan, logged: intake.Texts
    ) -> None:
        """After a batch's writes: keep the agents read and written (at most RECORDS_KEPT; the
        oldest go first), and the change log's JSON of those the batch logged last.
        Unknown agents are not kept: their absence is read again."""
        known, texts = self._records, self._texts
        known.update(loaded)
        for key, update in plan.changes.items():
            after = known[key] = update.after
            last = logged.get(key)
            if last is not None and last[0] is after:
                texts[key] = last[1]
            else:
                texts.pop(key, None)
        excess = len(known) - RECORDS_KEPT
        if excess > 0:
            gone = list(itertools.islice(known, excess + RECORDS_KEPT // 4))
            for key in gone:
                del known[key]
                self._texts.pop(key, None)

    @staticmethod
    def _applied(
        conn: sqlite3.Connection, events: list[AgentEvent] | list[CallEvent]
    ) -> set[EventKey]:
        """The keys of ``events`` applied before: one query per call center and VDN, and
        one more while ids of every tenant (:data:`_ANY_TENANT`) are left."""
        groups: dict[tuple[int, int], set[str]] = {}
        for event in events:
            groups.setdefault((event.cc_id, event.vdn), set()).add(event.event_id)
        found: set[EventKey] = set()
        for (cc_id, vdn), ids in groups.items():
            rows = conn.execute(_SELECT_APPLIED, (cc_id, vdn, orjson.dumps(list(ids)).decode()))
            found.update(EventKey(cc_id, vdn, r[0]) for r in rows)
        if conn.execute(_ANY_TENANT_LEFT).fetchone():
            every = orjson.dumps(list({e.event_id for e in events})).decode()
            old = {r[0] for r in conn.execute(_SELECT_APPLIED, (*_ANY_TENANT, every))}
            found.update(EventKey(e.cc_id, e.vdn, e.event_id) for e in events if e.event_id in old)
        return found

    def _maybe_prune(self, conn: sqlite3.Connection, now_ms: int) -> None:
        """Inside a batch's transaction: the change log's window about once a second,
        event ids past their retention and expired view tokens once a minute."""
        now = now_ms / 1000
        if not 0 <= now - self._changes_pruned_at < _CHANGE_PRUNE_INTERVAL_S:
            self._changes_pruned_at = now
            stream.prune(conn, now_ms, self._window_ms, self._window_changes)
        if now - self._pruned_at < _PRUNE_INTERVAL_S:
            return
        self._pruned_at = now
        conn.execute(
            "DELETE FROM applied_event WHERE applied_at < ?", (now_ms - self._retention_ms,)
        )
        stream.prune_tokens(conn, now_ms)
        oldest = kept_from(now_ms, self._call_days)
        for statement in _PRUNE_CALLS:
            conn.execute(statement, (oldest,))


def _identity(path: str) -> tuple[int, int] | None:
    """The device and inode of a file (``None``: no such file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _statements(sql: str) -> list[str]:
    """Split a migration into statements: comment lines dropped, split on ``;``."""
    code = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in code.split(";") if s.strip()]


def _resolve(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
