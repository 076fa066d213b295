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
