"""The VROOM boundary: the only module that imports vroom.

Our vans and jobs become a VROOM problem in relative seconds; the solution comes back as
frozen dataclasses at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import vroom

from eta.matrix import Matrix
from eta.model import JobSpec, PlannedRoute, PlannedStop, VehicleSpec


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


class SkillCodes:
    """VROOM skills are integers; ours are names."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def __call__(self, names: frozenset[str]) -> set[int]:
        return {self._codes.setdefault(name, len(self._codes) + 1) for name in names}


def build(problem: Indexed, matrix: Matrix, epoch: datetime) -> vroom.Input:
    """A VROOM Input on `matrix`, with every time expressed as seconds after `epoch`."""
    skills = SkillCodes()

    def seconds(moment: datetime) -> int:
        return max(0, int((moment - epoch).total_seconds()))

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
            )
        )
    return instance


def solve(instance: vroom.Input, epoch: datetime, *, exploration: int, threads: int) -> RawSolution:
    """Blocking: run it in a worker thread."""
    result: dict[str, Any] = instance.solve(exploration_level=exploration, nb_threads=threads).to_dict()
    routes = tuple(_route(route, epoch) for route in result["routes"])
    unassigned = tuple(int(job["id"]) for job in result["unassigned"])
    return RawSolution(routes, unassigned, int(result["summary"]["cost"]))


def _route(route: dict[str, Any], epoch: datetime) -> PlannedRoute:
    steps = route["steps"]

    def at(seconds: int) -> datetime:
        return epoch + timedelta(seconds=int(seconds))

    jobs = [step for step in steps if step["type"] == "job"]
    stops = tuple(
        PlannedStop(int(step["id"]), n, at(step["arrival"] + step["waiting_time"]), int(step["waiting_time"]))
        for n, step in enumerate(jobs, 1)
    )
    return PlannedRoute(
        vehicle_id=int(route["vehicle"]),
        stops=stops,
        start_at=at(steps[0]["arrival"]),
        end_at=at(steps[-1]["arrival"]),
        duration_s=int(route["duration"]),
        distance_m=int(route.get("distance", 0)),
    )
