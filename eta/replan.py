"""Re-plan mid-day without churn (DESIGN.md, "Re-planning without churn").

Every van keeps the order it is driving as its VROOM seed, parcels on board are locked to their
van with a skill, and standing promises are hard windows that outrank the changed jobs. Only the
vans a change can reach are re-solved (seeded, exploration 1); the others keep their routes. A job
the seeded solve leaves out is tried on one van unseeded, then served late with a wider window and
reported: it is never dropped. `refresh_etas` re-times one van's fixed order (plan mode).
"""

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from eta import diagnose, problem
from eta.geo import LatLon
from eta.matrix import Matrix, MatrixProvider
from eta.model import (
    DayState,
    JobSpec,
    Late,
    PlannedRoute,
    RefreshedRoute,
    Replan,
    Unserved,
    VanState,
    VehicleSpec,
    Window,
)
from eta.windows import ceil_to, floor_to, promised_window

EXPLORATION = 1
CANDIDATES = 3
LATER = (timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2), timedelta(days=1))

type Seeds = dict[int, tuple[int, ...]]


async def replan(
    state: DayState,
    matrix_provider: MatrixProvider,
    *,
    now: datetime,
    changed: frozenset[int] = frozenset(),
    threads: int = 2,
    from_scratch: bool = False,
) -> Replan:
    """Re-plan what is left of the day around `changed` jobs; every other promise is a hard window.

    Only the vans a change can reach are re-planned and returned; the others keep their routes.
    `from_scratch` ignores the vans' orders and re-solves every van: the bench's baseline.
    """
    work = _work(state, changed, from_scratch=from_scratch)
    points = _points(state, work)
    matrix = await matrix_provider.table(points)
    planner = _Planner(state, work, now, {point: n for n, point in enumerate(points)}, matrix, threads)
    return await asyncio.to_thread(planner.run)


async def refresh_etas(
    van: VehicleSpec,
    stops: Sequence[int],
    jobs: Sequence[JobSpec],
    matrix_provider: MatrixProvider,
    now: datetime,
    *,
    promised: Mapping[int, Window] | None = None,
) -> RefreshedRoute:
    """Fixed-order ETAs (plan mode) from where the van is at `now`; stops past their promise are flagged."""
    state = DayState((VanState(van, tuple(stops)),), tuple(jobs), promised or {})
    seeds = _seeds(state.vans, {job.id for job in jobs}, {})
    work = _Work(changed=frozenset(), lock={}, seeds=seeds, loose=(), vans=(van.id,))
    points = _points(state, work)
    matrix = await matrix_provider.table(points)
    planner = _Planner(state, work, now, {point: n for n, point in enumerate(points)}, matrix, threads=1)
    result = await asyncio.to_thread(planner.refresh)
    route = result.routes[0] if result.routes else PlannedRoute(van.id, (), now, now, 0, 0)
    return RefreshedRoute(
        route.vehicle_id,
        route.stops,
        route.start_at,
        route.end_at,
        route.duration_s,
        route.distance_m,
        late=result.late,
    )


def promises(
    routes: Iterable[PlannedRoute],
    requested: Mapping[int, Window],
    width: timedelta = timedelta(minutes=60),
    align: timedelta = timedelta(minutes=15),
) -> dict[int, Window]:
    """The window each stop would be promised from these arrivals, as the nightly plan derives it."""
    return {
        stop.job_id: promised_window(stop.arrival, requested[stop.job_id], width, align)
        for route in routes
        for stop in route.stops
    }


def moved(before: Mapping[int, Window], after: Mapping[int, Window], threshold: timedelta) -> frozenset[int]:
    """Jobs in both maps whose window start moved by more than `threshold`."""
    return frozenset(
        job_id
        for job_id, window in after.items()
        if job_id in before and abs(window[0] - before[job_id][0]) > threshold
    )


