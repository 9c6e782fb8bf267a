"""Who works on the simulated floor: agents, their skill queues, shifts and shift plans.

The roster depends on the seed and the config only (its own random stream), never on the
traffic, so changing a call rate keeps the same agents, numbers and shifts.

- Agents are spread evenly over the VDNs; work numbers run from 101 in each VDN. The last
  ``chat_share`` of a VDN's agents form its chat team (media 51 web chat or 53 social chat,
  signed in to the VDN's chat queues); the others are voice agents (media 5) with 1-3 of
  the VDN's voice queues.
- Each team is split over the shifts by weight (largest remainder), so every VDN has the
  same shift mix; within a shift group the first skills go round the voice queues, so each
  queue is covered at every hour the group works, and a thin group (fewer than three agents
  per voice queue, e.g. the night) is made of generalists with every voice queue.
- A shift plan (figures §5, break placement rule of thumb): a first 15-min break 1.5-2.5 h
  after the start, lunch near mid-shift in a 15-min slot, a second break 1.5-2.5 h after
  lunch and not in the last 45 min, sometimes a training block after lunch (figures §4),
  and the sign-out at the shift end give or take a few minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ccms.domain.media import MediaType
from ccms.domain.status import CtiStatus
from ccms.simulator.config import SimulationConfig
from ccms.simulator.traffic import DAY_MS, HOUR_MS, uniform_ms
from ccms.simulator.transitions import RestReason

MINUTE_MS = 60_000
FIRST_WORK_NO = 101
SKILLS_PER_VOICE_AGENT = ((1, 0.4), (2, 0.4), (3, 0.2))
WEB_CHAT_SHARE = 0.7  # of chat agents on web chat (51); the others on social chat (53)


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """What does not change about an agent during a run."""

    cc_id: int
    vdn: int
    work_no: int
    name: str
    phone_number: str
    media_type: int
    skills: tuple[int, ...]
    shift_start_h: float

    @property
    def chat(self) -> bool:
        return self.media_type != MediaType.PHONE


@dataclass(frozen=True, slots=True)
class QueueProfile:
    """A skill queue and its arrival rate at the daily peak (calls per hour)."""

    skill: int
    vdn: int
    chat: bool
    peak_per_hour: float


@dataclass(frozen=True, slots=True)
class Roster:
    agents: tuple[AgentProfile, ...]
    queues: tuple[QueueProfile, ...]


@dataclass(frozen=True, slots=True)
class PlannedActivity:
    """A scheduled status: from ``due_ms`` on, as soon as the agent can, for a duration.

    Status 0 is the end-of-shift sign-out (no duration).
    """

    due_ms: int
    status: int
    reason: int | None
    duration_ms: int


def skill_id(vdn: int, index: int) -> int:
    """The id of a VDN's ``index``-th skill queue (1-based): ``vdn * 100 + index``."""
    return vdn * 100 + index


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by ``weights`` with the largest-remainder method."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _shift_hours_for(config: SimulationConfig, team: int) -> list[float]:
    """One shift start hour per team member, grouped by shift (for skill coverage)."""
    counts = _apportion(team, [weight for _, weight in config.shifts])
    return [start for (start, _), n in zip(config.shifts, counts, strict=True) for _ in range(n)]


def build_roster(config: SimulationConfig) -> Roster:
    rng = random.Random(f"ccms-simulator/{config.seed}/roster")
    agents: list[AgentProfile] = []
    queues: list[QueueProfile] = []
    for vdn in range(1, config.vdns + 1):
        size = config.agents // config.vdns + (1 if vdn <= config.agents % config.vdns else 0)
        chat_team = round(size * config.chat_share) if config.chat_queues else 0
        voice_count = config.skills - config.chat_queues
        voice_skills = [skill_id(vdn, i) for i in range(1, voice_count + 1)]
        chat_skills = tuple(skill_id(vdn, i) for i in range(voice_count + 1, config.skills + 1))
        load: dict[int, float] = dict.fromkeys((*voice_skills, *chat_skills), 0.0)
        voice_hours = _shift_hours_for(config, size - chat_team)
        chat_hours = _shift_hours_for(config, chat_team)
        previous_hour: float | None = None
        turn = group = 0
        for n in range(size):
            work_no = FIRST_WORK_NO + n
            if n < size - chat_team:
                hour = voice_hours[n]
                if hour != previous_hour:
                    previous_hour, turn = hour, rng.randrange(voice_count)
                    group = voice_hours.count(hour)
                first = voice_skills[turn % voice_count]
                turn += 1
                # A thin shift (night) is staffed by generalists, so no queue goes uncovered.
                k = voice_count if group < 3 * voice_count else min(voice_count, _pick_count(rng))
                others = [s for s in voice_skills if s != first]
                skills = tuple(sorted([first, *rng.sample(others, k - 1)]))
                media = int(MediaType.PHONE)
                for s in skills:
                    load[s] += config.peak_call_rate / len(skills)
            else:
                hour = chat_hours[n - (size - chat_team)]
                skills = chat_skills
                web = rng.random() < WEB_CHAT_SHARE
                media = int(MediaType.WEB_CHAT if web else MediaType.SOCIAL_CHAT)
                for s in skills:
                    load[s] += config.chat_rate / len(skills)
            agents.append(
                AgentProfile(
                    cc_id=config.cc_id,
                    vdn=vdn,
                    work_no=work_no,
                    name=f"Agent {work_no}",
                    phone_number=f"+86105{vdn:02d}{work_no:05d}",
                    media_type=media,
                    skills=skills,
                    shift_start_h=hour,
                )
            )
        for s in (*voice_skills, *chat_skills):
            queues.append(QueueProfile(s, vdn, s in chat_skills, load[s]))
    return Roster(tuple(agents), tuple(queues))


