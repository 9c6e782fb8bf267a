"""The per-agent state model: a function of the newest member records, never of the order
frames arrive in, with the precedence of the mapping."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccms.feeds.asterisk.state import (
    AgentMembers,
    MemberRecord,
    PauseRule,
    QueueRule,
    Rules,
    derive,
)

pytestmark = pytest.mark.unit

RULES = Rules(
    queues={"sales": QueueRule(11, 3.0), "support": QueueRule(12, 0.0), "vip": QueueRule(13, 10.0)},
    pause_reasons={"Lunch": PauseRule(8, 4), "Training": PauseRule(9)},
)
IFACE = "PJSIP/1001"
T0 = 1_800_000_000.0


def record(queue: str = "sales", **fields: object) -> MemberRecord:
    return dataclasses.replace(MemberRecord(queue, IFACE, name="Ann"), **fields)  # type: ignore[arg-type]


def status_of(*records: MemberRecord, now: float = T0 + 100) -> tuple[int, int | None]:
    agent = AgentMembers()
    for n, r in enumerate(records):
        agent.record(r, T0 + n)
    derived = derive(agent, now, RULES)
    return derived.cti_status, derived.reason


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ((), (0, None)),
        ((record(status=0),), (1, None)),  # unknown is available for app_queue
        ((record(status=1),), (1, None)),
        ((record(status=2),), (5, None)),
        ((record(status=3),), (5, None)),
        ((record(status=8),), (5, None)),
        ((record(status=1, in_call=True),), (5, None)),
        ((record(status=6),), (4, None)),
        ((record(status=7),), (4, None)),
        ((record(status=5),), (7, 5)),
        ((record(status=4),), (7, 5)),
        ((record(paused=True),), (7, None)),
        ((record(paused=True, paused_reason="Lunch"),), (8, 4)),
        ((record(paused=True, paused_reason="Training"),), (9, None)),
        ((record(paused=True, paused_reason="Auto-Pause"),), (7, 2)),
        # paused in one queue of two: not paused
        ((record(paused=True), record("support", status=1)), (1, None)),
        (
            (
                record(paused=True),
                record("support", paused=True, paused_reason="Lunch", last_pause=5),
            ),
            (8, 4),
        ),
        # precedence: a call beats a pause and a ringing beats a pause
        ((record(status=2, paused=True),), (5, None)),
        ((record(status=6, paused=True),), (4, None)),
        # paused beats a phone gone
        ((record(status=5, paused=True, paused_reason="Lunch"),), (8, 4)),
        # the call of one queue is the agent's
        ((record(status=1), record("support", in_call=True)), (5, None)),
    ],
)
def test_the_precedence_of_the_mapping(
    records: tuple[MemberRecord, ...], expected: tuple[int, int | None]
) -> None:
    assert status_of(*records) == expected


def test_wrap_up_lasts_the_queues_time_after_last_call_and_ends_by_itself() -> None:
    agent = AgentMembers()
    agent.record(record(status=1, last_call=int(T0)), T0)
    during = derive(agent, T0 + 2.9, RULES)
    assert (during.cti_status, during.due) == (6, T0 + 3)
    assert derive(agent, T0 + 3, RULES).cti_status == 1
    # the member's own Wrapuptime overrides the queue's
    agent.record(record(status=1, last_call=int(T0), wrapuptime=20), T0 + 1)
    assert derive(agent, T0 + 10, RULES).cti_status == 6
    # a queue without wrap-up has none
    other = AgentMembers()
    other.record(record("support", status=1, last_call=int(T0)), T0)
    assert derive(other, T0 + 0.5, RULES).cti_status == 1


def test_a_static_members_phone_gone_may_read_as_signed_out() -> None:
    signed_out = dataclasses.replace(RULES, static_phone_gone="signed_out")
    agent = AgentMembers()
    agent.record(record(status=5, membership="static"), T0)
    assert derive(agent, T0, signed_out).cti_status == 0
    assert derive(agent, T0, RULES).cti_status == 7
    dynamic = AgentMembers()
    dynamic.record(record(status=5, membership="dynamic"), T0)
    assert derive(dynamic, T0, signed_out).cti_status == 7


def test_call_events_add_to_the_member_state_until_they_end() -> None:
    agent = AgentMembers()
    agent.record(record(status=1), T0)
    agent.called("sales", IFACE, "caller-1", T0 + 1)
    assert derive(agent, T0 + 1, RULES).cti_status == 4
    agent.connect("sales", IFACE, "caller-1", T0 + 2)
    assert derive(agent, T0 + 2, RULES).cti_status == 5
    agent.call_ended("sales", IFACE, T0 + 5)
    # AgentComplete: the call is over, the wrap-up counts from it (LastCall not seen yet)
    assert derive(agent, T0 + 6, RULES).cti_status == 6
    assert derive(agent, T0 + 8, RULES).cti_status == 1


def test_a_ringall_loser_is_freed_by_the_caller_leaving() -> None:
    agent = AgentMembers()
    agent.record(record(status=1), T0)
    agent.called("sales", IFACE, "caller-1", T0 + 1)
    assert agent.caller_left("caller-2") is False
    assert agent.caller_left("caller-1") is True
    assert derive(agent, T0 + 2, RULES).cti_status == 1


def test_an_older_record_arriving_late_changes_nothing() -> None:
    agent = AgentMembers()
    assert agent.record(record(status=2), T0 + 5)
    assert not agent.record(record(status=1), T0 + 1)
    assert derive(agent, T0 + 5, RULES).cti_status == 5
    assert not agent.remove("sales", IFACE, T0 + 2)  # a removal older than the record
    assert derive(agent, T0 + 5, RULES).cti_status == 5


def test_a_snapshot_replaces_the_members_of_its_queues() -> None:
    agent = AgentMembers()
    agent.record(record(status=1), T0)
    agent.record(record("support", status=1), T0)
    agent.connect("sales", IFACE, "caller-1", T0 + 1)
    agent.snapshot([record("support", status=1)], ["sales", "support"], T0 + 2)
    derived = derive(agent, T0 + 2, RULES)
    assert (derived.cti_status, derived.skills) == (1, (12,))


# -- Hypothesis: any interleaving of member events gives the state of the newest ones -----

QUEUES = ("sales", "support", "vip")
records = st.builds(
    MemberRecord,
    queue=st.sampled_from(QUEUES),
    interface=st.just(IFACE),
    membership=st.sampled_from(("static", "dynamic")),
    status=st.integers(0, 8),
    in_call=st.booleans(),
    paused=st.booleans(),
    paused_reason=st.sampled_from(("", "Lunch", "Training", "Auto-Pause", "Other")),
    last_call=st.sampled_from((0, int(T0) - 100, int(T0) - 2, int(T0) - 1)),
    last_pause=st.integers(0, 5),
)
# an event: a record, or a removal (None), at a distinct time
member_events = st.lists(
    st.tuples(st.one_of(records, st.none().map(lambda _: None)), st.sampled_from(QUEUES)),
    min_size=1, max_size=12,
).map(lambda items: [(r, q, T0 - 50 + n) for n, (r, q) in enumerate(items)])  # fmt: skip


def reference(final: list[MemberRecord], now: float) -> tuple[int, int | None]:
    """The mapping table, read top-down over the final members, written plainly."""
    if not final:
        return 0, None
    if any(r.in_call or r.status in (2, 3, 8) for r in final):
        return 5, None
    if any(r.status in (6, 7) for r in final):
        return 4, None
    for r in final:
        wrapup = r.wrapuptime or RULES.queues[r.queue].wrapup_s
        if r.last_call and wrapup and now < r.last_call + wrapup:
            return 6, None
    if all(r.paused for r in final):
        reason = max(final, key=lambda r: (r.last_pause, r.queue)).paused_reason
        return {"Lunch": (8, 4), "Training": (9, None), "Auto-Pause": (7, 2)}.get(reason, (7, None))
    if any(r.status in (4, 5) for r in final):
        return 7, 5
    return 1, None


@settings(max_examples=300)
@given(member_events, st.randoms(use_true_random=False))
def test_any_interleaving_of_member_events_gives_the_state_of_the_newest(
    events: list[tuple[MemberRecord | None, str, float]], rnd: object
) -> None:
    newest: dict[str, tuple[float, MemberRecord | None]] = {}
    for rec, queue, at in events:
        queue = rec.queue if rec is not None else queue
        if queue not in newest or at >= newest[queue][0]:
            newest[queue] = (at, rec)
    final = [r for _, r in newest.values() if r is not None]
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    agent = AgentMembers()
    for rec, queue, at in shuffled:
        if rec is None:
            agent.remove(queue, IFACE, at)
        else:
            agent.record(rec, at)
    now = T0
    derived = derive(agent, now, RULES)
    assert (derived.cti_status, derived.reason) == reference(final, now)
    assert derived.skills == tuple(sorted({RULES.queues[r.queue].skill for r in final}))
