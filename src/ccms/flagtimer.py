"""The flag timers of one server process: time passing is the event.

An agent's flags are a function of its record and the thresholds (:mod:`ccms.domain.flags`),
each with the moment it is raised. :class:`FlagSchedule` keeps, for every signed-in agent,
a heap of those moments still ahead (one entry per flag, invalidated by a stamp when the
agent changes: nothing is scanned, an idle floor costs one wake-up per moment crossed), and
what the metrics count (agents per state and VDN, agents per flag raised).

:class:`FlagTimer` drives it for a store: it loads the signed-in agents, follows the change
log (woken by the store's change feed, as the stream hub is), and at each due moment asks
the store to raise the flags of the agents due (:meth:`Store.raise_flags`), which writes a
``flag`` entry in the change log for each flag not raised yet. Every process and node runs
its timers; the store's transaction makes each flag raised once, whichever asks first.
A reload that changes the thresholds can end flags already raised: before tracking the
agents again, the timer asks the store to take them back (:meth:`Store.clear_flags`, a
``flag`` entry with ``raised`` false each, once across processes and nodes too).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections import Counter
from collections.abc import Callable, Iterable

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.changes import AgentChange
from ccms.domain.flags import FLAG_NAMES, FlagRules
from ccms.domain.status import CtiStatus
from ccms.errors import StoreUnavailableError
from ccms.store.base import Store
from ccms.thresholds import FlagConfig

log = logging.getLogger(__name__)

# The state words of the metrics (the wallboard's groups of CTI statuses).
STATE_OF_CTI = (
    "signed-out", "idle", "talking", "ringing", "ringing", "talking", "wrap-up", "busy",
    "rest", "study", "wrap-up",
)  # fmt: skip
MAX_VDN_LABELS = 100  # VDNs with a metrics series of their own; the others count as "other"
OTHER_VDN = "other"
_FLAG_INDEX = {name: i for i, name in enumerate(FLAG_NAMES)}
PAGE = 1000  # agents or changes read at once
BATCH = 500  # agents whose flags one store call raises or takes back
COALESCE_MS = 5  # moments this close together are handled in one wake-up
MAX_SLEEP_S = 10.0  # a sleeping timer looks at the clock again at least this often
_RETRY_S = 1.0


class FlagSchedule:
    """The due moments of every tracked agent's flags, and the counts of the metrics.

    :meth:`track` an agent's new record (a signed-out one is forgotten);
    :meth:`due` pops the agents whose flags are due at ``now_ms``."""

    def __init__(self, rules: Callable[[], FlagRules]) -> None:
        self._rules = rules
        self._heap: list[tuple[int, int, AgentKey, int]] = []  # (due, stamp, agent, flag)
        self._stamps: dict[AgentKey, int] = {}
        self._next_stamp = 0
        self._where: dict[AgentKey, tuple[str, str]] = {}  # agent -> (VDN label, state)
        self._raised: dict[AgentKey, int] = {}  # agent -> the flags raised, a bit each
        self._vdn_labels: dict[tuple[int, int], str] = {}
        self.in_state: Counter[tuple[str, str]] = Counter()
        self.flagged = [0] * len(FLAG_NAMES)

    def __len__(self) -> int:
        return len(self._stamps)

    @property
    def pending(self) -> int:
        """Heap entries (some of them stale)."""
        return len(self._heap)

    def next_due(self) -> int | None:
        """The next moment (ms) an agent's flag is due, or None."""
        heap = self._heap
        while heap and self._stamps.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)  # stale: the agent changed since
        return heap[0][0] if heap else None

    def _vdn_label(self, cc_id: int, vdn: int) -> str:
        label = self._vdn_labels.get((cc_id, vdn))
        if label is None:
            labels = self._vdn_labels
            label = f"{cc_id}/{vdn}" if len(labels) < MAX_VDN_LABELS else OTHER_VDN
            labels[(cc_id, vdn)] = label
        return label

    def track(self, record: AgentRecord) -> None:
        """The agent's record is now ``record``: its flags are due again from it."""
        key = record.key
        self._forget(key)
        if record.cti_status == CtiStatus.SIGNED_OUT:
            return
        stamp = self._next_stamp = self._next_stamp + 1
        self._stamps[key] = stamp
        where = (self._vdn_label(record.cc_id, record.vdn), STATE_OF_CTI[record.cti_status])
        self._where[key] = where
        self.in_state[where] += 1
        push, heap = heapq.heappush, self._heap
        for flag in self._rules().evaluate(record):
            push(heap, (flag.since, stamp, key, _FLAG_INDEX[flag.name]))

    def track_all(self, records: Iterable[AgentRecord]) -> None:
        for record in records:
            self.track(record)

    def _forget(self, key: AgentKey) -> None:
        if self._stamps.pop(key, None) is None:
            return
        where = self._where.pop(key)
        self.in_state[where] -= 1
        if not self.in_state[where]:
            del self.in_state[where]
        raised = self._raised.pop(key, 0)
        index = 0
        while raised:
            if raised & 1:
                self.flagged[index] -= 1
            raised >>= 1
            index += 1

    def clear(self) -> None:
        for key in list(self._stamps):
            self._forget(key)
        self._heap.clear()

    def retry(self, key: AgentKey, at_ms: int) -> None:
        """The agent's flags are due again at ``at_ms`` (raising them failed)."""
        stamp = self._stamps.get(key)
        if stamp is not None:
            heapq.heappush(self._heap, (at_ms, stamp, key, -1))

    def due(self, now_ms: int) -> list[AgentKey]:
        """Pop the flags due by ``now_ms`` (now raised, for the counts); their agents."""
        heap, stamps, raised = self._heap, self._stamps, self._raised
        found: dict[AgentKey, None] = {}
        while heap and heap[0][0] <= now_ms:
            _, stamp, key, index = heapq.heappop(heap)
            if stamps.get(key) != stamp:
                continue
            found[key] = None
            if index < 0:  # a retry
                continue
            bits = raised.get(key, 0)
            if not bits >> index & 1:
                raised[key] = bits | 1 << index
                self.flagged[index] += 1
        return list(found)


