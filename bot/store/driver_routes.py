"""One driver's part of a plan, as their chat shows it: their stops in order, and the plan's revision."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Status
from bot.store.tables import deliveries, plans, routes, stops


@dataclass(frozen=True, slots=True)
class DriverStop:
    delivery_id: int
    sequence: int
    promised_start: datetime
    promised_end: datetime
    status: Status


async def stops_of(conn: AsyncConnection, plan_id: int, driver_id: int) -> list[DriverStop]:
    """The driver's stops in this plan, in order, finished ones included."""
    query = (
        sa.select(
            stops.c.delivery_id,
            stops.c.sequence,
            stops.c.promised_start,
            stops.c.promised_end,
            deliveries.c.status,
        )
        .join(routes, routes.c.id == stops.c.route_id)
        .join(deliveries, deliveries.c.id == stops.c.delivery_id)
        .where(routes.c.plan_id == plan_id, routes.c.driver_id == driver_id)
        .order_by(stops.c.sequence)
    )
    return [DriverStop(*row[:4], Status(row.status)) for row in await conn.execute(query)]


async def revision(conn: AsyncConnection, plan_id: int) -> int:
    """How many incremental re-plans the plan has had (PlanHeader does not carry it)."""
    return int((await conn.execute(sa.select(plans.c.revision).where(plans.c.id == plan_id))).scalar_one())
