"""The simulator's parts: the traffic model and the roster."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccms.simulator import SimulationConfig
from ccms.simulator.roster import build_roster, first_shift_start, plan_shift, skill_id
from ccms.simulator.traffic import (
    DAY_MS,
    HOUR_MS,
    INTRADAY_CURVE,
    ArrivalProcess,
    Lognormal,
    Patience,
    curve_at,
    daily_factor,
    peak_hour,
)

pytestmark = pytest.mark.unit

START = 1_767_225_600_000


def test_the_intraday_curve_peaks_mid_morning_and_is_low_at_night() -> None:
    assert len(INTRADAY_CURVE) == 24
    assert peak_hour() == 10  # figures §6: morning peak 09:30-11:30
    assert curve_at(10.5 * HOUR_MS) == INTRADAY_CURVE[10] == 1.0
    assert max(INTRADAY_CURVE[0:6]) < 0.15
    business = INTRADAY_CURVE[8:20]
    assert 2.5 <= max(business) / min(business) <= 4.0  # figures §6
    assert curve_at(11 * HOUR_MS) == pytest.approx((INTRADAY_CURVE[10] + INTRADAY_CURVE[11]) / 2)
    assert curve_at(0) == pytest.approx((INTRADAY_CURVE[23] + INTRADAY_CURVE[0]) / 2)


def test_lognormal_draws_have_the_asked_mean_and_cv() -> None:
    rng = random.Random(5)
    shape = Lognormal(360.0, 1.0, cap=1000.0)
    draws = [shape.draw_ms(rng) / 1000 for _ in range(40_000)]
    mean = statistics.fmean(draws)
    assert mean == pytest.approx(360.0, rel=0.05)
    assert statistics.pstdev(draws) / mean == pytest.approx(1.0, rel=0.15)
    assert statistics.median(draws) == pytest.approx(255.0, rel=0.05)  # figures §1
    assert Lognormal(45.0, 0.0).draw_ms(rng) == 45_000
    assert max(Lognormal(10.0, 3.0, cap=2.0).draw_ms(rng) for _ in range(1000)) <= 20_000


def test_patience_is_exponential_by_default() -> None:
    rng = random.Random(6)
    draws = [Patience(240.0).draw_ms(rng) / 1000 for _ in range(20_000)]
    assert statistics.fmean(draws) == pytest.approx(240.0, rel=0.05)
    gone_by_40s = sum(d <= 40 for d in draws) / len(draws)
    assert gone_by_40s == pytest.approx(0.15, abs=0.02)  # figures §3
    lognormal = [Patience(240.0, 0.5).draw_ms(rng) / 1000 for _ in range(20_000)]
    assert statistics.pstdev(lognormal) / statistics.fmean(lognormal) == pytest.approx(0.5, rel=0.1)


def test_arrivals_follow_the_curve_and_the_daily_factor() -> None:
    process = ArrivalProcess(random.Random(7), 600.0, seed=3, busyness_cv=0.0)
    process.start(START)
    per_hour: Counter[int] = Counter()
    previous = START
    while (at := process.next_ms()) is not None and at < START + 10 * DAY_MS:
        assert at >= previous
        previous = at
        per_hour[(at - START) // HOUR_MS % 24] += 1
    for hour in (3, 10, 14):
        expected = (
            10 * 600.0 * statistics.fmean(curve_at(hour * HOUR_MS + m * 60_000) for m in range(60))
        )
        assert per_hour[hour] == pytest.approx(expected, rel=0.1)
    assert per_hour[10] > 5 * per_hour[3]


def test_no_rate_means_no_arrivals() -> None:
    process = ArrivalProcess(random.Random(1), 0.0, seed=1, busyness_cv=0.1)
    assert process.next_ms() is None


def test_the_daily_factor_has_mean_one_and_depends_on_seed_and_day_only() -> None:
    factors = [daily_factor(9, day, 0.1) for day in range(2000)]
    assert statistics.fmean(factors) == pytest.approx(1.0, abs=0.01)
    assert statistics.pstdev(factors) == pytest.approx(0.1, rel=0.1)
    assert daily_factor(9, 5, 0.1) == daily_factor(9, 5, 0.1) != daily_factor(10, 5, 0.1)
    assert daily_factor(9, 5, 0.0) == 1.0


def test_the_roster_spreads_agents_and_skills_over_the_vdns() -> None:
    config = SimulationConfig(agents=201, vdns=2)
    roster = build_roster(config)
    by_vdn = Counter(agent.vdn for agent in roster.agents)
    assert by_vdn == {1: 101, 2: 100}
    assert len({(a.vdn, a.work_no) for a in roster.agents}) == 201
    assert len({a.phone_number for a in roster.agents}) == 201
    for agent in roster.agents:
        assert 101 <= agent.work_no < 101 + by_vdn[agent.vdn]
        voice = [skill_id(agent.vdn, i) for i in range(1, 4)]
        if agent.chat:
            assert agent.media_type in (51, 53)
            assert agent.skills == (skill_id(agent.vdn, 4),)
        else:
            assert agent.media_type == 5
            assert 1 <= len(agent.skills) <= 3
            assert set(agent.skills) <= set(voice)
    chat = sum(agent.chat for agent in roster.agents)
    assert chat == round(101 * 0.15) + round(100 * 0.15)
    queues = {q.skill: q for q in roster.queues}
    assert sorted(queues) == [101, 102, 103, 104, 201, 202, 203, 204]
    assert all(q.peak_per_hour > 0 for q in queues.values())
    voice_total = sum(q.peak_per_hour for q in queues.values() if not q.chat)
    assert voice_total == pytest.approx(config.peak_call_rate * (201 - chat))


def test_the_roster_follows_the_shift_weights_and_the_seed() -> None:
    config = SimulationConfig(agents=1000, vdns=1)
    starts = Counter(agent.shift_start_h for agent in build_roster(config).agents)
    total = sum(weight for _, weight in config.shifts)
    for start, weight in config.shifts:
        assert starts[start] == pytest.approx(1000 * weight / total, abs=2)
    assert build_roster(config) == build_roster(config)
    other = build_roster(SimulationConfig(agents=1000, vdns=1, seed=2))
    assert other != build_roster(config)


def test_every_queue_is_covered_by_every_shift() -> None:
    roster = build_roster(SimulationConfig())
    for vdn in (1, 2):
        for start, _ in SimulationConfig().shifts:
            covered = {
                s
                for a in roster.agents
                if a.vdn == vdn and a.shift_start_h == start
                for s in a.skills
            }
            assert covered == {skill_id(vdn, i) for i in range(1, 5)}, (vdn, start)


def test_first_shift_start_finds_the_running_or_next_shift() -> None:
    config = SimulationConfig()
    assert first_shift_start(config, 22.0, START) == START - 2 * HOUR_MS  # night shift runs
    assert first_shift_start(config, 8.0, START) == START + 8 * HOUR_MS
    assert first_shift_start(config, 8.0, START + 17 * HOUR_MS) == START + DAY_MS + 8 * HOUR_MS


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), start_hour=st.sampled_from([6.0, 8.0, 13.5, 22.0]))
def test_a_shift_plan_has_breaks_lunch_and_ends_with_the_sign_out(
    seed: int, start_hour: float
) -> None:
    config = SimulationConfig()
    shift_start = START + round(start_hour * HOUR_MS)
    plan = plan_shift(config, random.Random(seed), shift_start, shift_start)
    assert [item.due_ms for item in plan] == sorted(item.due_ms for item in plan)
    assert plan[-1].status == 0
    end = shift_start + config.shift_ms
    assert abs(plan[-1].due_ms - end) <= 15 * 60_000
    reasons = Counter(item.reason for item in plan if item.status == 8)
    assert reasons[2] == 1  # one lunch
    assert 1 <= reasons[1] <= 2  # short breaks
    for item in plan[:-1]:
        assert shift_start + 30 * 60_000 <= item.due_ms <= end - 30 * 60_000
        assert item.duration_ms > 0
        assert item.status in (8, 9)
    later = plan_shift(config, random.Random(seed), shift_start, shift_start + 3 * HOUR_MS)
    assert all(item.due_ms >= shift_start + 3 * HOUR_MS for item in later)
    assert later[-1].status == 0
