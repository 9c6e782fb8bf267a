"""Snapshots shared by the streams that ask for the same one at the same time.

A thousand wallboards that connect together (after a deploy, a network cut, a morning
start) each begin with the snapshot of their VDN. Read and encoded for each, that is a
thousand store reads of the whole VDN and a thousand copies of its SSE bytes, all alive at
once. :class:`SharedSnapshots` reads and encodes a snapshot once per tenant and filter and
hands the same bytes to every stream that asks for it:

- while its read is in flight (the callers wait for the one read), and
- once built, while it is at most :data:`SHARE_S` old and the hub has handed out no change
  after its ``seq`` (the snapshot is still the newest state the process knows).

Sharing an older snapshot would be correct too (a stream catches up from the log after the
snapshot's ``seq``), but its ``serverTime`` and ``currentStateTime`` would be older than
the moment it is sent: :data:`SHARE_S` bounds that. A snapshot is dropped once it is too
old to be shared, so what the process keeps is one snapshot per tenant and filter asked
for in the last :data:`SHARE_S` seconds, never one per stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import NamedTuple

from ccms.ccconfig import ReasonNames
from ccms.domain.flags import FlagsOf, no_flags
from ccms.http.schemas.stream import Filter, snapshot_events
from ccms.store.base import Store

SHARE_S = 1.0  # the oldest snapshot handed to a new stream

# ccId, vdn, filter, replay window (s), the VDN's reason names (None: not sent)
_Key = tuple[int, int, Filter, int, ReasonNames | None]


class SharedSnapshot(NamedTuple):
    """A snapshot as every stream that asked for it writes it: its SSE events (parts of at
    most 500 agents, only the last with ``id:``), the same bytes for each stream."""

    seq: int
    events: tuple[bytes, ...]


class _Entry:
    __slots__ = ("built_at", "future")

    def __init__(self, future: asyncio.Future[SharedSnapshot]) -> None:
        self.future = future
        self.built_at: float | None = None  # on the loop's clock, once built


class SharedSnapshots:
    """One store read and one encoding of a tenant's snapshot for every stream that asks
    for the same one (see the module's documentation). ``position`` is the hub's: every
    change up to it was handed out."""

    def __init__(
        self,
        store: Store,
        now_ms: Callable[[], int],
        position: Callable[[], int | None],
        share_s: float = SHARE_S,
    ) -> None:
        self._store = store
        self._now_ms = now_ms
        self._position = position
        self.share_s = share_s
        self._entries: dict[_Key, _Entry] = {}
        self.encoded = 0  # snapshots read and encoded so far

    def __len__(self) -> int:
        """Snapshots held (in flight or shareable)."""
        return len(self._entries)

    async def get(
        self,
        cc_id: int,
        vdn: int,
        selection: Filter,
        window_s: int,
        flags: FlagsOf = no_flags,
        reasons: ReasonNames | None = None,
    ) -> SharedSnapshot:
        """The snapshot of the tenant's agents that match ``selection``, with their
        ``flags`` and the VDN's ``reasons`` names (a snapshot is shared only with the
        streams that ask for the same names: a reload of the names is not held back): a
        shared one when there is one to share, else one read now (StoreUnavailableError
        and the store's other failures reach every caller waiting for that read)."""
        key = (cc_id, vdn, selection, window_s, reasons)
        entry = self._entries.get(key)
        if entry is None or not self._shareable(entry):
            entry = self._build(key, flags)
        # a caller that goes away does not cancel the read the others wait for
        return await asyncio.shield(entry.future)

    def clear(self) -> None:
        """Forget every snapshot (the hub stops); reads in flight are cancelled."""
        entries, self._entries = self._entries, {}
        for entry in entries.values():
            entry.future.cancel()

    def _shareable(self, entry: _Entry) -> bool:
        future = entry.future
        if not future.done():
            return True  # in flight: wait for it
        if future.cancelled() or future.exception() is not None:
            return False
        loop = asyncio.get_running_loop()
        if entry.built_at is None or loop.time() - entry.built_at > self.share_s:
            return False
        position = self._position()
        return position is None or position <= future.result().seq

    def _build(self, key: _Key, flags: FlagsOf) -> _Entry:
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._read(key, flags), name="ccms-snapshot")
        entry = _Entry(task)
        self._entries[key] = entry
        task.add_done_callback(lambda done: self._built(key, entry, done))
        return entry

    async def _read(self, key: _Key, flags: FlagsOf) -> SharedSnapshot:
        cc_id, vdn, selection, window_s, reasons = key
        snapshot = await self._store.snapshot(cc_id, vdn)
        names = None if reasons is None else reasons.wire()
        events = snapshot_events(snapshot, selection, self._now_ms(), window_s, flags, names)
        self.encoded += 1
        return SharedSnapshot(snapshot.seq, tuple(events))

    def _built(self, key: _Key, entry: _Entry, done: asyncio.Future[SharedSnapshot]) -> None:
        if done.cancelled() or done.exception() is not None:  # the waiters have it
            self._forget(key, entry)
            return
        loop = asyncio.get_running_loop()
        entry.built_at = loop.time()
        # dropped once too old to share: the bytes live on only in the streams writing them
        loop.call_later(self.share_s, self._forget, key, entry)

    def _forget(self, key: _Key, entry: _Entry) -> None:
        if self._entries.get(key) is entry:
            del self._entries[key]
        with contextlib.suppress(asyncio.CancelledError, Exception):
            entry.future.exception()  # retrieved: never "exception was never retrieved"
