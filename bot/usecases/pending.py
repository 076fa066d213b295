"""New deliveries on a day that is already planned: one incremental re-plan per burst.

An import of thirty late orders, a re-imported address, a parcel moved in from another day: each
leaves a delivery on the day but on no route. The scheduler tick asks here; once no new one has
come for `replan_quiet_seconds` (or the first has waited `replan_max_wait_seconds`), they all go
into one re-plan, the way a reschedule does: everybody else keeps their van and their promise.
Vans that have left the depot cannot take them (eta.model.AT_DEPOT); a delivery no van
can serve is reported to support and not retried until it changes again.
"""

import time
from datetime import date, datetime, timedelta

from bot.services import Services
from bot.store import plans
from bot.usecases.day import day_state, load_day
from bot.usecases.learning import retimed_replan, zones
from bot.usecases.replanning import Revision, apply_replan
from bot.usecases.specs import job_spec
from eta.replan import replan


def settled(pending: plans.Pending, now: datetime, quiet: timedelta, max_wait: timedelta) -> bool:
    """Whether the burst is over (nothing new for `quiet`) or has waited long enough (`max_wait`)."""
    return now - pending.last_change >= quiet or now - pending.first_change >= max_wait


async def take_in_pending(services: Services, day: date) -> Revision | None:
    """Place the day's deliveries that are on no route yet, if their burst has settled."""
    settings = services.settings
    quiet = timedelta(seconds=settings.eta.replan_quiet_seconds)
    max_wait = timedelta(seconds=settings.eta.replan_max_wait_seconds)
    async with services.store.tx() as conn:
        now = services.clock.now()
        header = await plans.active(conn, day)
        found = await plans.pending(conn, header.id) if header else None
        if header is None or found is None or not settled(found, now, quiet, max_wait):
            return None
        started = time.perf_counter()
        loaded = await load_day(conn, day)
        assert loaded is not None  # the active plan was read in this same transaction
        loaded = await services.learner().attach(conn, loaded, now)
        changed = {d: job_spec(loaded.deliveries[d], loaded.learned) for d in found.delivery_ids}
        state = day_state(loaded, now, changed)
        result = await replan(
            state,
            services.day_matrix(day),
            now=now,
            changed=frozenset(changed),
            threads=settings.eta.threads,
        )
        result = await retimed_replan(result, state, zones(loaded), services.day_matrix(day), loaded.learned)
        revision = await apply_replan(
            conn,
            loaded,
            result,
            now,
            settings,
            services.composer,
            changed=frozenset(changed),
            trigger="new-deliveries",
            started=started,
        )
        await plans.mark_pending_checked(conn, header.id, now)
        return revision
