"""What the recorded Asterisk 22 transcript implies in ccms: the oracle of the AMI tests.

Read from ``asterisk22-queue-scenarios.txt`` by hand, frame by frame (``t`` is the
transcript's ``# t=``, ``ts`` a frame's ``Timestamp``), with the configuration of
:data:`CONFIG` (the issue's example: queue ``sales`` is skill 11 with a 3 s wrap-up;
``Lunch`` is ctiStatus 8, reason 4; identities from ``Local/<agentId>@``). Each entry is
``(ctiStatus, reason, at)``, ``at`` in ms of the fixture's clock; ``None`` is the
``QueueStatus`` snapshot the adapter takes after its login (its moment is the adapter's,
not the recording's).
"""

from __future__ import annotations

ALICE, BOB, CAROL = 1001, 1002, 1003

CONFIG = """
[ami]
host = "127.0.0.1"
port = {ami_port}
username = "ccms"
secret = "ccmspass"
ping_interval_s = {ping_s}
ping_timeout_s = {ping_s}
reconnect_min_s = 0.2
reconnect_max_s = 1.0
resync_interval_s = {resync_s}

[ccms]
url = "{url}"
ak = "{ak}"
sk = "{sk}"
timeout_s = 3

[adapter]
listen = "127.0.0.1:{listen_port}"

[spool]
dir = "{spool}"

[[identity]]
match = "^Local/(?P<agentId>\\\\d{{3,5}})@"   # against Interface / StateInterface / MemberName
ccId = 1
vdn = 1

[queues.sales]
skill = 11
wrapup_s = 3

[pause_reasons]
Lunch = {{ ctiStatus = 8, reason = 4 }}
"""

SEQUENCE: dict[int, list[tuple[int, int | None, int | None]]] = {
    ALICE: [
        # t=0.502 QueueStatus: static member, Status 0 (unknown: app_queue routes to it),
        # not paused -> available.
        (1, None, None),
        # t=2.008 AgentCalled for Alice (ringall rings both), ts 1796155469.063204.
        (4, None, 1796155469063),
        # t=4.011 AgentConnect Alice (HoldTime 2, RingTime 2 in seconds), ts .066220; her
        # QueueMemberStatus InCall 1 / Status 2 at t=4.511 changes nothing.
        (5, None, 1796155471066),
        # t=8.516 QueueMemberStatus first (ts 1796155475.571507: InCall 0, LastCall moved to
        # 1796155475), AgentComplete after it (ts .571719): the call is over -> wrap-up.
        (6, None, 1796155475571),
        # No frame ends the wrap-up: LastCall 1796155475 + the queue's 3 s (member events
        # show Wrapuptime 0, the member override), exactly.
        (1, None, 1796155478000),
        # t=13.510 QueueMemberPause Paused 1, PausedReason Lunch, ts 1796155480.565572 ->
        # the pause reasons table: ctiStatus 8, reason 4.
        (8, 4, 1796155480565),
        # t=26.016 QueueMemberPause Paused 0, ts 1796155493.071835 -> available.
        (1, None, 1796155493071),
        # t=27.519 AgentCalled Alice (Cust Three), ts 1796155494.574654.
        (4, None, 1796155494574),
        # t=32.524 AgentRingNoAnswer (RingTime 5000: milliseconds) ends the ring, but her
        # device still says Status 6 until the QueueMemberStatus Status 1 at t=32.525
        # (ts 1796155499.580815) -> available then.
        (1, None, 1796155499580),
        # t=33.527 AgentCalled again (the retry), ts 1796155500.581466.
        (4, None, 1796155500581),
        # t=36.022 the caller hangs up: QueueCallerAbandon ends the ring, her device goes
        # to Status 1 (QueueMemberStatus ts 1796155503.077788) -> available. The snapshot
        # at t=39.024 agrees.
        (1, None, 1796155503077),
    ],
    BOB: [
        # t=0.502 QueueStatus: static, Status 0 -> available.
        (1, None, None),
        # t=2.007 AgentCalled for Bob, ts 1796155469.062538 (his device rings at 2.008).
        (4, None, 1796155469062),
        # t=4.011 Alice answered: QueueCallerLeave for the caller ends Bob's ring; his
        # device goes back to Status 1 (ts 1796155471.066731; no AgentRingNoAnswer for the
        # ringall loser) -> available.
        (1, None, 1796155471066),
        # t=14.513 AgentCalled Bob (Alice is paused), ts 1796155481.568160.
        (4, None, 1796155481568),
        # t=18.516 AgentConnect Bob, ts 1796155485.571299.
        (5, None, 1796155485571),
        # t=23.022 AgentComplete first (ts 1796155490.077006; his device still says
        # Status 2), then QueueMemberStatus Status 1, LastCall 1796155490 (ts .077065) ->
        # wrap-up, in the same millisecond.
        (6, None, 1796155490077),
        # LastCall 1796155490 + 3 s -> available.
        (1, None, 1796155493000),
        # t=26.016 devstate UNAVAILABLE: QueueMemberStatus Status 5 (ts 1796155493.071301)
        # -> phone gone: busy, reason 5 (a static member; static_phone_gone = "busy").
        (7, 5, 1796155493071),
        # t=38.023 devstate NOT_INUSE: Status 1 (ts 1796155505.078333) -> available.
        (1, None, 1796155505078),
    ],
    CAROL: [
        # Not a member until t=38.024: unknown to ccms (the spec's 0: no configured queue).
        # QueueMemberAdded, dynamic, Status 0, ts 1796155505.079679 -> available.
        (1, None, 1796155505079),
        # t=40.026 QueueMemberRemoved, ts 1796155507.082102 -> member of no queue: 0.
        (0, None, 1796155507082),
    ],
}

