"""Answering what a recipient wrote: find the delivery, read the intent, run its use case, reply.

Everything for one inbound message happens in one transaction: the state change, its events, the
re-plan it causes, the reply and any messages to others. The reply goes back on the channel and
address the message came from, keyed by the inbound message so a retry never answers twice.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import intents
from bot.domain.deliveries import OPEN, Delivery, Status
from bot.domain.intents import Intent
from bot.handlers import sms_text
from bot.notify import format as fmt
from bot.notify import phrases
from bot.notify.compose import To, first_name
from bot.notify.kinds import Channel, Kind
from bot.notify.render import StopChange
from bot.services import Services
from bot.store import contacts, conversations, escalations, events, inbox, outbox, promises
from bot.store import deliveries as delivery_store
from bot.store.escalations import Reason
from bot.store.outbox import NewMessage
from bot.store.promises import Promise
from bot.usecases import driver_notes, rescheduling
from bot.usecases.rescheduling import Slot

# Replies that state the delivery's current window (telling the recipient that promise).
STATES_WINDOW = frozenset({Kind.CONFIRMED, Kind.RESCHEDULED, Kind.STATUS})
# Deliveries a message can be about: still open, or finished recently enough to rate or report.
RECENT = timedelta(days=3)


@dataclass
class Reply:
    kind: Kind
    fields: dict[str, Any] = field(default_factory=dict)
    ask: dict[str, Any] | None = None  # the question this reply asks (read with the next answer)


@dataclass
class Turn:
    """One inbound message being answered."""

    services: Services
    conn: AsyncConnection
    now: datetime
    inbound: inbox.Inbound
    to: To
    delivery: Delivery
    promise: Promise | None
    asked: Mapping[str, Any]


@dataclass(frozen=True)
class Pressed:
    """A button press: the intent and the delivery it names (both checked here, never trusted)."""

    intent: Intent
    delivery_id: int | None = None  # None: the one the sender means, as for a text (or ask which)


async def respond(services: Services, inbox_id: int, pressed: Pressed | None = None) -> bool:
    """Handle one stored inbound message (idempotent: a message already handled is left alone).

    False when a pressed button names a delivery this sender cannot act on (another person's, or
    one that is closed): nothing changes and the caller says "this option has expired".
    """
    async with services.store.tx() as conn:
        message = await inbox.get(conn, inbox_id)
        if message is None or message.status != "received":
            return True
        now = services.clock.now()
        found = await _turn(services, conn, message, now, pressed)
        if found is None:
            await inbox.finish(conn, inbox_id, now, delivery_id=None, intent="Expired", status="refused")
            return False
        if isinstance(found, str):
            await _unmatched(conn, message, now, found)
            return True
        turn, intent, several = found
        replies = await (_which(turn, several) if several else HANDLERS[type(intent)](turn, intent))
        await _send(turn, replies)
        await inbox.finish(conn, inbox_id, now, delivery_id=turn.delivery.id, intent=type(intent).__name__)
        return True


async def _turn(
    services: Services,
    conn: AsyncConnection,
    message: inbox.Inbound,
    now: datetime,
    pressed: Pressed | None = None,
) -> tuple[Turn, Intent, list[Delivery]] | str | None:
    """The delivery and intent of a message, or the deliveries to choose from, or why it matches nothing.

    None: a pressed button that names none of this sender's deliveries (forged, or long gone).
    """
    known = await contacts.by_address(conn, message.channel, message.address)
    candidates = await _candidates(conn, [c.recipient_id for c in known], now)
    if pressed is not None and pressed.delivery_id is not None:
        chosen = next((d for d in candidates if d.id == pressed.delivery_id), None)
        if chosen is None:
            return None
        asked = await conversations.recall(conn, message.channel, message.address, now) or {}
        return await _make_turn(services, conn, now, message, chosen, asked), pressed.intent, []
    if not candidates:
        return "unknown sender" if not known else "no delivery to talk about"
    asked = await conversations.recall(conn, message.channel, message.address, now) or {}
    body, chosen = message.body, _choose(candidates, asked)
    if asked.get("question") == "which" and message.body.strip().isdigit():
        picked = int(message.body.strip())
        ids: list[int] = asked.get("choices", [])
        chosen = next((d for d in candidates if 1 <= picked <= len(ids) and d.id == ids[picked - 1]), None)
        body, asked = str(asked.get("pending", "")), {}
    delivery = chosen or candidates[0]
    today = now.astimezone(ZoneInfo(delivery.timezone)).date()
    opted_out = any(c.state is contacts.ContactState.OPTED_OUT for c in known)
    intent = pressed.intent if pressed else sms_text.parse(body, asked, today, opted_out=opted_out)
    turn = await _make_turn(services, conn, now, message, delivery, asked)
    several = candidates if chosen is None and len(candidates) > 1 and not isinstance(intent, GLOBAL) else []
    return turn, intent, several


async def _make_turn(
    services: Services,
    conn: AsyncConnection,
    now: datetime,
    message: inbox.Inbound,
    delivery: Delivery,
    asked: Mapping[str, Any],
) -> Turn:
    to = To(
        Channel(message.channel),
        message.address,
        delivery.locale,
        delivery.timezone,
        first_name(delivery.name),
        recipient_id=delivery.recipient_id,
    )
    promise = (await promises.current(conn, [delivery.id])).get(delivery.id)
    return Turn(services, conn, now, message, to, delivery, promise, asked)


async def _candidates(conn: AsyncConnection, recipient_ids: list[int], now: datetime) -> list[Delivery]:
    found: list[Delivery] = []
    for recipient_id in dict.fromkeys(recipient_ids):
        found += await delivery_store.for_recipient(conn, recipient_id)
    recent = [d for d in found if d.status in OPEN or d.window_end >= now - RECENT]
    return sorted(recent, key=lambda d: (d.status not in OPEN, d.window_start))


def _choose(candidates: list[Delivery], asked: Mapping[str, Any]) -> Delivery | None:
    if len(candidates) == 1:
        return candidates[0]
    wanted = asked.get("delivery_id")
    return next((d for d in candidates if d.id == wanted), None)


async def _which(turn: Turn, several: list[Delivery]) -> list[Reply]:
    """Several open deliveries on one number: ask which one, and keep what they wrote for the answer."""
    choices = [
        {
            "n": n,
            "sender": turn.services.settings.messages.brand,
            "order_id": d.order_id,
            "day": turn.services.composer.day(turn.to, d.window_start),
        }
        for n, d in enumerate(several, 1)
    ]
    ask = {"question": "which", "choices": [d.id for d in several], "pending": turn.inbound.body[:1000]}
    return [Reply(Kind.WHICH_DELIVERY, {"choices": choices}, ask)]


GLOBAL = (intents.OptOut, intents.OptIn, intents.Help)


async def _unmatched(conn: AsyncConnection, message: inbox.Inbound, now: datetime, why: str) -> None:
    """Nobody we know, or nothing open: support sees it; it is never dropped."""
    await escalations.open_one(conn, now, Reason.NOT_UNDERSTOOD, f"{why}: {message.body[:500]}")
    await inbox.finish(
        conn, message.id, now, delivery_id=None, intent="Unmatched", status="parked", error=why
    )


async def _send(turn: Turn, replies: list[Reply]) -> None:
    composer = turn.services.composer
    queued: list[NewMessage] = []
    for n, reply in enumerate(replies):
        queued.append(
            composer.message(
                turn.to,
                reply.kind,
                reply.fields,
                key=f"reply:{turn.inbound.id}:{n}",
                order_id=turn.delivery.order_id,
                due_at=turn.now,
                delivery_id=turn.delivery.id,
                promise=turn.promise.version if turn.promise and reply.kind in STATES_WINDOW else None,
            )
        )
    await outbox.enqueue(turn.conn, queued, turn.now)
    asking = next((r.ask for r in reversed(replies) if r.ask), None)
    channel, address = turn.inbound.channel, turn.inbound.address
    if asking:
        minutes = turn.services.settings.messages.conversation_minutes
        await conversations.remember(
            turn.conn, channel, address, asking, turn.now + timedelta(minutes=minutes)
        )
    else:
        await conversations.forget(turn.conn, channel, address)


# --- the use cases, one per intent -------------------------------------------------------------


def _window(turn: Turn) -> dict[str, str]:
    start, end = (
        (turn.promise.start, turn.promise.end)
        if turn.promise
        else (turn.delivery.window_start, turn.delivery.window_end)
    )
    return {
        "day": turn.services.composer.day(turn.to, start),
        "window": turn.services.composer.window(turn.to, start, end),
    }


def _refused(turn: Turn, key: str) -> list[Reply]:
    return [Reply(Kind.CHANGE_REFUSED, {"reason": phrases.pick(phrases.REFUSAL, turn.to.locale)[key]})]


def _refusal(turn: Turn) -> str | None:
    return rescheduling.refusal(turn.delivery, turn.promise, turn.now, turn.services.settings)


async def _log(turn: Turn, kind: str, data: dict[str, Any] | None = None) -> None:
    await events.append(
        turn.conn, turn.now, kind, actor="recipient", delivery_id=turn.delivery.id, data=data or {}
    )


async def confirm(turn: Turn, _: intents.Confirm) -> list[Reply]:
    if turn.delivery.status not in OPEN:
        return _refused(turn, "done" if turn.delivery.status is Status.DELIVERED else "closed")
    await delivery_store.update(turn.conn, turn.delivery.id, {"confirmed_at": turn.now}, turn.now)
    await _log(turn, "delivery.confirmed")
    return [Reply(Kind.CONFIRMED, _window(turn))]


async def ask_slots(turn: Turn, _: intents.AskSlots) -> list[Reply]:
    if (why := _refusal(turn)) is not None:
        return _refused(turn, why)
    return await _offer(turn)


async def _offer(turn: Turn, prefix: list[Reply] | None = None) -> list[Reply]:
    settings, matrix = turn.services.settings, turn.services.day_matrix(turn.delivery.date)
    offered = await rescheduling.offer(
        turn.conn, turn.delivery, turn.now, settings, matrix, learner=turn.services.learner()
    )
    if not offered:
        await escalations.open_one(
            turn.conn,
            turn.now,
            Reason.PERSON,
            "asked to reschedule; no free slot",
            delivery_id=turn.delivery.id,
        )
        return [*(prefix or []), *_refused(turn, "no_slots")]
    return [*(prefix or []), *_slots(turn, offered)]


def _slots(turn: Turn, offered: list[Slot]) -> list[Reply]:
    labels = fmt.slots([(s.start, s.end) for s in offered], turn.to.timezone, turn.to.locale, turn.to.channel)
    ask = {
        "question": "slot",
        "delivery_id": turn.delivery.id,
        "slots": [[s.start.isoformat(), s.end.isoformat()] for s in offered],
    }
    return [Reply(Kind.SLOTS_OFFERED, {"slots": labels}, ask)]


async def reschedule(turn: Turn, intent: intents.Reschedule) -> list[Reply]:
    if (why := _refusal(turn)) is not None:
        return _refused(turn, why)
    if intent.wish is not None:
        return await _wished(turn, intent.wish)
    window = intent.window or _offered(turn, intent.slot)
    if window is None:
        return await _offer(turn)
    if intent.window is not None and not await _on_the_grid(turn, intent.window):
        return await _offer(turn, prefix=_refused(turn, "taken"))  # a made-up or out-of-date time
    start, end = window
    services = turn.services
    promise = await rescheduling.take(
        turn.conn,
        turn.delivery,
        Slot(start, end),
        turn.now,
        services.settings,
        services.composer,
        services.day_matrix(turn.delivery.date),
        learner=services.learner(),
    )
    if promise is None:
        return await _offer(turn, prefix=_refused(turn, "taken"))
    turn.promise = promise
    return [Reply(Kind.RESCHEDULED, _window(turn))]


async def _wished(turn: Turn, wish: intents.Wish) -> list[Reply]:
    """A time asked for in words: the current window if it fits, else the times that fit, to pick from.

    Nothing moves on words alone: the recipient picks a numbered time (or the current one stands),
    so a misread "Friday" never moves a parcel. No fitting time: the nearest ones are offered.
    """
    zone = ZoneInfo(turn.to.timezone)
    current = (turn.promise.start, turn.promise.end) if turn.promise else None
    if current is not None and rescheduling.fits(current, wish, zone, turn.delivery.date):
        return [Reply(Kind.CONFIRMED, _window(turn))]
    settings, matrix = turn.services.settings, turn.services.day_matrix(turn.delivery.date)
    offered = await rescheduling.offer(
        turn.conn, turn.delivery, turn.now, settings, matrix, wish=wish, learner=turn.services.learner()
    )
    if not offered:
        return await _offer(turn, prefix=_refused(turn, "wish"))
    return _slots(turn, offered)


def _offered(turn: Turn, slot: int | None) -> tuple[datetime, datetime] | None:
    """The window numbered `slot` in the last offer made for this delivery, if there is one."""
    offered = turn.asked.get("slots") if turn.asked.get("delivery_id") == turn.delivery.id else None
    if not offered or slot is None or not 1 <= slot <= len(offered):
        return None
    start, end = (datetime.fromisoformat(t) for t in offered[slot - 1])
    return start, end


async def _on_the_grid(turn: Turn, window: tuple[datetime, datetime]) -> bool:
    """A pressed window is one this delivery could be offered now (the re-plan then checks the route)."""
    grid = await rescheduling.candidates(turn.conn, turn.delivery, turn.now, turn.services.settings)
    return any((s.start, s.end) == window for s in grid)


async def ask_instructions(turn: Turn, _: intents.AskInstructions) -> list[Reply]:
    if (why := _refusal(turn)) is not None:
        return _refused(turn, why)
    return [Reply(Kind.INSTRUCTIONS_ASKED, ask={"question": "instructions", "delivery_id": turn.delivery.id})]


async def safe_drop(turn: Turn, intent: intents.SafeDrop) -> list[Reply]:
    if (why := _refusal(turn)) is not None:
        return _refused(turn, why)
    text = phrases.place(intent.place, intent.detail, turn.to.locale)[:500]
    await delivery_store.update(turn.conn, turn.delivery.id, {"safe_drop": text}, turn.now)
    if intent.standing:
        await delivery_store.set_standing_safe_drop(turn.conn, turn.delivery.recipient_id, text, turn.now)
    await _log(turn, "delivery.instructions", {"place": intent.place.value, "standing": intent.standing})
    await _driver_note(turn, "instructions", instructions=text)
    return [Reply(Kind.INSTRUCTIONS_SAVED, {"instructions": text, "standing": intent.standing})]


async def access_code(turn: Turn, intent: intents.AccessCode) -> list[Reply]:
    if (why := _refusal(turn)) is not None:
        return _refused(turn, why)
    await delivery_store.update(turn.conn, turn.delivery.id, {"access_code": intent.code}, turn.now)
    await _log(turn, "delivery.access_code")  # the code itself is never logged
    await _driver_note(
        turn, "access_code", instructions=turn.delivery.safe_drop or "", access_code=intent.code
    )
    return [Reply(Kind.ACCESS_CODE_SAVED)]  # says nothing of the code: not even its last digits


async def _driver_note(turn: Turn, change: StopChange, *, instructions: str, access_code: str = "") -> None:
    await driver_notes.stop_changed(
        turn.conn, turn.services, turn.delivery, change, instructions, turn.now, access_code=access_code
    )


async def rate(turn: Turn, intent: intents.Rate) -> list[Reply]:
    if turn.delivery.status is not Status.DELIVERED:
        return _refused(turn, "not_delivered")
    values = {"rating": intent.stars, "rating_comment": intent.comment or None}
    await delivery_store.update(turn.conn, turn.delivery.id, values, turn.now)
    await _log(turn, "delivery.rated", {"stars": intent.stars})
    if intent.stars <= 2:
        await escalations.open_one(
            turn.conn,
            turn.now,
            Reason.LOW_RATING,
            f"{intent.stars}/5 {intent.comment}",
            delivery_id=turn.delivery.id,
        )
    ask = None if intent.comment else {"question": "comment", "delivery_id": turn.delivery.id}
    return [Reply(Kind.RATED, {"rating": intent.stars}, ask)]


async def comment(turn: Turn, intent: intents.Comment) -> list[Reply]:
    """What they add after rating: kept with the rating; support reads it beside a low one, and any
    that asks for something."""
    if turn.delivery.rating is None:
        return await not_understood(turn, intents.NotUnderstood(intent.text))
    await delivery_store.update(turn.conn, turn.delivery.id, {"rating_comment": intent.text}, turn.now)
    await _log(turn, "delivery.rating_comment", {"length": len(intent.text)})
    if turn.delivery.rating <= 2 or intent.asks:
        detail = f"{turn.delivery.rating}/5, then: {intent.text[:500]}"
        reason = Reason.LOW_RATING if turn.delivery.rating <= 2 else Reason.PERSON
        await escalations.open_one(turn.conn, turn.now, reason, detail, delivery_id=turn.delivery.id)
    return [Reply(Kind.COMMENTED)]


async def not_received(turn: Turn, _: intents.NotReceived) -> list[Reply]:
    await escalations.open_one(
        turn.conn,
        turn.now,
        Reason.NOT_RECEIVED,
        "recipient reports the parcel missing",
        delivery_id=turn.delivery.id,
    )
    await _log(turn, "delivery.not_received")
    return [Reply(Kind.NOT_RECEIVED)]


async def opt_out(turn: Turn, _: intents.OptOut) -> list[Reply]:
    await _consent(turn, contacts.ContactState.OPTED_OUT, "recipient.opted_out")
    return [Reply(Kind.OPTED_OUT)]


async def opt_in(turn: Turn, _: intents.OptIn) -> list[Reply]:
    await _consent(turn, contacts.ContactState.ACTIVE, "recipient.opted_in")
    return [Reply(Kind.OPTED_IN)]


async def _consent(turn: Turn, state: contacts.ContactState, kind: str) -> None:
    recipient_id = turn.delivery.recipient_id
    await contacts.set_state(turn.conn, recipient_id, turn.inbound.channel, state, turn.now)
    await _log(turn, kind, {"channel": turn.inbound.channel})


async def status(turn: Turn, _: intents.Status) -> list[Reply]:
    said = phrases.pick(phrases.STATUS, turn.to.locale)[turn.delivery.status]
    return [Reply(Kind.STATUS, {"status": said, **_window(turn)})]


async def help_(turn: Turn, _: intents.Help) -> list[Reply]:
    return [Reply(Kind.HELP)]


async def person(turn: Turn, _: intents.Person) -> list[Reply]:
    await escalations.open_one(
        turn.conn, turn.now, Reason.PERSON, "asked for a person", delivery_id=turn.delivery.id
    )
    return [Reply(Kind.PERSON_REQUESTED)]


async def thanks(turn: Turn, _: intents.Thanks) -> list[Reply]:
    return [Reply(Kind.THANKED)]


async def not_understood(turn: Turn, intent: intents.NotUnderstood) -> list[Reply]:
    await escalations.open_one(
        turn.conn, turn.now, Reason.NOT_UNDERSTOOD, intent.text[:500], delivery_id=turn.delivery.id
    )
    return [Reply(Kind.NOT_UNDERSTOOD)]


type Handler = Callable[[Turn, Any], Awaitable[list[Reply]]]


async def several(turn: Turn, intent: intents.Several) -> list[Reply]:
    """Each part as if it had come alone, in order; the recipient gets every answer."""
    replies: list[Reply] = []
    for part in intent.parts:
        replies += await HANDLERS[type(part)](turn, part)
    return replies


HANDLERS: dict[type, Handler] = {
    intents.Confirm: confirm,
    intents.AskSlots: ask_slots,
    intents.Reschedule: reschedule,
    intents.AskInstructions: ask_instructions,
    intents.SafeDrop: safe_drop,
    intents.AccessCode: access_code,
    intents.Rate: rate,
    intents.Comment: comment,
    intents.NotReceived: not_received,
    intents.OptOut: opt_out,
    intents.OptIn: opt_in,
    intents.Status: status,
    intents.Help: help_,
    intents.Person: person,
    intents.Thanks: thanks,
    intents.NotUnderstood: not_understood,
    intents.Several: several,
}
