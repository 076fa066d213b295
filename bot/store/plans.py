"""Plans, their routes and stops, and the jobs a plan could not serve."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery, Status
from bot.domain.routes import NewRoute, NewStop, PlanHeader, RouteView, StopView, UnassignedView
from bot.store.tables import deliveries, drivers, plans, routes, stops, unassigned

_STOPS = (
    sa.select(
        stops.c.route_id,
        stops.c.delivery_id,
        deliveries.c.order_id,
        deliveries.c.name,
        deliveries.c.address,
        stops.c.sequence,
        stops.c.planned_arrival,
        stops.c.promised_start,
        stops.c.promised_end,
        deliveries.c.window_start,
        deliveries.c.window_end,
        deliveries.c.status,
        deliveries.c.timezone,
    )
    .join(deliveries, deliveries.c.id == stops.c.delivery_id)
    .join(routes, routes.c.id == stops.c.route_id)
)
# A `_STOPS` row is the route id, then the StopView fields in order: rows are read by position.
assert [c.name for c in _STOPS.selected_columns] == ["route_id", *StopView.__slots__]
_STOP_STATUS = StopView.__slots__.index("status")
_STOP_ROWS = sa.select(
    stops.c.route_id,
    stops.c.delivery_id,
    stops.c.sequence,
    stops.c.planned_arrival,
    stops.c.promised_start,
    stops.c.promised_end,
).join(routes, routes.c.id == stops.c.route_id)


async def save(
    conn: AsyncConnection,
    header: dict[str, object],
    new_routes: Sequence[NewRoute],
    unserved: Sequence[tuple[int, str]],
) -> PlanHeader:
    """Store a new version of the day's plan and make it the active one."""
    day = header["date"]
    last = (await conn.execute(sa.select(sa.func.max(plans.c.version)).where(plans.c.date == day))).scalar()
    await conn.execute(plans.update().where(plans.c.date == day).values(active=False))
    insert = plans.insert().values(**header, version=(last or 0) + 1, active=True).returning(*plans.c)
    row = (await conn.execute(insert)).one()
    for route in new_routes:
        values = {
            k: getattr(route, k) for k in ("driver_id", "start_at", "end_at", "distance_m", "duration_s")
        }
        route_id = (
            await conn.execute(routes.insert().values(plan_id=row.id, **values).returning(routes.c.id))
        ).scalar_one()
        rows = [{"route_id": route_id, **{k: getattr(s, k) for k in NewStop.__slots__}} for s in route.stops]
        if rows:
            await conn.execute(stops.insert(), rows)
    if unserved:
        await conn.execute(
            unassigned.insert(), [{"plan_id": row.id, "delivery_id": d, "reason": r} for d, r in unserved]
        )
    return _header(row)


def _header(row: sa.Row[object]) -> PlanHeader:
    return PlanHeader(**{k: v for k, v in row._mapping.items() if k in PlanHeader.__slots__})


async def active(conn: AsyncConnection, day: date) -> PlanHeader | None:
    row = (await conn.execute(sa.select(plans).where(plans.c.date == day, plans.c.active))).first()
    return _header(row) if row else None


async def nearest_active_day(conn: AsyncConnection, day: date) -> date | None:
    """The day with an active plan closest to `day` (the later one on a tie), or None if none has."""
    active_days = sa.select(plans.c.date).where(plans.c.active).limit(1)
    later = active_days.where(plans.c.date >= day).order_by(plans.c.date)
    earlier = active_days.where(plans.c.date < day).order_by(plans.c.date.desc())
    after: date | None = (await conn.execute(later)).scalar()
    before: date | None = (await conn.execute(earlier)).scalar()
    if after is None or before is None:
        return after or before
    return after if after - day <= day - before else before


async def route_views(
    conn: AsyncConnection, plan_id: int, known: Mapping[int, Delivery] | None = None
) -> list[RouteView]:
    """The plan's routes, stops in order; `known` (the day's deliveries, already read) spares the join."""
    route_rows = await conn.execute(
        sa.select(routes, drivers.c.code, drivers.c.name)
        .join(drivers, drivers.c.id == routes.c.driver_id)
        .where(routes.c.plan_id == plan_id)
        .order_by(drivers.c.code)
    )
    by_route = await (_stops_of(conn, plan_id) if known is None else _stops_with(conn, plan_id, known))
    return [
        RouteView(
            id=r.id,
            driver_id=r.driver_id,
            driver_code=r.code,
            driver_name=r.name,
            start_at=r.start_at,
            end_at=r.end_at,
            distance_m=r.distance_m,
            duration_s=r.duration_s,
            stops=tuple(by_route.get(r.id, [])),
        )
        for r in route_rows
    ]


async def _stops_of(conn: AsyncConnection, plan_id: int) -> dict[int, list[StopView]]:
    rows = await conn.execute(
        _STOPS.where(routes.c.plan_id == plan_id).order_by(stops.c.route_id, stops.c.sequence)
    )
    by_route: dict[int, list[StopView]] = {}
    for row in rows:
        by_route.setdefault(row.route_id, []).append(_stop(row))
    return by_route


async def _stops_with(
    conn: AsyncConnection, plan_id: int, known: Mapping[int, Delivery]
) -> dict[int, list[StopView]]:
    """As `_stops_of`, the delivery fields taken from `known` (the join if a stop's delivery is not there)."""
    query = _STOP_ROWS.where(routes.c.plan_id == plan_id).order_by(stops.c.route_id, stops.c.sequence)
    rows = (await conn.execute(query)).all()
    if any(row.delivery_id not in known for row in rows):
        return await _stops_of(conn, plan_id)
    by_route: dict[int, list[StopView]] = {}
    for route_id, delivery_id, sequence, arrival, promised_start, promised_end in rows:
        d = known[delivery_id]
        stop = StopView(
            delivery_id, d.order_id, d.name, d.address, sequence, arrival, promised_start, promised_end,
            d.window_start, d.window_end, d.status, d.timezone,
        )  # fmt: skip
        by_route.setdefault(route_id, []).append(stop)
    return by_route


