"""The promise ledger: every window a recipient was told, versioned; the latest is the promise."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import deliveries, promises

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Promise:
    delivery_id: int
    version: int
    start: datetime
    end: datetime
    reason: str


_LEDGER = [promises.c[f] for f in Promise.__slots__]  # a row of these is a Promise, by position


async def current(conn: AsyncConnection, delivery_ids: Iterable[int]) -> dict[int, Promise]:
    """The latest promise of each delivery that has one."""
    ids = list(delivery_ids)
    found: dict[int, Promise] = {}
    for n in range(0, len(ids), _CHUNK):
        latest = (
            sa.select(promises.c.delivery_id, sa.func.max(promises.c.version).label("version"))
            .where(promises.c.delivery_id.in_(ids[n : n + _CHUNK]))
            .group_by(promises.c.delivery_id)
            .subquery()
        )
        rows = await conn.execute(
            sa.select(*_LEDGER).join(
                latest,
                sa.and_(
                    latest.c.delivery_id == promises.c.delivery_id, latest.c.version == promises.c.version
                ),
            )
        )
        found.update((r.delivery_id, Promise(*r)) for r in rows)
    return found


async def current_for_day(conn: AsyncConnection, day: date) -> dict[int, Promise]:
    """`current` of every delivery of `day`, in one query (a re-plan reads the whole day)."""
    older = promises.alias("older")
    latest = sa.select(sa.func.max(older.c.version)).where(older.c.delivery_id == promises.c.delivery_id)
    query = (
        sa.select(*_LEDGER)
        .join(deliveries, deliveries.c.id == promises.c.delivery_id)
        .where(deliveries.c.date == day, promises.c.version == latest.scalar_subquery())
    )
    return {r.delivery_id: Promise(*r) for r in await conn.execute(query)}


async def record(conn: AsyncConnection, new: Sequence[Promise], now: datetime) -> None:
    if new:
        rows = [{**{k: getattr(p, k) for k in Promise.__slots__}, "created_at": now} for p in new]
        await conn.execute(promises.insert(), rows)
