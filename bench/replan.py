"""Re-plan after a reschedule, through the use case and a SQLite store, vs a full re-solve (DESIGN.md).

A seeded synthetic day (sim.sample's rows with 1-2 h windows) is imported into a fresh SQLite file
and planned the nightly way (`plan_date`). The virtual clock then runs the morning: the vans leave
at 07:30, every stop whose planned service ends by 11:00 local is delivered, in time order, through
`progress.record_stop_event`, and at 11:00 each van reports where it is (its ETAs are refreshed).
Then, one at a time, different recipients move their delivery to a later 1-2 h window of the day
with `rescheduling.take`, each in its own store transaction, as the inbound path does.

latency  from just before `take` to the commit of its transaction: the re-plan is solved and the
         new routes, ETAs, promises and queued messages are stored. A refused take (None: the
         route cannot honour that window) is counted, and its time shown apart.
moved    other recipients whose current promise (the latest in the ledger) changed with that
         reschedule; `told` are those of them who get a message (moved past the threshold).
broken   other deliveries open on a route before the reschedule that are on no route after it, or
         whose stored planned arrival is outside their current promise without the re-plan having
         reported them late (a late stop gets a new promise and a delay notice): a promise
         silently broken.
full     a full VROOM re-solve (`replan(..., from_scratch=True)`, exploration 1) of the state the
         first reschedule re-planned (`day_state` of the stored day, the new window applied): vans
         where they are, every promise a hard window. As DESIGN.md measured it, parcels are free to
         change van; `--baseline locked` keeps them on their van, as `day_state` has it, which
         makes it one small solve per van and far faster. Both are printed; ratio = full_ms /
         p50_ms. Its "moved" are the other stops it serves outside their promise (each would get
         a new one).
cost     travel seconds of what is left of the day, each van from where it is at 11:00 back to its
         depot; cost_delta_pct = (incremental - full) / full x 100 (negative: incremental cheaper).

Before the takes the heap is settled as `doorstep serve` settles it once started (bot.app.settle_heap:
collect, then gc.freeze what is alive), so a full collection does not walk the process's long-lived
objects (without it, measured here: two takes of 60 hit a 230-300 ms full pass). The bench's own reads
between takes run with the collector paused and keep only flat maps, so they leave it no work; the
takes run with the collector as it is.

    python -m bench.replan            # 1000 stops, 25 vans, 60 reschedules (several minutes)
    python -m bench.replan --quick    # 200 stops, 5 vans, 50 reschedules: a smoke test
"""

import argparse
import asyncio
import gc
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.app import settle_heap
from bot.clock import ManualClock
from bot.composition import build_services
from bot.config import Settings
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store.tables import events
from bot.usecases import progress, rescheduling
from bot.usecases.day import Day, day_state, load_day
from bot.usecases.fleet import FleetIn
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from eta import slots
from eta.model import DayState, Window
from eta.replan import refresh_etas, replan
from sim.sample import BERLIN, sample_day

ZONE = ZoneInfo(BERLIN.timezone)
DAY = date(2026, 11, 23)
SHIFT = (clock_time(7, 30), clock_time(19, 30))
LAST_END = clock_time(19, 0)  # requested and rescheduled windows end by then
WIDTHS = (60, 90, 120)  # minutes
PROBES = 4  # later windows tried per recipient before moving on to another


def local(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), ZONE)


def hhmm(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%H:%M")


@contextmanager
def collector_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class FullCollections:
    """Time the collector spends in full (generation 2) passes, as gc.callbacks reports them."""

    def __init__(self) -> None:
        self.ms, self._started = 0.0, 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._started) * 1000


