"""What a recipient, or support staff on their behalf, can do to a delivery: one module per verb.

Every surface calls these: the SMS and Telegram conversation (bot/usecases/respond.py), the console
(bot/usecases/support.py), and the recipient's page to come. A verb takes the unit of work (`Work`:
the open transaction, the delivery and its promise, now, and who acts) and what was asked; it
changes the state, leaves its event with the actor, and tells the driver or support where that is
part of the change. It returns what happened, or `Refused` with the reason. What to say back, and
how, is the surface's.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery
from bot.domain.promises import Promise
from bot.services import Services
from bot.store import events, promises
from bot.usecases import rescheduling

RECIPIENT = "recipient"


@dataclass
class Work:
    """One verb's unit of work. `actor`: "recipient", or "staff:<username>" acting for them."""

    services: Services
    conn: AsyncConnection
    now: datetime
    delivery: Delivery
    promise: Promise | None
    actor: str = RECIPIENT


async def work(services: Services, conn: AsyncConnection, delivery: Delivery, actor: str = RECIPIENT) -> Work:
    """The unit of work for `delivery` in the open transaction `conn`, with its current promise."""
    promise = (await promises.current(conn, [delivery.id])).get(delivery.id)
    return Work(services, conn, services.clock.now(), delivery, promise, actor)


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing changed. `reason` is a key of bot.notify.phrases.REFUSAL ("done", "closed", "cutoff",
    "not_delivered", "no_slots", "taken")."""

    reason: str


def unchangeable(work: Work) -> Refused | None:
    """Why the delivery may not be changed now (delivered, closed, too close to its window), or None."""
    why = rescheduling.refusal(work.delivery, work.promise, work.now, work.services.settings)
    return Refused(why) if why is not None else None


async def log(work: Work, kind: str, data: dict[str, Any] | None = None) -> None:
    """The verb's event on the delivery's timeline, with who acted."""
    await events.append(
        work.conn, work.now, kind, actor=work.actor, delivery_id=work.delivery.id, data=data or {}
    )
