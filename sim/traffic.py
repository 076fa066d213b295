"""How the simulated world really drives and delivers: the truth the planner never reads.

The planner knows the travel-time matrix and the configured service times; the simulated drivers
live in `Truth`, and only the stop events they leave can teach the planner (eta/learning.py):

- a leg takes the matrix time x `travel` (the whole fleet) x the van's own pace (`paces`, the same
  every day) x `rush` in the rush hours (local time) x a lognormal of spread `leg_sigma` (median 1,
  mean above it: traffic is late more often and by more than it is early);
- on the road, a breakdown (a puncture, a blocked street) comes at `breakdowns_per_hour` and
  costs `breakdown_minutes`;
- at the door, the configured service time x `service` x a lognormal of spread `service_sigma`, and
  one stop in `1 / long_stop` takes `long_stop_factor` times as long (stairs, no lift, a chat).

Everything is drawn from one random.Random seeded by the demo: the same seed, the same world.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Truth:
    """How the simulated world really drives and delivers (the module's docstring says how it is used)."""

    travel: float = 1.1  # median travel time over matrix time, the whole fleet
    service: float = 1.0  # median time at the door over the configured service time
    paces: tuple[float, ...] = (0.9, 1.0, 1.1, 1.0)  # van n drives at paces[n - 1] (cycling), every day
    rush: float = 1.3
    rush_hours: tuple[tuple[time, time], ...] = ((time(7, 30), time(9, 30)), (time(16, 0), time(18, 30)))
    leg_sigma: float = 0.2
    breakdowns_per_hour: float = 0.02
    breakdown_minutes: tuple[int, int] = (20, 60)
    service_sigma: float = 0.45
    long_stop: float = 0.04
    long_stop_factor: float = 3.0


class World:
    """Draws each leg and each stop of the simulated day from `truth`."""

    def __init__(self, truth: Truth, rng: random.Random, zone: ZoneInfo) -> None:
        self.truth, self.rng, self.zone = truth, rng, zone

    def pace(self, van: int) -> float:
        """A van's own pace: the same every day (the driver, the van, the streets of its round)."""
        return self.truth.paces[(van - 1) % len(self.truth.paces)]

    def drive(self, matrix_s: float, pace: float, leaving: datetime) -> timedelta:
        truth = self.truth
        seconds = (
            matrix_s * truth.travel * pace * self._rush(leaving) * self.rng.lognormvariate(0, truth.leg_sigma)
        )
        if self.rng.random() < 1 - math.exp(-truth.breakdowns_per_hour * seconds / 3600):
            seconds += 60 * self.rng.uniform(*truth.breakdown_minutes)
        return timedelta(seconds=seconds)

    def service(self, configured_s: int) -> timedelta:
        truth = self.truth
        seconds = configured_s * truth.service * self.rng.lognormvariate(0, truth.service_sigma)
        if self.rng.random() < truth.long_stop:
            seconds *= truth.long_stop_factor
        return timedelta(seconds=seconds)

    def _rush(self, moment: datetime) -> float:
        local = moment.astimezone(self.zone).time()
        return self.truth.rush if any(a <= local < b for a, b in self.truth.rush_hours) else 1.0
