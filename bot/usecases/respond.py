"""Answering what a recipient wrote: find the delivery, read the intent, run its verb, reply.

The words are read by `services.read` (bot/handlers/sms_text.parse, wired in bot/composition.py); a
button press arrives already read. What each intent does to the delivery is a verb of
bot/usecases/verbs, the same the console calls; what is said back, and the question it leaves open,
is decided here.

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
from bot.domain.contacts import ContactState
from bot.domain.deliveries import OPEN, Delivery
from bot.domain.escalations import Reason
from bot.domain.intents import Intent
from bot.domain.messages import NewMessage
from bot.domain.promises import Promise
from bot.notify import format as fmt
from bot.notify import phrases
from bot.notify.compose import To, first_name
from bot.notify.kinds import Kind
from bot.services import Services
from bot.store import contacts, conversations, escalations, inbox, outbox, promises
from bot.store import deliveries as delivery_store
from bot.usecases import rescheduling, verbs
from bot.usecases.rescheduling import Slot
from bot.usecases.verbs import Refused, consent
from bot.usecases.verbs import confirm as confirm_verb
from bot.usecases.verbs import instructions as instructions_verb
from bot.usecases.verbs import rate as rate_verb
from bot.usecases.verbs import reschedule as reschedule_verb
from bot.usecases.verbs import status as status_verb
from bot.usecases.verbs import support as support_verb

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
    opted_out = any(c.state is ContactState.OPTED_OUT for c in known)
    intent = pressed.intent if pressed else services.read(body, asked, today, opted_out=opted_out)
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
        message.channel,
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


# --- what each intent does: a verb (bot/usecases/verbs), then the reply ---------------------------


def _work(turn: Turn) -> verbs.Work:
    return verbs.Work(turn.services, turn.conn, turn.now, turn.delivery, turn.promise)


def _window(turn: Turn) -> dict[str, str]:
    now = status_verb.status(_work(turn))
    return {
        "day": turn.services.composer.day(turn.to, now.start),
        "window": turn.services.composer.window(turn.to, now.start, now.end),
    }


def _refused(turn: Turn, key: str) -> list[Reply]:
    return [Reply(Kind.CHANGE_REFUSED, {"reason": phrases.pick(phrases.REFUSAL, turn.to.locale)[key]})]


async def confirm(turn: Turn, _: intents.Confirm) -> list[Reply]:
    done = await confirm_verb.confirm(_work(turn))
    return (
        _refused(turn, done.reason) if isinstance(done, Refused) else [Reply(Kind.CONFIRMED, _window(turn))]
    )


async def ask_slots(turn: Turn, _: intents.AskSlots) -> list[Reply]:
    return await _offer(turn)


async def _offer(
    turn: Turn, prefix: list[Reply] | None = None, wish: intents.Wish | None = None
) -> list[Reply]:
    offered = await reschedule_verb.offer(_work(turn), wish)
    if isinstance(offered, Refused):
        return [*(prefix or []), *_refused(turn, offered.reason)]
    if offered:
        return [*(prefix or []), *_slots(turn, offered)]
    if wish is not None:
        return await _offer(turn, prefix=_refused(turn, "wish"))  # the nearest times instead
    await support_verb.ask_for_person(_work(turn), "asked to reschedule; no free slot")
    return [*(prefix or []), *_refused(turn, "no_slots")]


def _slots(turn: Turn, offered: list[Slot]) -> list[Reply]:
    labels = fmt.slots([(s.start, s.end) for s in offered], turn.to.timezone, turn.to.locale, turn.to.channel)
    ask = {
        "question": "slot",
        "delivery_id": turn.delivery.id,
        "slots": [[s.start.isoformat(), s.end.isoformat()] for s in offered],
    }
    return [Reply(Kind.SLOTS_OFFERED, {"slots": labels}, ask)]


async def reschedule(turn: Turn, intent: intents.Reschedule) -> list[Reply]:
    if (refused := verbs.unchangeable(_work(turn))) is not None:
        return _refused(turn, refused.reason)
    if intent.wish is not None:
        return await _wished(turn, intent.wish)
    window = intent.window or _offered(turn, intent.slot)
    if window is None:
        return await _offer(turn)
    moved = await reschedule_verb.move(_work(turn), Slot(*window))
    if isinstance(moved, Refused):
        return await _offer(turn, prefix=_refused(turn, moved.reason))  # taken meanwhile, or made up
    turn.promise = moved.promise
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
    return await _offer(turn, wish=wish)


def _offered(turn: Turn, slot: int | None) -> tuple[datetime, datetime] | None:
    """The window numbered `slot` in the last offer made for this delivery, if there is one."""
    offered = turn.asked.get("slots") if turn.asked.get("delivery_id") == turn.delivery.id else None
    if not offered or slot is None or not 1 <= slot <= len(offered):
        return None
    start, end = (datetime.fromisoformat(t) for t in offered[slot - 1])
    return start, end


async def ask_instructions(turn: Turn, _: intents.AskInstructions) -> list[Reply]:
    if (refused := verbs.unchangeable(_work(turn))) is not None:
        return _refused(turn, refused.reason)
    return [Reply(Kind.INSTRUCTIONS_ASKED, ask={"question": "instructions", "delivery_id": turn.delivery.id})]


async def safe_drop(turn: Turn, intent: intents.SafeDrop) -> list[Reply]:
    place = phrases.place(intent.place, intent.detail, turn.to.locale)
    saved = await instructions_verb.instruct(_work(turn), place, standing=intent.standing)
    if isinstance(saved, Refused):
        return _refused(turn, saved.reason)
    return [Reply(Kind.INSTRUCTIONS_SAVED, {"instructions": saved.place, "standing": intent.standing})]


async def access_code(turn: Turn, intent: intents.AccessCode) -> list[Reply]:
    saved = await instructions_verb.instruct(_work(turn), code=intent.code)
    if isinstance(saved, Refused):
        return _refused(turn, saved.reason)
    return [Reply(Kind.ACCESS_CODE_SAVED)]  # says nothing of the code: not even its last digits


async def rate(turn: Turn, intent: intents.Rate) -> list[Reply]:
    rated = await rate_verb.rate(_work(turn), intent.stars, intent.comment)
    if isinstance(rated, Refused):
        return _refused(turn, rated.reason)
    ask = None if intent.comment else {"question": "comment", "delivery_id": turn.delivery.id}
    return [Reply(Kind.RATED, {"rating": intent.stars}, ask)]


async def comment(turn: Turn, intent: intents.Comment) -> list[Reply]:
    """What they add after rating: kept with the rating (read as anything else before one)."""
    kept = await rate_verb.comment(_work(turn), intent.text, asks=intent.asks)
    if isinstance(kept, Refused):
        return await not_understood(turn, intents.NotUnderstood(intent.text))
    return [Reply(Kind.COMMENTED)]


async def not_received(turn: Turn, _: intents.NotReceived) -> list[Reply]:
    await support_verb.report_not_received(_work(turn))
    return [Reply(Kind.NOT_RECEIVED)]


async def opt_out(turn: Turn, _: intents.OptOut) -> list[Reply]:
    await consent.opt_out(_work(turn), turn.inbound.channel)
    return [Reply(Kind.OPTED_OUT)]


async def opt_in(turn: Turn, _: intents.OptIn) -> list[Reply]:
    await consent.opt_in(_work(turn), turn.inbound.channel)
    return [Reply(Kind.OPTED_IN)]


async def status(turn: Turn, _: intents.Status) -> list[Reply]:
    said = phrases.pick(phrases.STATUS, turn.to.locale)[turn.delivery.status]
    return [Reply(Kind.STATUS, {"status": said, **_window(turn)})]


async def help_(turn: Turn, _: intents.Help) -> list[Reply]:
    return [Reply(Kind.HELP)]


async def person(turn: Turn, intent: intents.Person) -> list[Reply]:
    why = f"asked: {intent.question[:500]}" if intent.question else "asked for a person"
    await support_verb.ask_for_person(_work(turn), why)
    return [Reply(Kind.PERSON_REQUESTED)]


async def thanks(turn: Turn, _: intents.Thanks) -> list[Reply]:
    return [Reply(Kind.THANKED)]


async def not_understood(turn: Turn, intent: intents.NotUnderstood) -> list[Reply]:
    await support_verb.not_understood(_work(turn), intent.text)
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