def _pick_count(rng: random.Random) -> int:
    roll = rng.random()
    for count, share in SKILLS_PER_VOICE_AGENT:
        if roll < share:
            return count
        roll -= share
    return SKILLS_PER_VOICE_AGENT[-1][0]


def first_shift_start(config: SimulationConfig, shift_start_h: float, after_ms: int) -> int:
    """The nominal start of the first shift (of that start hour) still running after a time."""
    day = after_ms - after_ms % DAY_MS - DAY_MS
    start = day + round(shift_start_h * HOUR_MS)
    while start + config.shift_ms <= after_ms:
        start += DAY_MS
    return start


def sign_in_time(config: SimulationConfig, rng: random.Random, shift_start_ms: int) -> int:
    """When the agent signs in for a shift: a minute early on average, give or take."""
    sigma = config.sign_in_jitter_s * 1000
    jitter = max(-3 * sigma, min(3 * sigma, rng.gauss(-MINUTE_MS, sigma)))
    return shift_start_ms + round(jitter)


def plan_shift(
    config: SimulationConfig, rng: random.Random, shift_start_ms: int, signed_in_ms: int
) -> list[PlannedActivity]:
    """The breaks, lunch, training and sign-out of one shift, in due order.

    Items due before ``signed_in_ms`` (a shift already running when the simulation
    starts) are left out; the sign-out is always there.
    """
    start = shift_start_ms
    end = start + config.shift_ms
    items: list[PlannedActivity] = []

    def rest(due: int, reason: RestReason, seconds: float) -> int:
        duration = round(seconds * 1000 * rng.uniform(0.95, 1.2))
        if seconds > 0:
            items.append(PlannedActivity(due, CtiStatus.REST, reason, max(1, duration)))
        return due + duration

    if config.shift_hours < 6.0:
        middle = start + config.shift_ms // 2 + round(rng.uniform(-0.5, 0.5) * HOUR_MS)
        rest(middle, RestReason.SHORT_BREAK, config.short_break_s)
        lunch_end = start + config.shift_ms // 2
    else:
        first_end = rest(
            start + uniform_ms(rng, 1.5 * 3600, 2.5 * 3600),
            RestReason.SHORT_BREAK,
            config.short_break_s,
        )
        lunch_due = start + config.shift_ms // 2 + round(rng.uniform(-1, 1) * HOUR_MS)
        lunch_due -= lunch_due % (15 * MINUTE_MS)  # staggered 15-min slots (figures §5)
        lunch_due = max(lunch_due, first_end + HOUR_MS)
        long_lunch = rng.random() < config.long_lunch_share
        lunch_end = rest(
            lunch_due, RestReason.LUNCH, config.long_lunch_s if long_lunch else config.lunch_s
        )
        second_due = min(lunch_end + uniform_ms(rng, 1.5 * 3600, 2.5 * 3600), end - 45 * MINUTE_MS)
        if second_due > lunch_end + 45 * MINUTE_MS:
            rest(second_due, RestReason.SHORT_BREAK, config.short_break_s)
    if rng.random() < config.study_share:
        low, high = lunch_end + 15 * MINUTE_MS, end - 90 * MINUTE_MS
        if high > low:
            duration = uniform_ms(rng, *config.study_s)
            items.append(PlannedActivity(rng.randint(low, high), CtiStatus.STUDY, None, duration))
    sigma = config.sign_in_jitter_s * 1000
    late = max(-2 * sigma, min(4 * sigma, rng.gauss(MINUTE_MS, sigma)))
    sign_out = max(end + round(late), signed_in_ms + MINUTE_MS)
    items = [item for item in items if signed_in_ms <= item.due_ms < sign_out]
    items.sort(key=lambda item: (item.due_ms, item.status))
    items.append(PlannedActivity(sign_out, CtiStatus.SIGNED_OUT, None, 0))
    return items
