"""The scheduler's jobs: plain async functions of services (and its clock) that keep the day moving."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.messages import NewMessage
from bot.domain.routes import RouteView
from bot.notify.compose import Composer, To, pick_contact, recipient
from bot.notify.kinds import Kind
from bot.services import Services
from bot.store import contacts, outbox
from bot.usecases import driver_cards
from bot.usecases.day import ON_BOARD, Day, load_day
from bot.usecases.learning import WINDOW_MODEL_AGE
from bot.usecases.pending import take_in_pending
from scheduler.due import Due, StopFacts, due
from scheduler.edits import eta_edits
from scheduler.notes_due import notes_again

DAYS = (-1, 0, 1)  # yesterday's to tomorrow's plans: a delivery day is local, the clock is UTC


async def tick(services: Services) -> int:
    """One scheduler tick: new deliveries onto the plan (when their burst has settled), then the outbox."""
    today = services.clock.now().date()
    for offset in DAYS:
        await take_in_pending(services, today + timedelta(days=offset))
    return await fill_outbox(services)


async def fill_outbox(services: Services) -> int:
    """Queue every time-driven message that is due now, for yesterday's to tomorrow's plans."""
    now = services.clock.now()
    queued = 0
    async with services.store.tx() as conn:
        for day_offset in DAYS:
            day = await load_day(conn, now.date() + timedelta(days=day_offset))
            if day is not None:
                day = await services.learner().attach(conn, day, now, max_age=WINDOW_MODEL_AGE)  # windows
                queued += await _fill_day(conn, services, day, now)
    return queued


async def _fill_day(conn: AsyncConnection, services: Services, day: Day, now: datetime) -> int:
    wanted = [item for route in day.routes.values() for item in _due_on(day, route, now, services)]
    wanted += [item for route in day.routes.values() for item in _route_due(day, route.driver_id, now)]
    known = await outbox.known_keys(conn, [item.key for item in wanted])
    settled = await outbox.settled_keys(conn, [_told_out(i) for i in wanted if i.kind is Kind.NEARBY])
    new: list[NewMessage] = []
    for item in (i for i in wanted if i.key not in known and _in_order(i, settled)):
        message = (
            _route_message(services.composer, day, item, now)
            if item.kind is Kind.DRIVER_ROUTE
            else await _recipient_message(conn, services.composer, day, item, now)
        )
        if message is not None:
            new.append(message)
    new += await eta_edits(conn, services.composer, day, now)
    new += await notes_again(conn, services.composer, day, now)
    return await outbox.enqueue(conn, new, now)


def _told_out(item: Due) -> str:
    """The out-for-delivery key of the same attempt as `item`."""
    return item.key.replace(str(item.kind), str(Kind.OUT_FOR_DELIVERY), 1)


def _in_order(item: Due, settled: set[str]) -> bool:
    """Nearby only once out-for-delivery has gone (or ended unsent), so it can never arrive first."""
    return item.kind is not Kind.NEARBY or _told_out(item) in settled


def _due_on(day: Day, route: RouteView, now: datetime, services: Services) -> list[Due]:
    remaining = day.remaining(route)
    started = len(remaining) < len(route.stops) or any(
        day.deliveries[s.delivery_id].status in ON_BOARD for s in route.stops
    )
    found: list[Due] = []
    for position, stop in enumerate(remaining):
        delivery = day.deliveries[stop.delivery_id]
        promise = day.promises.get(delivery.id)
        facts = StopFacts(
            delivery.id,
            day.plan.date,
            delivery.timezone,
            delivery.status,
            (promise.start, promise.end) if promise else None,
            stop.planned_arrival,
            position if started else None,
            day.plan.created_at,
        )
        found += due(facts, now, services.settings.messages)
    return found


def _route_due(day: Day, driver_id: int, now: datetime) -> list[Due]:
    """Each driver gets the day's route once per plan version, from the evening before."""
    route = day.routes[driver_id]
    if not day.remaining(route) or now < route.start_at - timedelta(hours=14):
        return []
    return [Due(Kind.DRIVER_ROUTE, f"route:{day.plan.id}:{driver_id}", now, None)]


async def _recipient_message(
    conn: AsyncConnection, composer: Composer, day: Day, item: Due, now: datetime
) -> NewMessage | None:
    delivery = day.deliveries[int(item.key.split(":", 1)[0])]
    contact = pick_contact(await contacts.for_recipient(conn, delivery.recipient_id))
    if contact is None or delivery.paused:
        return None
    to = recipient(delivery, contact)
    fields = _fields(composer, to, day, delivery.id, item.kind, now)
    states_window = item.kind in {Kind.PRE_DELIVERY, Kind.OUT_FOR_DELIVERY}
    return composer.message(
        to,
        item.kind,
        fields,
        key=item.key,
        order_id=delivery.order_id,
        due_at=item.due_at,
        delivery_id=delivery.id,
        valid_until=item.valid_until,
        promise=day.promises[delivery.id].version if states_window else None,
    )


def _fields(
    composer: Composer, to: To, day: Day, delivery_id: int, kind: Kind, now: datetime
) -> dict[str, object]:
    delivery, promise = day.deliveries[delivery_id], day.promises[delivery_id]
    stop = day.stop_of(delivery_id)
    assert stop is not None, "time-driven messages are only computed for stops on a route"
    if kind is Kind.PRE_DELIVERY:
        return {
            "day": composer.day(to, promise.start),
            "window": composer.window(to, promise.start, promise.end),
            "track_url": composer.track_url(delivery),
        }
    if kind is Kind.OUT_FOR_DELIVERY:
        width = timedelta(minutes=composer.settings.out_for_delivery_window_minutes)
        start, end = day.narrowed(stop, now, width)
        return {"window": composer.window(to, start, end), "track_url": composer.track_url(delivery)}
    route = day.route_of(delivery_id)
    ahead = [s.delivery_id for s in day.remaining(route)].index(delivery_id) if route else 0
    minutes = max(1, round((stop.planned_arrival - now).total_seconds() / 60))
    return {"minutes": minutes, "stops_away": ahead, "time": composer.clock(to, stop.planned_arrival)}


def _route_message(composer: Composer, day: Day, item: Due, now: datetime) -> NewMessage:
    driver_id = int(item.key.rsplit(":", 1)[1])
    return driver_cards.route_message(composer, day, driver_id, key=item.key, now=now)
