"""Re-plans on the system clock: a `now` with microseconds never makes an on-time stop late."""

import math
import random
from datetime import UTC, datetime, timedelta

from eta.geo import LatLon
from eta.matrix import HaversineMatrix
from eta.model import DayState, JobSpec, PlannedRoute, VanState, VehicleSpec, Window
from eta.replan import DayMatrix, refresh_etas
from eta.slots import honours, trial

DEPOT = LatLon(52.52, 13.405)
INSTANTS = 1_000


def east(km: float) -> LatLon:
    return LatLon(DEPOT.lat, DEPOT.lon + km / (111.32 * math.cos(math.radians(DEPOT.lat))))


def random_now(rng: random.Random) -> datetime:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    offset = timedelta(seconds=rng.randrange(365 * 86_400), microseconds=rng.randrange(1, 1_000_000))
    return start + offset


def windows(now: datetime, rng: random.Random) -> dict[int, Window]:
    """Whole-second windows: job 7 opens after the van can be there (it waits and starts at the
    opening); job 8, next, is open all along."""
    opening = now.replace(microsecond=0) + timedelta(seconds=rng.randrange(20 * 60, 3 * 3600))
    return {
        7: (opening, opening + timedelta(hours=1)),
        8: (opening - timedelta(hours=4), opening + timedelta(hours=3)),
    }


def day(now: datetime, promised: dict[int, Window]) -> tuple[VehicleSpec, tuple[JobSpec, ...], DayState]:
    van = VehicleSpec(1, DEPOT, DEPOT, now - timedelta(hours=2), now + timedelta(hours=10), 10)
    jobs = tuple(JobSpec(n, east(n - 5), *promised[n], 120, 1) for n in (7, 8))
    return van, jobs, DayState((VanState(van, (7, 8)),), jobs, promised)


def on_time(route: PlannedRoute, now: datetime, promised: dict[int, Window]) -> bool:
    arrivals = {stop.job_id: stop.arrival for stop in route.stops}
    inside = all(promised[n][0] <= arrival <= promised[n][1] for n, arrival in arrivals.items())
    return inside and route.start_at >= now and arrivals[7] == promised[7][0]


async def test_stops_on_time_stay_on_time_whatever_the_microseconds_of_now() -> None:
    rng, matrix = random.Random(20261123), DayMatrix(HaversineMatrix())
    wrong: list[datetime] = []
    for _ in range(INSTANTS):
        now = random_now(rng)
        promised = windows(now, rng)
        van, jobs, state = day(now, promised)

        moved = await trial(state, jobs[0], promised[7], matrix, now)
        refreshed = await refresh_etas(van, (7, 8), jobs, matrix, now, promised=promised)

        kept = honours(moved, 7) and not refreshed.late
        if not (kept and on_time(moved.routes[0], now, promised) and on_time(refreshed, now, promised)):
            wrong.append(now)

    assert not wrong, f"{len(wrong)} of {INSTANTS} instants, first {wrong[0].isoformat()}"
