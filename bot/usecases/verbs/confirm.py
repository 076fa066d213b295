"""The recipient says the window suits them."""

from dataclasses import dataclass

from bot.domain.deliveries import OPEN, Status
from bot.store import deliveries as delivery_store
from bot.usecases.verbs import Refused, Work, log


@dataclass(frozen=True, slots=True)
class Confirmed:
    pass


async def confirm(work: Work) -> Confirmed | Refused:
    """Mark the delivery confirmed (again, if it was: the latest confirmation counts)."""
    if work.delivery.status not in OPEN:
        return Refused("done" if work.delivery.status is Status.DELIVERED else "closed")
    await delivery_store.update(work.conn, work.delivery.id, {"confirmed_at": work.now}, work.now)
    await log(work, "delivery.confirmed")
    return Confirmed()
