"""The promise ledger: every window we hold for a recipient, versioned; the latest is the promise.

A version is *told* once a message stating it is queued (`told_at`, set by `bot.store.outbox.enqueue`):
a re-plan that moves a window by less than the threshold makes a new version nobody is told of, and the
next change is measured against the last version told, so small slips that add up still reach them.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.promises import Promise
from bot.store.tables import deliveries, promises

_CHUNK = 500


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


async def last_told(conn: AsyncConnection, delivery_ids: Iterable[int]) -> dict[int, Promise]:
    """The latest version told to each of these deliveries' recipients (none: never told)."""
    ids = list(delivery_ids)
    older = promises.alias("older")
    latest = sa.select(sa.func.max(older.c.version)).where(
        older.c.delivery_id == promises.c.delivery_id, older.c.told_at.is_not(None)
    )
    found: dict[int, Promise] = {}
    for n in range(0, len(ids), _CHUNK):
        query = sa.select(*_LEDGER).where(
            promises.c.delivery_id.in_(ids[n : n + _CHUNK]), promises.c.version == latest.scalar_subquery()
        )
        found.update((r.delivery_id, Promise(*r)) for r in await conn.execute(query))
    return found


async def told_history(conn: AsyncConnection, delivery_id: int) -> list[Promise]:
    """Every version the recipient was told, oldest first (the window and how it changed)."""
    query = (
        sa.select(*_LEDGER)
        .where(promises.c.delivery_id == delivery_id, promises.c.told_at.is_not(None))
        .order_by(promises.c.version)
    )
    return [Promise(*r) for r in await conn.execute(query)]


async def last_told_for_day(conn: AsyncConnection, day: date) -> dict[int, Promise]:
    """The latest version told to each recipient of `day`'s deliveries."""
    older = promises.alias("older")
    latest = sa.select(sa.func.max(older.c.version)).where(
        older.c.delivery_id == promises.c.delivery_id, older.c.told_at.is_not(None)
    )
    query = (
        sa.select(*_LEDGER)
        .join(deliveries, deliveries.c.id == promises.c.delivery_id)
        .where(deliveries.c.date == day, promises.c.version == latest.scalar_subquery())
    )
    return {r.delivery_id: Promise(*r) for r in await conn.execute(query)}


async def mark_told(conn: AsyncConnection, told: Iterable[tuple[int, int]], now: datetime) -> None:
    """(delivery id, version) pairs a message has just stated; a version keeps its first time told."""
    for delivery_id, version in set(told):
        await conn.execute(
            promises.update()
            .where(
                promises.c.delivery_id == delivery_id,
                promises.c.version == version,
                promises.c.told_at.is_(None),
            )
            .values(told_at=now)
        )


async def record(conn: AsyncConnection, new: Sequence[Promise], now: datetime) -> None:
    if new:
        rows = [{**{k: getattr(p, k) for k in Promise.__slots__}, "created_at": now} for p in new]
        await conn.execute(promises.insert(), rows)
