"""Proof-of-delivery photos (the `photos` table): the image itself, kept by Doorstep."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import photos


@dataclass(frozen=True, slots=True)
class Photo:
    id: int
    taken_at: datetime
    content_type: str
    data: bytes


async def add(
    conn: AsyncConnection,
    delivery_id: int,
    at: datetime,
    content_type: str,
    data: bytes,
    *,
    source: str,
    ref: str | None = None,
) -> int:
    inserted = await conn.execute(
        photos.insert()
        .values(
            delivery_id=delivery_id, taken_at=at, source=source, ref=ref, content_type=content_type, data=data
        )
        .returning(photos.c.id)
    )
    return int(inserted.scalar_one())


async def latest(conn: AsyncConnection, delivery_id: int) -> Photo | None:
    """The delivery's newest photo, or None."""
    query = (
        sa.select(photos.c.id, photos.c.taken_at, photos.c.content_type, photos.c.data)
        .where(photos.c.delivery_id == delivery_id)
        .order_by(photos.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return Photo(row.id, row.taken_at, row.content_type, bytes(row.data)) if row else None


async def latest_id(conn: AsyncConnection, delivery_id: int) -> int | None:
    """The id of the delivery's newest photo (without reading it), or None."""
    query = sa.select(sa.func.max(photos.c.id)).where(photos.c.delivery_id == delivery_id)
    found = (await conn.execute(query)).scalar_one_or_none()
    return int(found) if found is not None else None
