"""What support staff do for a recipient from the console: answer, pause, reschedule, instruct, and
work the escalation queue.

Each action is one transaction, goes through the same verbs as the recipient's own (bot/usecases/verbs,
so the plan, the recipient and the driver all follow), leaves an event with actor `staff:<username>`
on the delivery's timeline and an audit entry (never with an access code or a message's text in it).

- A reply goes to the channel the recipient last wrote from, else their preferred working one; never
  to a channel they opted out of. It is keyed by the form's nonce: a double submit sends it once.
- While a delivery is paused no automated notice goes to its recipient (the scheduler, re-plans and
  stop events skip it; notices already queued are held and queued again on resume, where the
  dispatcher expires any that are no longer true). Answers to what the recipient writes still go.
- Instructions changed by staff reach the driver as a stop note; the recipient gets no message for
  them (staff told them already, or answer them in their own words).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.access_codes import BLOT, hide_codes
from bot.domain.contacts import Contact, ContactState
from bot.domain.deliveries import Delivery
from bot.domain.promises import Promise
from bot.notify import format as fmt
from bot.notify.compose import To, first_name, pick_contact
from bot.notify.kinds import Channel, Kind
from bot.services import Services
from bot.store import audit, contacts, escalations, events, links, outbox, promises
from bot.store import deliveries as delivery_store
from bot.store.staff import StaffUser
from bot.store.tables import inbox
from bot.usecases import verbs
from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError
from bot.usecases.rescheduling import Slot
from bot.usecases.verbs import Refused
from bot.usecases.verbs import instructions as instructions_verb
from bot.usecases.verbs import reschedule as reschedule_verb

MAX_REPLY = 1000  # characters: about six SMS segments
MAX_NOTE = 500
MAX_SAFE_DROP = instructions_verb.MAX_PLACE
ACCESS_CODE = re.compile(r"[0-9A-Za-z#*]{2,12}")  # what a recipient can send as `CODE …`
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# The automated notices a pause holds back (answers to what the recipient writes are not held).
AUTOMATED = (
    Kind.PRE_DELIVERY, Kind.OUT_FOR_DELIVERY, Kind.NEARBY, Kind.DELAY, Kind.WINDOW_UPDATED,
    Kind.DELIVERED, Kind.FAILED,
)  # fmt: skip
REFUSALS = {
    "done": "It has been delivered already.",
    "closed": "The delivery is closed (cancelled or finished).",
    "cutoff": "Its window starts too soon to change it now.",
}


@dataclass(frozen=True, slots=True)
class Replied:
    channel: str
    again: bool = False  # the same form was sent before: nothing new went out


def actor(staff: StaffUser) -> str:
    return f"staff:{staff.username}"


async def reply(services: Services, staff: StaffUser, delivery_id: int, text: str, nonce: str) -> Replied:
    """Send the recipient a staff message through the outbox (once per form, whatever the submits)."""
    async with services.store.tx() as conn:
        return await _reply(services, conn, staff, delivery_id, text, nonce)


async def _reply(
    services: Services, conn: AsyncConnection, staff: StaffUser, delivery_id: int, text: str, nonce: str
) -> Replied:
    text = text.strip()
    if not text:
        raise UseCaseError("Write a message first: an empty reply was not sent.", field="text")
    if len(text) > MAX_REPLY:
        said = f"Keep a reply under {MAX_REPLY} characters (this one has {len(text)})."
        raise UseCaseError(said, field="text")
    if not NONCE.fullmatch(nonce):
        raise UseCaseError("This form is incomplete: reload the page and write again.", field="nonce")
    delivery = await _delivery(conn, delivery_id)
    key = _reply_key(delivery_id, nonce)
    if await outbox.exists(conn, key):
        return Replied("", again=True)
    to = await _reach(conn, delivery)
    now = services.clock.now()
    message = services.composer.message(
        to, Kind.STAFF_REPLY, {"text": text}, key=key, order_id=delivery.order_id, due_at=now,
        delivery_id=delivery.id,
    )  # fmt: skip
    # The staff's own words beside the rendered body: the recipient's page shows them in its thread.
    message = replace(message, payload={**message.payload, "text": text})
    await outbox.enqueue(conn, [message], now)
    detail = {"channel": to.channel, "length": len(text)}
    await _done(conn, now, staff, "staff.replied", delivery.id, detail)
    return Replied(to.channel)


def _reply_key(delivery_id: int, nonce: str) -> str:
    return f"staff:{delivery_id}:{nonce}"


async def _reach(conn: AsyncConnection, delivery: Delivery) -> To:
    """The recipient where they last wrote from, else their preferred working channel; or why not."""
    known = await contacts.for_recipient(conn, delivery.recipient_id)
    last = await _last_written(conn, delivery.id)
    wrote = next((c for c in known if (c.channel, c.address) == last), None)
    if wrote is not None and wrote.state is ContactState.OPTED_OUT:
        raise ConflictError(f"The recipient opted out of {wrote.channel} messages (they wrote STOP).")
    contact = wrote if wrote is not None and wrote.state is ContactState.ACTIVE else pick_contact(known)
    if contact is None:
        raise ConflictError(f"The recipient cannot be reached: {_states(known)}.")
    return To(
        contact.channel, contact.address, delivery.locale, delivery.timezone,
        first_name(delivery.name), recipient_id=delivery.recipient_id,
    )  # fmt: skip


def _states(known: Sequence[Contact]) -> str:
    said = {ContactState.OPTED_OUT: "opted out", ContactState.DEAD: "unreachable"}
    return ", ".join(f"{c.channel} {said.get(c.state, c.state.value)}" for c in known) or "no contact at all"


async def _last_written(conn: AsyncConnection, delivery_id: int) -> tuple[str, str] | None:
    query = (
        sa.select(inbox.c.channel, inbox.c.address)
        .where(inbox.c.delivery_id == delivery_id)
        .order_by(inbox.c.received_at.desc(), inbox.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return (row.channel, row.address) if row else None


async def pause(services: Services, staff: StaffUser, delivery_id: int) -> int:
    """Stop automated messages to this delivery's recipient; returns how many queued ones are held."""
    async with services.store.tx() as conn:
        delivery, now = await _delivery(conn, delivery_id), services.clock.now()
        if delivery.paused:
            raise ConflictError("Automated messages are already paused for this delivery.")
        await delivery_store.update(conn, delivery_id, {"paused": True}, now)
        held = await outbox.hold(conn, delivery_id, [k.value for k in AUTOMATED], now)
        await _done(conn, now, staff, "delivery.paused", delivery_id, {"held": held})
        return held


