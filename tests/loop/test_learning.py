"""What the stop events teach (bot/usecases/learning.py): a van's day read back as a trace, and the next
re-time of its route at the pace it really drove."""

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.routes import RouteView
from bot.services import Services
from bot.store import plans
from bot.usecases import progress
from bot.usecases.day import day_state, load_day
from bot.usecases.learning import Learner, read_traces
from eta.geo import LatLon
from eta.learning import NOTHING_LEARNED
from tests.conftest import DAY


async def longest_route(services: Services) -> RouteView:
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        return max(await plans.route_views(conn, header.id), key=lambda r: len(r.stops))


async def drive_three_stops(services: Services, clock: ManualClock, route: RouteView) -> None:
    """The van leaves, then reaches each of its first three doors 10 min after the plan and stays 6."""
    await progress.start_route(services, route.driver_id, actor="test")
    for stop in route.stops[:3]:
        clock.set(max(clock.now(), stop.planned_arrival) + timedelta(minutes=10))
        await progress.record_stop_event(services, stop.delivery_id, progress.StopEvent.ARRIVED, actor="t")
        clock.set(clock.now() + timedelta(minutes=6))
        await progress.record_stop_event(services, stop.delivery_id, progress.StopEvent.DELIVERED, actor="t")


async def test_a_vans_day_comes_back_as_a_trace(planned_day: Services, clock: ManualClock) -> None:
    services, left = planned_day, clock.now()
    route = await longest_route(services)
    await drive_three_stops(services, clock, route)
    async with services.store.read() as conn:
        traces = await read_traces(conn, services.matrix, DAY, DAY)
    (trace,) = traces[DAY]
    assert (trace.van, trace.left, trace.zone) == (route.driver_id, left, "Europe/Berlin")
    assert len(trace.calls) == 3
    for call in trace.calls:
        assert call.arrived is not None
        assert call.done - call.arrived == timedelta(minutes=6)
        assert call.delivered
        assert call.opens is not None
        assert call.opens <= call.arrived  # the van came inside its window: no wait
    async with services.store.read() as conn:
        day = await load_day(conn, DAY)
    assert day is not None
    first = day.deliveries[route.stops[0].delivery_id]
    depot = next(iter(day.depots.values()))
    table = await services.matrix.table([LatLon(depot.lat, depot.lon), LatLon(first.lat, first.lon)])
    assert trace.calls[0].matrix_s == table.durations[0, 1]


async def test_the_next_re_time_knows_the_stops_and_the_pace(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    route = await longest_route(services)
    await drive_three_stops(services, clock, route)
    async with services.store.read() as conn:
        day = await load_day(conn, DAY)
        assert day is not None
        learned = await Learner(services.settings.eta, services.matrix).attach(conn, day, clock.now())
    state = day_state(learned, clock.now())
    van = next(v for v in state.vans if v.vehicle.id == route.driver_id)
    assert van.vehicle.speed_factor != 1.0
    configured = {d.id: d.service_s for d in learned.deliveries.values()}
    assert all(job.service_s > configured[job.id] for job in state.jobs)  # 6 min each, more than configured


async def test_learning_off_knows_nothing(planned_day: Services, clock: ManualClock) -> None:
    services = planned_day
    await drive_three_stops(services, clock, await longest_route(services))
    settings = services.settings.eta.model_copy(update={"learning": False})
    async with services.store.read() as conn:
        assert await Learner(settings, services.matrix).model(conn, DAY, clock.now()) is NOTHING_LEARNED
