"""The PostgreSQL store: several ccms nodes on one database.

A pool of asyncpg connections per process (``pool_size``). Queries go through asyncpg's
per-connection cache of prepared statements, so the hot primary-key lookup is one
Bind/Execute round trip. Every call has a deadline (``command_timeout``, also used to
connect and to wait for a free connection): nothing waits forever on a server that went
away. The SQL lives next door: reads in :mod:`.views`, the batch transaction in
:mod:`.intake`, migrations in :mod:`.migrate`, change notification in :mod:`.notify`.

Connection failures, timeouts, an administrator's ``pg_terminate_backend``, a server
shutting down, or one that became read-only in a failover raise
:class:`~ccms.errors.StoreUnavailableError` (HTTP 503). The pool replaces dead connections
on the next call, so the store recovers by itself once the server is back. A read that
lost its connection is tried once more on another; a batch is not (its outcome may be
unknown when the connection died during ``COMMIT``): the client posts it again, and the
event ids tell what was applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

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
from ccms.domain.call import CallEvent, CallRecord, RecordQuery, kept_from
from ccms.domain.calltrace import CallTrack
from ccms.domain.changes import AgentChange, ChangePage, Snapshot, ViewToken
from ccms.domain.flags import FlagsOf
from ccms.domain.indicators import VdnCounts
from ccms.domain.listing import ListedAgents, ListQuery
from ccms.domain.queue_status import QueueNow
from ccms.domain.queues import QueueBoard, QueueWindow
from ccms.domain.service import AccessCodeCalls, ServiceQuality
from ccms.errors import StoreUnavailableError
from ccms.store.base import IngestResult, SchemaStatus
from ccms.store.changes import ChangeFeed, ChangeSet, ChangeStream
from ccms.store.migrations import schema_status
from ccms.store.postgres import calls as call_store
from ccms.store.postgres import flags, migrate, stream, views
from ccms.store.postgres import queues as queue_store
from ccms.store.postgres import service as service_store
from ccms.store.postgres.intake import PRUNE, apply_batch
from ccms.store.postgres.notify import Listener, channel_for, fetch_changes_since

log = logging.getLogger(__name__)
T = TypeVar("T")

_RETRIES = 5
_PRUNE_INTERVAL_S = 60.0
# Pooled sessions: no JIT compilation. The store's statements are short; a cost estimate
# over jit_above_cost (tables not yet analyzed) made PostgreSQL compile a statement of a
# ms for most of a second (the change window's pruning, once a second under intake).
_SESSION = {"jit": "off"}
_CHANGE_PRUNE_INTERVAL_S = 1.0
_UNAVAILABLE_CLASSES = ("08", "28", "40", "53", "57", "58")
_UNAVAILABLE_STATES = ("25006", "25P03", "25P04")  # read-only (failover), idle timeouts


def _is_unavailable(exc: BaseException) -> bool:
    """A failure of the server or of the way to it (not a bug in a query)."""
    if isinstance(exc, OSError | asyncpg.InterfaceError):  # TimeoutError is an OSError
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = str(exc.sqlstate or "")
        return state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES
    return False


def _is_lost(exc: BaseException) -> bool:
    """The connection died under the query (a timeout is not that)."""
    if isinstance(exc, TimeoutError):
        return False
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return True
    return isinstance(exc, asyncpg.PostgresError) and exc.sqlstate in ("57P01", "57P02")


def _closed(conn: Any) -> bool:
    """Whether a pooled connection died (the pool takes a dead one back by itself)."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


def _discard(conn: Any) -> None:
    """Close a connection after a failure: after a timeout its state is unknown, and after
    a failover it may still lead to the old, now read-only server. The pool opens a new
    one (to wherever the URL leads now) on the next call."""
    with contextlib.suppress(asyncpg.InterfaceError):  # the pool took it back already
        conn.terminate()


