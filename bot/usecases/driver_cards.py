"""What a driver's chat shows: the day's route (with "Start route" until it starts), and a card for the
next stop with its buttons.

The card goes out when the route starts, after each delivered or failed stop, and when a chat is
linked or asks for its route (`/route`); always through the outbox, in the transaction of the change
that calls for it.
"""

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery, Status
from bot.domain.messages import NewMessage
from bot.notify import buttons
from bot.notify.compose import Composer, To, driver
from bot.notify.kinds import Kind
from bot.notify.render import RouteStop
from bot.store import deliveries as delivery_store
from bot.store import driver_routes, fleet, outbox
from bot.store.driver_routes import DriverStop
from bot.usecases.day import FINISHED, ON_BOARD, Day, load_day
from bot.usecases.errors import NotFoundError


def not_started(statuses: Iterable[Status]) -> bool:
    """Whether a route can still start: parcels wait at the depot and none has left it yet."""
    seen = set(statuses)
    return Status.PLANNED in seen and not seen & (ON_BOARD | FINISHED)


def route_message(composer: Composer, day: Day, driver_id: int, *, key: str, now: datetime) -> NewMessage:
    """The driver's remaining stops of the day, in order, with windows, notes and access codes."""
    person = day.drivers[driver_id]
    to = driver(person, day.depots[person.depot_id].timezone)
    stops = [
        route_stop(
            composer, to, day.deliveries[s.delivery_id], s.sequence, (s.promised_start, s.promised_end)
        )
        for s in day.remaining(day.routes[driver_id])
    ]
    fields = {"day": composer.day(to, day.plan.date), "stops": stops}
    statuses = (day.deliveries[s.delivery_id].status for s in day.routes[driver_id].stops)
    keyboard = buttons.start_route(day.plan.id, to.locale) if not_started(statuses) else []
    order_id = f"R{day.plan.id}-{driver_id}"
    return composer.message(
        to, Kind.DRIVER_ROUTE, fields, key=key, order_id=order_id, due_at=now, keyboard=keyboard
    )


def route_stop(
    composer: Composer, to: To, delivery: Delivery, seq: int, window: tuple[datetime, datetime]
) -> RouteStop:
    """A stop as the driver reads it: the shipper's notes, the recipient's instructions, the access code."""
    return RouteStop(
        seq=seq,
        window=composer.window(to, *window),
        name=delivery.name,
        address=delivery.address,
        notes=delivery.notes,
        instructions=delivery.safe_drop or "",
        access_code=delivery.access_code or "",
    )


async def send_today(
    conn: AsyncConnection, composer: Composer, driver_id: int, now: datetime, *, asked: str, card_again: bool
) -> bool:
    """Today's route and the next stop's card, asked for (linking, `/route`); False: no stops left today.

    `asked` (unique per request) keys the route message, so it goes out again whatever went before;
    `card_again`: the card too, else only if this chat has not had it."""
    day = await load_day(conn, await today(conn, driver_id, now))
    route = day.routes.get(driver_id) if day else None
    if day is None or route is None or not day.remaining(route):
        return False
    key = f"route:{day.plan.id}:{driver_id}:{asked}"
    await outbox.enqueue(conn, [route_message(composer, day, driver_id, key=key, now=now)], now)
    again = asked if card_again else ""
    await queue_next_stop(conn, composer, day.plan.id, driver_id, now, again=again)
    return True


async def current_stop(conn: AsyncConnection, plan_id: int, driver_id: int) -> DriverStop | None:
    """The driver's first unfinished stop in the plan (None: all done, or no route)."""
    return next(
        (s for s in await driver_routes.stops_of(conn, plan_id, driver_id) if s.status not in FINISHED), None
    )


async def queue_next_stop(
    conn: AsyncConnection, composer: Composer, plan_id: int, driver_id: int, now: datetime, *, again: str = ""
) -> bool:
    """Queue the card of the driver's next unfinished stop; False: none left.

    Once per stop, plan revision and chat: a chat linked before the route starts has the card already,
    one linked after gets it (its copy before went to the sandbox address). `again` (a request's own
    key) sends it once more."""
    stops = await driver_routes.stops_of(conn, plan_id, driver_id)
    upcoming = next((s for s in stops if s.status not in FINISHED), None)
    person = await fleet.get_driver(conn, driver_id)
    depot = await fleet.get_depot(conn, person.depot_id) if person else None
    delivery = await delivery_store.get(conn, upcoming.delivery_id) if upcoming else None
    if upcoming is None or person is None or depot is None or delivery is None:
        return False
    to = driver(person, depot.timezone)
    stop = route_stop(
        composer, to, delivery, upcoming.sequence, (upcoming.promised_start, upcoming.promised_end)
    )
    revision = await driver_routes.revision(conn, plan_id)
    card = composer.message(
        to,
        Kind.DRIVER_STOP,
        {"stop": stop, "total": len(stops)},
        key=f"stop:{plan_id}:{revision}:{delivery.id}:{to.address}" + (f":{again}" if again else ""),
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
