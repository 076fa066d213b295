"""The times a delivery can move to, and moving it to one of them.

The times offered are the slot grid through the fleet's shifts, each checked against the route by a
re-plan (bot/usecases/rescheduling.py); a time taken is checked once more, against the grid as it is
now and the route as it is now, so a stale offer, a forged button or a made-up time moves nothing.
"""

from dataclasses import dataclass

from bot.domain.intents import Wish
from bot.domain.promises import Promise
from bot.usecases import rescheduling
from bot.usecases.rescheduling import Slot
from bot.usecases.verbs import Refused, Work, unchangeable


@dataclass(frozen=True, slots=True)
class Moved:
    promise: Promise  # the new window, as promised


async def offer(work: Work, wish: Wish | None = None) -> list[Slot] | Refused:
    """At most `messages.max_slots` times the route can honour (that fit `wish`, if given); may be none."""
    if (refused := unchangeable(work)) is not None:
        return refused
    services = work.services
    return await rescheduling.offer(
        work.conn,
        work.delivery,
        work.now,
        services.settings,
        services.day_matrix(work.delivery.date),
        wish=wish,
        learner=services.learner(),
    )


async def move(work: Work, slot: Slot) -> Moved | Refused:
    """Move the delivery to `slot`: re-planned (the driver gets the changed stops), its promise recorded."""
    if (refused := unchangeable(work)) is not None:
        return refused
    services = work.services
    if slot not in await rescheduling.candidates(work.conn, work.delivery, work.now, services.settings):
        return Refused("taken")  # not a time this delivery could be offered now
    promise = await rescheduling.take(
        work.conn,
        work.delivery,
        slot,
        work.now,
        services.settings,
        services.composer,
        services.day_matrix(work.delivery.date),
        actor=work.actor,
        learner=services.learner(),
    )
    if promise is None:
        return Refused("taken")
    work.promise = promise
    return Moved(promise)
