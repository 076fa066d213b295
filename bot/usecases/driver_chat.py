"""What a linked driver does in their chat: stop buttons, a photo after a delivery, "Got it" under a
note, live location.

Every press is checked against the database: the chat must be a driver's, the stop on that driver's
route in the active plan, and in a state that takes the event. Otherwise nothing changes and the
handler says the option has expired.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from time import perf_counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import TRANSITIONS, Delivery, Driver, FailReason, Status, StopEvent
from bot.notify.kinds import Channel, Kind
from bot.services import Services
from bot.store import conversations, events, fleet, inbox, outbox, plans
from bot.store import deliveries as delivery_store
from bot.usecases import progress

CHANNEL = Channel.TELEGRAM.value
PHOTO_WINDOW = timedelta(minutes=10)  # after Delivered, photos from the driver are that stop's proof
ACKNOWLEDGED = "driver.acknowledged"


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
) -> bool:
    """Record a stop event pressed by a driver; False (nothing changed) if the press is not theirs to make."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        delivery = await _their_stop(conn, person, delivery_id, event)
        if person is None or delivery is None or (event is StopEvent.FAILED) != (reason is not None):
            await _refuse(conn, inbox_id, now, f"Stop:{event}")
            return False
        await progress.stop_event(
            conn, services, delivery_id, event, reason=reason, actor="driver", started=perf_counter()
        )
        if event is StopEvent.DELIVERED:
            asked = {"question": "photo", "delivery_id": delivery_id, "driver_id": person.id}
            await conversations.remember(conn, CHANNEL, chat_id, asked, now + PHOTO_WINDOW)
        await inbox.finish(conn, inbox_id, now, delivery_id=delivery_id, intent=f"Stop:{event}")
        return True


async def may_report(services: Services, chat_id: str, delivery_id: int, event: StopEvent) -> bool:
    """Whether this chat's driver may report `event` at the stop (Failed checks it before its reasons)."""
    async with services.store.read() as conn:
        person = await fleet.driver_by_chat(conn, chat_id)
        return await _their_stop(conn, person, delivery_id, event) is not None


async def _their_stop(
    conn: AsyncConnection, person: Driver | None, delivery_id: int, event: StopEvent
) -> Delivery | None:
    """The delivery, if it is on this driver's route in the active plan and its status takes `event`."""
    delivery = await delivery_store.get(conn, delivery_id) if person else None
    header = await plans.active(conn, delivery.date) if delivery else None
    if person is None or delivery is None or header is None:
        return None
    if Status(event.value) not in TRANSITIONS[delivery.status]:
        return None
    return delivery if await plans.driver_of(conn, header.id, delivery_id) == person.id else None


async def attach_photo(
    services: Services, inbox_id: int, chat_id: str, file_id: str, caption: str = ""
) -> Photo:
    """Keep a photo's Telegram file id on the delivery the driver just delivered (the file stays there)."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        person = await fleet.driver_by_chat(conn, chat_id)
        if person is None:
            return Photo.NOT_DRIVER
        asked = await conversations.recall(conn, CHANNEL, chat_id, now) or {}
        if asked.get("question") != "photo" or asked.get("driver_id") != person.id:
            return Photo.NOT_ASKED
        delivery_id = int(asked["delivery_id"])
        data = {"file_id": file_id, "caption": caption[:1000]}
        await events.append(
            conn,
            now,
            "delivery.photo",
            actor="driver",
            delivery_id=delivery_id,
            driver_id=person.id,
            data=data,
        )
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
            await _refuse(conn, inbox_id, now, "Ack")
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


async def _refuse(conn: AsyncConnection, inbox_id: int, now: datetime, intent: str) -> None:
    await inbox.finish(
        conn, inbox_id, now, delivery_id=None, intent=intent, status="refused", error="expired"
    )
