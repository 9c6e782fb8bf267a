"""The automatic call distributor (ACD): who gets the next call, which call goes next.

Each skill queue keeps its waiting calls (first come, first served; a rung-out call goes
back to the head) and a heap of its idle agents (longest idle first). An agent leaving
idle is not removed from the heaps: its entries go stale when its ``idle_epoch`` moves
on, and are dropped when they reach the top. A call that is answered or abandoned is
dropped the same way from the waiting lines.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence

from ccms.domain.status import CtiStatus
from ccms.simulator.floor import AgentState, Call
from ccms.simulator.roster import QueueProfile


class Acd:
    """The skill queues of one simulated floor."""

    def __init__(self, queues: Sequence[QueueProfile], agents: Sequence[AgentState]) -> None:
        self._agents = agents
        index = {q.skill: i for i, q in enumerate(queues)}
        self._waiting: list[deque[Call]] = [deque() for _ in queues]
        # Per queue: (idle since, tie-break, agent index, idle epoch).
        self._idle: list[list[tuple[int, int, int, int]]] = [[] for _ in queues]
        self._queues_of = [tuple(index[s] for s in a.profile.skills) for a in agents]
        self._seq = 0

    def agent_idle(self, agent: AgentState, at: int) -> None:
        """The agent became idle at ``at``: line it up in each of its queues."""
        agent.idle_epoch += 1
        self._seq += 1
        entry = (at, self._seq, agent.index, agent.idle_epoch)
        for qi in self._queues_of[agent.index]:
            heapq.heappush(self._idle[qi], entry)

    def longest_idle(self, queue: int) -> AgentState | None:
        """Take the queue's longest-idle agent (it must leave idle now), if any."""
        idle = self._idle[queue]
        agents = self._agents
        while idle:
            _, _, index, epoch = heapq.heappop(idle)
            agent = agents[index]
            if agent.status == CtiStatus.IDLE and agent.idle_epoch == epoch:
                return agent
        return None

    def wait(self, call: Call, *, front: bool) -> None:
        """Put a call in its queue's waiting line (at the head if ``front``)."""
        call.state = Call.WAITING
        call.agent = None
        if front:
            self._waiting[call.queue].appendleft(call)
        else:
            self._waiting[call.queue].append(call)

    def oldest_waiting(self, agent: AgentState, *, take: bool) -> Call | None:
        """The longest-waiting call of the agent's queues (taken out of its line if ``take``)."""
        best: Call | None = None
        best_line: deque[Call] | None = None
        for qi in self._queues_of[agent.index]:
            line = self._waiting[qi]
            while line and line[0].state != Call.WAITING:
                line.popleft()
            if line:
                head = line[0]
                if best is None or (head.arrival_ms, head.no) < (best.arrival_ms, best.no):
                    best, best_line = head, line
        if take and best_line is not None:
            best_line.popleft()
        return best