def day_file(stops: int, vans: int, seed: int) -> dict[str, Any]:
    """sim.sample's day with every window 1-2 h wide, on the half hour, between 08:00 and 19:00."""
    data = sample_day(DAY, stops, vans, seed=seed)
    rng = random.Random(seed)
    for row in data["deliveries"]:
        width = rng.choice(WIDTHS)
        start = local(8) + timedelta(minutes=30 * rng.randrange((660 - width) // 30 + 1))
        row["window_start"], row["window_end"] = hhmm(start), hhmm(start + timedelta(minutes=width))
    for driver in data["drivers"]:
        driver["shift_start"], driver["shift_end"] = (moment.strftime("%H:%M") for moment in SHIFT)
    return data


async def prepare(services: Services, clock: ManualClock, args: argparse.Namespace) -> None:
    """Import the day the evening before and plan it (setup, not measured)."""
    data = day_file(args.stops, args.vans, args.seed)
    clock.set(local(16, day=DAY - timedelta(days=1)))
    fleet_in = FleetIn.model_validate({k: data[k] for k in ("depots", "drivers")})
    started = time.perf_counter()
    rows = list(enumerate(data["deliveries"], 1))
    await import_deliveries(services.store, clock, services.settings.day, rows, fleet_in=fleet_in)
    imported = time.perf_counter() - started
    started = time.perf_counter()
    result = await plan_date(
        services.store, clock, services.settings.eta, services.matrix, DAY, actor="bench"
    )
    print(
        f"day: {args.stops} stops, {args.vans} vans, 1-2 h windows, haversine; import {imported:.1f} s; "
        f"nightly plan (VROOM x{services.settings.eta.exploration}) {time.perf_counter() - started:.1f} s: "
        f"{len(result.routes)} vans used, cost {result.plan.cost}, unassigned {len(result.unassigned)}",
        flush=True,
    )


async def morning(services: Services, clock: ManualClock, now: datetime) -> None:
    """Vans out at shift start, stops delivered in time order until `now`, then every van's position."""
    started = time.perf_counter()
    clock.set(local(SHIFT[0].hour, SHIFT[0].minute))
    day = await read_day(services)
    for driver_id in day.routes:
        await progress.start_route(services, driver_id, actor="driver")
    delivered = 0
    while (due := next_done(day, now)) is not None:
        clock.set(due[1])
        await progress.record_stop_event(services, due[0], progress.StopEvent.DELIVERED, actor="driver")
        delivered += 1
        day = await read_day(services)
    clock.set(now)
    for driver_id, route in day.routes.items():
        done = day.done(route)
        where = day.deliveries[done[-1].delivery_id] if done else day.depots[day.drivers[driver_id].depot_id]
        await progress.update_position(services, driver_id, where.lat, where.lon, actor="driver")
    after = Snapshot.of(await read_day(services))
    print(
        f"morning to {hhmm(now)}: {delivered} stops delivered through record_stop_event, "
        f"{len(after.van)} left on the vans; {len(day.routes)} positions reported at {hhmm(now)} "
        f"(ETAs refreshed); {len(after.outside(frozenset()))} arrivals outside their promise "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )


def next_done(day: Day, now: datetime) -> tuple[int, datetime] | None:
    """The earliest next stop of any van whose service ends by `now`, and when it ends."""
    ends = [
        (
            stop.planned_arrival + timedelta(seconds=day.deliveries[stop.delivery_id].service_s),
            stop.delivery_id,
        )
        for stop in (day.remaining(route)[0] for route in day.routes.values() if day.remaining(route))
    ]
    end, delivery_id = min(ends, default=(now, 0))
    return (delivery_id, end) if ends and end <= now else None


async def read_day(services: Services) -> Day:
    async with services.store.read() as conn:
        day = await load_day(conn, DAY)
    assert day is not None
    return day


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The open stops of the active plan as stored, in flat maps by delivery id."""

    van: dict[int, int]
    arrival: dict[int, datetime]
    version: dict[int, int]  # of the current promise
    start: dict[int, datetime]
    end: dict[int, datetime]
    asked_end: dict[int, datetime]  # end of the requested window

    @classmethod
    def of(cls, day: Day) -> "Snapshot":
        stops = {s.delivery_id: (r.driver_id, s) for r in day.routes.values() for s in day.remaining(r)}
        promised = {d: day.promises[d] for d in stops if d in day.promises}
        return cls(
            {d: van for d, (van, _) in stops.items()},
            {d: stop.planned_arrival for d, (_, stop) in stops.items()},
            {d: p.version for d, p in promised.items()},
            {d: p.start for d, p in promised.items()},
            {d: p.end for d, p in promised.items()},
            {d: day.deliveries[d].window_end for d in stops},
        )

    def outside(self, excused: frozenset[int]) -> set[int]:
        """Stops whose planned arrival is not inside their current promise (`excused` aside)."""
        return {
            d
            for d, arrival in self.arrival.items()
            if d not in excused and not (d in self.start and self.start[d] <= arrival <= self.end[d])
        }


@dataclass(frozen=True, slots=True)
class Sample:
    delivery_id: int
    van: int
    promised: Window
    window: Window
    ms: float
    moved: int
    told: int
    broken: int
    gc_ms: float  # full collections during the take


def later_windows(snap: Snapshot, delivery_id: int, rng: random.Random) -> list[Window]:
    """1-2 h windows on the half hour after both the requested and the promised one, ending by 19:00."""
    after = max(snap.asked_end[delivery_id], snap.end[delivery_id]).astimezone(ZONE)
    first = local(after.hour) + timedelta(minutes=30 * math.ceil((after.minute + after.second / 60) / 30))
    last = local(LAST_END.hour, LAST_END.minute)
    windows = [
        (first + timedelta(minutes=30 * n), first + timedelta(minutes=30 * n + width))
        for width in WIDTHS
        for n in range(int((last - first - timedelta(minutes=width)) / timedelta(minutes=30)) + 1)
    ]
    return rng.sample(windows, min(PROBES, len(windows)))


def movable(day: Day, now: datetime, settings: Settings) -> list[int]:
    """Open stops their recipient may still move (the cut-off rule), in id order."""
    return sorted(
        stop.delivery_id
        for route in day.routes.values()
        for stop in day.remaining(route)
        if rescheduling.refusal(
            day.deliveries[stop.delivery_id], day.promises.get(stop.delivery_id), now, settings
        )
        is None
    )


async def take(services: Services, delivery_id: int, window: Window, now: datetime) -> tuple[float, bool]:
    """One reschedule through the use case; the time from the call to the commit."""
    async with services.store.tx() as conn:
        delivery = await delivery_store.get(conn, delivery_id)
        assert delivery is not None
        slot, matrix = rescheduling.Slot(*window), services.day_matrix(DAY)
        started = time.perf_counter()
        promise = await rescheduling.take(
            conn, delivery, slot, now, services.settings, services.composer, matrix
        )
    return (time.perf_counter() - started) * 1000, promise is not None


async def last_revision(services: Services) -> dict[str, Any]:
    query = sa.select(events.c.data).where(events.c.kind == "plan.revised").order_by(events.c.id.desc())
    async with services.store.read() as conn:
        data: dict[str, Any] = (await conn.execute(query.limit(1))).scalar_one()
    return data


def judge(before: Snapshot, after: Snapshot, delivery_id: int, late: Sequence[int]) -> tuple[int, int]:
    """(moved, broken) among the other recipients, from what the store held before and holds after."""
    moved = sum(
        1
        for d, version in after.version.items()
        if d != delivery_id and d in before.version and version != before.version[d]
    )
    lost = set(before.van) - set(after.van) - {delivery_id}
    return moved, len(lost) + len(after.outside(frozenset({delivery_id, *late})))


@dataclass(frozen=True, slots=True)
class First:
    """The first reschedule: the state it re-planned, and the cost of the day as it stored it."""

    state: DayState
    delivery_id: int
    cost: int


@dataclass
class Run:
    """The reschedules so far, the refused takes' times, and the day as the first one found it."""

    before: DayState
    samples: list[Sample] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    first: First | None = None


async def reschedules(
    services: Services, now: datetime, count: int, seed: int, gc_full: FullCollections
) -> Run:
    """`count` different recipients move to a later window, one at a time, each timed through `take`."""
    rng = random.Random(seed)
    with collector_paused():
        day = await read_day(services)
        order, run, snap = movable(day, now, services.settings), Run(day_state(day, now)), Snapshot.of(day)
        del day
    rng.shuffle(order)
    cutoff = now + timedelta(minutes=services.settings.messages.cutoff_minutes)
    print(f"{'delivery':>8} {'van':>4} {'promised':>11} {'new window':>11} {'ms':>7} moved told broken")
    settle_heap()  # as `doorstep serve` does once it has started
    for delivery_id in order:
        if len(run.samples) == count:
            break
        if snap.start.get(delivery_id, now) >= cutoff:  # still on a route, and not too late to move
            snap = await attempt(
                services, run, snap, delivery_id, later_windows(snap, delivery_id, rng), gc_full
            )
    return run


async def attempt(
    services: Services,
    run: Run,
    snap: Snapshot,
    delivery_id: int,
    windows: Sequence[Window],
    gc_full: FullCollections,
) -> Snapshot:
    """`take` the first of `windows` the route can honour; the store as it is afterwards."""
    now = services.clock.now()
    for window in windows:
        gc_before = gc_full.ms
        ms, taken = await take(services, delivery_id, window, now)
        if not taken:
            run.refused.append(ms)
            continue
        with collector_paused():
            day = await read_day(services)
            after = Snapshot.of(day)
            if run.first is None:
                job = next(job for job in run.before.jobs if job.id == delivery_id)
                state = slots.with_window(run.before, job, window)
                run.first = First(state, delivery_id, await fleet_cost(services, day, now))
            del day
            revision = await last_revision(services)
        moved, broken = judge(snap, after, delivery_id, revision["late"])
        promised = (snap.start[delivery_id], snap.end[delivery_id])
        van, told, gc_ms = snap.van[delivery_id], revision["told"], gc_full.ms - gc_before
        run.samples.append(Sample(delivery_id, van, promised, window, ms, moved, told, broken, gc_ms))
        print(row(run.samples[-1]), flush=True)
        return after
    return snap


async def fleet_cost(services: Services, day: Day, now: datetime) -> int:
    """Travel seconds of every van's remaining order, timed from where it is now (plan mode)."""
    state = day_state(day, now)
    total = 0
    for van in (van for van in state.vans if van.order):
        matrix = services.day_matrix(DAY)
        route = await refresh_etas(van.vehicle, van.order, state.jobs, matrix, now, promised=state.promised)
        total += route.duration_s
    return total


@dataclass(frozen=True, slots=True)
class Full:
    ms: float
    cost: int
    moved: int
    unserved: int
    switched: int


async def full_resolve(services: Services, first: First, *, free: bool, runs: int) -> Full:
    """The first reschedule's state solved from scratch over the whole fleet (median time of `runs`)."""
    state = unlocked(first.state) if free else first.state
    changed, now = frozenset({first.delivery_id}), services.clock.now()
    timings: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await replan(state, services.day_matrix(DAY), now=now, changed=changed, from_scratch=True)
        timings.append((time.perf_counter() - started) * 1000)
    van_of = {stop.job_id: route.vehicle_id for route in result.routes for stop in route.stops}
    loaded = {job_id: van.vehicle.id for van in first.state.vans for job_id in van.order}
    switched = sum(1 for job_id, van_id in loaded.items() if van_of.get(job_id, van_id) != van_id)
    moved = sum(1 for late in result.late if late.job_id not in changed)
    return Full(statistics.median(timings), result.cost, moved, len(result.unserved), switched)


def unlocked(state: DayState) -> DayState:
    """The state with no parcel tied to its van: the full re-solve DESIGN.md measured."""
    return replace(state, vans=tuple(replace(van, loaded=frozenset()) for van in state.vans))


def row(sample: Sample) -> str:
    old, new = sample.promised, sample.window
    windows = f"{hhmm(old[0])}-{hhmm(old[1])} {hhmm(new[0])}-{hhmm(new[1])}"
    counts = f"{sample.ms:>7.1f} {sample.moved:>5} {sample.told:>4} {sample.broken:>6}"
    gc_note = f"  (full gc pass {sample.gc_ms:.0f} ms)" if sample.gc_ms else ""
    return f"{sample.delivery_id:>8} {sample.van:>4} {windows} {counts}{gc_note}"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def delta_pct(incremental: int, full: int) -> float:
    return (incremental - full) / full * 100


def summarize(run: Run, baselines: dict[str, Full], chosen: str) -> None:
    samples, cost = run.samples, run.first.cost if run.first else 0
    timings = [sample.ms for sample in samples]
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    moved, broken = sum(s.moved for s in samples), sum(s.broken for s in samples)
    refused = (
        f"; {len(run.refused)} takes refused (median {statistics.median(run.refused):.1f} ms)"
        if run.refused
        else ""
    )
    collected = [s.gc_ms for s in samples if s.gc_ms]
    print(
        f"incremental (take -> commit): {len(samples)} reschedules, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(timings):.1f} ms{refused}; takes with a full gc pass {len(collected)} "
        f"({sum(collected):.0f} ms); "
        f"other promises moved {moved} (at most {max(s.moved for s in samples)} in one), "
        f"told {sum(s.told for s in samples)}, broken {broken}; cost after the first {cost}"
    )
    for name, full in baselines.items():
        print(
            f"full re-solve, parcels {name}: {full.ms / 1000:.2f} s (full/p50 {full.ms / p50:.0f}x), "
            f"cost {full.cost} vs incremental {cost} ({delta_pct(cost, full.cost):+.2f} %), "
            f"other promises that would move {full.moved}, unserved {full.unserved}, "
            f"parcels on another van {full.switched}"
        )
    full = baselines[chosen]
    print(
        f"replan p50_ms={p50:.1f} p95_ms={p95:.1f} full_ms={full.ms:.0f} ratio={full.ms / p50:.0f} "
        f"cost_delta_pct={delta_pct(cost, full.cost):.2f} moved={moved} broken_promises={broken}",
        flush=True,
    )


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stops", type=int, default=1000)
    parser.add_argument("--vans", type=int, default=25)
    parser.add_argument("--reschedules", type=int, default=60)
    parser.add_argument("--full-runs", type=int, default=1, help="runs of each full re-solve (median)")
    parser.add_argument("--plan-exploration", type=int, default=1, help="VROOM exploration, nightly plan")
    parser.add_argument(
        "--baseline", choices=("free", "locked"), default="free", help="full_ms of the last line"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="200 stops, 5 vans, 50 reschedules")
    args = parser.parse_args(argv)
    if args.quick:
        args.stops, args.vans, args.reschedules = 200, 5, 50
    return args


async def run(args: argparse.Namespace, folder: Path) -> None:
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{folder / 'doorstep.db'}"},
        sandbox={"path": folder / "sandbox.db"},
        eta={"exploration": args.plan_exploration},
        _env_file=None,
    )
    clock = ManualClock()
    services = await build_services(settings, clock)
    gc_full = FullCollections()
    try:
        now = local(11)
        await prepare(services, clock, args)
        await morning(services, clock, now)
        gc.callbacks.append(gc_full)
        try:
            done = await reschedules(services, now, args.reschedules, args.seed, gc_full)
        finally:
            gc.callbacks.remove(gc_full)
        assert done.first is not None, "no reschedule was taken"
        baselines = {
            "free": await full_resolve(services, done.first, free=True, runs=args.full_runs),
            "locked": await full_resolve(services, done.first, free=False, runs=args.full_runs),
        }
        summarize(done, baselines, args.baseline)
    finally:
        await services.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="doorstep-replan-") as folder:
        asyncio.run(run(args, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
