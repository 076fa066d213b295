"""Plan a day: matrix, VROOM solve off the event loop, unassigned jobs explained."""

import asyncio
import math
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from eta import diagnose, problem
from eta.geo import LatLon
from eta.matrix import Matrix, MatrixProvider
from eta.model import JobSpec, Plan, Unserved, VehicleSpec
from eta.windows import floor_to


async def plan_day(
    vehicles: Sequence[VehicleSpec],
    jobs: Sequence[JobSpec],
    matrix_provider: MatrixProvider,
    *,
    exploration: int = 5,
    threads: int = 2,
    spread: float = 0.0,
) -> Plan:
    """The full optimisation (the nightly plan): every job on the best van, or explained.

    `spread` > 0: no van takes more than `spread` x an even share of the stops, so every van carries
    slack for what the day brings (a breakdown on a van with half the day's stops breaks half the
    promises). A job that cannot be served within that limit is planned as without it: the limit never
    leaves a parcel behind."""
    if not jobs:
        return Plan(routes=(), unserved=(), cost=0, solve_ms=0)
    indexed, points = _index(vehicles, jobs)
    matrix = await matrix_provider.table(points)
    if not vehicles:
        unserved = diagnose.reasons([job.id for job in jobs], indexed, matrix)
        return Plan(routes=(), unserved=_unserved(unserved), cost=0, solve_ms=0)
    epoch = _epoch(vehicles, jobs)
    started = time.perf_counter()
    most = math.ceil(spread * len(jobs) / len(vehicles)) if spread else None
    raw = await asyncio.to_thread(_solve, indexed, matrix, epoch, exploration, threads, most)
    unserved = diagnose.reasons(raw.unassigned, indexed, matrix)
    if most is not None and diagnose.NO_ROOM in unserved.values():  # the limit may be why: try without
        loose = await asyncio.to_thread(_solve, indexed, matrix, epoch, exploration, threads, None)
        if len(loose.unassigned) < len(raw.unassigned):
            raw, unserved = loose, diagnose.reasons(loose.unassigned, indexed, matrix)
    solve_ms = round((time.perf_counter() - started) * 1000)
    return Plan(
        routes=tuple(r for r in raw.routes if r.stops),
        unserved=_unserved(unserved),
        cost=raw.cost,
        solve_ms=solve_ms,
    )


def _solve(
    indexed: problem.Indexed,
    matrix: Matrix,
    epoch: datetime,
    exploration: int,
    threads: int,
    max_tasks: int | None,
) -> problem.RawSolution:
    return problem.solve(
        indexed, matrix, epoch, exploration=exploration, threads=threads, max_tasks=max_tasks
    )


def _index(vehicles: Sequence[VehicleSpec], jobs: Sequence[JobSpec]) -> tuple[problem.Indexed, list[LatLon]]:
    """One matrix row per distinct point, shared by vans and jobs at the same place."""
    rows: dict[LatLon, int] = {}

    def row(point: LatLon) -> int:
        return rows.setdefault(point, len(rows))

    indexed = problem.Indexed(
        vehicles=[(van, row(van.start), row(van.end)) for van in vehicles],
        jobs=[(job, row(job.location)) for job in jobs],
    )
    return indexed, list(rows)


def _epoch(vehicles: Sequence[VehicleSpec], jobs: Sequence[JobSpec]) -> datetime:
    earliest = min([van.shift_start for van in vehicles] + [job.window_start for job in jobs])
    return floor_to(earliest, problem.SECOND) - timedelta(hours=1)


def _unserved(reasons: dict[int, str]) -> tuple[Unserved, ...]:
    return tuple(Unserved(job_id, text) for job_id, text in sorted(reasons.items()))
