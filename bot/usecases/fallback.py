"""When a channel stops working for a recipient: mark it, and send on their next channel, else tell support.

The dispatcher calls `reroute` in the transaction that records a batch, for each send that failed
because of the address itself (a blocked bot, an opted-out or invalid number). The message goes
again, rendered for the recipient's next working channel (`pick_contact`), with its own key so it
is queued once; when there is none, support gets one "unreachable" escalation per recipient.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.contacts import ContactState
from bot.domain.escalations import Reason
from bot.notify.compose import Composer, To, pick_contact
from bot.notify.kinds import Kind
from bot.store import contacts, escalations, outbox


async def reroute(
    conn: AsyncConnection, failed: Sequence[tuple[int, str]], now: datetime, *, composer: Composer
) -> None:
    """`failed`: (message id, what the provider said about its address: opted_out, dead or invalid)."""
    for message_id, state in failed:
        row = await outbox.get(conn, message_id)
        if row is None:
            continue
        await contacts.set_state_of_address(conn, row["channel"], row["address"], ContactState(state), now)
        recipient_id, render = row["recipient_id"], row["payload"].get("render")
        if recipient_id is None or render is None:
            continue  # a driver's chat: support sees the failed row (the driver console comes with Telegram)
        nxt = pick_contact(await contacts.for_recipient(conn, recipient_id))
        if nxt is None:
            await _unreachable(conn, row["channel"], state, recipient_id, row["delivery_id"], now)
            continue
        to = To(nxt.channel, nxt.address, row["locale"], row["timezone"], render["name"], recipient_id)
        again = composer.message(
            to,
            Kind(row["kind"]),
            render["fields"],
            key=f"{row['idem_key']}>{nxt.channel}",
            order_id=render["order_id"],
            due_at=now,
            delivery_id=row["delivery_id"],
            valid_until=row["valid_until"],
            promise=row["payload"].get("promise"),
        )
        await outbox.enqueue(conn, [again], now)


async def _unreachable(
    conn: AsyncConnection, channel: str, state: str, recipient_id: int, delivery_id: int | None, now: datetime
) -> None:
    reason = Reason.UNREACHABLE
    if await escalations.has_open(conn, reason, recipient_id=recipient_id):
        return
    detail = f"{channel} is {state.replace('_', ' ')} and no other channel works: nothing reaches them"
    await escalations.open_one(conn, now, reason, detail, delivery_id=delivery_id, recipient_id=recipient_id)