def _unavailable(exc: BaseException) -> StoreUnavailableError:
    log.error("PostgreSQL store unavailable: %s: %s", type(exc).__name__, exc)
    return StoreUnavailableError("the store is unavailable, try again later")


async def _keep_session(conn: Any) -> None:
    """Release a connection to the pool as it is. asyncpg's default reset costs a round
    trip per call (``RESET ALL``, ``UNLISTEN *``...); pooled connections here never
    change their session (an open transaction is still rolled back by asyncpg)."""


def redact(url: str) -> str:
    """The URL without its password (user info or ``password=`` parameter), for logs and
    operators' output."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    if parts.query:
        query = [
            (key, "***" if key.lower() in ("password", "passfile") else value)
            for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urllib.parse.urlencode(query, safe="*%"))
    return parts.geturl()


class PostgresStore:
    """The store on a PostgreSQL database (``url``: ``postgresql://user@host:port/db``;
    ``?options=-csearch_path%3Dname`` selects a schema, ``application_name`` names the
    connections: ``<name>`` pooled, ``<name>-listen``, ``<name>-migrate``)."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        command_timeout: float = 5.0,
        event_id_retention_days: int = 7,
        call_record_days: int = 2,
        clock: Callable[[], float] = time.time,
        reconnect_delay: float = 0.1,
        stream_window_s: float = 900.0,
        stream_window_changes: int = 1_000_000,
    ) -> None:
        self.url = url
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        self.application_name = query.get("application_name", ["ccms"])[-1]
        self.latest_version = migrate.latest_version()
        self._pool_size = pool_size
        self._timeout = command_timeout
        self._retention_ms = event_id_retention_days * 86_400_000
        self._call_days = call_record_days
        self._clock = clock
        self._reconnect_delay = reconnect_delay
        self._pool: Any = None
        self._feed: ChangeFeed | None = None
        self._channel = ""
        self._pruned_at = 0.0
        self._changes_pruned_at = 0.0
        self._window_ms = int(stream_window_s * 1000)
        self._window_changes = stream_window_changes

    # -- lifecycle and schema ----------------------------------------------------------

    async def open(self) -> None:
        """Migrate (one node at a time), then open the pool."""
        if self._pool is not None:
            return
        await self.migrate()
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=min(2, self._pool_size),
                max_size=self._pool_size,
                timeout=self._timeout,
                command_timeout=self._timeout,
                server_settings={"application_name": self.application_name, **_SESSION},
                reset=_keep_session,
            )
        except Exception as exc:
            raise self._open_failed(exc) from None

    async def close(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.aclose()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), self._timeout)
            except Exception:  # a server gone or a connection stuck: just drop them
                pool.terminate()

    @property
    def location(self) -> str:
        return redact(self.url)

    async def schema_status(self) -> SchemaStatus:
        return schema_status("postgres", migrate.MIGRATIONS, await self.schema_version())

    async def schema_version(self) -> int:
        """The schema version applied (0: none), read without migrating."""
        conn = await self._admin_connection("admin")
        try:
            if await migrate.current_schema(conn) is None:
                raise self._no_schema()
            return await migrate.schema_version(conn)
        except StoreUnavailableError:
            raise
        except Exception as exc:
            raise self._open_failed(exc) from None
        finally:
            conn.terminate()

    async def migrate(self) -> list[int]:
        """Apply the pending migrations (see :mod:`ccms.store.postgres.migrate`); the versions
        applied. Nodes starting together migrate once."""
        conn = await self._admin_connection("migrate")
        try:
            schema = await migrate.current_schema(conn)
            if schema is None:
                raise self._no_schema()
            self._channel = channel_for(schema)
            return await migrate.migrate(conn, schema)
        except StoreUnavailableError:
            raise
        except Exception as exc:
            raise self._open_failed(exc) from None
        finally:
            conn.terminate()  # ends the session, and with it any advisory lock

    def _no_schema(self) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"the search_path of {redact(self.url)} names no existing schema"
        )

    def _open_failed(self, exc: BaseException) -> StoreUnavailableError:
        log.error("cannot open the PostgreSQL store %s: %s", redact(self.url), exc)
        return StoreUnavailableError(
            f"cannot open the PostgreSQL store at {redact(self.url)}: {exc}"
        )

    # -- connections -------------------------------------------------------------------

    async def _connect(self, role: str) -> Any:
        """A connection of its own (not pooled), named ``<application_name>-<role>``."""
        return await asyncpg.connect(
            self.url,
            timeout=self._timeout,
            command_timeout=self._timeout,
            server_settings={"application_name": f"{self.application_name}-{role}"},
        )

    async def _admin_connection(self, role: str) -> Any:
        try:
            return await self._connect(role)
        except Exception as exc:
            raise self._open_failed(exc) from None

    async def _acquire(self) -> Any:
        if self._pool is None:
            raise StoreUnavailableError("the store is not open")
        try:
            return await self._pool.acquire(timeout=self._timeout)
        except Exception as exc:  # no connection to be had: an outage, whatever the error
            raise _unavailable(exc) from None

    async def _release(self, conn: Any) -> None:
        pool = self._pool
        if pool is None:  # closed meanwhile: the pool terminated its connections
            return
        try:
            await pool.release(conn, timeout=self._timeout)
        except Exception as exc:  # the pool terminated it; the next acquire reconnects
            log.debug("dropped a PostgreSQL connection that failed to reset: %s", exc)

    async def _read(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        for attempt in range(2):
            conn = await self._acquire()
            try:
                return await fn(conn)
            except Exception as exc:
                lost = _closed(conn) or _is_lost(exc)
                if not (lost or _is_unavailable(exc)):
                    raise
                _discard(conn)
                if attempt == 0 and lost and not isinstance(exc, TimeoutError):
                    log.info("PostgreSQL connection lost (%s), reading again", exc)
                    continue
                raise _unavailable(exc) from None
            finally:
                await self._release(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reads -------------------------------------------------------------------------

    async def get_agent(self, cc_id: int, vdn: int, work_no: int) -> AgentRecord | None:
        return await self._read(lambda conn: views.get_agent(conn, cc_id, vdn, work_no))

    async def get_agent_detail(self, cc_id: int, vdn: int, work_no: int) -> AgentDetail | None:
        return await self._read(lambda conn: views.get_agent_detail(conn, cc_id, vdn, work_no))

    async def get_call(self, cc_id: int, vdn: int, call_id: str) -> CallRecord | None:
        return await self._read(lambda conn: call_store.get_call(conn, cc_id, vdn, call_id))

    async def call_records(
        self, cc_id: int, vdn: int, query: RecordQuery
    ) -> tuple[int, list[CallRecord]]:
        return await self._read(lambda conn: call_store.call_records(conn, cc_id, vdn, query))

    async def call_track(self, cc_id: int, vdn: int, call_id: str) -> CallTrack | None:
        return await self._read(lambda conn: call_store.call_track(conn, cc_id, vdn, call_id))

    async def calls_by_id(self, cc_id: int, call_id: str) -> list[CallRecord]:
        return await self._read(lambda conn: call_store.calls_by_id(conn, cc_id, call_id))

    async def queue_windows(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
    ) -> list[QueueWindow]:
        return await self._read(
            lambda conn: call_store.queue_windows(conn, cc_id, vdn, skill_ids, start)
        )

    async def queue_board(self, cc_id: int, vdn: int, start: int) -> QueueBoard:
        return await self._read(lambda conn: call_store.queue_board(conn, cc_id, vdn, start))

    async def vdn_counts(self, cc_id: int, vdns: Sequence[int]) -> dict[int, VdnCounts]:
        return await self._read(lambda conn: call_store.vdn_counts(conn, cc_id, vdns))

    async def service_quality(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int
    ) -> list[ServiceQuality]:
        return await self._read(
            lambda conn: service_store.service_quality(conn, cc_id, vdn, skill_ids, start)
        )

    async def access_code_calls(
        self, cc_id: int, vdn: int, codes: Sequence[tuple[int, str]], now_ms: int
    ) -> list[AccessCodeCalls]:
        return await self._read(
            lambda conn: service_store.access_code_calls(conn, cc_id, vdn, codes, now_ms)
        )

    async def queues_now(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int], start: int | None
    ) -> list[QueueNow]:
        return await self._read(
            lambda conn: queue_store.queues_now(conn, cc_id, vdn, skill_ids, start)
        )

    async def queued_calls(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[CallRecord]:
        return await self._read(lambda conn: queue_store.queued_calls(conn, cc_id, vdn, skill_ids))

    async def get_agents(self, cc_id: int, vdn: int, work_nos: Sequence[int]) -> list[AgentRecord]:
        return await self._read(lambda conn: views.get_agents(conn, cc_id, vdn, work_nos))

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
        return await self._read(lambda conn: views.list_agents(conn, cc_id, vdn, query))

    async def agents_in_skills(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[AgentRecord]:
        return await self._read(lambda conn: views.agents_in_skills(conn, cc_id, vdn, skill_ids))

    async def skill_memberships(
        self, cc_id: int, vdn: int, skill_ids: Sequence[int]
    ) -> list[SkillMember]:
        return await self._read(lambda conn: views.skill_memberships(conn, cc_id, vdn, skill_ids))

    async def history(self, cc_id: int, vdn: int, work_no: int, limit: int) -> list[StatusChange]:
        return await self._read(lambda conn: views.history(conn, cc_id, vdn, work_no, limit))

    async def agent_history(
        self, cc_id: int, vdn: int, work_no: int, limit: int
    ) -> AgentHistory | None:
        return await self._read(lambda conn: views.agent_history(conn, cc_id, vdn, work_no, limit))

    async def ping(self) -> None:
        await self._read(lambda conn: conn.fetchval("SELECT 1 FROM agent LIMIT 1"))

    # -- writes ------------------------------------------------------------------------

    async def apply_events(
        self, events: Sequence[AgentEvent], calls: Sequence[CallEvent] = ()
    ) -> IngestResult:
        events = list(events)
        call_events = list(calls)
        if not events and not call_events:
            return IngestResult(accepted=0, duplicates=0)
        for attempt in range(_RETRIES):
            conn = await self._acquire()
            try:
                now_ms = int(self._clock() * 1000)
                result = await apply_batch(conn, events, now_ms, self._channel, call_events)
                await self._maybe_prune(conn)
                return result
            except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError) as exc:
                if attempt == _RETRIES - 1:
                    raise _unavailable(exc) from None
                log.info("batch rolled back (%s), retrying", type(exc).__name__)
            except Exception as exc:
                if _closed(conn) or _is_unavailable(exc):
                    _discard(conn)
                    raise _unavailable(exc) from None
                raise
            finally:
                await self._release(conn)
            await asyncio.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # back off
        raise AssertionError("unreachable")  # pragma: no cover

    async def signed_in_agents(self, after: AgentKey | None, limit: int) -> list[AgentRecord]:
        return await self._read(lambda conn: flags.signed_in_agents(conn, after, limit))

    async def raise_flags(
        self, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int
    ) -> list[AgentChange]:
        return await self._flag_entries(flags.raise_flags, keys, flags_of, now_ms)

    async def clear_flags(
        self, keys: Sequence[AgentKey], flags_of: FlagsOf, now_ms: int
    ) -> list[AgentChange]:
        return await self._flag_entries(flags.clear_flags, keys, flags_of, now_ms)

    async def _flag_entries(
        self,
        write: Callable[..., Awaitable[list[AgentChange]]],
        keys: Sequence[AgentKey],
        flags_of: FlagsOf,
        now_ms: int,
    ) -> list[AgentChange]:
        """Flag entries written by ``write`` (a raise or a clear) in a transaction of its
        own, tried again after a serialisation failure or a deadlock."""
        keys = list(keys)
        if not keys:
            return []
        for attempt in range(_RETRIES):
            conn = await self._acquire()
            try:
                return await write(conn, keys, flags_of, now_ms, self._channel)
            except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError) as exc:
                if attempt == _RETRIES - 1:
                    raise _unavailable(exc) from None
            except Exception as exc:
                if _closed(conn) or _is_unavailable(exc):
                    _discard(conn)
                    raise _unavailable(exc) from None
                raise
            finally:
                await self._release(conn)
            await asyncio.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _maybe_prune(self, conn: Any) -> None:
        """After a batch committed: drop the changes out of the replay window about once a
        second, event ids past their retention and expired view tokens once a minute."""
        now = self._clock()
        now_ms = int(now * 1000)
        try:
            if not 0 <= now - self._changes_pruned_at < _CHANGE_PRUNE_INTERVAL_S:
                self._changes_pruned_at = now
                await conn.execute(
                    stream.PRUNE_CHANGES, now_ms - self._window_ms, self._window_changes
                )
            if now - self._pruned_at < _PRUNE_INTERVAL_S:
                return
            self._pruned_at = now
            await conn.execute(PRUNE, now_ms - self._retention_ms)
            for statement in call_store.PRUNE:
                await conn.execute(statement, kept_from(now_ms, self._call_days))
            await conn.execute(stream.PRUNE_TOKENS, now_ms)
        except Exception as exc:  # the batch is committed: never fail it for this
            log.warning("pruning the change log, event ids or view tokens failed: %s", exc)

    # -- change notification -----------------------------------------------------------

    def changes(self, since: int | None = None) -> ChangeStream:
        """The agents changed by every node's batches, as they commit (see
        :class:`~ccms.store.changes.ChangeStream`); ``since``: first those changed after
        that change number."""
        if self._pool is None:
            raise StoreUnavailableError("the store is not open")
        if self._feed is None:
            listener = Listener(
                lambda: self._connect("listen"), self._channel, timeout=self._timeout
            )
            self._feed = ChangeFeed(
                listener, reconnect_delay=self._reconnect_delay, name="ccms-listen"
            )
        return ChangeStream(self._feed, self.changes_since, since, self._timeout)

    async def changes_since(self, seq: int) -> ChangeSet:
        """The agents changed after change number ``seq`` (the catch-up of a client)."""
        return await self._read(lambda conn: fetch_changes_since(conn, seq))

    async def change_seq(self) -> int:
        """The newest committed change number (0: none yet)."""
        seq = await self._read(lambda conn: conn.fetchval("SELECT seq FROM change_counter"))
        return int(seq)

    @property
    def feed(self) -> ChangeFeed | None:
        """The process's change feed, once a stream was opened (for health and tests)."""
        return self._feed

    # -- the live stream: change log, snapshots, view tokens ---------------------------

    async def read_changes(
        self, since: int, limit: int, cc_id: int | None = None, vdn: int | None = None
    ) -> ChangePage:
        return await self._read(lambda conn: stream.read_changes(conn, since, limit, cc_id, vdn))

    async def snapshot(self, cc_id: int, vdn: int) -> Snapshot:
        return await self._read(lambda conn: stream.snapshot(conn, cc_id, vdn))

    async def put_view_token(self, token: ViewToken) -> None:
        now_ms = int(self._clock() * 1000)
        conn = await self._acquire()
        try:
            await stream.put_token(conn, token, now_ms)
        except Exception as exc:
            if _closed(conn) or _is_unavailable(exc):
                _discard(conn)
                raise _unavailable(exc) from None
            raise
        finally:
            await self._release(conn)

    async def get_view_token(self, token_hash: str, now_ms: int) -> ViewToken | None:
        return await self._read(lambda conn: stream.get_token(conn, token_hash, now_ms))
