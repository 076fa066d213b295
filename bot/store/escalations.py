"""Escalations: what the support team has to look at, open until someone resolves it."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import escalations


class Reason(StrEnum):
    NOT_UNDERSTOOD = "not_understood"
    PERSON = "person"
    NOT_RECEIVED = "not_received"
    LOW_RATING = "low_rating"
    LATE = "late"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


async def open_one(
    conn: AsyncConnection,
    now: datetime,
    reason: Reason,
    detail: str,
    *,
    delivery_id: int | None = None,
    recipient_id: int | None = None,
) -> None:
    await conn.execute(
        escalations.insert().values(
            delivery_id=delivery_id,
            recipient_id=recipient_id,
            kind=reason.value,
            detail=detail,
            status="open",
            created_at=now,
        )
    )


async def has_open(
    conn: AsyncConnection, reason: Reason, *, delivery_id: int | None = None, recipient_id: int | None = None
) -> bool:
    query = sa.select(escalations.c.id).where(escalations.c.kind == reason.value)
    query = query.where(escalations.c.status == "open")
    if delivery_id is not None:
        query = query.where(escalations.c.delivery_id == delivery_id)
    if recipient_id is not None:
        query = query.where(escalations.c.recipient_id == recipient_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def open_counts(conn: AsyncConnection) -> dict[str, int]:
    query = sa.select(escalations.c.kind, sa.func.count()).where(escalations.c.status == "open")
    return {kind: int(n) for kind, n in await conn.execute(query.group_by(escalations.c.kind))}