async def resume(services: Services, staff: StaffUser, delivery_id: int) -> int:
    """Automated messages again; held ones are queued again. Returns how many."""
    async with services.store.tx() as conn:
        delivery, now = await _delivery(conn, delivery_id), services.clock.now()
        if not delivery.paused:
            raise ConflictError("Automated messages are not paused for this delivery.")
        await delivery_store.update(conn, delivery_id, {"paused": False}, now)
        released = await outbox.release(conn, delivery_id, now)
        await _done(conn, now, staff, "delivery.resumed", delivery_id, {"released": released})
        return released


@dataclass(frozen=True, slots=True)
class Offer:
    """The times a delivery can move to, and the promise version they were offered against."""

    version: int  # 0: nothing promised yet
    slots: list[Slot]


async def slots(services: Services, delivery_id: int) -> Offer:
    """The times the recipient would be offered now (none when it may not be changed now)."""
    async with services.store.read() as conn:
        work = await verbs.work(services, conn, await _delivery(conn, delivery_id))
        offered = await reschedule_verb.offer(work)
        version = work.promise.version if work.promise else 0
        return Offer(version, [] if isinstance(offered, Refused) else offered)


async def reschedule(
    services: Services, staff: StaffUser, delivery_id: int, slot: Slot, seen: int
) -> Promise:
    """Move the delivery to one of the offered times: re-planned, the recipient told, the driver noted.
    `seen`: the promise version the times were offered against; if it has changed since, nothing is."""
    async with services.store.tx() as conn:
        delivery = await _delivery(conn, delivery_id)
        await _unchanged_since(conn, delivery, seen)
        work = await verbs.work(services, conn, delivery, actor(staff))
        moved = await reschedule_verb.move(work, slot)
        if isinstance(moved, Refused) and moved.reason == "taken":
            raise ConflictError("That time is no longer possible; pick one of the times offered now.")
        if isinstance(moved, Refused):
            raise ConflictError(f"This delivery cannot be moved now. {REFUSALS[moved.reason]}")
        told = await tell_rescheduled(services, conn, delivery, moved.promise, work.now)
        detail = {"to": [slot.start.isoformat(), slot.end.isoformat()], "told": told}
        await audit.record(conn, work.now, staff.id, "delivery.rescheduled", delivery_id, detail)
        return moved.promise


