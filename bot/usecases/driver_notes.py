"""Telling a driver that one of their stops changed (instructions, access code) the moment it does.

The note carries a "Got it" button (bot/notify/buttons.py); the press is recorded per delivery
(bot/usecases/driver_chat.py), so support sees that the driver read it. A note still not confirmed
when the van comes near goes once more (`again`, from the scheduler: scheduler/notes_due.py).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery
from bot.domain.messages import NewMessage
from bot.notify.compose import Composer, driver
from bot.notify.kinds import Kind
from bot.notify.render import ChangedStop, StopChange
from bot.services import Services
from bot.store import fleet, outbox, plans
from bot.usecases.day import Day


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
    window = services.composer.window(to, stop.promised_start, stop.promised_end)
    changed = _changed(delivery, stop.sequence, window, [change, *also], instructions, access_code)
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


def again(
    composer: Composer, day: Day, driver_id: int, delivery_id: int, *, key: str, now: datetime
) -> NewMessage:
    """The stop once more, as it stands now, for a driver who has not pressed "Got it" on its note."""
    stop = day.stop_of(delivery_id)
    assert stop is not None, "only a stop on a route is noted again"
    person = day.drivers[driver_id]
    to = driver(person, day.depots[person.depot_id].timezone)
    delivery = day.deliveries[delivery_id]
    window = composer.window(to, stop.promised_start, stop.promised_end)
    changed = _changed(delivery, stop.sequence, window, ["again"], delivery.safe_drop or "")
    return composer.message(
        to,
        Kind.DRIVER_NOTES,
        {"stops": [changed]},
        key=key,
        order_id=f"R{day.plan.id}-{person.id}",
        due_at=now,
        delivery_id=delivery_id,
        about=[delivery_id],
    )


def _changed(
    delivery: Delivery,
    seq: int,
    window: str,
    marks: list[StopChange],
    instructions: str,
    access_code: str = "",
) -> ChangedStop:
    return ChangedStop(
        delivery_id=delivery.id,
        seq=seq,
        name=delivery.name,
        address=delivery.address,
        window=window,
        notes=delivery.notes,
        instructions=instructions,
        access_code=access_code or delivery.access_code or "",
        changed=marks,
    )
