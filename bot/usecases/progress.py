"""What happens at the door and on the road: route start, stop events, cancellations, positions.

Each event moves the delivery along its state machine, appends an event, tells the recipient what
they need to know (delivered, failed with new times) and refreshes the ETAs of the rest of the route.
"""

from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels import registry
from bot.domain.deliveries import (
    Delivery,
    FailReason,
    Status,
    StopEvent,
    TransitionError,
    check_transition,
)
from bot.domain.escalations import Reason
from bot.notify import catalog, phrases
from bot.notify import format as fmt
from bot.notify.compose import pick_contact, recipient
from bot.notify.kinds import Kind
from bot.services import Services
from bot.store import contacts, conversations, escalations, events, fleet, outbox, plans
from bot.store import deliveries as delivery_store
from bot.usecases import driver_cards, rescheduling
from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError
from bot.usecases.eta_refresh import refresh_route

# StopEvent and FailReason live in the domain (buttons carry them too); they are this module's API as well.
__all__ = [
    "FailReason",
    "StopEvent",
    "cancel_delivery",
    "record_stop_event",
    "start",
    "start_route",
    "stop_event",
    "update_position",
]

POSITION_REFRESH = timedelta(minutes=2)  # positions come every few seconds; ETAs need not
PHOTO_WAIT = timedelta(minutes=2)  # a delivered notice on Telegram waits this long for the driver's photo
NEXT_CARD = frozenset({StopEvent.DELIVERED, StopEvent.FAILED})  # the driver moves on: their next stop's card


async def record_stop_event(
    services: Services,
    delivery_id: int,
    event: StopEvent,
    *,
    reason: FailReason | None = None,
    note: str = "",
    actor: str,
) -> Status:
    """Move a delivery along its state machine (arrived, delivered, failed...), tell whom it concerns."""
    started = perf_counter()
    async with services.store.tx() as conn:
        await stop_event(
            conn, services, delivery_id, event, reason=reason, note=note, actor=actor, started=started
        )
    return Status(event.value)


async def stop_event(
    conn: AsyncConnection,
    services: Services,
    delivery_id: int,
    event: StopEvent,
    *,
    reason: FailReason | None = None,
    note: str = "",
    actor: str,
    started: float,
    photo_may_follow: bool = False,
) -> Delivery:
    """`record_stop_event` in the caller's transaction (a driver's press checks their route in it first).

    `photo_may_follow`: the driver is asked for a photo, so a Telegram "delivered" notice waits for it
    a little (PHOTO_WAIT) and goes out with it (bot/usecases/driver_chat.py attaches it).
    """
    if event is StopEvent.FAILED and reason is None:
        raise UseCaseError("a failed stop needs a reason", field="reason")
    if event is not StopEvent.FAILED and reason is not None:
        raise UseCaseError(f"a reason is only taken for failed stops, not {event}", field="reason")
    data: dict[str, str] = {"note": note} if note else {}
    if reason is not None:
        data["reason"] = reason.value
    now = services.clock.now()
    delivery = await _move(conn, now, delivery_id, Status(event.value), f"delivery.{event}", actor, data)
    hold = PHOTO_WAIT if photo_may_follow else timedelta(0)
    await _tell(conn, services, delivery, event, reason, now, hold=hold)
    await _refresh(conn, services, delivery, event, now, started)
    return delivery


async def start_route(services: Services, driver_id: int, *, actor: str) -> int:
    """The van leaves the depot: its planned parcels for today are out for delivery, and the driver
    gets the first stop's card. Returns how many parcels."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        day = await driver_cards.today(conn, driver_id, now)
        header = await plans.active(conn, day)
        if header is None:
            raise ConflictError(f"no plan for {day}: nothing to load", field="driver_id")
        return await start(conn, services, header.id, driver_id, actor=actor)


async def start(
    conn: AsyncConnection, services: Services, plan_id: int, driver_id: int, *, actor: str
) -> int:
    """`start_route` in the caller's transaction, on the plan it found (a driver's press checks it first)."""
    now = services.clock.now()
    loaded = await plans.planned_for_driver(conn, plan_id, driver_id)
    await delivery_store.set_status(conn, loaded, Status.OUT_FOR_DELIVERY, now)
    log: list[dict[str, Any]] = [
        {
            "at": now,
            "kind": "delivery.out_for_delivery",
            "actor": actor,
            "delivery_id": d,
            "driver_id": driver_id,
            "plan_id": None,
            "data": {},
        }
        for d in loaded
    ]
    await events.append_many(conn, log)
    await driver_cards.queue_next_stop(conn, services.composer, plan_id, driver_id, now)
    return len(loaded)


async def cancel_delivery(services: Services, delivery_id: int, *, reason: str, actor: str) -> Status:
    """Take a delivery off the day; refused once the parcel is on its way."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        delivery = await _move(
            conn, now, delivery_id, Status.CANCELLED, "delivery.cancelled", actor, {"reason": reason}
        )
        header = await plans.active(conn, delivery.date)
        if header is not None:
            driver_id = await plans.driver_of(conn, header.id, delivery_id)
            await plans.remove_stops(conn, header.id, [delivery_id])
            if driver_id is not None:  # the rest of that route comes earlier now
                await refresh_route(conn, services, delivery.date, driver_id, now, trigger="cancelled")
    return Status.CANCELLED