class DayMatrix:
    """A MatrixProvider holding one day's table: tables over points it knows are lookups.

    Warm it with the day's depots and stops; a point it has not seen (a van's GPS position)
    costs one full table from the wrapped provider.
    """

    def __init__(self, provider: MatrixProvider) -> None:
        self._provider = provider
        self._rows: dict[LatLon, int] = {}
        self._table = Matrix(np.zeros((0, 0), np.uint32), np.zeros((0, 0), np.uint32))
        self._growing = asyncio.Lock()

    @property
    def name(self) -> str:
        return self._provider.name

    async def table(self, points: Sequence[LatLon]) -> Matrix:
        if any(point not in self._rows for point in points):
            await self._grow(points)
        index = np.fromiter((self._rows[point] for point in points), np.intp, len(points))
        cut = np.ix_(index, index)
        return Matrix(self._table.durations[cut], self._table.distances[cut])

    async def _grow(self, points: Sequence[LatLon]) -> None:
        async with self._growing:
            known = list(dict.fromkeys([*self._rows, *points]))
            if len(known) > len(self._rows):
                self._table = await self._provider.table(known)
                self._rows = {point: n for n, point in enumerate(known)}


@dataclass(frozen=True, slots=True)
class _Work:
    """What a re-plan touches: locks, seeds, the jobs without a seed and the vans that can take them."""

    changed: frozenset[int]
    lock: dict[int, int]
    seeds: Seeds
    loose: tuple[int, ...]
    vans: tuple[int, ...]


def _work(state: DayState, changed: frozenset[int], *, from_scratch: bool) -> _Work:
    todo = {job.id for job in state.jobs}
    lock = {job_id: van.vehicle.id for van in state.vans for job_id in van.loaded if job_id in todo}
    seeds = _seeds(state.vans, set() if from_scratch else todo - changed, lock)
    seeded = {job_id for order in seeds.values() for job_id in order}
    loose = tuple(job.id for job in state.jobs if job.id not in seeded)
    return _Work(changed, lock, seeds, loose, _scope(state, loose, lock))


def _scope(state: DayState, loose: Sequence[int], lock: Mapping[int, int]) -> tuple[int, ...]:
    """A loose job goes to its own van when it is on board, else to any van of the fleet."""
    vans = tuple(van.vehicle.id for van in state.vans)
    if any(job_id not in lock for job_id in loose):
        return vans
    return tuple(van_id for van_id in vans if van_id in {lock[job_id] for job_id in loose})


def _seeds(vans: Iterable[VanState], keep: Iterable[int], lock: Mapping[int, int]) -> Seeds:
    """Each van's order, without changed or finished jobs, jobs loaded elsewhere or already seeded."""
    todo = set(keep)
    seeds: Seeds = {}
    for van in vans:
        mine = van.vehicle.id
        order = [j for j in dict.fromkeys(van.order) if j in todo and lock.get(j, mine) == mine]
        todo.difference_update(order)
        seeds[mine] = tuple(order)
    return seeds


def _points(state: DayState, work: _Work) -> list[LatLon]:
    """Every van's start and end, and where the jobs of this re-plan are."""
    jobs = {job.id: job for job in state.jobs}
    todo = [*(job_id for van_id in work.vans for job_id in work.seeds[van_id]), *work.loose]
    vans = [point for van in state.vans for point in (van.vehicle.start, van.vehicle.end)]
    return list(dict.fromkeys([*vans, *(jobs[job_id].location for job_id in todo)]))


def _lock(van_id: int) -> str:
    return f"eta:van:{van_id}"


def _available(van: VehicleSpec, now: datetime) -> VehicleSpec:
    leave = ceil_to(max(now, van.shift_start), problem.SECOND)
    skills = van.skills | {_lock(van.id)}
    return replace(van, shift_start=leave, shift_end=max(leave, van.shift_end), skills=skills)