async def _unchanged_since(conn: AsyncConnection, delivery: Delivery, seen: int) -> None:
    """ConflictError naming who moved it and where to, if its promise is no longer version `seen`."""
    promise = await _promise(conn, delivery.id)
    if (promise.version if promise else 0) == seen:
        return
    who = "a re-plan"
    if promise is not None and promise.reason == "rescheduled":
        moves = await events.of_kind(conn, "delivery.rescheduled", [delivery.id])
        who = _who(moves[-1].actor) if moves else "someone"
    now = f"the window is now {_window(promise, delivery.timezone)}" if promise else "it has no window now"
    raise ConflictError(
        f"Changed by {who} meanwhile: {now}. Yours was not applied; pick again if it must move."
    )


def _who(actor: str) -> str:
    return actor.removeprefix("staff:") if actor.startswith("staff:") else f"the {actor}"


def _window(promise: Promise, zone: str) -> str:
    day = fmt.day(fmt.local_date(promise.start, zone), "en")
    return f"{day} {fmt.window(promise.start, promise.end, zone, Channel.TELEGRAM)}"


async def _promise(conn: AsyncConnection, delivery_id: int) -> Promise | None:
    return (await promises.current(conn, [delivery_id])).get(delivery_id)


async def tell_rescheduled(
    services: Services, conn: AsyncConnection, delivery: Delivery, promise: Promise, now: datetime
) -> bool:
    """The recipient hears the new window as when they move it themselves (False: nobody to tell)."""
    try:
        to = await _reach(conn, delivery)
    except ConflictError:
        return False
    composer = services.composer
    fields = {
        "day": composer.day(to, promise.start),
        "window": composer.window(to, promise.start, promise.end),
    }
    message = composer.message(
        to, Kind.RESCHEDULED, fields, key=f"staff-rescheduled:{delivery.id}:{promise.version}",
        order_id=delivery.order_id, due_at=now, delivery_id=delivery.id, promise=promise.version,
    )  # fmt: skip
    await outbox.enqueue(conn, [message], now)
    return True


async def instructions(
    services: Services, staff: StaffUser, delivery_id: int, safe_drop: str = "", access_code: str = ""
) -> bool:
    """Set where to leave the parcel and/or the access code; the driver gets a stop note (True) if the
    stop is on a route. The recipient is not messaged. The place as the console showed it, codes
    in it hidden, leaves the place as it is."""
    safe_drop, access_code = safe_drop.strip(), access_code.strip()
    if not safe_drop and not access_code:
        raise UseCaseError("Give a place to leave it, an access code, or both.", field="safe_drop")
    if len(safe_drop) > MAX_SAFE_DROP:
        raise UseCaseError(f"Keep the place under {MAX_SAFE_DROP} characters.", field="safe_drop")
    if access_code and not ACCESS_CODE.fullmatch(access_code):
        raise UseCaseError("An access code is 2-12 letters, digits, # or *.", field="access_code")
    async with services.store.tx() as conn:
        delivery = await _delivery(conn, delivery_id)
        work = await verbs.work(services, conn, delivery, actor(staff))
        if (refused := verbs.unchangeable(work)) is not None:
            raise ConflictError(f"The instructions cannot be changed now. {REFUSALS[refused.reason]}")
        safe_drop = _place_typed(safe_drop, delivery)
        if not safe_drop and not access_code:
            raise UseCaseError("Nothing changed: the place is as it was, and no access code was given.")
        done = await instructions_verb.instruct(work, safe_drop, access_code)
        if isinstance(done, Refused):
            raise ConflictError(f"The instructions cannot be changed now. {REFUSALS[done.reason]}")
        detail = {
            "safe_drop": bool(safe_drop),
            "access_code": bool(access_code),
            "driver_noted": done.driver_noted,
        }
        await audit.record(conn, work.now, staff.id, "delivery.instructions", delivery_id, detail)
        return done.driver_noted


