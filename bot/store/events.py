"""The append-only event log: every change to a delivery, driver or plan leaves a row here."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import events


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: datetime
    kind: str
    delivery_id: int | None
    driver_id: int | None
    plan_id: int | None
    actor: str
    data: Mapping[str, Any]


async def append(
    conn: AsyncConnection,
    at: datetime,
    kind: str,
    *,
    actor: str,
    delivery_id: int | None = None,
    driver_id: int | None = None,
    plan_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    await conn.execute(
        events.insert().values(
            at=at,
            kind=kind,
            actor=actor,
            delivery_id=delivery_id,
            driver_id=driver_id,
            plan_id=plan_id,
            data=dict(data or {}),
        )
    )


async def append_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(events.insert(), rows)


async def for_delivery(conn: AsyncConnection, delivery_id: int) -> list[Event]:
    query = sa.select(events).where(events.c.delivery_id == delivery_id).order_by(events.c.id)
    return [Event(**row._mapping) for row in await conn.execute(query)]


async def of_kind(conn: AsyncConnection, kind: str, delivery_ids: Sequence[int]) -> list[Event]:
    """The events of one kind on these deliveries, oldest first."""
    query = (
        sa.select(events)
        .where(events.c.delivery_id.in_(list(delivery_ids)), events.c.kind == kind)
        .order_by(events.c.id)
    )
    return [Event(**row._mapping) for row in await conn.execute(query)]


async def last_id(conn: AsyncConnection) -> int:
    """The newest event's id (0 for none): every change to a day leaves an event, so a reader that saw
    this id knows whether anything changed since (bot/usecases/on_the_road.py)."""
    return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0)))).scalar_one())
