"""Feasible reschedule slots: only windows a re-plan confirms the route can honour."""

from dataclasses import replace
from datetime import datetime

from eta.matrix import MatrixProvider
from eta.model import DayState, JobSpec, Replan, Window
from eta.replan import replan


def with_window(state: DayState, job: JobSpec, window: Window) -> DayState:
    """The day as if `job` had asked for `window` (its old promise no longer holds).

    When the day already holds the job, its version there (with the skills the day gave it) is moved.
    """
    job = next((j for j in state.jobs if j.id == job.id), job)
    moved = replace(job, window_start=window[0], window_end=window[1])
    jobs = tuple(moved if j.id == job.id else j for j in state.jobs)
    if all(j.id != job.id for j in state.jobs):
        jobs += (moved,)
    promised = {k: v for k, v in state.promised.items() if k != job.id}
    return DayState(state.vans, jobs, promised)


async def trial(
    state: DayState, job: JobSpec, window: Window, matrix: MatrixProvider, now: datetime
) -> Replan:
    """Re-plan the day with `job` in `window`; nothing is stored."""
    return await replan(with_window(state, job, window), matrix, now=now, changed=frozenset({job.id}))


def honours(result: Replan, job_id: int, already_late: frozenset[int] = frozenset()) -> bool:
    """The job is served inside its new window and nobody else is made late by it."""
    late = {item.job_id for item in result.late}
    unserved = {item.job_id for item in result.unserved}
    return job_id not in late | unserved and late <= already_late
