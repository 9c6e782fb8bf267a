"""The simulator's configuration: one frozen dataclass, every field with a default and help.

Defaults come from the sourced operating figures of the shared spec
(``contact-center-figures.md``); each field's help names
the section ("figures §N") or says "rule of thumb". ``docs/simulator.md`` repeats the table,
and a test fails when a field is missing from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TypeVar

from ccms.simulator.traffic import HOUR_MS, peak_hour

# Fixed parts of a call that are not worth a setting (cc-cms-reference §3: "occupied" is
# "a few seconds before a call is connected"; ringing is a rule of thumb).
OCCUPIED_S = (1.0, 3.0)
RINGING_S = (2.0, 8.0)
DIAL_S = (8.0, 25.0)

# Largest values the id schemes allow: skill ids are vdn * 100 + i (<= 10000), phone
# numbers embed two digits of VDN, work numbers run 101..59999.
_T = TypeVar("_T")

MAX_VDNS = 99
MAX_SKILLS = 99
MAX_AGENTS_PER_VDN = 59999 - 101 + 1

# (start hour, weight): the default shift pattern of a 24 h operation (figures §5:
# early 06:00-07:00, full day 08:00-09:00, mid 10:00, late and night shifts; starts
# staggered to follow the arrival curve of figures §6).
DEFAULT_SHIFTS: tuple[tuple[float, float], ...] = (
    (22.0, 8.0),
    (6.0, 8.0),
    (7.0, 14.0),
    (8.0, 18.0),
    (9.0, 15.0),
    (10.0, 9.0),
    (11.0, 8.0),
    (13.5, 12.0),
    (15.5, 12.0),
)


def _f(default: _T, help_text: str) -> _T:
    """A field with its default and its help text (read back by :func:`config_help`)."""
    value: _T = field(default=default, metadata={"help": help_text})
    return value


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """Everything that shapes a simulated floor; the same config and seed give the same run.

    Raises ``ValueError`` on construction when a value is out of range.
    """

    seed: int = _f(1, "seed of every random stream; same seed + config = same events")
    agents: int = _f(200, "total agents, spread evenly over the VDNs")
    vdns: int = _f(2, "number of VDNs, ids 1..vdns (at most 99)")
    cc_id: int = _f(1, "call center id (ccId) of every event")
    skills: int = _f(4, "skill queues per VDN, ids vdn*100+1..vdn*100+skills")
    chat_queues: int = _f(1, "how many of a VDN's skill queues (the last ones) are chat")
    chat_share: float = _f(0.15, "share of agents on chat (media 51/53); rule of thumb")
    call_rate: float | None = _f(
        None,
        "voice calls per hour per agent at the daily peak; None derives it from target_occupancy",
    )
    target_occupancy: float = _f(
        0.8, "offered load per signed-in agent at the peak when call_rate is None (figures §3)"
    )
    start_ms: int = _f(1_767_225_600_000, "simulated clock start, ms (2026-01-01T00:00Z)")
    shifts: tuple[tuple[float, float], ...] = _f(
        DEFAULT_SHIFTS, "(start hour UTC, weight) of each shift, agents split by weight (§5)"
    )
    shift_hours: float = _f(8.5, "shift length in hours: 8 h work + 30 min lunch (figures §5)")
    sign_in_jitter_s: float = _f(180.0, "std. dev. of sign-in/out time around the shift edge")
    sign_in_busy_share: float = _f(0.3, "share of sign-ins into busy (preparation) first")
    handle_mean_s: float = _f(360.0, "voice talk time mean, s (figures §1)")
    handle_cv: float = _f(1.0, "voice talk time CV, lognormal (figures §1)")
    chat_handle_mean_s: float = _f(660.0, "chat talk time mean, s (figures §1)")
    chat_handle_cv: float = _f(0.8, "chat talk time CV, lognormal (figures §1)")
    wrap_mean_s: float = _f(45.0, "wrap-up (after-call work) mean, s (figures §2)")
    wrap_cv: float = _f(1.0, "wrap-up CV, lognormal (figures §2)")
    no_wrap_share: float = _f(0.1, "share of voice calls with no wrap-up, auto-ready (§2)")
    patience_mean_s: float = _f(240.0, "caller patience mean, s: ~15% gone by 40 s (§3)")
    patience_cv: float | None = _f(None, "None: exponential patience; else lognormal CV")
    no_answer_share: float = _f(0.02, "share of voice offers that ring out; rule of thumb")
    transfer_share: float = _f(
        0.05, "share of answered voice calls transferred to another voice queue; rule of thumb"
    )
    call_events: bool = _f(True, "emit call events (arrive, queue, offer, ...) with the agents'")
    daily_busyness_cv: float = _f(0.1, "CV of the random daily volume factor (figures §6)")
    short_break_s: float = _f(900.0, "scheduled short break, s; two per shift (figures §5)")
    lunch_s: float = _f(1800.0, "lunch, s: 30 min most common (figures §5)")
    long_lunch_s: float = _f(3600.0, "long lunch, s: 60 min, less common (figures §5)")
    long_lunch_share: float = _f(0.25, "share of shifts with the long lunch; rule of thumb")
    study_share: float = _f(0.15, "share of shifts with a training block (figures §4)")
    study_s: tuple[float, float] = _f(
        (1800.0, 3600.0), "training block length range, s: 30-60 min blocks (figures §4)"
    )
    outbound_per_idle_hour: float = _f(0.5, "preview outbound dials per idle hour (§7)")
    outbound_answer_share: float = _f(0.6, "share of outbound dials the customer answers")
    busy_per_idle_hour: float = _f(0.3, "busy spells (personal, coaching) per idle hour (§4)")
    comfort_per_idle_hour: float = _f(0.1, "unscheduled comfort breaks per idle hour (§4)")

    def __post_init__(self) -> None:
        _check_int("seed", self.seed, 0, 2**63 - 1)
        if not isinstance(self.call_events, bool):
            raise ValueError(f"call_events must be true or false, got {self.call_events!r}")
        _check_int("vdns", self.vdns, 1, MAX_VDNS)
        _check_int("agents", self.agents, 1, MAX_AGENTS_PER_VDN * self.vdns)
        _check_int("cc_id", self.cc_id, 1, 65535)
        _check_int("skills", self.skills, 1, MAX_SKILLS)
        _check_int("chat_queues", self.chat_queues, 0, self.skills - 1)
        _check_int("start_ms", self.start_ms, 0, 2**53)
        if not self.shifts:
            raise ValueError("shifts must list at least one (start hour, weight)")
        for start, weight in self.shifts:
            _check_float("shifts (start hour)", start, 0.0, 24.0, upper_open=True)
            _check_float("shifts (weight)", weight, 0.0, math.inf)
        if sum(weight for _, weight in self.shifts) <= 0:
            raise ValueError("shifts must have a positive total weight")
        _check_float("shift_hours", self.shift_hours, 2.0, 16.0)
        if self.call_rate is not None:
            _check_float("call_rate", self.call_rate, 0.0, 3600.0)
        _check_float("target_occupancy", self.target_occupancy, 0.0, 1.0)
        for name in ("handle_mean_s", "chat_handle_mean_s", "wrap_mean_s", "patience_mean_s"):
            _check_float(name, getattr(self, name), 1.0, 86_400.0)
        for name in ("handle_cv", "chat_handle_cv", "wrap_cv"):
            _check_float(name, getattr(self, name), 0.0, 10.0)
        if self.patience_cv is not None:
            _check_float("patience_cv", self.patience_cv, 0.0, 10.0)
        _check_float("daily_busyness_cv", self.daily_busyness_cv, 0.0, 2.0)
        for name in (
            "chat_share",
            "sign_in_busy_share",
            "no_wrap_share",
            "no_answer_share",
            "long_lunch_share",
            "study_share",
            "outbound_answer_share",
            "transfer_share",
        ):
            _check_float(name, getattr(self, name), 0.0, 1.0)
        for name in ("short_break_s", "lunch_s", "long_lunch_s"):
            _check_float(name, getattr(self, name), 0.0, 4 * 3600.0)
        _check_float("sign_in_jitter_s", self.sign_in_jitter_s, 0.0, 3600.0)
        low, high = self.study_s
        _check_float("study_s", low, 60.0, 4 * 3600.0)
        _check_float("study_s", high, low, 4 * 3600.0)
        for name in ("outbound_per_idle_hour", "busy_per_idle_hour", "comfort_per_idle_hour"):
            _check_float(name, getattr(self, name), 0.0, 60.0)

    @property
    def voice_busy_s(self) -> float:
        """Mean seconds a voice call keeps an agent (offer, ring, talk, wrap-up)."""
        fixed = sum(OCCUPIED_S) / 2 + sum(RINGING_S) / 2
        return fixed + self.handle_mean_s + (1.0 - self.no_wrap_share) * self.wrap_mean_s

    @property
    def chat_busy_s(self) -> float:
        """Mean seconds a chat keeps an agent (offer, ring, talk, wrap-up)."""
        fixed = sum(OCCUPIED_S) / 2 + sum(RINGING_S) / 2
        return fixed + self.chat_handle_mean_s + self.wrap_mean_s

    def staffed_share_at(self, hour: float) -> float:
        """Share of agents whose shift covers the given hour of the day (0..24)."""
        total = sum(weight for _, weight in self.shifts)
        covered = sum(
            weight for start, weight in self.shifts if (hour - start) % 24.0 < self.shift_hours
        )
        return covered / total

    @property
    def peak_call_rate(self) -> float:
        """Voice calls per hour per agent at the daily peak (``call_rate`` or its default).

        The default offers ``target_occupancy`` Erlangs to every agent signed in at the
        middle of the busy hour: rate = occupancy * 3600 / busy time * staffed share.
        """
        if self.call_rate is not None:
            return self.call_rate
        staffed = self.staffed_share_at(peak_hour() + 0.5)
        return self.target_occupancy * 3600.0 / self.voice_busy_s * staffed

    @property
    def chat_rate(self) -> float:
        """Chats per hour per chat agent at the peak: the same offered load as voice."""
        return self.peak_call_rate * self.voice_busy_s / self.chat_busy_s

    @property
    def shift_ms(self) -> int:
        return round(self.shift_hours * HOUR_MS)


def config_help() -> dict[str, tuple[object, str]]:
    """Field name -> (default, help), in declaration order: the settings table as data."""
    return {f.name: (f.default, str(f.metadata["help"])) for f in fields(SimulationConfig)}


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


def _check_float(
    name: str, value: object, low: float, high: float, *, upper_open: bool = False
) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        assert isinstance(value, int | float)
        ok = low <= value < high if upper_open else low <= value <= high
    if not ok:
        raise ValueError(f"{name} must be a number from {low} to {high}, got {value!r}")
