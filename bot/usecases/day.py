"""A delivery day as it stands now (plan, routes, promises, vans) and as eta's DayState for a re-plan."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery, Depot, Driver, Status
from bot.domain.promises import Promise
from bot.domain.routes import PlanHeader, RouteView, StopView
from bot.store import deliveries as delivery_store
from bot.store import fleet, plans, promises
from bot.usecases.specs import job_spec, vehicle_spec
from eta.geo import LatLon
from eta.learning import NOTHING_LEARNED, Learned
from eta.model import AT_DEPOT, DayState, JobSpec, VanState
from eta.windows import promised_window

FINISHED = frozenset({Status.DELIVERED, Status.FAILED, Status.CANCELLED})
ON_BOARD = frozenset({Status.OUT_FOR_DELIVERY, Status.ARRIVED})


@dataclass(frozen=True)
class Day:
    """The active plan of a day with everything a re-plan or a notice needs, read in one transaction."""

    plan: PlanHeader
    routes: Mapping[int, RouteView]  # by driver id
    deliveries: Mapping[int, Delivery]
    promises: Mapping[int, Promise]
    drivers: Mapping[int, Driver]
    depots: Mapping[int, Depot]
    told: Mapping[int, Promise]  # the last version each recipient was told (bot/store/promises.py)
    learned: Learned = NOTHING_LEARNED  # pace, stop times and arrival scatter (bot/usecases/learning.py)

    def remaining(self, route: RouteView) -> list[StopView]:
        return [s for s in route.stops if self.deliveries[s.delivery_id].status not in FINISHED]

    def done(self, route: RouteView) -> list[StopView]:
        """The route's finished stops, in order (those not in `remaining`)."""
        return [s for s in route.stops if self.deliveries[s.delivery_id].status in FINISHED]

    def route_of(self, delivery_id: int) -> RouteView | None:
        return self._where.get(delivery_id, (None, None))[0]

    def stop_of(self, delivery_id: int) -> StopView | None:
        return self._where.get(delivery_id, (None, None))[1]

    def narrowed(self, stop: StopView, now: datetime, width: timedelta) -> tuple[datetime, datetime]:
        """The out-for-delivery window of `stop`: `width` wide, inside its promise, placed by the arrival
        scatter learned for a prediction this far ahead (the message, its edits and the page agree)."""
        promise = self.promises[stop.delivery_id]
        errors = self.learned.errors(stop.planned_arrival - now)
        return promised_window(stop.planned_arrival, (promise.start, promise.end), width, errors=errors)

    @cached_property
    def _where(self) -> dict[int, tuple[RouteView, StopView]]:
        return {s.delivery_id: (r, s) for r in self.routes.values() for s in r.stops}


async def load_day(conn: AsyncConnection, day: date) -> Day | None:
    header = await plans.active(conn, day)
    if header is None:
        return None
    everyone = await delivery_store.find(conn, delivery_store.DeliveryFilter(day=day, limit=1_000_000))
    by_id = {d.id: d for d in everyone}
    routes = {route.driver_id: route for route in await plans.route_views(conn, header.id, by_id)}
    drivers = {d.id: d for d in await fleet.list_drivers(conn)}
    depots = {d.id: d for d in (await fleet.depots_by_code(conn)).values()}
    current, told = await promises.current_for_day(conn, day), await promises.last_told_for_day(conn, day)
    return Day(header, routes, by_id, current, drivers, depots, told)


def day_state(day: Day, now: datetime, changed: Mapping[int, JobSpec] | None = None) -> DayState:
    """What is left to do, for eta: vans where they are now, loaded parcels, promises as they stand."""
    changed = changed or {}
    vans: list[VanState] = []
    on_routes: set[int] = set()
    for driver in (d for d in day.drivers.values() if d.active):
        route = day.routes.get(driver.id)
        left = [s.delivery_id for s in day.remaining(route)] if route else []
        on_routes.update(left)
        spec = vehicle_spec(driver, day.depots[driver.depot_id], day.plan.date, day.learned, now)
        loaded = frozenset(d for d in left if day.deliveries[d].status in ON_BOARD)
        skills = spec.skills if departed(day, route) else spec.skills | {AT_DEPOT}
        here = where_now(day, driver, route, spec.start)
        vans.append(VanState(replace(spec, start=here, skills=skills), tuple(left), loaded))
    todo = on_routes | {d for d in changed if d not in on_routes}
    on_board = {d for van in vans for d in van.loaded}
    jobs = tuple(
        _needs_depot(changed.get(d) or job_spec(day.deliveries[d], day.learned), on_board)
        for d in sorted(todo)
    )
    promised = {d: (p.start, p.end) for d, p in day.promises.items() if d in todo and d not in changed}
    return DayState(tuple(vans), jobs, promised)


def departed(day: Day, route: RouteView | None) -> bool:
    """Whether the van has left the depot: a stop of its route is on board or done."""
    return route is not None and any(
        day.deliveries[s.delivery_id].status in FINISHED | ON_BOARD for s in route.stops
    )


def _needs_depot(job: JobSpec, on_board: set[int]) -> JobSpec:
    return job if job.id in on_board else replace(job, skills=job.skills | {AT_DEPOT})


def where_now(day: Day, driver: Driver, route: RouteView | None, home: LatLon) -> LatLon:
    """Once the van has left: the stop it has arrived at, else its reported position, else its last
    finished stop. Before: where it starts."""
    if not departed(day, route):
        return home
    at_door = (
        [s for s in route.stops if day.deliveries[s.delivery_id].status is Status.ARRIVED] if route else []
    )
    if at_door:
        here = day.deliveries[at_door[0].delivery_id]
        return LatLon(here.lat, here.lon)
    if driver.position_lat is not None and driver.position_lon is not None:
        return LatLon(driver.position_lat, driver.position_lon)
    done = [s for s in route.stops if day.deliveries[s.delivery_id].status in FINISHED] if route else []
    if done:
        last = day.deliveries[done[-1].delivery_id]
        return LatLon(last.lat, last.lon)
    return home
