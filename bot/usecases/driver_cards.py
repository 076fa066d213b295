"""What a driver's chat shows: the day's route, and a card for the next stop with its buttons.

The card goes out when the route starts, after each delivered or failed stop, and when a chat is
linked; always through the outbox, in the transaction of the change that calls for it.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.notify.compose import Composer, driver
from bot.notify.kinds import Kind
from bot.notify.render import RouteStop
from bot.store import deliveries as delivery_store
from bot.store import driver_routes, fleet, outbox
from bot.store.outbox import NewMessage
from bot.usecases.day import FINISHED, Day
from bot.usecases.errors import NotFoundError


def route_message(composer: Composer, day: Day, driver_id: int, *, key: str, now: datetime) -> NewMessage:
    """The driver's remaining stops of the day, in order, with windows, notes and access codes."""
    person = day.drivers[driver_id]
    to = driver(person, day.depots[person.depot_id].timezone)
    stops = [
        RouteStop(
            seq=s.sequence,
            window=composer.window(to, s.promised_start, s.promised_end),
            name=s.name,
            address=s.address,
            instructions=day.deliveries[s.delivery_id].safe_drop or "",
            access_code=day.deliveries[s.delivery_id].access_code or "",
        )
        for s in day.remaining(day.routes[driver_id])
    ]
    fields = {"day": composer.day(to, day.plan.date), "stops": stops}
    return composer.message(
        to, Kind.DRIVER_ROUTE, fields, key=key, order_id=f"R{day.plan.id}-{driver_id}", due_at=now
    )


async def queue_next_stop(
    conn: AsyncConnection, composer: Composer, plan_id: int, driver_id: int, now: datetime
) -> bool:
    """Queue the card of the driver's next unfinished stop; False: none left.

    Once per stop, plan revision and chat: a chat linked before the route starts has the card already,
    one linked after gets it (its copy before went to the sandbox address)."""
    stops = await driver_routes.stops_of(conn, plan_id, driver_id)
    upcoming = next((s for s in stops if s.status not in FINISHED), None)
    person = await fleet.get_driver(conn, driver_id)
    depot = await fleet.get_depot(conn, person.depot_id) if person else None
    delivery = await delivery_store.get(conn, upcoming.delivery_id) if upcoming else None
    if upcoming is None or person is None or depot is None or delivery is None:
        return False
    to = driver(person, depot.timezone)
    stop = RouteStop(
        seq=upcoming.sequence,
        window=composer.window(to, upcoming.promised_start, upcoming.promised_end),
        name=delivery.name,
        address=delivery.address,
        instructions=delivery.safe_drop or "",
        access_code=delivery.access_code or "",
    )
    revision = await driver_routes.revision(conn, plan_id)
    card = composer.message(
        to,
        Kind.DRIVER_STOP,
        {"stop": stop, "total": len(stops)},
        key=f"stop:{plan_id}:{revision}:{delivery.id}:{to.address}",
        order_id=f"R{plan_id}-{driver_id}",
        due_at=now,
        delivery_id=delivery.id,
    )
    await outbox.enqueue(conn, [card], now)
    return True


async def today(conn: AsyncConnection, driver_id: int, now: datetime) -> date:
    """The delivery day it is now where the driver's depot is."""
    person = await fleet.get_driver(conn, driver_id)
    if person is None:
        raise NotFoundError(f"no driver with id {driver_id}", field="driver_id")
    depot = await fleet.get_depot(conn, person.depot_id)
    return now.astimezone(ZoneInfo(depot.timezone)).date() if depot else now.date()
