"""Why VROOM left a job unassigned, in words an operator can act on."""

from collections.abc import Sequence

from eta.matrix import Matrix
from eta.model import AT_DEPOT, JobSpec, VehicleSpec
from eta.problem import Indexed

# Every van that could serve it is full or out of time: the only reason a limit on a van's stops can cause.
NO_ROOM = (
    "no room left: every driver who could serve it is full or out of time (add a driver or widen windows)"
)


def reason(job: JobSpec, index: int, problem: Indexed, matrix: Matrix) -> str:
    """The first rule the job breaks for every van, from the plainest to the subtlest."""
    vans = problem.vehicles
    if not vans:
        return "no active driver on this day"
    biggest = max(van.capacity for van, _, _ in vans)
    if job.size > biggest:
        return f"size {job.size} is larger than the largest vehicle capacity ({biggest})"
    skilled = [(van, s, e) for van, s, e in vans if job.skills <= van.skills and job.size <= van.capacity]
    if not skilled:
        if AT_DEPOT in job.skills and all(AT_DEPOT not in van.skills for van, _, _ in vans):
            return "it is still at the depot and every van has left (send one back or move it to another day)"
        named = sorted(skill for skill in job.skills if not skill.startswith("eta:"))
        return f"needs skills {', '.join(named)}; no vehicle that can carry it has them"
    if not any(_reachable(job, index, van, s, e, matrix) for van, s, e in skilled):
        return (
            f"its window {job.window_start:%H:%M}-{job.window_end:%H:%M} UTC cannot be reached and left "
            "within any suitable driver's shift"
        )
    return NO_ROOM


def _reachable(job: JobSpec, index: int, van: VehicleSpec, start: int, end: int, matrix: Matrix) -> bool:
    there = int(matrix.durations[start, index])
    back = int(matrix.durations[index, end])
    begin = max(van.shift_start.timestamp() + there, job.window_start.timestamp())
    return begin <= job.window_end.timestamp() and begin + job.service_s + back <= van.shift_end.timestamp()


def reasons(unassigned: Sequence[int], problem: Indexed, matrix: Matrix) -> dict[int, str]:
    by_id = {job.id: (job, index) for job, index in problem.jobs}
    return {job_id: reason(*by_id[job_id], problem, matrix) for job_id in unassigned}
