"""The promise ledger: every window a recipient was told, versioned; the latest is the promise."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import promises

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Promise:
    delivery_id: int
    version: int
    start: datetime
    end: datetime
    reason: str


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
            sa.select(
                promises.c.delivery_id,
                promises.c.version,
                promises.c.start,
                promises.c.end,
                promises.c.reason,
            ).join(
                latest,
                sa.and_(
                    latest.c.delivery_id == promises.c.delivery_id, latest.c.version == promises.c.version
                ),
            )
        )
        found.update((r.delivery_id, Promise(**r._mapping)) for r in rows)
    return found


async def record(conn: AsyncConnection, new: Sequence[Promise], now: datetime) -> None:
    if new:
        rows = [{**{k: getattr(p, k) for k in Promise.__slots__}, "created_at": now} for p in new]
        await conn.execute(promises.insert(), rows)