class FlagTimer:
    """The flag timers of one process over ``store`` (start with :meth:`start`, stop with
    :meth:`stop`); ``now_ms`` is the clock flags are raised by."""

    def __init__(
        self, store: Store, config: FlagConfig, now_ms: Callable[[], int], *, page: int = PAGE
    ) -> None:
        self._store = store
        self._config = config
        self._now_ms = now_ms
        self._page = page
        self.schedule = FlagSchedule(lambda: config.rules)
        self.seq: int | None = None  # the change log read up to it
        self.raised = 0  # flag entries this process wrote
        self.cleared = 0  # of them, those that took a flag back (raised false)
        self._lock = asyncio.Lock()  # a reload and the log's reading do not interleave
        self._wake = asyncio.Event()
        self._stale = True  # every agent is to be loaded (again)
        self._ended = False  # the thresholds changed: flags raised may have ended
        self._tasks: list[asyncio.Task[None]] = []
        config.listeners.append(self.thresholds_changed)

    def thresholds_changed(self) -> None:
        """The thresholds changed: every agent's moments are computed again, and the
        flags raised that the agents no longer have are taken back first."""
        self._stale = self._ended = True
        self._wake.set()

    # -- one step at a time (the tasks below, and tests with a clock of their own) -----

    async def load(self) -> None:
        """Track every signed-in agent afresh, then the log from where it was (or, the
        first time, from the newest change when the loading began). After a change of
        the thresholds, each page of agents first has the flags it no longer has taken
        back."""
        async with self._lock:
            if self.seq is None:
                self.seq = await self._store.change_seq()
            ended, self._stale, self._ended = self._ended, False, False
            self.schedule.clear()
            after: AgentKey | None = None
            try:
                while True:
                    page = await self._store.signed_in_agents(after, self._page)
                    if ended:
                        await self._clear([r.key for r in page])
                    self.schedule.track_all(page)
                    if len(page) < self._page:
                        break
                    after = page[-1].key
            except BaseException:
                self._stale, self._ended = True, self._ended or ended  # load again
                raise
        self._wake.set()

    async def _clear(self, keys: list[AgentKey]) -> None:
        """Take back the flags of ``keys`` the thresholds no longer give."""
        now = self._now_ms()
        for start in range(0, len(keys), BATCH):
            part = keys[start : start + BATCH]
            entries = await self._store.clear_flags(part, self._config.flags_of, now)
            self.raised += len(entries)
            self.cleared += len(entries)

    async def follow(self) -> None:
        """Track the agents the change log changed since :attr:`seq`."""
        if self.seq is None:
            await self.load()
        async with self._lock:
            while True:
                assert self.seq is not None
                page = await self._store.read_changes(self.seq, self._page)
                if page.expired:
                    log.warning("the flag timers fell behind the change log: loading again")
                    self.seq = page.newest
                    self._stale = True
                    break
                self._apply(page.changes)
                done = len(page.changes) < self._page
                self.seq = max(page.changes[-1].seq if page.changes else self.seq,
                               page.newest if done else 0)  # fmt: skip
                if done:
                    break
        if self._stale:
            await self.load()
        self._wake.set()

    def _apply(self, changes: Iterable[AgentChange]) -> None:
        track = self.schedule.track
        for change in changes:
            if change.flag is None:
                track(change.cur)

    async def tick(self) -> int:
        """Raise the flags due now; how many entries this process wrote."""
        now = self._now_ms()
        # The flags popped are those due by the horizon, and they are raised as of it: a
        # wake-up a few milliseconds early (the loop's clock resolution, whole milliseconds)
        # must not pop a moment the store, asked as of now, finds not due yet.
        horizon = now + COALESCE_MS
        keys = self.schedule.due(horizon)
        written = 0
        for start in range(0, len(keys), BATCH):
            part = keys[start : start + BATCH]
            try:
                entries = await self._store.raise_flags(part, self._config.flags_of, horizon)
            except StoreUnavailableError:
                for key in keys[start:]:  # due again in a second
                    self.schedule.retry(key, now + int(_RETRY_S * 1000))
                raise
            written += len(entries)
        self.raised += written
        return written

    # -- the tasks ---------------------------------------------------------------------

    def start(self) -> None:
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._following(), name="ccms-flag-log"),
                loop.create_task(self._timing(), name="ccms-flag-timer"),
            ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _following(self) -> None:
        while True:
            try:
                async with self._store.changes() as feed:
                    await self.follow()
                    async for change_set in feed:
                        if self.seq is None or change_set.seq > self.seq or self._stale:
                            await self.follow()
            except Exception as exc:
                log.warning("the flag timers lost the change feed (%s); following again", exc)
            await asyncio.sleep(_RETRY_S)

    async def _timing(self) -> None:
        while True:
            self._wake.clear()
            try:
                if self._stale and self.seq is not None:
                    await self.load()
                await self.tick()
            except StoreUnavailableError as exc:
                log.warning("the flag timers could not raise flags (%s); trying again", exc)
            except Exception:
                log.exception("the flag timers failed; going on")
            due = self.schedule.next_due()
            wait = MAX_SLEEP_S if due is None else (due - self._now_ms()) / 1000
            wait = min(max(wait, 0.0), MAX_SLEEP_S)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            else:
                await asyncio.sleep(0)
