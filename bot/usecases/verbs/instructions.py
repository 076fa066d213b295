"""Where to leave the parcel and the access code to get in: saved, and the driver told at once.

The code is kept for the driver's stop card only: never in an event, a log or a message to anyone else.
"""

from dataclasses import dataclass

from bot.notify.render import StopChange
from bot.store import deliveries as delivery_store
from bot.usecases import driver_notes
from bot.usecases.verbs import Refused, Work, log, unchangeable

MAX_PLACE = 500  # characters


@dataclass(frozen=True, slots=True)
class Instructed:
    place: str  # as saved ("" when only a code was given)
    driver_noted: bool  # False: the stop is on no route yet (the driver sees it on the stop card later)


async def instruct(
    work: Work, place: str = "", code: str = "", *, standing: bool = False
) -> Instructed | Refused:
    """Save a place to leave it (for every later delivery too, if `standing`) and/or an access code.

    ValueError when neither is given; a place longer than `MAX_PLACE` is cut there.
    """
    place = place.strip()[:MAX_PLACE]
    if not place and not code:
        raise ValueError("instruct needs a place, a code, or both")
    if (refused := unchangeable(work)) is not None:
        return refused
    delivery = work.delivery
    values = ({"safe_drop": place} if place else {}) | ({"access_code": code} if code else {})
    await delivery_store.update(work.conn, delivery.id, values, work.now)
    if standing and place:
        await delivery_store.set_standing_safe_drop(work.conn, delivery.recipient_id, place, work.now)
    if place:
        await log(work, "delivery.instructions", {"standing": standing, "access_code": bool(code)})
    else:
        await log(work, "delivery.access_code")  # the code itself is never logged
    changed: list[StopChange] = ["instructions"] if place else []
    changed += ["access_code"] if code else []
    noted = await driver_notes.stop_changed(
        work.conn,
        work.services,
        delivery,
        changed[0],
        place or delivery.safe_drop or "",
        work.now,
        access_code=code,
        also=changed[1:],
    )
    return Instructed(place, noted)
