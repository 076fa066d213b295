"""Depots and drivers (a driver is also the vehicle they drive: shift, capacity, skills, start/end)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Depot, Driver
from bot.store.tables import depots, drivers

_DRIVER_COLUMNS = [c for c in drivers.c if c.name in Driver.__slots__]


def _driver(row: sa.Row[Any]) -> Driver:
    values = dict(row._mapping)
    return Driver(**{**values, "skills": tuple(values["skills"])})


async def depots_by_code(conn: AsyncConnection) -> dict[str, Depot]:
    rows = await conn.execute(sa.select(*[depots.c[f] for f in Depot.__slots__]))
    return {row.code: Depot(**row._mapping) for row in rows}


async def get_depot(conn: AsyncConnection, depot_id: int) -> Depot | None:
    row = (
        await conn.execute(sa.select(*[depots.c[f] for f in Depot.__slots__]).where(depots.c.id == depot_id))
    ).first()
    return Depot(**row._mapping) if row else None


async def upsert_depot(conn: AsyncConnection, values: Mapping[str, Any], now: datetime) -> tuple[int, bool]:
    """Create the depot or update the one with the same code; returns (id, created)."""
    return await _upsert_by_code(conn, depots, values, now)


async def upsert_driver(conn: AsyncConnection, values: Mapping[str, Any], now: datetime) -> tuple[int, bool]:
    """Create the driver or update the one with the same code; returns (id, created)."""
    return await _upsert_by_code(conn, drivers, values, now)


async def _upsert_by_code(
    conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any], now: datetime
) -> tuple[int, bool]:
    found = (await conn.execute(sa.select(table.c.id).where(table.c.code == values["code"]))).scalar()
    if found is not None:
        await conn.execute(table.update().where(table.c.id == found).values(**values, updated_at=now))
        return int(found), False
    result = await conn.execute(
        table.insert().values(**values, created_at=now, updated_at=now).returning(table.c.id)
    )
    return int(result.scalar_one()), True


async def list_drivers(conn: AsyncConnection, *, active_only: bool = False) -> list[Driver]:
    query = sa.select(*_DRIVER_COLUMNS).order_by(drivers.c.code)
    if active_only:
        query = query.where(drivers.c.active)
    return [_driver(row) for row in await conn.execute(query)]


async def get_driver(conn: AsyncConnection, driver_id: int) -> Driver | None:
    row = (await conn.execute(sa.select(*_DRIVER_COLUMNS).where(drivers.c.id == driver_id))).first()
    return _driver(row) if row else None


async def set_position(conn: AsyncConnection, driver_id: int, lat: float, lon: float, at: datetime) -> None:
    await conn.execute(
        drivers.update()
        .where(drivers.c.id == driver_id)
        .values(position_lat=lat, position_lon=lon, position_at=at, updated_at=at)
    )


async def driver_by_code(conn: AsyncConnection, code: str) -> Driver | None:
    row = (await conn.execute(sa.select(*_DRIVER_COLUMNS).where(drivers.c.code == code))).first()
    return _driver(row) if row else None


async def driver_by_chat(conn: AsyncConnection, chat_id: str) -> Driver | None:
    """The driver whose linked Telegram chat this is."""
    query = sa.select(*_DRIVER_COLUMNS).where(drivers.c.telegram_chat_id == chat_id)
    row = (await conn.execute(query)).first()
    return _driver(row) if row else None


async def set_link_code(
    conn: AsyncConnection, driver_id: int, code_hash: str, expires_at: datetime, now: datetime
) -> None:
    """The driver's one open link code (a new one replaces the last)."""
    await conn.execute(
        drivers.update()
        .where(drivers.c.id == driver_id)
        .values(link_code_hash=code_hash, link_code_expires_at=expires_at, updated_at=now)
    )


async def by_link_code(conn: AsyncConnection, code_hash: str) -> tuple[int, datetime] | None:
    """(driver id, when the code expires) of the driver holding this code."""
    query = sa.select(drivers.c.id, drivers.c.link_code_expires_at).where(
        drivers.c.link_code_hash == code_hash
    )
    row = (await conn.execute(query)).first()
    return (row.id, row.link_code_expires_at) if row else None


async def use_link_code(conn: AsyncConnection, driver_id: int, code_hash: str, now: datetime) -> bool:
    """Clear the driver's code if it is still this one; False if someone else used it first."""
    result = await conn.execute(
        drivers.update()
        .where(drivers.c.id == driver_id, drivers.c.link_code_hash == code_hash)
        .values(link_code_hash=None, link_code_expires_at=None, updated_at=now)
    )
    return bool(result.rowcount)


async def link_chat(conn: AsyncConnection, driver_id: int, chat_id: str, now: datetime) -> int | None:
    """Link the chat to the driver; returns the driver the chat was taken from, if it was linked."""
    before = (
        await conn.execute(
            sa.select(drivers.c.id).where(drivers.c.telegram_chat_id == chat_id, drivers.c.id != driver_id)
        )
    ).scalar()
    if before is not None:
        await conn.execute(
            drivers.update().where(drivers.c.id == before).values(telegram_chat_id=None, updated_at=now)
        )
    await conn.execute(
        drivers.update().where(drivers.c.id == driver_id).values(telegram_chat_id=chat_id, updated_at=now)
    )
    return int(before) if before is not None else None
