"""Plan a delivery day: deliveries and drivers from the store, VROOM via eta, routes back to the store."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.config import EtaSettings
from bot.domain.deliveries import PLANNABLE, UNDER_WAY, Delivery, Status
from bot.store import deliveries as delivery_store
from bot.store import events, fleet, plans, promises
from bot.store.db import Store
from bot.store.promises import Promise
from bot.usecases.errors import ConflictError
from bot.usecases.specs import job_spec, vehicle_spec
from eta.matrix import MatrixProvider
from eta.model import Plan
from eta.plan import plan_day
from eta.windows import promised_window


class PlanningError(ConflictError):
    """The day cannot be planned from scratch now; the message says why and what to do."""


@dataclass(frozen=True)
class PlanResult:
    plan: plans.PlanHeader
    routes: list[plans.RouteView]
    unassigned: list[plans.UnassignedView]


async def plan_date(
    store: Store, clock: Clock, settings: EtaSettings, matrix: MatrixProvider, day: date, *, actor: str
) -> PlanResult:
    """Full optimisation of one day; stores a new plan version with promised windows."""
    async with store.read() as conn:
        todo = await _deliveries_to_plan(conn, day)
        drivers = await fleet.list_drivers(conn, active_only=True)
        depots = {d.id: d for d in (await fleet.depots_by_code(conn)).values()}
    vans = [vehicle_spec(driver, depots[driver.depot_id], day) for driver in drivers]
    solved = await plan_day(
        vans, [job_spec(d) for d in todo], matrix, exploration=settings.exploration, threads=settings.threads
    )
    async with store.tx() as conn:
        if _fingerprint(await _deliveries_to_plan(conn, day)) != _fingerprint(todo):
            raise PlanningError(f"deliveries for {day} changed while planning; run the plan again")
        header = await _store(conn, clock.now(), settings, matrix.name, day, todo, solved, actor)
        return PlanResult(
            header, await plans.route_views(conn, header.id), await plans.unassigned_views(conn, header.id)
        )


def _fingerprint(todo: Sequence[Delivery]) -> list[tuple[object, ...]]:
    return [(d.id, d.status, d.window_start, d.window_end, d.lat, d.lon, d.size) for d in todo]


async def _deliveries_to_plan(conn: AsyncConnection, day: date) -> list[Delivery]:
    everything = await delivery_store.find(conn, delivery_store.DeliveryFilter(day=day, limit=1_000_000))
    started = [d for d in everything if d.status in UNDER_WAY]
    if started:
        raise PlanningError(
            f"{len(started)} deliveries on {day} are already under way (e.g. {started[0].order_id}: "
            f"{started[0].status}); a full plan would move parcels already in the vans"
        )
    return [d for d in everything if d.status in PLANNABLE]


async def _store(
    conn: AsyncConnection,
    now: datetime,
    settings: EtaSettings,
    matrix_name: str,
    day: date,
    todo: Sequence[Delivery],
    solved: Plan,
    actor: str,
) -> plans.PlanHeader:
    by_id = {d.id: d for d in todo}
    width = timedelta(minutes=settings.window_minutes)
    align = timedelta(minutes=settings.window_align_minutes)
    new_routes = [
        plans.NewRoute(
            r.vehicle_id, r.start_at, r.end_at, r.distance_m, r.duration_s,
            [
                plans.NewStop(s.job_id, s.sequence, s.arrival,
                              *promised_window(s.arrival, _requested(by_id[s.job_id]), width, align))
                for s in r.stops
            ],
        )
        for r in solved.routes
    ]  # fmt: skip
    fields = {"date": day, "matrix": matrix_name, "cost": solved.cost, "solve_ms": solved.solve_ms}
    header = await plans.save(
        conn,
        {**fields, "created_at": now},
        new_routes,
        [(u.job_id, u.reason) for u in solved.unserved],
    )
    await _record(conn, now, header, new_routes, solved, by_id, actor)
    await _promise(conn, now, new_routes)
    return header


async def _promise(conn: AsyncConnection, now: datetime, new_routes: Sequence[plans.NewRoute]) -> None:
    """Each stop's promised window goes into the ledger when it differs from what the recipient was told."""
    planned = {s.delivery_id: s for r in new_routes for s in r.stops}
    told = await promises.current(conn, planned)
    changed = [
        Promise(d, told[d].version + 1 if d in told else 1, s.promised_start, s.promised_end, "planned")
        for d, s in planned.items()
        if d not in told or (told[d].start, told[d].end) != (s.promised_start, s.promised_end)
    ]
    await promises.record(conn, changed, now)


def _requested(delivery: Delivery) -> tuple[datetime, datetime]:
    return delivery.window_start, delivery.window_end


async def _record(
    conn: AsyncConnection,
    now: datetime,
    header: plans.PlanHeader,
    new_routes: Sequence[plans.NewRoute],
    solved: Plan,
    by_id: dict[int, Delivery],
    actor: str,
) -> None:
    """Statuses follow the plan, and every delivery's log says what the plan did with it."""
    planned = [s for r in new_routes for s in r.stops]
    await delivery_store.set_status(conn, [s.delivery_id for s in planned], Status.PLANNED, now)
    await delivery_store.set_status(conn, [u.job_id for u in solved.unserved], Status.CREATED, now)
    base = {"at": now, "actor": actor, "plan_id": header.id, "driver_id": None}
    log = [
        {**base, "kind": "plan.created", "delivery_id": None,
         "data": {"date": header.date.isoformat(), "version": header.version, "stops": len(planned),
                  "unassigned": len(solved.unserved), "solve_ms": solved.solve_ms}},
    ]  # fmt: skip
    for route in new_routes:
        log.extend(
            {**base, "kind": "delivery.planned", "delivery_id": s.delivery_id, "driver_id": route.driver_id,
             "data": {"version": header.version, "arrival": s.planned_arrival.isoformat(),
                      "promised": [s.promised_start.isoformat(), s.promised_end.isoformat()]}}
            for s in route.stops
        )  # fmt: skip
    log.extend(
        {**base, "kind": "delivery.unassigned", "delivery_id": u.job_id, "data": {"reason": u.reason}}
        for u in solved.unserved
    )
    await events.append_many(conn, log)