class _Planner:
    """The blocking part of one re-plan; it refines `routes` and the jobs' working windows as it goes."""

    def __init__(
        self,
        state: DayState,
        work: _Work,
        now: datetime,
        rows: dict[LatLon, int],
        matrix: Matrix,
        threads: int,
    ) -> None:
        self.work, self.rows, self.matrix, self.threads = work, rows, matrix, threads
        self.epoch = floor_to(now, problem.SECOND) - timedelta(days=1)
        self.given = {job.id: job for job in state.jobs}
        self.promised = state.promised
        self.vans = {van.vehicle.id: _available(van.vehicle, now) for van in state.vans}
        self.jobs: dict[int, JobSpec] = {}
        self.routes: dict[int, PlannedRoute] = {}
        self.unserved: dict[int, str] = {}

    def run(self) -> Replan:
        started = time.perf_counter()
        for job_id in self._solve():
            self._place(job_id)
        return self._result(started)

    def refresh(self) -> Replan:
        started = time.perf_counter()
        self._adopt_checked(self.work.vans)
        return self._result(started)

    def _result(self, started: float) -> Replan:
        routes = tuple(self.routes[van_id] for van_id in sorted(self.routes))
        return Replan(
            routes=routes,
            late=tuple(self._late(routes)),
            unserved=tuple(Unserved(job_id, why) for job_id, why in sorted(self.unserved.items())),
            cost=sum(route.duration_s for route in routes),
            solve_ms=round((time.perf_counter() - started) * 1000),
        )

    def _hard(self, job_id: int) -> Window:
        """The window to keep: the promise, unless the job changed or was never promised."""
        job = self.given[job_id]
        requested = (job.window_start, job.window_end)
        return requested if job_id in self.work.changed else self.promised.get(job_id, requested)

    def _job(self, job_id: int) -> JobSpec:
        """The job as VROOM sees it: its working window, locked to its van when on board."""
        if job_id not in self.jobs:
            job, (start, end) = self.given[job_id], self._hard(job_id)
            van = self.work.lock.get(job_id)
            skills = job.skills if van is None else job.skills | {_lock(van)}
            self.jobs[job_id] = replace(job, window_start=start, window_end=end, skills=skills)
        return self.jobs[job_id]

    def _solve(self) -> tuple[int, ...]:
        """The seeded solve over the vans in scope; returns the jobs it left out."""
        scope, loose = self.work.vans, self.work.loose
        if not scope:
            return loose
        seeds = {van_id: self.work.seeds[van_id] for van_id in scope}
        jobs = [*(job_id for order in seeds.values() for job_id in order), *loose]
        try:
            raw = self._vroom(scope, jobs, seeds)
        except problem.RejectedInputError:
            self._adopt_checked(scope)
            raw = self._retry(scope, jobs, seeds)
        self.routes.update((van_id, self._empty(van_id)) for van_id in scope)
        self.routes.update((route.vehicle_id, route) for route in raw.routes)
        return raw.unassigned

    def _retry(self, scope: Sequence[int], jobs: Sequence[int], seeds: Seeds) -> problem.RawSolution:
        try:
            return self._vroom(scope, jobs, seeds)
        except problem.RejectedInputError:
            return self._vroom(scope, jobs)

    def _adopt_checked(self, van_ids: Sequence[int]) -> None:
        """Time these vans' seeds as they stand; widen what they miss so the seeds are feasible again."""
        seeded = [van_id for van_id in van_ids if self.work.seeds.get(van_id)]
        if not seeded:
            return
        raw = self._vroom(
            seeded, [j for v in seeded for j in self.work.seeds[v]], self.work.seeds, check=True
        )
        for route in raw.routes:
            for stop in route.stops:
                job = self._job(stop.job_id)
                self.jobs[stop.job_id] = replace(job, window_end=max(job.window_end, stop.arrival))
            van = self.vans[route.vehicle_id]
            self.vans[van.id] = replace(van, shift_end=max(van.shift_end, route.end_at))
            self.routes[route.vehicle_id] = route

    def _place(self, job_id: int) -> None:
        """Fallback for a job the seeded solve left out: one van unseeded, then later and later."""
        vans = self._candidates(job_id)
        if any(self._try(van_id, job_id, seeded=False) for van_id in vans):
            return
        for end in self._wider(job_id):
            self.jobs[job_id] = replace(self._job(job_id), window_end=end)
            if any(self._try(van_id, job_id, seeded=True) for van_id in vans):
                return
        self.unserved[job_id] = self._reason(job_id)

    def _candidates(self, job_id: int) -> list[int]:
        if job_id in self.work.lock:
            return [self.work.lock[job_id]] if self.work.lock[job_id] in self.work.vans else []
        job = self._job(job_id)
        able = [self.vans[v] for v in self.work.vans]
        able = [van for van in able if job.skills <= van.skills and job.size <= van.capacity]
        return [van.id for van in sorted(able, key=lambda van: self._detour(van, job))[:CANDIDATES]]

    def _detour(self, van: VehicleSpec, job: JobSpec) -> int:
        stops = self.routes[van.id].stops if van.id in self.routes else ()
        rows = [self.rows[van.start], *(self.rows[self.given[s.job_id].location] for s in stops)]
        return int(self.matrix.durations[rows, self.rows[job.location]].min())

    def _wider(self, job_id: int) -> list[datetime]:
        end = self._hard(job_id)[1]
        ends = {self.given[job_id].window_end, *(end + step for step in LATER)}
        return sorted(moment for moment in ends if moment > self._job(job_id).window_end)

    def _try(self, van_id: int, job_id: int, *, seeded: bool) -> bool:
        order = tuple(stop.job_id for stop in self.routes[van_id].stops) if van_id in self.routes else ()
        try:
            raw = self._vroom([van_id], [*order, job_id], {van_id: order} if seeded else {})
        except problem.RejectedInputError:
            return False
        if raw.unassigned:
            return False
        self.routes[van_id] = raw.routes[0]
        return True

    def _reason(self, job_id: int) -> str:
        indexed, matrix = self._problem(list(self.vans), [job_id])
        job, index = indexed.jobs[0]
        return diagnose.reason(job, index, indexed, matrix)

    def _late(self, routes: Iterable[PlannedRoute]) -> Iterable[Late]:
        for route in routes:
            for stop in route.stops:
                start, end = self._hard(stop.job_id)
                if not start <= stop.arrival <= end:
                    yield Late(stop.job_id, (start, end), stop.arrival)

    def _empty(self, van_id: int) -> PlannedRoute:
        leave = self.vans[van_id].shift_start
        return PlannedRoute(van_id, (), leave, leave, 0, 0)

    def _vroom(
        self,
        van_ids: Sequence[int],
        job_ids: Sequence[int],
        seeds: Seeds | None = None,
        *,
        check: bool = False,
    ) -> problem.RawSolution:
        indexed, matrix = self._problem(van_ids, job_ids)
        if check:
            return problem.check_seeded(indexed, matrix, self.epoch, seeds or {})
        keep = {job_id for job_id in job_ids if job_id not in self.work.changed}
        return problem.solve_seeded(
            indexed, matrix, self.epoch, seeds or {}, exploration=EXPLORATION, threads=self.threads, keep=keep
        )

    def _problem(self, van_ids: Sequence[int], job_ids: Sequence[int]) -> tuple[problem.Indexed, Matrix]:
        """Just these vans and jobs, on the part of the day's matrix they use."""
        local: dict[int, int] = {}

        def row(point: LatLon) -> int:
            return local.setdefault(self.rows[point], len(local))

        vans = [self.vans[van_id] for van_id in van_ids]
        jobs = [self._job(job_id) for job_id in job_ids]
        indexed = problem.Indexed(
            vehicles=[(van, row(van.start), row(van.end)) for van in vans],
            jobs=[(job, row(job.location)) for job in jobs],
        )
        keep = np.fromiter(local, np.intp, len(local))
        cut = np.ix_(keep, keep)
        return indexed, Matrix(self.matrix.durations[cut], self.matrix.distances[cut])
