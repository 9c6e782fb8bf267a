"""The discrete-event simulator of a contact-center floor.

One heap of timed items drives everything: call arrivals per skill queue, caller patience
running out, and one pending timer per agent (what the agent does next in its current
status). Items are ordered by (time, insertion number), so the run is a pure function of
the config: no wall clock, no threads, no global random state.

The agent's cycle (``cc-cms-reference.md`` §3):

- signed out (0) -> idle (1), or busy (7, preparation) then idle, at the shift start;
- idle -> occupied (3) -> answering (4) -> talking (5) -> wrap-up (working 6 for voice,
  adjusting 10 for chat) -> idle, for an inbound call offered by the ACD (longest-idle
  agent first; waiting calls are served first-come first-served);
- idle -> preoccupied (2) -> talking -> wrap-up -> idle for a preview outbound dial;
- idle -> busy (7), rest (8), study (9) for spontaneous or planned activities; planned
  ones (breaks, lunch, training, sign-out) wait until the agent is free, and go straight
  from wrap-up or another activity when the transition graph allows.

With ``call_events`` the calls send their own events too, in the same stream, at the very
moments of the agents' events they go with (``docs/simulator.md``, "Call events"): an
inbound call arrives and queues, is offered to the agent that goes occupied, answered when
that agent starts talking, then ends, is transferred to another voice queue, or is
abandoned when the caller's patience runs out; it queues again when an offer rings out.
An outbound dial arrives (outbound), is offered to the dialling agent, answered when the
customer picks up, and ends.
"""

from __future__ import annotations

import heapq
import random
from collections import deque

from ccms.domain.media import MediaType
from ccms.domain.status import CtiStatus
from ccms.simulator.acd import Acd
from ccms.simulator.config import DIAL_S, OCCUPIED_S, RINGING_S, SimulationConfig
from ccms.simulator.floor import AgentSnapshot, AgentState, Call, EventLog
from ccms.simulator.roster import (
    PlannedActivity,
    build_roster,
    first_shift_start,
    plan_shift,
    sign_in_time,
)
from ccms.simulator.traffic import DAY_MS, HOUR_MS, ArrivalProcess, Lognormal, Patience
from ccms.simulator.transitions import ALLOWED_TRANSITIONS, BusyReason, RestReason

_ARRIVAL = 0
_PATIENCE = 1
_AGENT = 2
OUTBOUND_CALL_TYPE = 7  # the vendor's SP_CALL_OUT: a common outbound call, by an agent

_S = CtiStatus
ROUTE_DELAY_S = (0.2, 1.0)  # ACD latency before a newly idle agent gets a waiting call
REACTION_S = (2.0, 20.0)  # an idle agent starting an activity that was already due
SIGN_IN_BUSY_S = (30.0, 180.0)
AFTER_REST_BUSY_SHARE = 0.1  # rest ends in a minute or two of busy (preparation)
PERSONAL_BUSY = Lognormal(180.0, 0.6)
COACHING_BUSY_S = (600.0, 1200.0)
COACHING_SHARE = 0.3  # of spontaneous busy spells
COMFORT_BREAK = Lognormal(300.0, 0.4)


