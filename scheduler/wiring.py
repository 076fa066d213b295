"""APScheduler set-up: one interval tick; the database, not APScheduler's job store, knows what is due.

APScheduler 3 drops a run that starts more than `misfire_grace_time` late (default 1 s) and
forgets date-triggered jobs before they finish, so it only keeps time here: every tick asks the
database again, and a restart loses nothing.

A tick that fails does not stop the next one: APScheduler catches whatever a job raises, logs it with
its traceback and keeps the schedule (apscheduler/executors/base.py, `run_coroutine_job`). The tick
catches its errors first, to log one line without the SQL and its parameters, and reports each pass
and failure to its `Loop` (/readyz).
"""

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from bot.supervise import Loop
from scheduler.jobs import tick

TICK_JOB = "tick"


async def supervised_tick(services: Services, loop: Loop | None = None) -> None:
    """One tick that never raises: its pass or its failure goes to `loop`; the next tick comes anyway."""
    try:
        await tick(services)
    except Exception as error:
        if loop is None:
            raise
        loop.failed(error, f"next tick in {services.settings.scheduler.tick_seconds:g} s")
        return
    if loop is not None:
        loop.beat()


def build_scheduler(services: Services, loop: Loop | None = None) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    scheduler.add_job(
        supervised_tick,
        "interval",
        seconds=services.settings.scheduler.tick_seconds,
        args=[services, loop],
        id=TICK_JOB,
        replace_existing=True,
        next_run_time=services.clock.now(),
    )
    return scheduler