async def active_stop(conn: AsyncConnection, delivery_id: int) -> StopView | None:
    """The delivery's stop in the active plan of its day, unless a change since took it off the plan."""
    off_plan = [Status.CREATED.value, Status.RESCHEDULED.value, Status.CANCELLED.value]
    query = (
        _STOPS.join(plans, plans.c.id == routes.c.plan_id)
        .where(plans.c.active, stops.c.delivery_id == delivery_id)
        .where(deliveries.c.status.not_in(off_plan))
    )
    row = (await conn.execute(query)).first()
    return _stop(row) if row else None


def _stop(row: Sequence[Any]) -> StopView:
    values = list(row)[1:]
    values[_STOP_STATUS] = Status(values[_STOP_STATUS])
    return StopView(*values)


async def unassigned_views(conn: AsyncConnection, plan_id: int) -> list[UnassignedView]:
    rows = await conn.execute(
        sa.select(unassigned.c.delivery_id, deliveries.c.order_id, unassigned.c.reason)
        .join(deliveries, deliveries.c.id == unassigned.c.delivery_id)
        .where(unassigned.c.plan_id == plan_id)
        .order_by(deliveries.c.order_id)
    )
    return [UnassignedView(**row._mapping) for row in rows]


async def remove_stops(conn: AsyncConnection, plan_id: int, delivery_ids: Sequence[int]) -> None:
    """Take deliveries off every route of a plan (before they are placed again)."""
    plan_routes = sa.select(routes.c.id).where(routes.c.plan_id == plan_id).scalar_subquery()
    await conn.execute(
        stops.delete().where(stops.c.route_id.in_(plan_routes), stops.c.delivery_id.in_(list(delivery_ids)))
    )


async def rewrite_route(conn: AsyncConnection, plan_id: int, route: NewRoute) -> int:
    """Give a driver exactly these stops in the plan (creating the route if the van had none)."""
    values = {k: getattr(route, k) for k in ("start_at", "end_at", "distance_m", "duration_s")}
    where = sa.and_(routes.c.plan_id == plan_id, routes.c.driver_id == route.driver_id)  # unique
    update = routes.update().where(where).values(**values).returning(routes.c.id)
    found = (await conn.execute(update)).scalar()
    if found is None:
        insert = routes.insert().values(plan_id=plan_id, driver_id=route.driver_id, **values)
        found = (await conn.execute(insert.returning(routes.c.id))).scalar_one()
    else:
        await conn.execute(stops.delete().where(stops.c.route_id == found))
    rows = [{"route_id": found, **{k: getattr(s, k) for k in NewStop.__slots__}} for s in route.stops]
    if rows:
        await conn.execute(stops.insert(), rows)
    return int(found)


async def bump_revision(conn: AsyncConnection, plan_id: int) -> int:
    bump = plans.update().where(plans.c.id == plan_id).values(revision=plans.c.revision + 1)
    return int((await conn.execute(bump.returning(plans.c.revision))).scalar_one())


async def driver_of(conn: AsyncConnection, plan_id: int, delivery_id: int) -> int | None:
    """Whose route the delivery is on in this plan."""
    query = (
        sa.select(routes.c.driver_id)
        .join(stops, stops.c.route_id == routes.c.id)
        .where(routes.c.plan_id == plan_id, stops.c.delivery_id == delivery_id)
    )
    found: int | None = (await conn.execute(query)).scalar()
    return found


async def planned_for_driver(conn: AsyncConnection, plan_id: int, driver_id: int) -> list[int]:
    """The driver's stops in this plan that have not left the depot yet (status planned)."""
    query = (
        sa.select(stops.c.delivery_id)
        .join(routes, routes.c.id == stops.c.route_id)
        .join(deliveries, deliveries.c.id == stops.c.delivery_id)
        .where(routes.c.plan_id == plan_id, routes.c.driver_id == driver_id)
        .where(deliveries.c.status == Status.PLANNED.value)
        .order_by(stops.c.sequence)
    )
    return list((await conn.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class Pending:
    """Deliveries of a planned day that are on no route yet (new, re-imported, moved in from another day)."""

    delivery_ids: tuple[int, ...]
    first_change: datetime
    last_change: datetime


async def pending(conn: AsyncConnection, plan_id: int) -> Pending | None:
    """What changed since the plan last took its new deliveries in (or since it was made)."""
    plan = plans.alias("p")
    on_a_route = (
        sa.select(stops.c.delivery_id)
        .join(routes, routes.c.id == stops.c.route_id)
        .where(routes.c.plan_id == plan_id)
    )
    since = sa.func.coalesce(plan.c.pending_checked_at, plan.c.created_at)
    query = (
        sa.select(deliveries.c.id, deliveries.c.updated_at)
        .join(plan, plan.c.date == deliveries.c.date)
        .where(plan.c.id == plan_id)
        .where(deliveries.c.status.in_([Status.CREATED.value, Status.RESCHEDULED.value]))
        .where(deliveries.c.updated_at > since)
        .where(deliveries.c.id.not_in(on_a_route))
        .order_by(deliveries.c.id)
    )
    rows = (await conn.execute(query)).all()
    if not rows:
        return None
    changes = [row.updated_at for row in rows]
    return Pending(tuple(row.id for row in rows), min(changes), max(changes))


async def mark_pending_checked(conn: AsyncConnection, plan_id: int, at: datetime) -> None:
    await conn.execute(plans.update().where(plans.c.id == plan_id).values(pending_checked_at=at))