class Simulator:
    """A seeded, pure simulation of a contact-center floor that emits CTI events."""

    def __init__(self, config: SimulationConfig) -> None:
        self._config = config
        roster = build_roster(config)
        self._rng = random.Random(f"ccms-simulator/{config.seed}/floor")
        self._log = EventLog(f"sim{config.seed}-{config.cc_id}-", calls=config.call_events)
        # The callers' numbers and the transfers draw from a stream of their own.
        self._call_rng = random.Random(f"ccms-simulator/{config.seed}/calls")
        self._now = config.start_ms
        self._heap: list[tuple[int, int, int, int, int]] = []
        self._seq = 0
        self._calls: dict[int, Call] = {}
        self._call_count = 0
        self._voice_talk = Lognormal(config.handle_mean_s, config.handle_cv)
        self._chat_talk = Lognormal(config.chat_handle_mean_s, config.chat_handle_cv)
        self._wrap = Lognormal(config.wrap_mean_s, config.wrap_cv)
        self._patience = Patience(config.patience_mean_s, config.patience_cv)
        self._agents = [AgentState(p, i) for i, p in enumerate(roster.agents)]
        self._acd = Acd(roster.queues, self._agents)
        self._queues = roster.queues
        # Per voice queue, the other voice queues of its VDN (where a transfer may go).
        self._transfer_to = [
            ()
            if q.chat
            else tuple(
                i
                for i, o in enumerate(roster.queues)
                if o.vdn == q.vdn and not o.chat and o is not q
            )
            for q in roster.queues
        ]
        self._arrivals: list[ArrivalProcess] = []
        for qi, q in enumerate(roster.queues):
            rng = random.Random(f"ccms-simulator/{config.seed}/queue/{q.skill}")
            process = ArrivalProcess(rng, q.peak_per_hour, config.seed, config.daily_busyness_cv)
            process.start(config.start_ms)
            self._arrivals.append(process)
            first = process.next_ms()
            if first is not None:
                self._push(first, _ARRIVAL, qi, 0)
        for agent in self._agents:
            start = first_shift_start(config, agent.profile.shift_start_h, config.start_ms)
            agent.shift_start_ms = start
            if start <= config.start_ms:  # already on shift: sign in as the run starts
                at = config.start_ms + round(self._rng.uniform(0, 60_000))
            else:
                at = max(config.start_ms, sign_in_time(config, self._rng, start))
            self._timer(agent, at)

    # -- public API -------------------------------------------------------------------

    @property
    def config(self) -> SimulationConfig:
        return self._config

    @property
    def now_ms(self) -> int:
        """The simulated clock: everything up to it has happened."""
        return self._now

    def advance(self, until_ms: int) -> list[dict[str, object]]:
        """Run the simulation up to ``until_ms`` (inclusive); return its events in order.

        Raises ``ValueError`` if ``until_ms`` is before :attr:`now_ms`.
        """
        if until_ms < self._now:
            raise ValueError(f"cannot go back in time: {until_ms} < now {self._now}")
        heap = self._heap
        while heap and heap[0][0] <= until_ms:
            at, _, kind, ref, token = heapq.heappop(heap)
            if kind == _AGENT:
                agent = self._agents[ref]
                if agent.token == token:
                    self._on_agent_timer(agent, at)
            elif kind == _ARRIVAL:
                self._on_arrival(ref, at)
            else:
                self._on_patience(ref, at, token)
        self._now = until_ms
        return self._log.take()

    def agents(self) -> dict[tuple[int, int, int], AgentSnapshot]:
        """Current state per (ccId, vdn, agentId) of every agent that has emitted an event."""
        return {
            (a.profile.cc_id, a.profile.vdn, a.profile.work_no): a.snapshot()
            for a in self._agents
            if a.emitted
        }

    def status_counts(self) -> dict[int, int]:
        """Agents per CTI status 0..10 (every code present, maybe 0), among those seen."""
        counts = dict.fromkeys(range(11), 0)
        for a in self._agents:
            if a.emitted:
                counts[a.status] += 1
        return counts

    # -- scheduling -------------------------------------------------------------------

    def _push(self, at: int, kind: int, ref: int, token: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, ref, token))

    def _timer(self, agent: AgentState, at: int) -> None:
        """(Re)arm the agent's one timer; any earlier one goes stale."""
        agent.token += 1
        self._push(at, _AGENT, agent.index, agent.token)

    def _after(self, at: int, bounds: tuple[float, float]) -> int:
        return at + max(1, round(self._rng.uniform(*bounds) * 1000))

    # -- calls ------------------------------------------------------------------------

    def _call_event(self, call: Call, at: int, kind: str, **fields: object) -> None:
        queue = self._queues[call.queue]
        self._log.call(self._config.cc_id, queue.vdn, call.call_id, at, kind, **fields)

    def _on_arrival(self, qi: int, at: int) -> None:
        self._call_count += 1
        no = self._call_count
        call = Call(no, f"{at // 1000}-{no}", qi, at)
        self._calls[no] = call
        queue = self._queues[qi]
        access = access_code(queue.vdn)
        self._call_event(
            call, at, "arrive", callerNo=f"1{self._call_rng.randrange(10**9, 10**10)}",
            calleeNo=access, accessCode=access,
            mediaType=int(MediaType.WEB_CHAT if queue.chat else MediaType.PHONE), callType=0,
        )  # fmt: skip
        self._call_event(call, at, "queue", skillId=queue.skill)
        self._route(call, at, front=False)
        self._push(at + self._patience.draw_ms(self._rng), _PATIENCE, no, call.patience)
        following = self._arrivals[qi].next_ms()
        if following is not None:
            self._push(following, _ARRIVAL, qi, 0)

    def _on_patience(self, no: int, at: int, token: int) -> None:
        call = self._calls.get(no)
        if call is None or call.state == Call.TALKING or call.patience != token:
            return
        del self._calls[no]
        state, call.state = call.state, Call.GONE
        self._call_event(call, at, "abandon")
        if state == Call.OFFERED and call.agent is not None:
            agent = self._agents[call.agent]  # the caller hangs up during the offer
            agent.call = None
            self._enter_idle(agent, at)

    def _route(self, call: Call, at: int, *, front: bool) -> None:
        """Offer a call to the longest-idle agent of its queue, or let it wait."""
        agent = self._acd.longest_idle(call.queue)
        if agent is None:
            self._acd.wait(call, front=front)
        else:
            self._offer(agent, call, at)

    def _offer(self, agent: AgentState, call: Call, at: int) -> None:
        call.state = Call.OFFERED
        call.agent = agent.index
        agent.call = call
        self._log.status(agent, at, _S.OCCUPIED, calls=(call.call_id,))
        skill = self._queues[call.queue].skill
        self._call_event(call, at, "offer", agentId=agent.profile.work_no, skillId=skill)
        self._timer(agent, self._after(at, OCCUPIED_S))

    def _transfer(self, call: Call, at: int, queue: int) -> None:
        """The agent hands the call to another skill queue: it waits there (or rings at
        an idle agent of it) with a new patience, as a new caller would."""
        call.queue = queue
        call.patience += 1
        self._call_event(call, at, "transfer", skillId=self._queues[queue].skill)
        self._push(at + self._patience.draw_ms(self._call_rng), _PATIENCE, call.no, call.patience)
        self._route(call, at, front=False)

    # -- agents -----------------------------------------------------------------------

    def _on_agent_timer(self, agent: AgentState, at: int) -> None:
        status = agent.status
        log = self._log
        rng = self._rng
        if status == _S.IDLE:
            self._on_idle_wake(agent, at)
        elif status == _S.OCCUPIED:
            log.status(agent, at, _S.ANSWERING)
            self._timer(agent, self._after(at, RINGING_S))
        elif status == _S.ANSWERING:
            call = agent.call
            assert call is not None
            if not agent.profile.chat and rng.random() < self._config.no_answer_share:
                agent.call = None  # rang out: back to the head of the queue
                self._call_event(call, at, "queue", skillId=self._queues[call.queue].skill)
                self._route(call, at, front=True)
                self._enter_idle(agent, at)
            else:
                call.state = Call.TALKING
                self._call_event(call, at, "answer", agentId=agent.profile.work_no)
                self._talk(agent, at)
        elif status == _S.PREOCCUPIED:
            if rng.random() < self._config.outbound_answer_share:
                self._outbound_event(agent, at, "answer", agentId=agent.profile.work_no)
                self._talk(agent, at)
            else:
                self._outbound_event(agent, at, "end")
                self._enter_idle(agent, at)
        elif status == _S.TALKING:
            self._end_talk(agent, at)
        elif status == _S.SIGNED_OUT:
            self._sign_in(agent, at)
        else:  # wrap-up, busy, rest or study has run its time
            self._settle(agent, at)

    def _talk(self, agent: AgentState, at: int) -> None:
        self._log.status(agent, at, _S.TALKING)
        talk = self._chat_talk if agent.profile.chat else self._voice_talk
        self._timer(agent, at + talk.draw_ms(self._rng))

    def _outbound_event(self, agent: AgentState, at: int, kind: str, **fields: object) -> None:
        """A call event of the outbound call the agent dialled (the one it lists)."""
        p = agent.profile
        self._log.call(p.cc_id, p.vdn, agent.calls[0], at, kind, **fields)

    def _end_talk(self, agent: AgentState, at: int) -> None:
        call = agent.call
        if call is not None:
            agent.call = None
            targets = self._transfer_to[call.queue]
            if targets and self._call_rng.random() < self._config.transfer_share:
                self._transfer(call, at, targets[self._call_rng.randrange(len(targets))])
            else:
                self._calls.pop(call.no, None)
                call.state = Call.GONE
                self._call_event(call, at, "end")
        elif agent.calls:
            self._outbound_event(agent, at, "end")
        if agent.profile.chat:
            wrap = _S.ADJUSTING
        elif self._rng.random() < self._config.no_wrap_share:
            self._enter_idle(agent, at)
            return
        else:
            wrap = _S.WORKING
        self._log.status(agent, at, wrap, calls=())
        self._timer(agent, at + self._wrap.draw_ms(self._rng))

    def _enter_idle(self, agent: AgentState, at: int, *, sign_in: bool = False) -> None:
        calls: tuple[str, ...] | None = () if agent.calls else None
        if sign_in:
            self._log.status(
                agent, at, _S.IDLE, calls=(), skills=agent.profile.skills, sign_in=True
            )
        else:
            self._log.status(agent, at, _S.IDLE, calls=calls)
        self._acd.agent_idle(agent, at)
        rng = self._rng
        agent.ready_ms = self._after(at, REACTION_S)
        rate = self._config.busy_per_idle_hour + self._config.comfort_per_idle_hour
        if not agent.profile.chat:
            rate += self._config.outbound_per_idle_hour
        agent.spontaneous_ms = at + round(rng.expovariate(rate / HOUR_MS)) if rate > 0 else None
        self._arm_idle(agent, at)

    def _arm_idle(self, agent: AgentState, at: int) -> None:
        """Set the idle agent's next wake-up: a waiting call, a due plan item, or a whim."""
        if self._acd.oldest_waiting(agent, take=False) is not None:
            self._timer(agent, self._after(at, ROUTE_DELAY_S))
            return
        wake = max(agent.plan[0].due_ms, agent.ready_ms) if agent.plan else DAY_MS + at
        if agent.spontaneous_ms is not None:
            wake = min(wake, agent.spontaneous_ms)
        self._timer(agent, max(wake, at + 1))

    def _on_idle_wake(self, agent: AgentState, at: int) -> None:
        call = self._acd.oldest_waiting(agent, take=True)
        if call is not None:
            self._offer(agent, call, at)
            return
        item = agent.due_item(at)
        if item is not None and at >= agent.ready_ms:
            agent.plan.popleft()
            self._start(agent, at, item)
        elif agent.spontaneous_ms is not None and agent.spontaneous_ms <= at:
            self._spontaneous(agent, at)
        else:
            self._arm_idle(agent, at)

    def _spontaneous(self, agent: AgentState, at: int) -> None:
        config = self._config
        rng = self._rng
        outbound = 0.0 if agent.profile.chat else config.outbound_per_idle_hour
        roll = rng.random() * (outbound + config.busy_per_idle_hour + config.comfort_per_idle_hour)
        if roll < outbound:
            self._call_count += 1
            call_id = f"{at // 1000}-{self._call_count}"
            self._log.status(agent, at, _S.PREOCCUPIED, calls=(call_id,))
            p = agent.profile
            customer = f"1{self._call_rng.randrange(10**9, 10**10)}"
            self._log.call(
                p.cc_id, p.vdn, call_id, at, "arrive", callerNo=p.phone_number,
                calleeNo=customer, mediaType=int(MediaType.PHONE),
                callType=OUTBOUND_CALL_TYPE, callIn=False,
            )  # fmt: skip
            self._log.call(p.cc_id, p.vdn, call_id, at, "offer", agentId=p.work_no)
            self._timer(agent, self._after(at, DIAL_S))
        elif roll < outbound + config.busy_per_idle_hour:
            if rng.random() < COACHING_SHARE:
                duration = round(rng.uniform(*COACHING_BUSY_S) * 1000)
                self._activity(agent, at, _S.BUSY, BusyReason.COACHING, duration)
            else:
                duration = PERSONAL_BUSY.draw_ms(rng)
                self._activity(agent, at, _S.BUSY, BusyReason.PERSONAL, duration)
        else:
            duration = COMFORT_BREAK.draw_ms(rng)
            self._activity(agent, at, _S.REST, RestReason.COMFORT_BREAK, duration)

    def _activity(
        self, agent: AgentState, at: int, status: int, reason: int | None, duration_ms: int
    ) -> None:
        self._log.status(agent, at, status, reason=reason)
        self._timer(agent, at + max(1, duration_ms))

    def _start(self, agent: AgentState, at: int, item: PlannedActivity) -> None:
        if item.status == _S.SIGNED_OUT:
            self._sign_out(agent, at)
        else:
            self._activity(agent, at, item.status, item.reason, item.duration_ms)

    def _settle(self, agent: AgentState, at: int) -> None:
        """Wrap-up or an activity is over: go to what is due next, or to idle."""
        item = agent.due_item(at)
        if item is not None and item.status in ALLOWED_TRANSITIONS[agent.status]:
            agent.plan.popleft()
            self._start(agent, at, item)
        elif (
            item is None and agent.status == _S.REST and self._rng.random() < AFTER_REST_BUSY_SHARE
        ):
            duration = round(self._rng.uniform(*SIGN_IN_BUSY_S) * 1000)
            self._activity(agent, at, _S.BUSY, BusyReason.PREPARATION, duration)
        else:
            self._enter_idle(agent, at)

    def _sign_in(self, agent: AgentState, at: int) -> None:
        config = self._config
        agent.plan = deque(plan_shift(config, self._rng, agent.shift_start_ms, at))
        if self._rng.random() < config.sign_in_busy_share:
            self._log.status(
                agent,
                at,
                _S.BUSY,
                reason=BusyReason.PREPARATION,
                calls=(),
                skills=agent.profile.skills,
                sign_in=True,
            )
            self._timer(agent, self._after(at, SIGN_IN_BUSY_S))
        else:
            self._enter_idle(agent, at, sign_in=True)

    def _sign_out(self, agent: AgentState, at: int) -> None:
        self._log.status(agent, at, _S.SIGNED_OUT, skills=())
        agent.plan.clear()
        agent.shift_start_ms += DAY_MS
        next_in = sign_in_time(self._config, self._rng, agent.shift_start_ms)
        self._timer(agent, max(next_in, at + HOUR_MS))


def access_code(vdn: int) -> str:
    """The number callers dial to reach a VDN (its access code): ``6505`` and two digits."""
    return f"6505{vdn:02d}"
