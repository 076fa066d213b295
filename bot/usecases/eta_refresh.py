"""After a driver event: fresh ETAs for the rest of that van's route, in its current order.

Plan-mode timing (VROOM `check`), no re-ordering. A stop that now misses its promise gets a new
one and its recipient one message, through the same path as a re-plan.
"""

import time
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import Services
from bot.usecases.day import day_state, load_day
from bot.usecases.learning import retimed_replan, zones
from bot.usecases.replanning import Revision, apply_replan
from eta.model import Replan
from eta.replan import refresh_etas


async def refresh_route(
    conn: AsyncConnection,
    services: Services,
    delivery_date: date,
    driver_id: int,
    now: datetime,
    *,
    trigger: str,
    started: float | None = None,
) -> Revision | None:
    """Re-time `driver_id`'s remaining stops from where the van is now; None if it has nothing left."""
    started = started if started is not None else time.perf_counter()
    day = await load_day(conn, delivery_date)
    if day is None or driver_id not in day.routes:
        return None
    day = await services.learner().attach(conn, day, now)
    state = day_state(day, now)
    van = next((v for v in state.vans if v.vehicle.id == driver_id), None)
    if van is None or not van.order:
        return None
    jobs = [job for job in state.jobs if job.id in set(van.order)]
    promised = {job_id: state.promised[job_id] for job_id in van.order if job_id in state.promised}
    matrix = services.day_matrix(day.plan.date)
    route = await refresh_etas(van.vehicle, van.order, jobs, matrix, now, promised=promised)
    result = Replan(
        routes=(route,),
        late=route.late,
        unserved=(),
        cost=route.duration_s,
        solve_ms=round((time.perf_counter() - started) * 1000),
    )
    result = await retimed_replan(result, state, zones(day), matrix, day.learned)
    return await apply_replan(
        conn, day, result, now, services.settings, services.composer, trigger=trigger, started=started
    )
