"""APScheduler set-up: one interval tick; the database, not APScheduler's job store, knows what is due.

APScheduler 3 drops a run that starts more than `misfire_grace_time` late (default 1 s) and
forgets date-triggered jobs before they finish, so it only keeps time here: every tick asks the
database again, and a restart loses nothing.
"""

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from scheduler.jobs import tick

TICK_JOB = "tick"


def build_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    scheduler.add_job(
        tick,
        "interval",
        seconds=services.settings.scheduler.tick_seconds,
        args=[services],
        id=TICK_JOB,
        replace_existing=True,
        next_run_time=services.clock.now(),
    )
    return scheduler
