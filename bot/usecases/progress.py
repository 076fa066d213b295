"""What happens at the door and on the road: stop events, cancellations, driver positions."""

from datetime import datetime
from enum import StrEnum

from bot.clock import Clock
from bot.domain.deliveries import Status, TransitionError, check_transition
from bot.store import deliveries as delivery_store
from bot.store import events, fleet
from bot.store.db import Store
from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError


class StopEvent(StrEnum):
    OUT_FOR_DELIVERY = "out_for_delivery"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


class FailReason(StrEnum):
    NOT_HOME = "not_home"
    REFUSED = "refused"
    ADDRESS_NOT_FOUND = "address_not_found"
    NO_ACCESS = "no_access"
    DAMAGED = "damaged"
    NO_TIME = "no_time"
    OTHER = "other"


async def record_stop_event(
    store: Store,
    clock: Clock,
    delivery_id: int,
    event: StopEvent,
    *,
    reason: FailReason | None = None,
    note: str = "",
    actor: str,
) -> Status:
    """Move a delivery along its state machine (arrived, delivered, failed...) and log it."""
    if event is StopEvent.FAILED and reason is None:
        raise UseCaseError("a failed stop needs a reason", field="reason")
    if event is not StopEvent.FAILED and reason is not None:
        raise UseCaseError(f"a reason is only taken for failed stops, not {event}", field="reason")
    data: dict[str, str] = {"note": note} if note else {}
    if reason is not None:
        data["reason"] = reason.value
    return await _move(store, clock.now(), delivery_id, Status(event.value), f"delivery.{event}", actor, data)


async def cancel_delivery(store: Store, clock: Clock, delivery_id: int, *, reason: str, actor: str) -> Status:
    """Take a delivery off the day; refused once the parcel is on its way."""
    return await _move(
        store, clock.now(), delivery_id, Status.CANCELLED, "delivery.cancelled", actor, {"reason": reason}
    )


async def _move(
    store: Store, now: datetime, delivery_id: int, wanted: Status, kind: str, actor: str, data: dict[str, str]
) -> Status:
    async with store.tx() as conn:
        delivery = await delivery_store.get(conn, delivery_id)
        if delivery is None:
            raise NotFoundError(f"no delivery with id {delivery_id}", field="delivery_id")
        try:
            check_transition(delivery.status, wanted)
        except TransitionError as exc:
            raise ConflictError(str(exc), field="status") from None
        await delivery_store.set_status(conn, [delivery_id], wanted, now)
        await events.append(conn, now, kind, actor=actor, delivery_id=delivery_id, data=data)
        return wanted


async def update_position(
    store: Store, clock: Clock, driver_id: int, lat: float, lon: float, *, actor: str
) -> None:
    """Where the van is now (feeds ETA refreshes once re-planning lands)."""
    now = clock.now()
    async with store.tx() as conn:
        if await fleet.get_driver(conn, driver_id) is None:
            raise NotFoundError(f"no driver with id {driver_id}", field="driver_id")
        await fleet.set_position(conn, driver_id, lat, lon, now)
        await events.append(
            conn, now, "driver.position", actor=actor, driver_id=driver_id, data={"lat": lat, "lon": lon}
        )
