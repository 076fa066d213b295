"""Incremental re-plan vs a full re-solve, mid-day on a synthetic day (DESIGN.md: re-planning without churn).

A seeded random day around a city (haversine matrix) is planned the nightly way, advanced to
11:00 local (stops started before then are done, vans wait at their last stop with the rest on
board), and then, one at a time, a job is moved to a later window. Each re-plan is timed as the
engine call, `replan()`, on the day's matrix held in memory (`DayMatrix`), as a service holds it.

"moved" counts the other recipients whose window, derived from the new ETA as the nightly plan
derives it, starts more than 15 min away from the one derived before the change; "broken" counts
the other recipients whose new ETA is outside the window they were promised (or who lost their stop).
The full re-solve baseline is DESIGN.md's (unseeded, parcels free to move); the same solve with the
parcels locked to their vans is printed too: it is far faster, as the search no longer spans vans.

    python -m bench.replan            # 1000 stops, 25 vans, 60 reschedules, the full re-solves once
    python -m bench.replan --quick    # 200 stops, 5 vans: a smoke test
"""

import argparse
import asyncio
import math
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from eta.geo import LatLon
from eta.matrix import HaversineMatrix, MatrixProvider
from eta.model import DayState, JobSpec, Plan, PlannedRoute, Replan, VanState, VehicleSpec, Window
from eta.plan import plan_day
from eta.replan import DayMatrix, moved, promises, refresh_etas, replan
from eta.windows import promised_window

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 23)
CENTRE = LatLon(52.52, 13.405)
RADIUS_KM = 10.0
SERVICE_S = 180
THRESHOLD = timedelta(minutes=15)
PROBES = 4

type Fleet = dict[int, PlannedRoute]


@dataclass(frozen=True, slots=True)
class Sample:
    job_id: int
    window: Window
    ms: float
    moved: int
    broken: int
    late: bool
    cost: int


def local(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, clock_time(hour, minute), ZONE).astimezone(UTC)


