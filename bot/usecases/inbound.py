"""The one inbound path every channel uses: store the message first, then answer it.

A provider that delivers the same message twice (same provider id) gets the same single answer; a
crash between storing and answering leaves the message `received`, and `answer_pending` picks it up.
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.services import Services
from bot.store import contacts, inbox
from bot.store import deliveries as delivery_store
from bot.usecases.errors import NotFoundError
from bot.usecases.respond import respond


async def receive(
    services: Services, channel: str, provider_ref: str, address: str, body: str, raw: Mapping[str, Any]
) -> int | None:
    """Store an inbound message and answer it; None when this provider message was seen before."""
    async with services.store.tx() as conn:
        inbox_id = await inbox.store(conn, channel, provider_ref, address, body, raw, services.clock.now())
    if inbox_id is not None:
        await respond(services, inbox_id)
    return inbox_id


TELEGRAM_UPDATE = "update:"  # provider refs of stored Telegram updates (bot/handlers/telegram.py)


async def answer_pending(services: Services, telegram: Callable[[int], Awaitable[None]] | None = None) -> int:
    """Answer messages stored but never handled (after a crash). Returns how many.

    Telegram updates need the bot's dispatcher (`telegram`); without one they wait for it.
    """
    async with services.store.read() as conn:
        waiting = await inbox.pending(conn)
    handled = 0
    for inbox_id, ref in waiting:
        if not ref.startswith(TELEGRAM_UPDATE):
            await respond(services, inbox_id)
        elif telegram is not None:
            await telegram(inbox_id)
        else:
            continue
        handled += 1
    return handled


async def sandbox_reply(
    services: Services, delivery: int | str, text: str, channel: str = "sms"
) -> int | None:
    """A simulated recipient answers a delivery (id or order id), the way a real reply comes in."""
    async with services.store.read() as conn:
        found = (
            await delivery_store.get(conn, delivery)
            if isinstance(delivery, int)
            else (await delivery_store.by_order_ids(conn, [delivery])).get(delivery)
        )
        if found is None:
            raise NotFoundError(f"no delivery {delivery!r} (give its id or order id)", field="delivery")
        delivery_id = found.id
        known = [c for c in await contacts.for_recipient(conn, found.recipient_id) if c.channel == channel]
    if not known:
        raise NotFoundError(f"delivery {delivery!r} has no {channel} contact", field="channel")
    ref = f"sandbox-in-{uuid.uuid4().hex}"
    raw = {"sandbox": True, "delivery_id": delivery_id}
    return await receive(services, channel, ref, known[0].address, text, raw)
