"""ETAs that learn, from the store: each van's days as eta.learning traces, and the model they teach.

A trace is one driver's day from the stop events: when the van was loaded (out for delivery), then each
stop it finished in that order, with the driver's "arrived", the window it had to wait for and the
matrix time from the previous place. `Learner` keeps the traces of days that are over and reads the
recent ones again on every call; plans, re-plans and the scheduler's windows get the model from it.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import EtaSettings
from bot.domain.deliveries import Depot, Driver
from bot.store import fleet, observations
from bot.store.observations import StopEvent
from bot.usecases.day import Day
from bot.usecases.specs import door
from eta.geo import LatLon
from eta.learning import NOTHING_LEARNED, Call, Learned, Trace, learn
from eta.matrix import MatrixProvider
from eta.model import DayState, JobSpec, Late, Plan, PlannedRoute, Replan, VehicleSpec

LOADED = "delivery.out_for_delivery"
ARRIVED = "delivery.arrived"
DELIVERED = "delivery.delivered"
FINISHED = frozenset({DELIVERED, "delivery.failed"})
# A parcel that failed can be moved a few days on: its deliveries are read that far past the last day.
MOVED_AHEAD = timedelta(days=7)
OVER_AFTER = timedelta(days=2)  # a day's traces no longer change this long after it began (UTC)

type VanDay = tuple[int, date]  # (driver id, local date)
type Openings = Mapping[int, Sequence[tuple[datetime, datetime]]]  # delivery id -> (told at, window start)


# Narrowed windows (the scheduler's messages, the recipient's page) may use a model this old.
WINDOW_MODEL_AGE = timedelta(minutes=5)


class Learner:
    """The model for a day, from the traces of the days before it and of the day itself.

    Days that are over are read once; a model is learned again only when its traces changed, and a
    caller that can live with one `max_age` old (the scheduler's windows) does not even read."""

    def __init__(self, settings: EtaSettings, matrix: MatrixProvider) -> None:
        self.settings, self.matrix = settings, matrix
        self._over: dict[date, tuple[Trace, ...]] = {}
        self._models: dict[date, tuple[datetime, tuple[Trace, ...], Learned]] = {}

    async def model(
        self, conn: AsyncConnection, day: date, now: datetime, *, max_age: timedelta = timedelta(0)
    ) -> Learned:
        if not self.settings.learning:
            return NOTHING_LEARNED
        known = self._models.get(day)
        if known is not None and timedelta(0) <= now - known[0] <= max_age:
            return known[2]
        traces = await self._traces(conn, day, now)
        learned = known[2] if known and known[1] == traces else learn(traces, self.settings.service_quantile)
        self._models = {d: m for d, m in self._models.items() if abs(d - day) <= timedelta(days=2)}
        self._models[day] = (now, traces, learned)
        return learned

    async def attach(
        self, conn: AsyncConnection, day: Day, now: datetime, *, max_age: timedelta = timedelta(0)
    ) -> Day:
        """The day with its model (`Day.learned`), for day_state, re-plans and windows."""
        return replace(day, learned=await self.model(conn, day.plan.date, now, max_age=max_age))

    async def _traces(self, conn: AsyncConnection, day: date, now: datetime) -> tuple[Trace, ...]:
        first = day - timedelta(days=self.settings.learning_days)
        dates = [first + timedelta(days=n) for n in range((day - first).days + 1)]
        fresh_from = next((d for d in dates if d not in self._over), None)
        fresh = await read_traces(conn, self.matrix, fresh_from, day) if fresh_from else {}
        over = (now - OVER_AFTER).date()
        self._over = {d: t for d, t in self._over.items() if d >= first - timedelta(days=3)}
        self._over |= {d: fresh.get(d, ()) for d in dates if fresh_from and fresh_from <= d <= over}
        return tuple(t for d in dates for t in (self._over[d] if d in self._over else fresh.get(d, ())))


def zones(day: Day) -> dict[int, str]:
    """Each driver's time zone (their depot's): the hours a pace is learned by."""
    return {d.id: day.depots[d.depot_id].timezone for d in day.drivers.values()}


async def retimed_plan(
    plan: Plan,
    vans: Sequence[VehicleSpec],
    jobs: Sequence[JobSpec],
    zones: Mapping[int, str],
    matrix: MatrixProvider,
    learned: Learned,
) -> Plan:
    """The nightly plan with arrivals at each hour's learned pace (eta.learning.Learned.retime)."""
    by_van, by_job = {v.id: v for v in vans}, {j.id: j for j in jobs}
    return replace(plan, routes=tuple(await _retimed(plan.routes, by_van, by_job, zones, matrix, learned)))


async def retimed_replan(
    result: Replan, state: DayState, zones: Mapping[int, str], matrix: MatrixProvider, learned: Learned
) -> Replan:
    """A re-plan with arrivals at each hour's learned pace, and the stops that now miss their window."""
    if not learned.paced:
        return result
    windows = {j.id: state.promised.get(j.id, (j.window_start, j.window_end)) for j in state.jobs}
    jobs = {j.id: replace(j, window_start=windows[j.id][0], window_end=windows[j.id][1]) for j in state.jobs}
    vans = {v.vehicle.id: v.vehicle for v in state.vans}
    routes = tuple(await _retimed(result.routes, vans, jobs, zones, matrix, learned))
    late = tuple(
        Late(s.job_id, windows[s.job_id], s.arrival)
        for r in routes
        for s in r.stops
        if not windows[s.job_id][0] <= s.arrival <= windows[s.job_id][1]
    )
    return replace(result, routes=routes, late=late)


async def _retimed[R: PlannedRoute](
    routes: Iterable[R],
    vans: Mapping[int, VehicleSpec],
    jobs: Mapping[int, JobSpec],
    zones: Mapping[int, str],
    matrix: MatrixProvider,
    learned: Learned,
) -> list[R]:
    if not learned.paced:
        return list(routes)
    found: list[R] = []
    for route in routes:
        stops = [jobs[stop.job_id] for stop in route.stops]
        points = [vans[route.vehicle_id].start, *(job.location for job in stops)]
        legs = await _matrix_legs(matrix, points) if stops else []
        found.append(learned.retime(route, legs, stops, ZoneInfo(zones[route.vehicle_id])))
    return found


async def read_traces(
    conn: AsyncConnection, matrix: MatrixProvider, first: date, last: date
) -> dict[date, tuple[Trace, ...]]:
    """Every van's day from `first` to `last` (local dates) that has at least one finished stop."""
    found = await observations.stop_events(conn, first, last + MOVED_AHEAD)
    drivers = {d.id: d for d in await fleet.list_drivers(conn)}
    depots = {d.id: d for d in (await fleet.depots_by_code(conn)).values()}
    zones = {d.id: depots[d.depot_id].timezone for d in drivers.values()}
    opens = await observations.window_openings(conn, {e.delivery_id for e in found if e.kind != LOADED})
    traces: dict[date, list[Trace]] = defaultdict(list)
    for (driver_id, local), rows in _van_days(found, zones).items():
        calls = list(_calls(rows, opens))
        if first <= local <= last and calls:
            start = _start(drivers[driver_id], depots)
            legs = await _matrix_legs(matrix, [start, *(LatLon(e.lat, e.lon) for e, *_ in calls)])
            left = min(e.at for e in rows if e.kind == LOADED)
            built = tuple(replace(call, matrix_s=leg) for (_, call), leg in zip(calls, legs, strict=True))
            traces[local].append(Trace(driver_id, zones[driver_id], left, built))
    return {d: tuple(found) for d, found in traces.items()}


def _van_days(found: Sequence[StopEvent], zones: Mapping[int, str]) -> dict[VanDay, list[StopEvent]]:
    """Events by the van that carried the parcel (its last loading) and the local day they happened."""
    carrier: dict[int, int] = {}
    days: dict[VanDay, list[StopEvent]] = defaultdict(list)
    for event in found:
        if event.kind == LOADED and event.driver_id is not None:
            carrier[event.delivery_id] = event.driver_id
        driver_id = carrier.get(event.delivery_id)
        if driver_id is not None and driver_id in zones:
            days[driver_id, event.at.astimezone(ZoneInfo(zones[driver_id])).date()].append(event)
    return {key: rows for key, rows in days.items() if any(e.kind == LOADED for e in rows)}


def _calls(rows: Sequence[StopEvent], opens: Openings) -> list[tuple[StopEvent, Call]]:
    """Each parcel finished that day, in the order finished; the matrix times are filled in later."""
    by_parcel: dict[int, list[StopEvent]] = defaultdict(list)
    for event in rows:
        by_parcel[event.delivery_id].append(event)
    calls = [call for group in by_parcel.values() if (call := _call(group, opens)) is not None]
    return sorted(calls, key=lambda pair: pair[1].done)


def _call(group: Sequence[StopEvent], opens: Openings) -> tuple[StopEvent, Call] | None:
    done = _first(group, FINISHED)
    if done is None:
        return None
    arrived = _first(group, {ARRIVED})
    came = arrived.at if arrived else done.at
    stop = door(done.address, done.service_s, done.size, done.skills)
    opening = _opening(opens, done.delivery_id, came)
    call = Call(
        stop, 0.0, arrived.at if arrived else None, opening, done.at, delivered=done.kind == DELIVERED
    )
    return done, call


def _first(group: Iterable[StopEvent], kinds: Set[str]) -> StopEvent | None:
    return next((event for event in group if event.kind in kinds), None)


def _opening(opens: Openings, delivery_id: int, at: datetime) -> datetime | None:
    """The start of the window the recipient held when the van came."""
    held = [start for told, start in opens.get(delivery_id, ()) if told <= at]
    return held[-1] if held else None


def _start(driver: Driver, depots: Mapping[int, Depot]) -> LatLon:
    if driver.start_lat is not None and driver.start_lon is not None:
        return LatLon(driver.start_lat, driver.start_lon)
    depot = depots[driver.depot_id]
    return LatLon(depot.lat, depot.lon)


async def _matrix_legs(matrix: MatrixProvider, points: Sequence[LatLon]) -> list[float]:
    table = await matrix.table(points)
    return [float(table.durations[n, n + 1]) for n in range(len(points) - 1)]