def hhmm(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%H:%M")


def synthetic_day(stops: int, vans: int, seed: int) -> tuple[list[VehicleSpec], list[JobSpec]]:
    """Stops spread over a disc around the depot; 1-2 h requested windows between 09:00 and 19:00."""
    rng = random.Random(seed)
    capacity = math.ceil(stops / vans * 1.3)
    fleet = [VehicleSpec(n, CENTRE, CENTRE, local(8), local(20), capacity) for n in range(1, vans + 1)]
    jobs = []
    for n in range(1, stops + 1):
        start, width = rng.randrange(9, 18), rng.choice((1, 2))
        jobs.append(JobSpec(n, _place(rng), local(start), local(start + width), SERVICE_S, 1))
    return fleet, jobs


def _place(rng: random.Random) -> LatLon:
    km, angle = RADIUS_KM * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = CENTRE.lat + km * math.sin(angle) / 111.32
    lon = CENTRE.lon + km * math.cos(angle) / (111.32 * math.cos(math.radians(CENTRE.lat)))
    return LatLon(round(lat, 6), round(lon, 6))


def mid_day(plan: Plan, fleet: Sequence[VehicleSpec], jobs: Sequence[JobSpec], now: datetime) -> DayState:
    """Stops started before `now` are done; each van waits at its last stop with the rest on board."""
    by_van = {route.vehicle_id: route for route in plan.routes}
    by_job = {job.id: job for job in jobs}
    vans = tuple(_van(van, by_van.get(van.id), by_job, now) for van in fleet)
    left = {job_id for van in vans for job_id in van.order}
    promised = promises(plan.routes, requested(jobs))
    return DayState(vans, tuple(job for job in jobs if job.id in left), promised)


def _van(van: VehicleSpec, route: PlannedRoute | None, jobs: dict[int, JobSpec], now: datetime) -> VanState:
    stops = route.stops if route else ()
    done = [stop for stop in stops if stop.arrival < now]
    rest = tuple(stop.job_id for stop in stops if stop.arrival >= now)
    if done:
        last = jobs[done[-1].job_id]
        free = done[-1].arrival + timedelta(seconds=last.service_s)
        van = replace(van, start=last.location, shift_start=max(van.shift_start, free))
    return VanState(van, rest, frozenset(rest))


def requested(jobs: Sequence[JobSpec]) -> dict[int, Window]:
    return {job.id: (job.window_start, job.window_end) for job in jobs}


async def refreshed(state: DayState, matrix: MatrixProvider, now: datetime) -> tuple[Fleet, DayState, int]:
    """Every van's ETAs for its order (plan mode); stops already late get a new promise (a delay notice)."""
    fleet: Fleet = {}
    fresh: dict[int, Window] = {}
    asked = requested(state.jobs)
    for van in (van for van in state.vans if van.order):
        route = await refresh_etas(van.vehicle, van.order, state.jobs, matrix, now, promised=state.promised)
        fleet[van.vehicle.id] = route
        fresh.update((late.job_id, promised_window(late.eta, asked[late.job_id])) for late in route.late)
    return fleet, replace(state, promised={**state.promised, **fresh}), len(fresh)


async def reschedules(
    state: DayState, matrix: MatrixProvider, now: datetime, count: int, seed: int
) -> tuple[list[tuple[int, Window]], list[float]]:
    """`count` different jobs, each with a later window the engine can serve on time, as a slot
    service would offer; also the re-plan times of the windows it had to turn down (served late)."""
    rng = random.Random(seed)
    picks: list[tuple[int, Window]] = []
    refused: list[float] = []
    for job in rng.sample(list(state.jobs), len(state.jobs)):
        for window in later_windows(job, state.promised[job.id], rng)[:PROBES]:
            started = time.perf_counter()
            result = await replan(
                rescheduled(state, job.id, window), matrix, now=now, changed=frozenset({job.id})
            )
            if not any(late.job_id == job.id for late in result.late):
                picks.append((job.id, window))
                break
            refused.append((time.perf_counter() - started) * 1000)
        if len(picks) == count:
            break
    return picks, refused


def later_windows(job: JobSpec, promised: Window, rng: random.Random) -> list[Window]:
    """1-2 h windows starting on the hour after both the requested and promised ones, ending by 19:30."""
    first = max(job.window_end, promised[1]).astimezone(ZONE).hour + 1
    windows = [
        (local(hour), min(local(hour) + timedelta(hours=width), local(19, 30)))
        for hour in range(first, 19)
        for width in (1, 1.5, 2)
    ]
    return rng.sample(windows, len(windows))


def rescheduled(state: DayState, job_id: int, window: Window) -> DayState:
    jobs = tuple(
        replace(job, window_start=window[0], window_end=window[1]) if job.id == job_id else job
        for job in state.jobs
    )
    return replace(state, jobs=jobs)


def overlay(base: Fleet, result: Replan) -> list[PlannedRoute]:
    """The whole fleet after a re-plan: the vans it touched, every other van as it was."""
    touched = {route.vehicle_id: route for route in result.routes}
    return [*touched.values(), *(route for van_id, route in base.items() if van_id not in touched)]


def broken(state: DayState, routes: Sequence[PlannedRoute], job_id: int) -> int:
    """Other recipients served outside their promised window, or not served at all."""
    served = {stop.job_id: stop.arrival for route in routes for stop in route.stops}
    others = [job.id for job in state.jobs if job.id != job_id]
    return sum(1 for other in others if not _kept(state.promised[other], served.get(other)))


def _kept(window: Window, eta: datetime | None) -> bool:
    return eta is not None and window[0] <= eta <= window[1]


def churn(before: dict[int, Window], state: DayState, routes: Sequence[PlannedRoute], job_id: int) -> int:
    return len(moved(before, promises(routes, requested(state.jobs)), THRESHOLD) - {job_id})


async def measure(
    state: DayState, matrix: MatrixProvider, now: datetime, change: tuple[int, Window], base: Fleet
) -> Sample:
    job_id, window = change
    after = rescheduled(state, job_id, window)
    started = time.perf_counter()
    result = await replan(after, matrix, now=now, changed=frozenset({job_id}))
    ms = (time.perf_counter() - started) * 1000
    routes = overlay(base, result)
    before = promises(base.values(), requested(state.jobs))
    late = any(late.job_id == job_id for late in result.late)
    cost = sum(route.duration_s for route in routes)
    return Sample(
        job_id, window, ms, churn(before, after, routes, job_id), broken(after, routes, job_id), late, cost
    )


@dataclass(frozen=True, slots=True)
class Full:
    """One full re-solve of the state of the first reschedule."""

    ms: float
    cost: int
    moved: int
    broken: int
    switched: int


async def full_resolve(
    state: DayState, matrix: MatrixProvider, now: datetime, job_id: int, base: Fleet, runs: int
) -> Full:
    """The same state solved unseeded from scratch over the whole fleet (median time of `runs`)."""
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await replan(state, matrix, now=now, changed=frozenset({job_id}), from_scratch=True)
        timings.append((time.perf_counter() - started) * 1000)
    assert result is not None
    routes = overlay(base, result)
    before = promises(base.values(), requested(state.jobs))
    van_of = {stop.job_id: route.vehicle_id for route in routes for stop in route.stops}
    switched = sum(1 for van in state.vans for job_id in van.order if van_of.get(job_id) != van.vehicle.id)
    return Full(
        statistics.median(timings),
        sum(route.duration_s for route in routes),
        churn(before, state, routes, job_id),
        broken(state, routes, job_id),
        switched,
    )


def unlocked(state: DayState) -> DayState:
    """The state with no parcel tied to its van: the full re-solve DESIGN.md measured."""
    return replace(state, vans=tuple(replace(van, loaded=frozenset()) for van in state.vans))


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def row(state: DayState, sample: Sample) -> str:
    van = next(van.vehicle.id for van in state.vans if sample.job_id in van.loaded)
    old, new = state.promised[sample.job_id], sample.window
    windows = f"{hhmm(old[0])}-{hhmm(old[1])} {hhmm(new[0])}-{hhmm(new[1])}"
    cells = f"{sample.ms:>7.1f} {sample.moved:>5} {sample.broken:>6} {'yes' if sample.late else 'no'}"
    return f"{sample.job_id:>5} {van:>4} {windows} {cells}"


def summarize(samples: Sequence[Sample], free: Full, locked: Full) -> None:
    """Detail lines, then the acceptance line against DESIGN.md's full re-solve (parcels free to move)."""
    timings = [sample.ms for sample in samples]
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    total_moved, total_broken = sum(s.moved for s in samples), sum(s.broken for s in samples)
    most, late = max(s.moved for s in samples), sum(s.late for s in samples)
    print(
        f"incremental: {len(samples)} reschedules, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(timings):.1f} ms; other windows moved > 15 min: {total_moved} in all, at most {most} "
        f"in one; broken promises {total_broken}; the rescheduled job itself served late {late}x"
    )
    for name, full in (("parcels free (DESIGN.md)", free), ("parcels locked to their van", locked)):
        print(
            f"full re-solve, {name}: {full.ms / 1000:.1f} s (full/p50 {full.ms / p50:.0f}x, "
            f"full/p95 {full.ms / p95:.0f}x), cost {full.cost} vs incremental {samples[0].cost} "
            f"({_delta(samples[0].cost, full.cost):+.2f} %), other windows moved > 15 min {full.moved}, "
            f"broken promises {full.broken}, parcels on another van {full.switched}"
        )
    print(
        f"replan p50_ms={p50:.1f} p95_ms={p95:.1f} full_ms={free.ms:.0f} ratio={free.ms / p50:.0f} "
        f"cost_delta_pct={_delta(samples[0].cost, free.cost):.2f} moved={total_moved} "
        f"broken_promises={total_broken}",
        flush=True,
    )


def _delta(incremental: int, full: int) -> float:
    return (incremental - full) / full * 100


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stops", type=int, default=1000)
    parser.add_argument("--vans", type=int, default=25)
    parser.add_argument("--reschedules", type=int, default=60)
    parser.add_argument("--full-runs", type=int, default=1, help="runs of each full re-solve (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="200 stops, 5 vans: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.stops, args.vans = 200, 5
    return args


async def run(args: argparse.Namespace) -> None:
    now, matrix = local(11), DayMatrix(HaversineMatrix())
    fleet, jobs = synthetic_day(args.stops, args.vans, args.seed)
    started = time.perf_counter()
    plan = await plan_day(fleet, jobs, matrix, exploration=1, threads=args.threads)
    print(
        f"day: {args.stops} stops, {args.vans} vans, 1-2 h windows, haversine; nightly plan (VROOM x1) "
        f"{time.perf_counter() - started:.1f} s, cost {plan.cost}, unserved {len(plan.unserved)}",
        flush=True,
    )
    _, state, repromised = await refreshed(mid_day(plan, fleet, jobs, now), matrix, now)
    started = time.perf_counter()
    base, state, _ = await refreshed(state, matrix, now)
    print(
        f"mid-day {hhmm(now)}: {args.stops - len(plan.unserved) - len(state.jobs)} stops done, "
        f"{len(state.jobs)} left, all on board; {repromised} promises re-issued as the vans wait at their "
        f"last stop (delay notices); refresh_etas of {len(base)} vans "
        f"{(time.perf_counter() - started) * 1000:.0f} ms",
        flush=True,
    )
    changes, refused = await reschedules(state, matrix, now, args.reschedules, args.seed)
    if refused:
        print(
            f"slot probe: {len(refused)} later windows turned down (the job would be served late; "
            f"re-plan p50 {statistics.median(refused):.1f} ms, max {max(refused):.1f} ms)"
        )
    print(
        f"{'job':>5} {'van':>4} {'promised':>11} {'new window':>11} {'ms':>7} {'moved':>5} {'broken':>6} late"
    )
    samples = []
    for change in changes:
        samples.append(await measure(state, matrix, now, change, base))
        print(row(state, samples[-1]), flush=True)
    first, job_id = rescheduled(state, *changes[0]), changes[0][0]
    free = await full_resolve(unlocked(first), matrix, now, job_id, base, args.full_runs)
    locked = await full_resolve(first, matrix, now, job_id, base, args.full_runs)
    summarize(samples, free, locked)


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(run(arguments(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