async def _move(
    conn: AsyncConnection,
    now: datetime,
    delivery_id: int,
    wanted: Status,
    kind: str,
    actor: str,
    data: dict[str, str],
) -> Delivery:
    delivery = await delivery_store.get(conn, delivery_id)
    if delivery is None:
        raise NotFoundError(f"no delivery with id {delivery_id}", field="delivery_id")
    try:
        check_transition(delivery.status, wanted)
    except TransitionError as exc:
        raise ConflictError(str(exc), field="status") from None
    await delivery_store.set_status(conn, [delivery_id], wanted, now)
    await events.append(conn, now, kind, actor=actor, delivery_id=delivery_id, data=data)
    return delivery


async def _tell(
    conn: AsyncConnection,
    services: Services,
    delivery: Delivery,
    event: StopEvent,
    reason: FailReason | None,
    now: datetime,
    *,
    hold: timedelta = timedelta(0),
) -> None:
    """Delivered: where it is, and a rating question. Failed: why, new times, and support hears of it.

    `hold`: how long a Telegram "delivered" notice waits for the driver's photo (it leaves as soon as
    the photo comes, or when the wait is over)."""
    if event not in {StopEvent.DELIVERED, StopEvent.FAILED}:
        return
    if event is StopEvent.FAILED:
        await escalations.open_one(conn, now, Reason.FAILED, f"failed: {reason}", delivery_id=delivery.id)
    contact = pick_contact(await contacts.for_recipient(conn, delivery.recipient_id))
    if contact is None or delivery.paused:
        return
    to = recipient(delivery, contact)
    composer = services.composer
    if event is StopEvent.DELIVERED:
        place = delivery.safe_drop or catalog.translate(to.locale, phrases.HANDED_OVER)
        fields: dict[str, Any] = {"time": composer.clock(to, now), "place": place}
        ask: dict[str, Any] = {"question": "rating", "delivery_id": delivery.id}
    else:
        offered = await _rebook_slots(conn, services, delivery, now)
        labels = fmt.slots([(s.start, s.end) for s in offered], to.timezone, to.locale, to.channel)
        said = phrases.pick(phrases.FAILED, to.locale)[reason.value if reason else "other"]
        fields = {"reason": said, "slots": labels}
        ask = {
            "question": "slot",
            "delivery_id": delivery.id,
            "slots": [[s.start.isoformat(), s.end.isoformat()] for s in offered],
        }
    kind = Kind.DELIVERED if event is StopEvent.DELIVERED else Kind.FAILED
    waits = kind is Kind.DELIVERED and registry.get(to.channel).rules.photos
    message = composer.message(
        to,
        kind,
        fields,
        key=f"{delivery.id}:{kind.value}:{delivery.date.isoformat()}",  # once per attempt day
        order_id=delivery.order_id,
        due_at=now + hold if waits else now,
        delivery_id=delivery.id,
    )
    await outbox.enqueue(conn, [message], now)
    expires = now + timedelta(hours=24)
    await conversations.remember(conn, contact.channel, contact.address, ask, expires)


async def _rebook_slots(
    conn: AsyncConnection, services: Services, delivery: Delivery, now: datetime
) -> list[rescheduling.Slot]:
    """New times for a failed delivery: the next days (today's route has just failed it)."""
    tomorrow = delivery.date + timedelta(days=1)
    later = [
        s
        for s in await rescheduling.candidates(conn, delivery, now, services.settings)
        if rescheduling.local_date(s, delivery) >= tomorrow
    ]
    return later[: services.settings.messages.max_slots]


async def _refresh(
    conn: AsyncConnection,
    services: Services,
    delivery: Delivery,
    event: StopEvent,
    now: datetime,
    started: float,
) -> None:
    """Fresh ETAs for the rest of the route; once the driver moves on, the next stop's card."""
    header = await plans.active(conn, delivery.date)
    driver_id = await plans.driver_of(conn, header.id, delivery.id) if header else None
    if header is None or driver_id is None:
        return
    await refresh_route(
        conn, services, delivery.date, driver_id, now, trigger="driver-event", started=started
    )
    if event in NEXT_CARD:
        await driver_cards.queue_next_stop(conn, services.composer, header.id, driver_id, now)


async def update_position(services: Services, driver_id: int, lat: float, lon: float, *, actor: str) -> None:
    """Where the van is now; every few minutes it also refreshes the ETAs of the rest of the route."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        driver = await fleet.get_driver(conn, driver_id)
        if driver is None:
            raise NotFoundError(f"no driver with id {driver_id}", field="driver_id")
        await fleet.set_position(conn, driver_id, lat, lon, now)
        await events.append(
            conn, now, "driver.position", actor=actor, driver_id=driver_id, data={"lat": lat, "lon": lon}
        )
        if driver.position_at is None or now - driver.position_at >= POSITION_REFRESH:
            day = await driver_cards.today(conn, driver_id, now)
            await refresh_route(conn, services, day, driver_id, now, trigger="position")
