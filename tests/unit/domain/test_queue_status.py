"""Skill queues now (``ccms.domain.queue_status``), against figures written out by hand."""

from __future__ import annotations

import pytest

from ccms.domain.agent import AgentRecord, SkillMember
from ccms.domain.call import CallRecord, CallState
from ccms.domain.queue_status import (
    SKILL_INDICATORS,
    QueueNow,
    agent_counts,
    member_counts,
    queued_in,
    recount,
)

pytestmark = pytest.mark.unit

T = 1_790_000_000_000


def call(call_id: str, skill: int, state: CallState, state_at: int, **kw: object) -> CallRecord:
    return CallRecord(1, 1, call_id, T - 600_000, state=state, state_at=state_at,
                      skill_id=skill, **kw)  # type: ignore[arg-type]  # fmt: skip


CALLS = [
    call("1789999000-9", 1, CallState.QUEUED, T - 50_000, queued_at=T - 50_000),
    call("1789999000-10", 1, CallState.QUEUED, T - 50_000, queued_at=T - 90_000),
    call("1789999000-2", 1, CallState.TALKING, T - 10_000, queued_at=T - 40_000,
         offered_at=T - 25_000, answered_at=T - 10_000),
    call("1789999000-3", 1, CallState.ENDED, T - 5_000, queued_at=T - 400_000,
         answered_at=T - 390_000, ended_at=T - 5_000),
    call("1789999000-4", 2, CallState.RINGING, T - 1_000, queued_at=T - 2_000,
         offered_at=T - 1_000),
]  # fmt: skip


def test_recount_now_and_in_the_window() -> None:
    start = T - 100_000
    one, two, three = recount(CALLS, [1, 2, 3, 1], start)
    assert one == QueueNow(
        1, queued=2, oldest_at=T - 50_000, oldest_call="1789999000-10", handling=1, calls=3,
        connected=1, connected_in_20s=0, processed=1, wait_ms=15_000, max_wait_ms=15_000,
        talked=1, talk_ms=385_000,
    )  # fmt: skip
    assert two == QueueNow(2, handling=1, calls=1, processed=1)
    assert three == QueueNow(3)
    assert one.longest_wait_ms(T) == 50_000 and three.longest_wait_ms(T) == 0
    # without a window: the figures now only
    assert recount(CALLS, [1], None) == [
        QueueNow(1, queued=2, oldest_at=T - 50_000, oldest_call="1789999000-10", handling=1)
    ]


def test_queued_in_is_by_queue_then_longest_waiting() -> None:
    assert [r.call_id for r in queued_in(CALLS, [2, 1])] == ["1789999000-10", "1789999000-9"]
    assert queued_in(CALLS, [2]) == []


def test_agents_of_queues() -> None:
    members = [SkillMember(1, 101, 1), SkillMember(1, 102, 0), SkillMember(2, 101, 1),
               SkillMember(1, 103, 5), SkillMember(8, 104, 1)]  # fmt: skip
    one, two, nine = member_counts(members, [1, 2, 9])
    assert (one.counts.signed_in, one.counts.idle, one.counts.talking) == (2, 1, 1)
    assert (two.counts.signed_in, nine.counts.signed_in) == (1, 0)
    records = [
        AgentRecord(1, 1, 101, T, 1, status_at=T - 30_000, skills=(1, 2)),
        AgentRecord(1, 1, 102, T, 1, status_at=T - 70_000, skills=(2,)),
        AgentRecord(1, 1, 103, T, 0, status_at=T - 99_000, skills=(1,)),  # signed out
        AgentRecord(1, 1, 104, T, 7, status_at=T - 99_000, skills=(1,)),
    ]
    one, two = agent_counts(records, [1, 2], T)
    assert (one.counts.signed_in, one.counts.set_busy, one.longest_idle_ms) == (2, 1, 30_000)
    assert (two.counts.signed_in, two.longest_idle_ms) == (2, 70_000)


def test_the_twelve_skill_indicators() -> None:
    assert len(SKILL_INDICATORS) == 12
    [agents] = member_counts([SkillMember(1, 101, 6)], [1])
    [queue] = recount(CALLS, [1], T - 100_000)
    values = {code: f(agents, queue, T) for code, f in SKILL_INDICATORS.items()}
    assert values == {
        "IDX_COUNT_REAL_SKILL_QUEUE": 2, "IDX_COUNT_REAL_SKILL_HANDLE": 1,
        "IDX_DURATION_SKILL_MAX_QUEUE_ACK": 50, "IDX_COUNT_20S_CALL_FOR_5MIN": 0,
        "IDX_COUNT_REAL_AGENT_SIGN_IN": 1, "IDX_COUNT_REAL_AGENT_CONNECT": 0,
        "IDX_COUNT_REAL_AGENT_SET_IDLE": 0, "IDX_COUNT_REAL_AGENT_USABLE": 0,
        "IDX_COUNT_REAL_AGENT_SET_BUSY": 0, "IDX_COUNT_REAL_AGENT_ACW": 1,
        "IDX_COUNT_REAL_AGENT_REST": 0, "IDX_COUNT_REAL_AGENT_STUDY": 0,
    }  # fmt: skip
