"""The VROOM boundary: the only module that imports vroom.

Our vans and jobs become a VROOM problem in relative seconds; the solution comes back as
frozen dataclasses at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from eta.matrix import Matrix
from eta.model import JobSpec, PlannedRoute, PlannedStop, VehicleSpec

if TYPE_CHECKING:
    import vroom


@dataclass(frozen=True)
class Indexed:
    """Vans and jobs with their row in the matrix."""

    vehicles: Sequence[tuple[VehicleSpec, int, int]]  # (van, start index, end index)
    jobs: Sequence[tuple[JobSpec, int]]


@dataclass(frozen=True)
class RawSolution:
    routes: tuple[PlannedRoute, ...]
    unassigned: tuple[int, ...]
    cost: int


# VROOM counts whole seconds: an instant goes in floored (an epoch) or ceiled (a van leaving now).
SECOND = timedelta(seconds=1)


class SkillCodes:
    """VROOM skills are integers; ours are names."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def __call__(self, names: frozenset[str]) -> set[int]:
        return {self._codes.setdefault(name, len(self._codes) + 1) for name in names}


class RejectedInputError(ValueError):
    """VROOM refused the problem as given, e.g. a seeded route that breaks a hard window."""


def build(problem: Indexed, matrix: Matrix, epoch: datetime, *, max_tasks: int | None = None) -> vroom.Input:
    """A VROOM Input on `matrix`, every time in seconds after `epoch` (on a whole second: exact);
    `max_tasks`: the most stops any van may take."""
    return build_seeded(problem, matrix, epoch, {}, max_tasks=max_tasks)


def build_seeded(
    problem: Indexed,
    matrix: Matrix,
    epoch: datetime,
    seeds: Mapping[int, Sequence[int]],
    *,
    pinned: bool = False,
    keep: Set[int] = frozenset(),
    max_tasks: int | None = None,
) -> vroom.Input:
    """`build`, with `seeds[van id]` (job ids in order) as that van's current route.

    Jobs in `keep` outrank the others (VROOM priority), so no solve drops one of them to fit
    another; `pinned` (for plan mode) makes no van leave before its window and no job start early.
    """
    import vroom  # noqa: PLC0415 - loads vroom and pandas on the first solve, not on every start

    skills = SkillCodes()

    def seconds(moment: datetime) -> int:
        return max(0, int((moment - epoch).total_seconds()))

    opens = {job.id: seconds(job.window_start) for job, _ in problem.jobs} if pinned else None

    def steps(van: VehicleSpec) -> list[vroom.VehicleStep]:
        return _steps(seeds.get(van.id, ()), seconds(van.shift_start), opens)

    instance = vroom.Input()
    instance.set_durations_matrix(profile="car", matrix_input=matrix.durations)
    instance.set_distances_matrix(profile="car", matrix_input=matrix.distances)
    for van, start, end in problem.vehicles:
        window = vroom.TimeWindow(seconds(van.shift_start), seconds(van.shift_end))
        instance.add_vehicle(
            vroom.Vehicle(
                van.id,
                start=start,
                end=end,
                capacity=[van.capacity],
                skills=skills(van.skills),
                time_window=window,
                speed_factor=van.speed_factor,
                steps=steps(van),
                **({} if max_tasks is None else {"max_tasks": max_tasks}),
            )
        )
    for job, index in problem.jobs:
        window = vroom.TimeWindow(seconds(job.window_start), seconds(job.window_end))
        instance.add_job(
            vroom.Job(
                job.id,
                location=index,
                default_service=job.service_s,
                delivery=[job.size],
                skills=skills(job.skills),
                time_windows=[window],
                priority=100 if job.id in keep else 0,
            )
        )
    return instance


def solve(
    problem: Indexed,
    matrix: Matrix,
    epoch: datetime,
    *,
    exploration: int,
    threads: int,
    max_tasks: int | None = None,
) -> RawSolution:
    """Blocking: run it in a worker thread."""
    instance = build(problem, matrix, epoch, max_tasks=max_tasks)
    return _read(instance.solve(exploration_level=exploration, nb_threads=threads), problem, epoch)


def _steps(order: Sequence[int], leave: int, opens: Mapping[int, int] | None) -> list[vroom.VehicleStep]:
    import vroom  # noqa: PLC0415 - loads vroom and pandas on the first solve, not on every start

    if opens is None:
        return [vroom.VehicleStep("single", job_id) for job_id in order]
    # Plan mode treats every time window as soft: to save a later delay it starts the van before
    # its window or serves a job early. A forced `service_after` is honoured as a hard bound.
    start = vroom.VehicleStep("start", service_after=leave)
    return [start, *(vroom.VehicleStep("single", job_id, service_after=opens[job_id]) for job_id in order)]


def solve_seeded(
    problem: Indexed,
    matrix: Matrix,
    epoch: datetime,
    seeds: Mapping[int, Sequence[int]],
    *,
    exploration: int,
    threads: int,
    keep: Set[int] = frozenset(),
) -> RawSolution:
    import vroom  # noqa: PLC0415 - loads vroom and pandas on the first solve, not on every start

    """Blocking: seeds are the starting routes; an infeasible seed raises RejectedInputError."""
    instance = build_seeded(problem, matrix, epoch, seeds, keep=keep)
    try:
        solution = instance.solve(exploration_level=exploration, nb_threads=threads)
    # pyvroom exports its exceptions only from the compiled module.
    except vroom._vroom.VroomInputException as error:
        raise RejectedInputError(str(error)) from error
    return _read(solution, problem, epoch)


def check_seeded(
    problem: Indexed, matrix: Matrix, epoch: datetime, seeds: Mapping[int, Sequence[int]]
) -> RawSolution:
    """Blocking: VROOM's plan mode, ETAs for the seeded orders as given; unseeded jobs come back unassigned.

    Plan mode never refuses: a stop it cannot reach in time comes back late, so compare the
    arrivals with the windows.
    """
    return _read(build_seeded(problem, matrix, epoch, seeds, pinned=True).check(), problem, epoch)


def _read(solution: Any, problem: Indexed, epoch: datetime) -> RawSolution:
    # The structured array behind the public `Solution.routes` frame: the frame costs ~6 ms on a
    # 600-stop answer and `to_dict()` ~36 ms, and `to_dict()` swaps the process-wide sys.stdout.
    steps = solution._routes_numpy()
    ends = [n for n, kind in enumerate(steps["type"]) if kind == b"end"]
    starts = [0, *(n + 1 for n in ends)]
    routes = tuple(_array_route(steps[a : b + 1], epoch) for a, b in zip(starts, ends, strict=False))
    routed = {stop.job_id for route in routes for stop in route.stops}
    unassigned = tuple(job.id for job, _ in problem.jobs if job.id not in routed)
    return RawSolution(routes, unassigned, sum(route.duration_s for route in routes))


def _array_route(steps: Any, epoch: datetime) -> PlannedRoute:
    def at(seconds: int) -> datetime:
        return epoch + timedelta(seconds=int(seconds))

    jobs = steps[steps["type"] == b"job"]
    stops = tuple(
        PlannedStop(int(step["id"]), n, at(step["arrival"] + step["waiting_time"]), int(step["waiting_time"]))
        for n, step in enumerate(jobs, 1)
    )
    return PlannedRoute(
        vehicle_id=int(steps[0]["vehicle_id"]),
        stops=stops,
        start_at=at(steps[0]["arrival"]),
        end_at=at(steps[-1]["arrival"]),
        duration_s=int(steps[-1]["duration"]),
        distance_m=int(steps[-1]["distance"]),
    )
