"""Telling a driver that one of their stops changed (instructions, access code) the moment it does.

The note carries a "Got it" button (bot/notify/buttons.py); the press is recorded per delivery
(bot/usecases/driver_chat.py), so support sees that the driver read it.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery
from bot.notify.compose import driver
from bot.notify.kinds import Kind
from bot.notify.render import ChangedStop, StopChange
from bot.services import Services
from bot.store import fleet, outbox, plans


async def stop_changed(
    conn: AsyncConnection,
    services: Services,
    delivery: Delivery,
    change: StopChange,
    instructions: str,
    now: datetime,
    *,
    access_code: str = "",
    also: Sequence[StopChange] = (),
) -> bool:
    """Queue a driver note for this stop if it is on a route of the active plan; False if it is not."""
    header = await plans.active(conn, delivery.date)
    stop = await plans.active_stop(conn, delivery.id) if header else None
    driver_id = await plans.driver_of(conn, header.id, delivery.id) if header and stop else None
    if header is None or stop is None or driver_id is None:
        return False
    person = await fleet.get_driver(conn, driver_id)
    depot = await fleet.get_depot(conn, person.depot_id) if person else None
    if person is None or depot is None:
        return False
    to = driver(person, depot.timezone)
    changed = ChangedStop(
        delivery_id=delivery.id,
        seq=stop.sequence,
        name=delivery.name,
        address=delivery.address,
        window=services.composer.window(to, stop.promised_start, stop.promised_end),
        instructions=instructions,
        access_code=access_code or delivery.access_code or "",
        changed=[change, *also],
    )
    message = services.composer.message(
        to,
        Kind.DRIVER_NOTES,
        {"stops": [changed]},
        key=f"note:{delivery.id}:{change}:{now.timestamp()}",
        order_id=f"R{header.id}-{person.id}",
        due_at=now,
        about=[delivery.id],
    )
    await outbox.enqueue(conn, [message], now)
    return True
