"""What a linked driver does in their chat: "Start route", stop buttons, a photo after a delivery,
"Got it" under a note, live location, `/route`, and free text (kept for dispatch as `driver.message`).

Every press is checked against the database: the chat must be a driver's, the stop on that driver's
route in the active plan, and in a state that takes the event. Otherwise nothing changes and the
handler says the option has expired (or, for a stop whose route has not started, to start it first).
"""

from datetime import datetime, timedelta
from enum import StrEnum
from time import perf_counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import TRANSITIONS, Driver, FailReason, Status, StopEvent
from bot.notify.kinds import Channel, Kind
from bot.services import Services
from bot.store import conversations, driver_routes, events, fleet, inbox, outbox, plans
from bot.store import deliveries as delivery_store
from bot.usecases import driver_cards, progress, proof
from bot.usecases.errors import UseCaseError

CHANNEL = Channel.TELEGRAM.value
PHOTO_WINDOW = timedelta(minutes=10)  # after Delivered, photos from the driver are that stop's proof
ACKNOWLEDGED = "driver.acknowledged"
SAID = "driver.message"
TEXT_LIMIT = 4096  # Telegram's own limit on a message


class Press(StrEnum):
    OK = "ok"
    EXPIRED = "expired"  # not this chat's driver's stop, or its status does not take the event
    NOT_STARTED = "not_started"  # their stop, still at the depot: the route has to start first


class Asked(StrEnum):
    SENT = "sent"
    NO_ROUTE = "no_route"  # no stops left today
    NOT_DRIVER = "not_driver"


class Photo(StrEnum):
    SAVED = "saved"
    NOT_ASKED = "not_asked"  # no delivery in the last minutes to attach it to
    NOT_DRIVER = "not_driver"


class Ack(StrEnum):
    RECORDED = "recorded"
    AGAIN = "again"  # pressed before: nothing new is recorded
    UNKNOWN = "unknown"  # not a note this chat's driver was sent


async def driver_of_chat(services: Services, chat_id: str) -> Driver | None:
    async with services.store.read() as conn:
        return await fleet.driver_by_chat(conn, chat_id)


async def report(
    services: Services,
    inbox_id: int,
    chat_id: str,
    delivery_id: int,
    event: StopEvent,
    reason: FailReason | None = None,
) -> Press:
    """Record a stop event pressed by a driver; anything but OK: nothing changed (not theirs to make)."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        checked = await _check(conn, person, delivery_id, event)
        if (event is StopEvent.FAILED) != (reason is not None):
            checked = Press.EXPIRED
        if person is None or checked is not Press.OK:
            await _refuse(conn, inbox_id, now, f"Stop:{event}", checked)
            return checked
        await progress.stop_event(
            conn,
            services,
            delivery_id,
            event,
            reason=reason,
            actor="driver",
            started=perf_counter(),
            photo_may_follow=event is StopEvent.DELIVERED,
        )
        if event is StopEvent.DELIVERED:
            asked = {"question": "photo", "delivery_id": delivery_id, "driver_id": person.id}
            await conversations.remember(conn, CHANNEL, chat_id, asked, now + PHOTO_WINDOW)
        await inbox.finish(conn, inbox_id, now, delivery_id=delivery_id, intent=f"Stop:{event}")
        return Press.OK


async def may_report(services: Services, chat_id: str, delivery_id: int, event: StopEvent) -> Press:
    """Whether this chat's driver may report `event` at the stop (Failed checks it before its reasons)."""
    async with services.store.read() as conn:
        person = await fleet.driver_by_chat(conn, chat_id)
        return await _check(conn, person, delivery_id, event)


async def _check(conn: AsyncConnection, person: Driver | None, delivery_id: int, event: StopEvent) -> Press:
    """OK if the delivery is on this driver's route in the active plan and its status takes `event`."""
    delivery = await delivery_store.get(conn, delivery_id) if person else None
    header = await plans.active(conn, delivery.date) if delivery else None
    if person is None or delivery is None or header is None:
        return Press.EXPIRED
    if await plans.driver_of(conn, header.id, delivery_id) != person.id:
        return Press.EXPIRED
    if delivery.status is Status.PLANNED:
        return Press.NOT_STARTED
    return Press.OK if Status(event.value) in TRANSITIONS[delivery.status] else Press.EXPIRED


async def start_route(services: Services, inbox_id: int, chat_id: str, plan_id: int) -> bool:
    """ "Start route" pressed: as `POST /api/drivers/{id}/start` for the chat's driver, if today's active
    plan is the button's and their route has not started; False: nothing changed."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        header = await plans.active(conn, await driver_cards.today(conn, person.id, now)) if person else None
        fresh = person is not None and header is not None and header.id == plan_id
        stops = await driver_routes.stops_of(conn, plan_id, person.id) if person and fresh else []
        if person is None or not driver_cards.not_started(s.status for s in stops):
            await _refuse(conn, inbox_id, now, "Start", Press.EXPIRED)
            return False
        await progress.start(conn, services, plan_id, person.id, actor="driver")
        await inbox.finish(conn, inbox_id, now, delivery_id=None, intent="Start")
        return True


async def route_again(services: Services, inbox_id: int, chat_id: str) -> Asked:
    """`/route`: today's route and the current stop's card, sent to the driver's chat once more."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        if person is None:
            return Asked.NOT_DRIVER
        asked = f"ask:{inbox_id}"
        sent = await driver_cards.send_today(
            conn, services.composer, person.id, now, asked=asked, card_again=True
        )
        await inbox.finish(conn, inbox_id, now, delivery_id=None, intent="Route")
        return Asked.SENT if sent else Asked.NO_ROUTE


