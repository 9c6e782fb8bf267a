"""Change notification across ccms nodes: PostgreSQL LISTEN/NOTIFY with catch-up.

Every batch that changes agents takes a block of numbers of a gap-free change sequence,
one per change (an update of one counter row, late in the batch's transaction; its lock
is held until the commit, so numbers follow commit order), writes the number of each
agent's last change into its ``change_seq`` column, and sends ``NOTIFY`` with a compact
payload: ``"<first>-<seq> <cc>.<vdn>.<work>,..."`` (``"<seq> ..."`` for a block of one),
or the numbers alone when the keys would not fit in PostgreSQL's 8000-byte payload
limit.

A :class:`Listener` holds one listening connection per process and hands each
notification to the store's :class:`~ccms.store.changes.ChangeFeed`, which fans it out. A
gap (a notification lost while the connection was down), a payload without keys, or a
fresh connection make the feed ask the database, on the listening connection, for the
agents with ``change_seq`` above the last number it saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ccms.domain.agent import AgentKey
from ccms.store.changes import ChangeFeed, ChangeSet

log = logging.getLogger(__name__)

CHANNEL = "ccms_changes"
MAX_PAYLOAD_BYTES = 7999  # PostgreSQL refuses payloads of 8000 bytes and more
# The agents changed after a number, and those whose flags were raised after it.
_CATCH_UP = (
    "SELECT cc_id, vdn, work_no, change_seq FROM agent WHERE change_seq > $1"
    " UNION ALL SELECT cc_id, vdn, work_no, seq FROM agent_flag WHERE seq > $1"
)
_NEWEST = (
    "SELECT greatest((SELECT coalesce(max(change_seq), 0) FROM agent),"
    " (SELECT coalesce(max(seq), 0) FROM agent_flag))"
)


def channel_for(schema: str) -> str:
    """The channel of a store: ``ccms_changes``, suffixed outside the ``public`` schema
    so that deployments (or tests) sharing one database do not hear each other."""
    return CHANNEL if schema == "public" else f"{CHANNEL}.{schema}"[:63]


def encode_payload(first: int, seq: int, keys: list[AgentKey]) -> str:
    """The payload of a commit of the changes ``first`` to ``seq`` of the agents ``keys``."""
    numbers = str(seq) if first == seq else f"{first}-{seq}"
    text = f"{numbers} " + ",".join(f"{k.cc_id}.{k.vdn}.{k.work_no}" for k in keys)
    return text if len(text) <= MAX_PAYLOAD_BYTES else numbers


def decode_payload(payload: str) -> tuple[int, int, frozenset[AgentKey] | None]:
    """The first and the last change number, and the keys (``None``: not in the payload,
    ask the database)."""
    numbers, _, keys_text = payload.partition(" ")
    first_text, _, seq_text = numbers.partition("-")
    first = int(first_text)
    seq = int(seq_text) if seq_text else first
    if not keys_text:
        return first, seq, None
    keys = []
    for item in keys_text.split(","):
        cc_id, vdn, work_no = item.split(".")
        keys.append(AgentKey(int(cc_id), int(vdn), int(work_no)))
    return first, seq, frozenset(keys)


async def fetch_changes_since(conn: Any, seq: int) -> ChangeSet:
    """The agents changed after change number ``seq`` (``conn``: an asyncpg connection)."""
    rows = await conn.fetch(_CATCH_UP, seq)
    newest = max((r[3] for r in rows), default=seq)
    return ChangeSet(newest, frozenset(AgentKey(r[0], r[1], r[2]) for r in rows))


class _ConnectionReader:
    """Catch-up queries on the listening connection."""

    def __init__(self, conn: Any, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    async def change_seq(self) -> int:
        return int(await self._conn.fetchval(_NEWEST, timeout=self._timeout))

    async def changes_since(self, seq: int) -> ChangeSet:
        return await fetch_changes_since(self._conn, seq)


class Listener:
    """The follower of a :class:`~ccms.store.changes.ChangeFeed` on PostgreSQL: one
    listening connection, checked with a query after ``keepalive`` seconds of silence.

    ``connect`` opens a new asyncpg connection (not from the pool: it stays in ``LISTEN``).
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        channel: str,
        *,
        keepalive: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        self._connect = connect
        self.channel = channel
        self._keepalive = keepalive
        self._timeout = timeout

    async def __call__(self, feed: ChangeFeed) -> None:
        inbox: asyncio.Queue[str | None] = asyncio.Queue()
        conn = await self._connect()
        try:
            conn.add_termination_listener(lambda _conn: inbox.put_nowait(None))
            await conn.add_listener(
                self.channel, lambda _conn, _pid, _channel, payload: inbox.put_nowait(payload)
            )
            reader = _ConnectionReader(conn, self._timeout)
            # Listening from here: whatever commits now is notified; catch up with the rest.
            await feed.resume(reader)
            while True:
                try:
                    payload = await asyncio.wait_for(inbox.get(), self._keepalive)
                except TimeoutError:
                    await conn.fetchval("SELECT 1", timeout=self._timeout)
                    continue
                if payload is None:
                    raise ConnectionError("listening connection closed")
                try:
                    first, seq, keys = decode_payload(payload)
                except ValueError:
                    log.warning("ignoring a malformed change notification %r", payload[:80])
                    continue
                feed.offer(seq, keys, first)
                if feed.behind.is_set():
                    await feed.catch_up(reader)
        finally:
            conn.terminate()


__all__ = [
    "CHANNEL",
    "Listener",
    "channel_for",
    "decode_payload",
    "encode_payload",
    "fetch_changes_since",
]