def _place_typed(safe_drop: str, delivery: Delivery) -> str:
    """The place typed; "" for the current one as the console shows it (its codes hidden)."""
    if BLOT not in safe_drop:
        return safe_drop
    if safe_drop == hide_codes(delivery.safe_drop or "", delivery.access_code):
        return ""
    said = f"The place holds a hidden code ({BLOT}): write the place out in full, or give the code below."
    raise UseCaseError(said, field="safe_drop")


async def revoke_links(services: Services, staff: StaffUser, delivery_id: int) -> int:
    """Every link to the recipient's page of this delivery stops working; returns how many did."""
    async with services.store.tx() as conn:
        delivery, now = await _delivery(conn, delivery_id), services.clock.now()
        revoked = await links.revoke(conn, [delivery.id], now)
        await _done(conn, now, staff, "links.revoked", delivery.id, {"revoked": revoked})
        return revoked


async def assign_to_me(services: Services, staff: StaffUser, escalation_id: int) -> None:
    """Take an open escalation (from whoever had it)."""
    async with services.store.tx() as conn:
        found, now = await _open_escalation(conn, escalation_id), services.clock.now()
        await escalations.assign(conn, escalation_id, staff.id, now)
        detail = {"escalation": escalation_id, "from": found.assigned_to}
        await _done(conn, now, staff, "escalation.assigned", found.delivery_id, detail)


async def resolve(services: Services, staff: StaffUser, escalation_id: int, note: str = "") -> None:
    """Close an open escalation, with an optional note of what was done."""
    async with services.store.tx() as conn:
        await _resolve(services, conn, staff, escalation_id, note)


async def answer(
    services: Services, staff: StaffUser, escalation_id: int, text: str, nonce: str, note: str = ""
) -> Replied:
    """Answer from the queue: the reply to the escalation's delivery and its resolution, together."""
    async with services.store.tx() as conn:
        seen = await escalations.get(conn, escalation_id)
        if seen and seen.delivery_id and await outbox.exists(conn, _reply_key(seen.delivery_id, nonce)):
            return Replied("", again=True)  # the same answer submitted twice
        found = await _open_escalation(conn, escalation_id)
        if found.delivery_id is None:
            raise ConflictError("This escalation is about no delivery: there is nobody to answer.")
        sent = await _reply(services, conn, staff, found.delivery_id, text, nonce)
        await _resolve(services, conn, staff, escalation_id, note or "answered")
        return sent


async def _resolve(
    services: Services, conn: AsyncConnection, staff: StaffUser, escalation_id: int, note: str
) -> None:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise UseCaseError(f"Keep the note under {MAX_NOTE} characters.", field="note")
    found, now = await _open_escalation(conn, escalation_id), services.clock.now()
    await escalations.resolve(conn, escalation_id, staff.id, now)
    detail = {"escalation": escalation_id, "reason": found.kind, "note": note}
    await _done(conn, now, staff, "escalation.resolved", found.delivery_id, detail)


async def _open_escalation(conn: AsyncConnection, escalation_id: int) -> escalations.Escalation:
    found = await escalations.get(conn, escalation_id)
    if found is None:
        raise NotFoundError(f"There is no escalation {escalation_id}.")
    if found.status != "open":
        raise ConflictError("This escalation was resolved already.")
    return found


async def _delivery(conn: AsyncConnection, delivery_id: int) -> Delivery:
    delivery = await delivery_store.get(conn, delivery_id)
    if delivery is None:
        raise NotFoundError(f"There is no delivery {delivery_id}.")
    return delivery


async def _done(
    conn: AsyncConnection, now: datetime, staff: StaffUser, action: str, delivery_id: int | None, detail: Any
) -> None:
    """The audit entry and the timeline's event for one staff action."""
    await audit.record(conn, now, staff.id, action, delivery_id, detail)
    await events.append(conn, now, action, actor=actor(staff), delivery_id=delivery_id, data=detail)