# Where each agent ends, and the skill queues ccms lists it in.
FINAL = {ALICE: (1, (11,)), BOB: (1, (11,)), CAROL: (0, ())}

# The queue calls of the transcript, read from it by hand, and the call events they mean
# (docs/adapters/asterisk.md, "Calls"): (callEvent, at in ms of the fixture's clock, the
# event's own fields). A call's id is its Linkedid, ``<seconds>.<sequence>`` made
# ``<seconds>-<sequence>``; it arrived in the second of that Linkedid (its first channel).
# ``releaseCause`` needs the ``call`` class (the caller's Hangup): ``CAUSES``.
CALL_1, CALL_2, CALL_3 = "1796155468-0", "1796155481-6", "1796155494-10"
CALL_EVENTS: dict[str, list[tuple[str, int, dict[str, object]]]] = {
    CALL_1: [
        # Cust One (Originate, Local/s@callers;1, Linkedid 1796155468.0).
        ("arrive", 1796155468000, {"callerNo": "5551001"}),
        # t=2.006 QueueCallerJoin sales, Position 1, ts 1796155469.061410.
        ("queue", 1796155469061, {"skillId": 11}),
        # ringall: AgentCalled Bob (ts .062538), then Alice (ts .063204).
        ("offer", 1796155469062, {"agentId": BOB, "skillId": 11}),
        ("offer", 1796155469063, {"agentId": ALICE, "skillId": 11}),
        # t=4.011 QueueCallerLeave (ts .066029) comes *before* AgentConnect Alice (ts
        # 1796155471.066220, HoldTime 2): answered, one end only.
        ("answer", 1796155471066, {"agentId": ALICE}),
        # t=8.516 AgentComplete Alice, Reason agent (16), TalkTime 4, ts 1796155475.571719.
        ("end", 1796155475571, {"leaveReason": 16}),
    ],
    CALL_2: [
        # Cust Two, Linkedid 1796155481.6; Alice is paused, Bob takes it.
        ("arrive", 1796155481000, {"callerNo": "5551002"}),
        ("queue", 1796155481567, {"skillId": 11}),  # ts 1796155481.567964
        ("offer", 1796155481568, {"agentId": BOB, "skillId": 11}),  # ts .568160
        # t=18.516 QueueCallerLeave (.571235), AgentConnect Bob (ts 1796155485.571299).
        ("answer", 1796155485571, {"agentId": BOB}),
        # t=23.022 AgentComplete Bob, Reason agent, ts 1796155490.077006.
        ("end", 1796155490077, {"leaveReason": 16}),
    ],
    CALL_3: [
        # Cust Three, Linkedid 1796155494.10; Bob's phone is gone, only Alice is rung.
        ("arrive", 1796155494000, {"callerNo": "5551003"}),
        ("queue", 1796155494574, {"skillId": 11}),  # ts 1796155494.574610
        ("offer", 1796155494574, {"agentId": ALICE, "skillId": 11}),  # ts .574654
        # t=32.524 AgentRingNoAnswer (RingTime 5000 ms, ts 1796155499.579525): waits again.
        ("queue", 1796155499579, {"skillId": 11}),
        ("offer", 1796155500581, {"agentId": ALICE, "skillId": 11}),  # the retry
        # t=36.022 QueueCallerAbandon (HoldTime 9, ts 1796155503.077295), then its
        # QueueCallerLeave (no second end).
        ("abandon", 1796155503077, {"leaveReason": 89}),
    ],
}
# The Hangup of each caller's channel in the queue (Local/s@callers-...;2): Cause 16
# (Normal Clearing) after calls 1 and 2, Cause 0 (Unknown: no releaseCause) for call 3.
CAUSES = {CALL_1: 16, CALL_2: 16}
