"""Escalations: what the support team has to look at, open until someone resolves it."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.escalations import Reason
from bot.store.tables import escalations


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


@dataclass(frozen=True, slots=True)
class Escalation:
    id: int
    delivery_id: int | None
    recipient_id: int | None
    kind: str
    status: str  # open | resolved
    assigned_to: int | None


async def get(conn: AsyncConnection, escalation_id: int) -> Escalation | None:
    query = sa.select(
        escalations.c.id, escalations.c.delivery_id, escalations.c.recipient_id, escalations.c.kind,
        escalations.c.status, escalations.c.assigned_to,
    ).where(escalations.c.id == escalation_id)  # fmt: skip
    row = (await conn.execute(query)).first()
    return Escalation(*row) if row else None


async def assign(conn: AsyncConnection, escalation_id: int, user_id: int, now: datetime) -> None:
    await conn.execute(
        escalations.update()
        .where(escalations.c.id == escalation_id)
        .values(assigned_to=user_id, assigned_at=now)
    )


async def resolve(conn: AsyncConnection, escalation_id: int, user_id: int | None, now: datetime) -> bool:
    """Close an open escalation; False if it was not open (resolved meanwhile)."""
    result = await conn.execute(
        escalations.update()
        .where(escalations.c.id == escalation_id, escalations.c.status == "open")
        .values(status="resolved", resolved_at=now, resolved_by=user_id)
    )
    return result.rowcount == 1
