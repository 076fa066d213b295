"""What providers report about the messages we sent (Twilio status callbacks), applied in order.

Reports arrive out of order and more than once, so a status only ever moves forward: a late "sent"
never overwrites "delivered". A report for a provider id the outbox does not hold yet (the callback
beat the dispatcher's write) is kept in `receipts` and applied when the id lands (`apply_waiting`).
A message the provider dropped from its queue unsent, because it outlived its ValidityPeriod there,
ends `expired` like one the dispatcher found too late: it is never sent again.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import messages, receipts

# How far along a message is; equal ranks do not replace each other (the first final word stands).
RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}

# Twilio's errors for a message that never left its queue: 30001 queue overflow (it waited there longer
# than its validity period), 30036 validity period expired. https://www.twilio.com/docs/api/errors/30001
DROPPED_UNSENT = frozenset({"30001", "30036"})
EXPIRED = "expired"  # MessageStatus.EXPIRED; bot/store/outbox.py imports this module, so not from there


def moves_on(current: str | None, new: str) -> bool:
    return new in RANK and (current is None or RANK[new] > RANK.get(current, -1))


async def report(
    conn: AsyncConnection,
    channel: str,
    provider_ref: str,
    status: str,
    error_code: str | None,
    raw: Mapping[str, Any],
    now: datetime,
) -> int | None:
    """Apply a provider's report to its message; its id, or None when no sent message has that provider
    id yet (the report is kept for later)."""
    query = sa.select(messages.c.id, messages.c.provider_status).where(
        messages.c.channel == channel, messages.c.provider_ref == provider_ref
    )
    row = (await conn.execute(query)).first()
    if row is not None:
        if moves_on(row.provider_status, status):
            error = f"{status}: error {error_code}" if error_code else None
            values: dict[str, Any] = {"provider_status": status, "updated_at": now}
            if error:
                values["error"] = error
            if status in ("failed", "undelivered") and error_code in DROPPED_UNSENT:
                values["status"] = EXPIRED
            await conn.execute(messages.update().where(messages.c.id == row.id).values(**values))
        return int(row.id)
    await _keep(conn, channel, provider_ref, status, error_code, raw, now)
    return None


async def _keep(
    conn: AsyncConnection,
    channel: str,
    provider_ref: str,
    status: str,
    error_code: str | None,
    raw: Mapping[str, Any],
    now: datetime,
) -> None:
    where = sa.and_(receipts.c.channel == channel, receipts.c.provider_ref == provider_ref)
    current = (await conn.execute(sa.select(receipts.c.status).where(where))).scalar()
    if current is not None:
        if moves_on(current, status):
            values = {"status": status, "error_code": error_code, "raw": dict(raw), "received_at": now}
            await conn.execute(receipts.update().where(where).values(**values))
        return
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(receipts)
    await conn.execute(
        insert.values(
            channel=channel,
            provider_ref=provider_ref,
            status=status,
            error_code=error_code,
            raw=dict(raw),
            received_at=now,
        ).on_conflict_do_nothing(index_elements=["channel", "provider_ref"])
    )


async def apply_waiting(conn: AsyncConnection, refs: Sequence[str], now: datetime) -> int:
    """Apply kept reports to messages that now carry their provider id; returns how many."""
    if not refs:
        return 0
    waiting = (await conn.execute(sa.select(receipts).where(receipts.c.provider_ref.in_(list(refs))))).all()
    for kept in waiting:
        await report(conn, kept.channel, kept.provider_ref, kept.status, kept.error_code, kept.raw, now)
        await conn.execute(receipts.delete().where(receipts.c.id == kept.id))
    return len(waiting)
