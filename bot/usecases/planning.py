"""Plan a delivery day: deliveries and drivers from the store, VROOM via eta, routes back to the store."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.config import EtaSettings
from bot.domain.deliveries import PLANNABLE, UNDER_WAY, Delivery, Status
from bot.domain.promises import Promise
from bot.domain.routes import NewRoute, NewStop, PlanHeader, RouteView, UnassignedView
from bot.notify.compose import Composer
from bot.store import deliveries as delivery_store
from bot.store import events, fleet, outbox, plans, promises
from bot.store.db import Store
from bot.usecases.errors import ConflictError
from bot.usecases.learning import Learner, retimed_plan
from bot.usecases.replanning import window_message
from bot.usecases.specs import job_spec, vehicle_spec
from eta.learning import NOTHING_LEARNED, Learned
from eta.matrix import MatrixProvider
from eta.model import JobSpec, Plan, PlannedStop, VehicleSpec
from eta.plan import plan_day
from eta.windows import promised_window


class PlanningError(ConflictError):
    """The day cannot be planned from scratch now; the message says why and what to do."""


@dataclass(frozen=True)
class PlanResult:
    plan: PlanHeader
    routes: list[RouteView]
    unassigned: list[UnassignedView]
    kept: int = 0  # windows already told that the plan kept
    told: int = 0  # recipients told of a window the plan had to move


async def plan_date(
    store: Store,
    clock: Clock,
    settings: EtaSettings,
    matrix: MatrixProvider,
    day: date,
    *,
    actor: str,
    composer: Composer | None = None,
) -> PlanResult:
    """Full optimisation of one day; stores a new plan version with promised windows.

    A window a recipient has been told is a hard constraint; where the plan cannot keep it, the
    recipient is told the new one, once (`composer` is then needed: without it the plan is refused)."""
    async with store.read() as conn:
        todo = await _deliveries_to_plan(conn, day)
        told = _on_day(await promises.last_told(conn, [d.id for d in todo]), todo, day)
        drivers = await fleet.list_drivers(conn, active_only=True)
        depots = {d.id: d for d in (await fleet.depots_by_code(conn)).values()}
        learned = await Learner(settings, matrix).model(conn, day, clock.now())
    vans = [vehicle_spec(driver, depots[driver.depot_id], day, learned) for driver in drivers]
    solved, kept = await _solve_keeping(vans, todo, told, matrix, settings, learned)
    jobs = [_within(job_spec(d, learned), kept.get(d.id)) for d in todo]
    zones = {d.id: depots[d.depot_id].timezone for d in drivers}
    solved = await retimed_plan(solved, vans, jobs, zones, matrix, learned)  # each hour at its own pace
    async with store.tx() as conn:
        if _fingerprint(await _deliveries_to_plan(conn, day)) != _fingerprint(todo):
            raise PlanningError(f"deliveries for {day} changed while planning; run the plan again")
        now = clock.now()
        header, moved = await _store(
            conn, now, settings, matrix.name, day, todo, solved, kept, actor, learned
        )
        told_now = await _tell_moved(conn, now, composer, {d.id: d for d in todo}, told, moved)
        return PlanResult(
            header,
            await plans.route_views(conn, header.id),
            await plans.unassigned_views(conn, header.id),
            kept=len(kept),
            told=told_now,
        )


def _on_day(told: dict[int, Promise], todo: Sequence[Delivery], day: date) -> dict[int, Promise]:
    """Told windows that are still about `day` (a parcel moved to another day keeps none)."""
    zones = {d.id: ZoneInfo(d.timezone) for d in todo}
    return {d: p for d, p in told.items() if p.start.astimezone(zones[d]).date() == day}


async def _solve_keeping(
    vans: Sequence[VehicleSpec],
    todo: Sequence[Delivery],
    told: dict[int, Promise],
    matrix: MatrixProvider,
    settings: EtaSettings,
    learned: Learned = NOTHING_LEARNED,
) -> tuple[Plan, dict[int, Promise]]:
    """Solve with every told window as the job's window; the ones that cannot be served so lose theirs."""
    kept = dict(told)
    while True:
        jobs = [_within(job_spec(d, learned), kept.get(d.id)) for d in todo]
        solved = await plan_day(
            vans,
            jobs,
            matrix,
            exploration=settings.exploration,
            threads=settings.threads,
            spread=settings.spread,
        )
        missed = {u.job_id for u in solved.unserved} & kept.keys()
        if not missed:
            return solved, kept
        kept = {d: p for d, p in kept.items() if d not in missed}


def _within(job: JobSpec, told: Promise | None) -> JobSpec:
    return job if told is None else replace(job, window_start=told.start, window_end=told.end)


async def _tell_moved(
    conn: AsyncConnection,
    now: datetime,
    composer: Composer | None,
    by_id: dict[int, Delivery],
    told: dict[int, Promise],
    moved: dict[int, Promise],
) -> int:
    """One "updated window" to each recipient whose told window the plan moved."""
    changed = [(by_id[d], told[d], new) for d, new in moved.items() if d in told and _moved(told[d], new)]
    if changed and composer is None:
        raise PlanningError(f"this plan moves {len(changed)} windows already told; it needs a composer")
    queued = [
        message
        for delivery, old, new in changed
        if composer is not None
        and abs(new.start - old.start) > timedelta(minutes=composer.settings.moved_threshold_minutes)
        and (message := await window_message(conn, composer, delivery, old, new, now)) is not None
    ]
    await outbox.enqueue(conn, queued, now)
    return len(queued)


def _moved(told: Promise, new: Promise) -> bool:
    return (told.start, told.end) != (new.start, new.end)


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
    kept: dict[int, Promise],
    actor: str,
    learned: Learned = NOTHING_LEARNED,
) -> tuple[PlanHeader, dict[int, Promise]]:
    by_id = {d.id: d for d in todo}
    ahead = {s.job_id: s.arrival - r.start_at for r in solved.routes for s in r.stops}
    width = timedelta(minutes=settings.window_minutes)
    align = timedelta(minutes=settings.window_align_minutes)

    def window(stop: PlannedStop) -> tuple[datetime, datetime]:
        if (told := kept.get(stop.job_id)) is not None:
            return told.start, told.end
        errors = learned.errors(ahead[stop.job_id])  # placed where parcels this far ahead really came
        return promised_window(stop.arrival, _requested(by_id[stop.job_id]), width, align, errors=errors)

    new_routes = [
        NewRoute(
            r.vehicle_id, r.start_at, r.end_at, r.distance_m, r.duration_s,
            [NewStop(s.job_id, s.sequence, s.arrival, *window(s)) for s in r.stops],
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
    return header, await _promise(conn, now, new_routes)


async def _promise(
    conn: AsyncConnection, now: datetime, new_routes: Sequence[NewRoute]
) -> dict[int, Promise]:
    """Each stop's promised window goes into the ledger when it differs from the current promise."""
    planned = {s.delivery_id: s for r in new_routes for s in r.stops}
    current = await promises.current(conn, planned)
    changed = [
        Promise(d, current[d].version + 1 if d in current else 1, s.promised_start, s.promised_end, "planned")
        for d, s in planned.items()
        if d not in current or (current[d].start, current[d].end) != (s.promised_start, s.promised_end)
    ]
    await promises.record(conn, changed, now)
    return {p.delivery_id: p for p in changed}


def _requested(delivery: Delivery) -> tuple[datetime, datetime]:
    return delivery.window_start, delivery.window_end


async def _record(
    conn: AsyncConnection,
    now: datetime,
    header: PlanHeader,
    new_routes: Sequence[NewRoute],
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
