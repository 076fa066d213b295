"""Linking a Telegram chat to a delivery through the deep link `t.me/<bot>?start=<token>`.

The token is the delivery's tracking token (unguessable, URL-safe). A chat may follow several
deliveries (one recipient's, or a household's); a delivery's recipient follows it in one chat: a
second chat presenting the same link is refused, so a forwarded link does not hand the parcel over.
"""

import re
from enum import StrEnum

from bot.domain.contacts import ContactState
from bot.domain.deliveries import OPEN
from bot.notify import phrases
from bot.notify.compose import To, first_name
from bot.notify.kinds import Channel, Kind
from bot.services import Services
from bot.store import contacts, events, inbox, outbox, promises
from bot.store import deliveries as delivery_store
from bot.usecases.respond import RECENT  # a link works as long as its delivery can be talked about

TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what a Telegram start parameter can carry


class Linked(StrEnum):
    LINKED = "linked"
    AGAIN = "again"  # this chat already followed it
    ELSEWHERE = "elsewhere"  # another chat follows it
    EXPIRED = "expired"
    UNKNOWN = "unknown"


async def link_chat(services: Services, inbox_id: int, token: str, chat_id: str) -> Linked:
    """Link the chat to the token's delivery and greet it there (through the outbox), or say why not."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        delivery = await delivery_store.by_token(conn, token) if TOKEN.fullmatch(token) else None
        outcome = Linked.UNKNOWN
        if delivery is not None and delivery.status not in OPEN and delivery.window_end < now - RECENT:
            outcome = Linked.EXPIRED
        elif delivery is not None:
            telegram = [
                c
                for c in await contacts.for_recipient(conn, delivery.recipient_id)
                if c.channel == "telegram"
            ]
            mine = bool(telegram) and telegram[0].address == chat_id
            taken = bool(telegram) and not mine and telegram[0].state is ContactState.ACTIVE
            outcome = Linked.ELSEWHERE if taken else (Linked.AGAIN if mine else Linked.LINKED)
        if delivery is None or outcome in (Linked.EXPIRED, Linked.ELSEWHERE, Linked.UNKNOWN):
            await inbox.finish(
                conn,
                inbox_id,
                now,
                delivery_id=delivery.id if delivery else None,
                intent="Link",
                status="refused",
                error=outcome.value,
            )
            return outcome
        await contacts.link(conn, delivery.recipient_id, Channel.TELEGRAM.value, chat_id, now)
        await events.append(
            conn,
            now,
            "recipient.linked",
            actor="recipient",
            delivery_id=delivery.id,
            data={"channel": "telegram"},
        )
        promise = (await promises.current(conn, [delivery.id])).get(delivery.id)
        start, end = (promise.start, promise.end) if promise else (delivery.window_start, delivery.window_end)
        to = To(
            Channel.TELEGRAM,
            chat_id,
            delivery.locale,
            delivery.timezone,
            first_name(delivery.name),
            recipient_id=delivery.recipient_id,
        )
        composer = services.composer
        fields = {
            "status": phrases.pick(phrases.STATUS, to.locale)[delivery.status],
            "day": composer.day(to, start),
            "window": composer.window(to, start, end),
        }
        greeting = composer.message(
            to,
            Kind.LINKED,
            fields,
            key=f"linked:{inbox_id}",
            order_id=delivery.order_id,
            due_at=now,
            delivery_id=delivery.id,
            promise=promise.version if promise else None,
        )
        await outbox.enqueue(conn, [greeting], now)
        await inbox.finish(conn, inbox_id, now, delivery_id=delivery.id, intent="Link")
        return outcome


LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français"}


async def set_language(services: Services, inbox_id: int, chat_id: str, locale: str) -> bool:
    """Messages to everyone this chat follows, in `locale` from now on; False if the chat follows nobody."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        following = [c.recipient_id for c in await contacts.by_address(conn, Channel.TELEGRAM.value, chat_id)]
        if locale not in LANGUAGES or not following:
            await inbox.finish(conn, inbox_id, now, delivery_id=None, intent="Language", status="refused")
            return False
        await delivery_store.set_language(conn, following, locale, now)
        await events.append(conn, now, "recipient.language", actor="recipient", data={"locale": locale})
        await inbox.finish(conn, inbox_id, now, delivery_id=None, intent="Language")
        return True
