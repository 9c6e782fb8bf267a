"""The flag timers with a clock the test moves, over a real SQLite store: nothing scanned,
each flag raised at its moment with no event, once; the metrics' counts; a reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import FrozenClock

from ccms.domain.agent import AgentEvent, AgentKey
from ccms.domain.flags import NO_SKILL, RINGING_LONG, Limits, Thresholds
from ccms.domain.status import CtiStatus
from ccms.flagtimer import COALESCE_MS, FlagSchedule, FlagTimer
from ccms.store.sqlite import SQLiteStore
from ccms.thresholds import FlagConfig

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = 1_790_000_000_000


def ev(event_id: str, at: int, status: int, work_no: int = 101, **kw: object) -> AgentEvent:
    return AgentEvent(event_id, 1, 1, work_no, at, status, skills=(1,), **kw)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path, clock: FrozenClock) -> SQLiteStore:
    store = SQLiteStore(str(tmp_path / "flags.db"), clock=clock)
    await store.open()
    yield store  # type: ignore[misc]
    await store.close()


def timer_of(store: SQLiteStore, clock: FrozenClock, thresholds: Thresholds | None = None,
             ) -> tuple[FlagTimer, FlagConfig]:  # fmt: skip
    config = FlagConfig(thresholds=thresholds or Thresholds())
    return FlagTimer(store, config, lambda: int(clock() * 1000)), config


async def flags_in_log(store: SQLiteStore) -> list[tuple[int, str, int]]:
    page = await store.read_changes(0, 1000)
    return [(c.key.work_no, c.flag.flag.name, c.at) for c in page.changes if c.flag]


async def test_a_flag_is_raised_at_its_moment_by_the_clock_alone_and_once(
    store: SQLiteStore, clock: FrozenClock
) -> None:
    clock.now = T0 / 1000
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED), ev("b", T0, CtiStatus.IDLE, 102)])
    timer, _ = timer_of(store, clock)
    await timer.load()
    assert timer.schedule.next_due() == T0 + 20_000  # the idle agent has nothing due
    clock.now = (T0 + 19_990) / 1000
    assert await timer.tick() == 0
    clock.now = (T0 + 20_000) / 1000
    assert await timer.tick() == 1
    assert await flags_in_log(store) == [(101, RINGING_LONG, T0 + 20_000)]
    assert timer.schedule.flagged[1 - 1] == 1  # ringing-long, the first flag name
    clock.now = (T0 + 60_000) / 1000
    assert await timer.tick() == 0 and timer.schedule.next_due() is None
    # another process's timers, started later, find it raised
    other, _ = timer_of(store, clock)
    await other.load()
    assert await other.tick() == 0
    assert len(await flags_in_log(store)) == 1


async def test_a_wake_up_a_few_milliseconds_early_raises_the_flag_it_pops(
    store: SQLiteStore, clock: FrozenClock
) -> None:
    """A tick pops the moments due within COALESCE_MS of now: it raises them too (a timer
    woken 3 ms before the moment once lost the flag until the agent changed again)."""
    clock.now = T0 / 1000
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED)])
    timer, _ = timer_of(store, clock)
    await timer.load()
    clock.now = (T0 + 20_000 - COALESCE_MS + 2) / 1000
    assert await timer.tick() == 1
    assert await flags_in_log(store) == [(101, RINGING_LONG, T0 + 20_000)]


async def test_the_next_state_reschedules_and_clears_the_counts(
    store: SQLiteStore, clock: FrozenClock
) -> None:
    clock.now = T0 / 1000
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED)])
    timer, _ = timer_of(store, clock)
    await timer.load()
    clock.now = (T0 + 25_000) / 1000
    await timer.tick()
    assert timer.schedule.in_state == {("1/1", "ringing"): 1}
    await store.apply_events([ev("b", T0 + 26_000, CtiStatus.TALKING, calls=("c",))])
    await timer.follow()
    assert timer.schedule.flagged[0] == 0  # cleared with the ring
    assert timer.schedule.in_state == {("1/1", "talking"): 1}
    assert timer.schedule.next_due() == T0 + 26_000 + 600_000  # talking-long
    await store.apply_events([ev("c", T0 + 27_000, CtiStatus.SIGNED_OUT)])
    await timer.follow()
    assert timer.schedule.next_due() is None and len(timer.schedule) == 0


async def test_a_new_threshold_moves_the_moments_of_every_agent(
    store: SQLiteStore, clock: FrozenClock
) -> None:
    clock.now = T0 / 1000
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED)])
    timer, config = timer_of(store, clock)
    await timer.load()
    config.use(Thresholds(Limits(ringing_s=5).over(Thresholds().default)))
    await timer.follow()  # the listener marked every agent to be loaded again
    assert timer.schedule.next_due() == T0 + 5_000


async def test_a_reload_that_ends_a_raised_flag_takes_it_back_once_in_the_log(
    store: SQLiteStore, clock: FrozenClock, tmp_path: Path
) -> None:
    """A ring flagged at 20 s; the file then says 60 s: the reload writes one entry with
    the flag raised false (a live stream drops it), another process's reload none, and the
    ring is flagged again at its new moment."""
    path = tmp_path / "flags.toml"
    path.write_text("ringing_s = 20\n", encoding="utf-8")
    config = FlagConfig(str(path))
    timer = FlagTimer(store, config, lambda: int(clock() * 1000))
    other_config = FlagConfig(str(path))
    other = FlagTimer(store, other_config, lambda: int(clock() * 1000))
    clock.now = T0 / 1000
    await store.apply_events([ev("a", T0, CtiStatus.OCCUPIED), ev("b", T0, CtiStatus.IDLE, 102)])
    await timer.load()
    await other.load()
    clock.now = (T0 + 25_000) / 1000
    assert await timer.tick() == 1
    path.write_text("ringing_s = 60\n", encoding="utf-8")
    assert config.reload() and other_config.reload()
    await timer.follow()
    await other.follow()
    page = await store.read_changes(0, 1000)
    flags = [(c.key.work_no, c.flag.flag.name, c.flag.flag.since, c.flag.raised, c.at)
             for c in page.changes if c.flag]  # fmt: skip
    assert flags == [
        (101, RINGING_LONG, T0 + 20_000, True, T0 + 20_000),
        (101, RINGING_LONG, T0 + 20_000, False, T0 + 25_000),
    ]
    assert (timer.cleared, other.cleared) == (1, 0)
    assert timer.schedule.flagged[0] == 0 and timer.schedule.next_due() == T0 + 60_000
    clock.now = (T0 + 60_000) / 1000
    assert await timer.tick() + await other.tick() == 1
    assert (await flags_in_log(store))[-1] == (101, RINGING_LONG, T0 + 60_000)
    # a reload that changes nothing takes nothing back
    assert config.reload()
    await timer.follow()
    assert len(await flags_in_log(store)) == 3


def test_a_schedule_keeps_one_entry_per_flag_and_skips_stale_ones() -> None:
    from ccms.domain.agent import AgentRecord
    from ccms.domain.flags import FlagRules

    rules = FlagRules(Thresholds())
    schedule = FlagSchedule(lambda: rules)
    ringing = AgentRecord(1, 1, 101, 0, CtiStatus.OCCUPIED, status_at=T0)  # and no skill
    schedule.track(ringing)
    assert schedule.pending == 2 and schedule.next_due() == T0
    assert schedule.due(T0) == [AgentKey(1, 1, 101)]
    assert schedule.flagged[6] == 1  # no-skill, now raised
    schedule.track(ringing._replace(cti_status=CtiStatus.IDLE, status_at=T0 + 1_000))
    assert schedule.next_due() == T0 + 1_000  # the old ring's entry was dropped as stale
    assert schedule.due(T0 + 10**6) == [AgentKey(1, 1, 101)]
    assert schedule.flagged == [0, 0, 0, 0, 0, 0, 1] and NO_SKILL == "no-skill"