async def said(services: Services, inbox_id: int, chat_id: str, text: str) -> bool:
    """A driver's own words, kept for dispatch as `driver.message` (on their current stop, if any);
    False: not a driver's chat, nothing kept."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        if person is None:
            return False
        header = await plans.active(conn, await driver_cards.today(conn, person.id, now))
        stop = await driver_cards.current_stop(conn, header.id, person.id) if header else None
        delivery_id = stop.delivery_id if stop else None
        await events.append(
            conn,
            now,
            SAID,
            actor="driver",
            delivery_id=delivery_id,
            driver_id=person.id,
            plan_id=header.id if header else None,
            data={"text": text[:TEXT_LIMIT]},
        )
        await inbox.finish(conn, inbox_id, now, delivery_id=delivery_id, intent="DriverMessage")
        return True


async def attach_photo(
    services: Services,
    inbox_id: int,
    chat_id: str,
    file_id: str,
    caption: str = "",
    image: bytes | None = None,
) -> Photo:
    """Keep a photo on the delivery the driver just delivered: its Telegram file id (the recipient's
    Telegram "delivered" shows it), and the image itself when the chat could download it (`image`: the
    recipient's page shows it; one that is no image is left out, the file id still kept)."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        if person is None:
            return Photo.NOT_DRIVER
        asked = await conversations.recall(conn, CHANNEL, chat_id, now) or {}
        if asked.get("question") != "photo" or asked.get("driver_id") != person.id:
            return Photo.NOT_ASKED
        delivery_id = int(asked["delivery_id"])
        data: dict[str, Any] = {"file_id": file_id, "caption": caption[:1000]}
        if image is not None:
            try:
                data["photo_id"] = await proof.keep(
                    conn, delivery_id, image, now, source="telegram", ref=file_id
                )
            except UseCaseError as bad:
                data["not_kept"] = bad.message
        await events.append(
            conn,
            now,
            "delivery.photo",
            actor="driver",
            delivery_id=delivery_id,
            driver_id=person.id,
            data=data,
        )
        await outbox.add_photo(conn, delivery_id, file_id, now)  # the recipient's "delivered" shows it
        await inbox.finish(conn, inbox_id, now, delivery_id=delivery_id, intent="Photo")
        return Photo.SAVED


async def acknowledge(services: Services, inbox_id: int, chat_id: str, message_id: int) -> Ack:
    """ "Got it" under a driver note: recorded once per delivery the note is about, for support to see."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        # provider_ref is the id of the message the buttons are on (the last part of a long note)
        note = await outbox.sent_as(conn, CHANNEL, chat_id, str(message_id))
        about = _about(note, person)
        if person is None or note is None or not about:
            await _refuse(conn, inbox_id, now, "Ack", Press.EXPIRED)
            return Ack.UNKNOWN
        earlier = await events.of_kind(conn, ACKNOWLEDGED, about)
        if any(e.data.get("message_id") == note["id"] for e in earlier):
            await inbox.finish(conn, inbox_id, now, delivery_id=about[0], intent="Ack", error="again")
            return Ack.AGAIN
        data = {"message_id": note["id"], "deliveries": about}
        rows = [_event(now, ACKNOWLEDGED, d, person.id, data) for d in about]
        await events.append_many(conn, rows)
        await inbox.finish(conn, inbox_id, now, delivery_id=about[0], intent="Ack")
        return Ack.RECORDED


def _about(note: sa.RowMapping | None, person: Driver | None) -> list[int]:
    """The deliveries a driver note is about, if it is a note to this driver."""
    if note is None or person is None or note["kind"] != Kind.DRIVER_NOTES or note["driver_id"] != person.id:
        return []
    return [int(d) for d in note["payload"].get("deliveries", [])]


def _event(at: datetime, kind: str, delivery_id: int, driver_id: int, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "actor": "driver",
        "delivery_id": delivery_id,
        "driver_id": driver_id,
        "plan_id": None,
        "data": data,
    }


async def moved(services: Services, chat_id: str, lat: float, lon: float) -> bool:
    """A location from a driver's chat is the van's position (ETAs follow); False: not a driver's chat."""
    person = await driver_of_chat(services, chat_id)
    if person is None:
        return False
    await progress.update_position(services, person.id, lat, lon, actor="driver")
    return True


async def _refuse(conn: AsyncConnection, inbox_id: int, now: datetime, intent: str, why: Press) -> None:
    await inbox.finish(
        conn, inbox_id, now, delivery_id=None, intent=intent, status="refused", error=why.value
    )
