"""Driver events on the virtual clock: route start, nearby, delivered with a rating, failed with a rebooking,
and a van running late: its recipients are told, and support hears of it. Nobody is dropped."""

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.domain.routes import RouteView
from bot.services import Services
from bot.store import plans, promises
from bot.store.tables import deliveries, escalations
from bot.usecases import progress
from bot.usecases.inbound import sandbox_reply
from scheduler.jobs import fill_outbox
from tests.conftest import DAY
from tests.loop.conftest import outbox_rows


async def first_route(services: Services) -> RouteView:
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        return max(await plans.route_views(conn, header.id), key=lambda r: len(r.stops))


async def status_of(services: Services, delivery_id: int) -> str:
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.status).where(deliveries.c.id == delivery_id)
        return str((await conn.execute(query)).scalar())


async def open_escalations(services: Services) -> list[str]:
    async with services.store.read() as conn:
        return list((await conn.execute(sa.select(escalations.c.kind))).scalars())


async def test_the_scheduler_announces_the_day_then_the_van(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    route = await first_route(services)
    await fill_outbox(services)
    pre = await outbox_rows(services, kind="pre-delivery")
    assert {r["delivery_id"] for r in pre} >= {s.delivery_id for s in route.stops}
    assert len(await outbox_rows(services, kind="driver-route")) >= 1

    await progress.start_route(services, route.driver_id, actor="test")
    clock.set(route.stops[0].planned_arrival - timedelta(minutes=20))
    await fill_outbox(services)
    ofd = await outbox_rows(services, kind="out-for-delivery")
    assert sorted(r["delivery_id"] for r in ofd) == sorted(s.delivery_id for s in route.stops)
    assert await outbox_rows(services, kind="nearby") == []  # never in the same tick as out-for-delivery
    await services.dispatcher().drain()  # out-for-delivery goes...
    await fill_outbox(services)  # ...and only then "nearby" is queued
    await fill_outbox(services)  # a third tick adds nothing
    nearby = await outbox_rows(services, kind="nearby")
    assert [r["delivery_id"] for r in nearby] == [s.delivery_id for s in route.stops[: len(nearby)]]
    assert 1 <= len(nearby) <= services.settings.messages.nearby_stops + 1
    bound = timedelta(minutes=services.settings.messages.nearby_stops_max_minutes)
    arrival = {s.delivery_id: s.planned_arrival for s in route.stops}
    assert all(arrival[r["delivery_id"]] - r["created_at"] <= bound for r in nearby)


async def test_delivered_asks_for_a_rating_and_failed_offers_new_times(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    route = await first_route(services)
    first, second = route.stops[0].delivery_id, route.stops[1].delivery_id
    await progress.start_route(services, route.driver_id, actor="test")
    clock.set(route.stops[0].planned_arrival)
    await progress.record_stop_event(services, first, progress.StopEvent.DELIVERED, actor="test")
    (delivered,) = await outbox_rows(services, kind="delivered")
    assert delivered["delivery_id"] == first
    await sandbox_reply(services, first, "2")
    (rated,) = await outbox_rows(services, kind="rated")
    assert "2/5" in rated["body"]
    await sandbox_reply(services, first, "The box was soaked, left in the rain")
    (commented,) = await outbox_rows(services, kind="commented")
    assert commented["delivery_id"] == first
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.rating, deliveries.c.rating_comment).where(deliveries.c.id == first)
        assert tuple((await conn.execute(query)).one()) == (2, "The box was soaked, left in the rain")
        details = list((await conn.execute(sa.select(escalations.c.detail))).scalars())
    assert "2/5, then: The box was soaked, left in the rain" in details

    clock.set(route.stops[1].planned_arrival)
    await progress.record_stop_event(
        services, second, progress.StopEvent.FAILED, reason=progress.FailReason.NOT_HOME, actor="test"
    )
    (failed,) = await outbox_rows(services, kind="failed")
    assert "1)" in failed["body"]
    assert "failed" in await open_escalations(services)
    await sandbox_reply(services, second, "1")
    assert await status_of(services, second) == "rescheduled"
    (moved,) = await outbox_rows(services, kind="rescheduled")
    assert moved["delivery_id"] == second


async def test_a_van_running_late_tells_its_recipients_once_and_escalates(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    route = await first_route(services)
    await fill_outbox(services)  # the pre-delivery notices tell everyone their window
    await progress.start_route(services, route.driver_id, actor="test")
    async with services.store.read() as conn:
        before = await promises.current(conn, [s.delivery_id for s in route.stops])
    clock.set(route.stops[0].planned_arrival + timedelta(hours=2))  # stuck in traffic for two hours
    await progress.update_position(services, route.driver_id, 52.52, 13.40, actor="test")

    delays = await outbox_rows(services, kind="delay")
    assert delays, "recipients whose promise broke are told"
    async with services.store.read() as conn:
        after = await promises.current(conn, [s.delivery_id for s in route.stops])
    broken = {d for d in after if after[d].version > before[d].version}
    assert {r["delivery_id"] for r in delays} == broken
    assert all(after[d].reason == "late" for d in broken)
    assert "late" in await open_escalations(services)
    statuses = [await status_of(services, s.delivery_id) for s in route.stops]
    assert statuses == ["out_for_delivery"] * len(route.stops)  # late, never dropped
    await progress.update_position(services, route.driver_id, 52.52, 13.40, actor="test")  # same place again
    assert len(await outbox_rows(services, kind="delay")) == len(delays)
