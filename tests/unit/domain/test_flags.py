"""The flags of an agent: pure, from its record, the thresholds and the time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import AgentRecord
from ccms.domain.flags import (
    ALERT,
    CLEARED,
    NO_SKILL,
    PHONE_UNAVAILABLE,
    REST_LONG,
    RINGING_LONG,
    TALKING_LONG,
    TALKING_NO_CALL,
    WARNING,
    WRAPUP_LONG,
    Flag,
    FlagRules,
    Limits,
    Thresholds,
    to_clear,
    to_raise,
)
from ccms.domain.status import CtiStatus

pytestmark = pytest.mark.unit

T0 = 1_790_000_000_000
RULES = FlagRules(Thresholds())


def agent(cti: int, start: int = T0, **fields: object) -> AgentRecord:
    values: dict[str, object] = {"cc_id": 1, "vdn": 1, "work_no": 101, "skills": (1,),
                                 "calls": ("c1",), **fields}  # fmt: skip
    return AgentRecord(created_at=0, cti_status=cti, status_at=start, login_at=start,
                       **values)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    ("cti", "name", "seconds"),
    [
        (CtiStatus.OCCUPIED, RINGING_LONG, 20), (CtiStatus.ANSWERING, RINGING_LONG, 20),
        (CtiStatus.WORKING, WRAPUP_LONG, 120), (CtiStatus.ADJUSTING, WRAPUP_LONG, 120),
        (CtiStatus.REST, REST_LONG, 900), (CtiStatus.TALKING, TALKING_LONG, 600),
        (CtiStatus.PREOCCUPIED, TALKING_LONG, 600),
    ],
)  # fmt: skip
def test_the_documented_defaults_raise_at_the_start_plus_the_threshold(
    cti: int, name: str, seconds: int
) -> None:
    record = agent(cti)
    due = T0 + seconds * 1000
    assert RULES(record, due - 1) == ()
    assert RULES(record, due) == (Flag(name, WARNING, due),)
    assert RULES.evaluate(record) == (Flag(name, WARNING, due),)


def test_impossible_states_are_alerts_from_the_moment_they_began() -> None:
    busy = agent(CtiStatus.BUSY, reason=5, reason_at=T0 + 3_000)
    assert RULES(busy, T0 + 3_000) == (Flag(PHONE_UNAVAILABLE, ALERT, T0 + 3_000),)
    assert RULES(agent(CtiStatus.BUSY, reason=4), T0 + 10**9) == ()
    no_call = agent(CtiStatus.TALKING, calls=(), calls_at=T0 - 5)  # emptied before the status
    assert RULES(no_call, T0) == (Flag(TALKING_NO_CALL, ALERT, T0),)
    no_skill = agent(CtiStatus.IDLE, skills=(), skills_at=T0 + 7)
    assert RULES(no_skill, T0 + 7) == (Flag(NO_SKILL, ALERT, T0 + 7),)
    assert RULES(agent(CtiStatus.SIGNED_OUT, skills=()), T0 + 10**9) == ()
    assert RULES(agent(CtiStatus.IDLE), T0 + 10**9) == ()


def test_a_vdn_and_its_skill_queues_have_their_own_thresholds() -> None:
    rules = FlagRules(Thresholds(
        vdns={(1, 1): Limits(ringing_s=5, rest_reasons={3: 1800}, levels={REST_LONG: ALERT})},
        skills={(1, 1, 7): Limits(wrapup_s=300), (1, 1, 8): Limits(wrapup_s=200)},
    ))  # fmt: skip
    assert rules.evaluate(agent(CtiStatus.OCCUPIED))[0].since == T0 + 5_000
    assert rules.evaluate(agent(CtiStatus.OCCUPIED, vdn=2))[0].since == T0 + 20_000
    lunch = rules.evaluate(agent(CtiStatus.REST, reason=3))
    assert lunch == (Flag(REST_LONG, ALERT, T0 + 1_800_000),)
    assert rules.evaluate(agent(CtiStatus.REST, reason=2))[0].since == T0 + 900_000
    # the longest wrap-up of the agent's queues that set one; the VDN's otherwise
    assert rules.evaluate(agent(CtiStatus.WORKING, skills=(7, 8, 9)))[0].since == T0 + 300_000
    assert rules.evaluate(agent(CtiStatus.WORKING, skills=(9,)))[0].since == T0 + 120_000


def test_a_flag_switched_off_is_never_raised() -> None:
    rules = FlagRules(Thresholds(Limits(enabled={NO_SKILL: False}).over(Thresholds().default)))
    assert rules(agent(CtiStatus.IDLE, skills=()), T0 + 10**9) == ()


def test_a_flag_is_raised_once_per_moment() -> None:
    record = agent(CtiStatus.OCCUPIED, skills=())
    raised = {f.name: f.since for f in RULES(record, T0 + 20_000)}
    assert [f.name for f in to_raise(record, {}, RULES, T0 + 20_000)] == [NO_SKILL, RINGING_LONG]
    assert to_raise(record, raised, RULES, T0 + 99_000) == []
    later = agent(CtiStatus.OCCUPIED, start=T0 + 60_000, skills=())  # a new ring
    assert [f.since for f in to_raise(later, raised, RULES, T0 + 80_000)] == [
        T0 + 60_000, T0 + 80_000,
    ]  # fmt: skip


def test_a_flag_is_taken_back_when_the_thresholds_no_longer_give_it() -> None:
    record = agent(CtiStatus.OCCUPIED, skills=())
    raised = {f.name: f.since for f in RULES(record, T0 + 20_000)}
    assert to_clear(record, raised, RULES, T0 + 30_000) == []
    longer = FlagRules(Thresholds(Limits(ringing_s=60).over(Thresholds().default)))
    assert to_clear(record, raised, longer, T0 + 30_000) == [RINGING_LONG]
    # held at another moment (raising it again replaces it), or taken back already: kept
    assert to_clear(record, raised, longer, T0 + 60_000) == []
    assert to_clear(record, {**raised, RINGING_LONG: CLEARED}, longer, T0 + 30_000) == []
    off = FlagRules(Thresholds(Limits(enabled={NO_SKILL: False}).over(Thresholds().default)))
    assert to_clear(record, raised, off, T0 + 30_000) == [NO_SKILL]
    assert to_raise(record, {RINGING_LONG: CLEARED}, RULES, T0 + 20_000)[-1].name == RINGING_LONG


@given(
    st.sampled_from(list(CtiStatus)),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
    st.lists(st.integers(1, 9), max_size=3),
    st.one_of(st.none(), st.integers(0, 9)),
)
def test_flags_now_are_those_evaluated_whose_moment_passed(
    cti: int, offset: int, now: int, skills: list[int], reason: int | None
) -> None:
    record = agent(cti, start=T0 + offset, skills=tuple(skills), reason=reason, calls=())
    flags = RULES.evaluate(record)
    assert [f.since for f in flags] == sorted(f.since for f in flags)
    assert all(f.since >= record.state_start for f in flags)
    assert RULES(record, T0 + now) == tuple(f for f in flags if f.since <= T0 + now)
