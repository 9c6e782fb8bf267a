"""What the customers bring: when contacts arrive, how long they last, how long they wait.

Figures come from the sourced operating figures of the shared spec
(``contact-center-figures.md``, cited as "figures §N"):

- Arrivals are an inhomogeneous Poisson process (figures §6: Brown et al. 2005, Kim & Whitt
  2014) whose rate follows :data:`INTRADAY_CURVE`, times a random daily "busyness" factor
  of mean 1 (figures §6: doubly stochastic Poisson, Avramidis et al. 2004).
- Handle and wrap-up times are lognormal, parametrised by mean and coefficient of
  variation (figures §1: Brown et al. 2005; mu = ln(mean) - sigma^2/2, sigma^2 = ln(1+CV^2)).
- Caller patience is exponential or lognormal (figures §3).

Everything here draws from a ``random.Random`` handed in; nothing touches the global one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# Relative arrival rate per hour of the day (local floor time = UTC), 1.0 at the peak.
# Shape from figures §6 ("Intraday shape"): morning peak ~09:30-11:30 (the bank example
# peaks ~10:15), a lunch dip, post-lunch peak 13:00-14:30, secondary peak 15:30-17:30;
# the busiest business-hours interval is ~2.9x the quietest (figures: 2.5-4x). Night
# values (00:00-06:00) are a rule of thumb for a 24 h operation.
INTRADAY_CURVE: tuple[float, ...] = (
    0.10, 0.07, 0.05, 0.04, 0.04, 0.06,  # 00-05
    0.12, 0.30, 0.60, 0.88, 1.00, 0.92,  # 06-11
    0.72, 0.84, 0.82, 0.70, 0.72, 0.66,  # 12-17
    0.45, 0.34, 0.27, 0.21, 0.16, 0.13,  # 18-23
)  # fmt: skip


def peak_hour() -> int:
    """The hour of the day (0..23) whose arrival rate is the highest (the busy hour)."""
    return max(range(24), key=lambda h: INTRADAY_CURVE[h])


def curve_at(ms_of_day: float) -> float:
    """The relative arrival rate at a time of day, linear between hour midpoints."""
    pos = ms_of_day / HOUR_MS - 0.5
    lower = math.floor(pos)
    frac = pos - lower
    a = INTRADAY_CURVE[lower % 24]
    b = INTRADAY_CURVE[(lower + 1) % 24]
    return a + (b - a) * frac


def curve_max() -> float:
    """The largest value :func:`curve_at` takes (the peak hour's value)."""
    return max(INTRADAY_CURVE)


@dataclass(frozen=True, slots=True)
class Lognormal:
    """A lognormal duration given by its mean (seconds) and coefficient of variation.

    ``cap`` (a multiple of the mean) cuts the far tail so that one draw cannot hold an
    agent for a whole shift; a CV of 0 gives the mean every time.
    """

    mean_s: float
    cv: float
    cap: float = 10.0

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv * self.cv))

    @property
    def mu(self) -> float:
        return math.log(self.mean_s) - self.sigma * self.sigma / 2

    def draw_ms(self, rng: random.Random) -> int:
        """One duration in whole milliseconds, at least 1."""
        if self.cv <= 0:
            seconds = self.mean_s
        else:
            seconds = min(rng.lognormvariate(self.mu, self.sigma), self.cap * self.mean_s)
        return max(1, round(seconds * 1000))


@dataclass(frozen=True, slots=True)
class Patience:
    """How long a caller waits in queue before hanging up.

    Exponential with ``mean_s`` when ``cv`` is ``None``, otherwise lognormal.
    """

    mean_s: float
    cv: float | None = None

    def draw_ms(self, rng: random.Random) -> int:
        if self.cv is None:
            return max(1, round(rng.expovariate(1.0 / self.mean_s) * 1000))
        return Lognormal(self.mean_s, self.cv).draw_ms(rng)


def uniform_ms(rng: random.Random, low_s: float, high_s: float) -> int:
    """A uniform duration between two bounds in seconds, in whole milliseconds (>= 1)."""
    return max(1, round(rng.uniform(low_s, high_s) * 1000))


def daily_factor(seed: int, day: int, cv: float) -> float:
    """The busyness factor of one day (gamma, mean 1, the given CV; 1.0 when CV is 0).

    It depends only on the seed and the day number, never on what happened before, so
    every queue sees the same busy or quiet day.
    """
    if cv <= 0:
        return 1.0
    shape = 1.0 / (cv * cv)
    return random.Random(f"ccms-simulator/{seed}/day/{day}").gammavariate(shape, 1.0 / shape)


class ArrivalProcess:
    """Arrival times of one skill queue: a non-homogeneous Poisson process by thinning.

    ``peak_per_hour`` is the rate at the curve's peak on a day of busyness 1. Each day
    the candidate rate is ``peak_per_hour * factor``; a candidate at time ``t`` is kept
    with probability ``curve_at(t) / curve_max()``. Candidates that cross midnight restart
    at midnight with the next day's rate (valid by memorylessness).
    """

    def __init__(
        self, rng: random.Random, peak_per_hour: float, seed: int, busyness_cv: float
    ) -> None:
        self._rng = rng
        self._peak_per_ms = peak_per_hour / HOUR_MS
        self._seed = seed
        self._cv = busyness_cv
        self._factors: dict[int, float] = {}
        self._t = 0.0

    def start(self, at_ms: int) -> None:
        self._t = float(at_ms)

    def _factor(self, day: int) -> float:
        factor = self._factors.get(day)
        if factor is None:
            factor = daily_factor(self._seed, day, self._cv)
            self._factors = {day: factor}  # one day at a time is enough
        return factor

    def next_ms(self) -> int | None:
        """The next arrival time in ms (after the previous one), or ``None`` if never."""
        if self._peak_per_ms <= 0:
            return None
        top = curve_max()
        t = self._t
        rng = self._rng
        while True:
            day = math.floor(t / DAY_MS)
            day_end = (day + 1) * DAY_MS
            rate = self._peak_per_ms * self._factor(day)
            if rate <= 0:
                t = float(day_end)
                continue
            t += rng.expovariate(rate)
            if t >= day_end:
                t = float(day_end)
                continue
            if rng.random() * top < curve_at(t - day * DAY_MS):
                self._t = t
                return math.floor(t)
