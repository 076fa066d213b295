"""Deliveries that reach a day after it was planned: late orders, re-imported addresses, cancellations.

A burst of late orders becomes one re-plan once it settles; everybody already promised keeps their
window; a parcel no van still at the depot can take is reported, not dropped, and not retried in a
loop; a cancellation brings the rest of that route forward.
"""

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.services import Services
from bot.store import plans, promises
from bot.store.tables import deliveries, escalations, events
from bot.usecases import progress
from bot.usecases.intake import import_deliveries
from bot.usecases.pending import settled
from scheduler.jobs import tick
from tests.conftest import DAY
from tests.loop.conftest import MORNING, outbox_rows


def late_order(day_file: dict[str, Any], n: int, **changes: Any) -> dict[str, Any]:
    """A delivery like the day's first, ordered late, to another person next door."""
    row = dict(day_file["deliveries"][n])
    row.update(order_id=f"LATE-{n}", phone=f"+49151000000{n:02d}", name=f"Late Customer {n}")
    row["lat"] += 0.002
    return {**row, **changes}


async def add(services: Services, clock: ManualClock, *rows: dict[str, Any]) -> None:
    numbered = list(enumerate(rows, 1))
    report = await import_deliveries(services.store, clock, services.settings.day, numbered, actor="test")
    assert not report.rejected


async def revisions(services: Services, actor: str) -> list[dict[str, Any]]:
    query = sa.select(events.c.data).where(events.c.kind == "plan.revised", events.c.actor == actor)
    async with services.store.read() as conn:
        return [dict(row) for row in (await conn.execute(query)).scalars()]


async def stop_ids(services: Services) -> dict[int, int]:
    """delivery id -> driver id, on the active plan."""
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        return {s.delivery_id: r.driver_id for r in await plans.route_views(conn, header.id) for s in r.stops}


async def ids_of(services: Services, *order_ids: str) -> list[int]:
    query = sa.select(deliveries.c.id).where(deliveries.c.order_id.in_(order_ids)).order_by(deliveries.c.id)
    async with services.store.read() as conn:
        return list((await conn.execute(query)).scalars())


async def current_promises(services: Services) -> dict[int, tuple[Any, Any, int]]:
    async with services.store.read() as conn:
        ids = list((await conn.execute(sa.select(deliveries.c.id))).scalars())
        return {d: (p.start, p.end, p.version) for d, p in (await promises.current(conn, ids)).items()}


async def test_a_burst_of_late_orders_is_one_replan_once_it_settles(
    planned_day: Services, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    services = planned_day
    before = await current_promises(services)
    for n in range(3):
        await add(services, clock, late_order(day_file, n))
        clock.advance(timedelta(seconds=10))
        await tick(services)  # still coming in: nothing yet
    assert await revisions(services, "new-deliveries") == []

    clock.advance(timedelta(seconds=services.settings.eta.replan_quiet_seconds))
    await tick(services)
    await tick(services)
    (revision,) = await revisions(services, "new-deliveries")
    late = await ids_of(services, "LATE-0", "LATE-1", "LATE-2")
    placed = await stop_ids(services)
    assert set(late) <= set(placed)
    after = await current_promises(services)
    assert all(d in after for d in late)
    assert {d: p for d, p in after.items() if d in before} == before  # nobody else's window moved
    assert revision["new_promises"] == 3

    await tick(services)
    told = await outbox_rows(services, kind="pre-delivery")
    assert set(late) <= {r["delivery_id"] for r in told}


async def test_a_steady_trickle_waits_no_longer_than_the_maximum() -> None:
    quiet, max_wait = timedelta(seconds=20), timedelta(seconds=120)
    first = plans.Pending((1, 2), first_change=MORNING, last_change=MORNING + timedelta(seconds=110))
    assert not settled(first, MORNING + timedelta(seconds=115), quiet, max_wait)
    assert settled(first, MORNING + timedelta(seconds=120), quiet, max_wait)
    assert settled(first, MORNING + timedelta(seconds=130), quiet, max_wait)


async def test_once_the_vans_are_out_a_late_order_is_reported_not_dropped_nor_retried(
    planned_day: Services, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    services = planned_day
    on_routes = set((await stop_ids(services)).values())
    assert len(on_routes) == len(day_file["drivers"])  # every van has a route: none stays behind
    for driver_id in on_routes:
        await progress.start_route(services, driver_id, actor="test")
    await add(services, clock, late_order(day_file, 5))
    clock.advance(timedelta(minutes=5))
    await tick(services)
    await tick(services)
    (late,) = await ids_of(services, "LATE-5")
    placed = await stop_ids(services)
    async with services.store.read() as conn:
        query = sa.select(escalations.c.kind, escalations.c.detail).where(escalations.c.delivery_id == late)
        raised = [tuple(row) for row in await conn.execute(query)]
        status = (await conn.execute(sa.select(deliveries.c.status).where(deliveries.c.id == late))).scalar()
    assert late not in placed
    assert raised == [
        (
            "late",
            "cannot be served: it is still at the depot and every van has left "
            "(send one back or move it to another day)",
        )
    ]
    assert status == "created"
    assert len(await revisions(services, "new-deliveries")) == 1  # not retried every tick


async def test_a_cancellation_brings_the_rest_of_the_route_forward(planned_day: Services) -> None:
    services = planned_day
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        route = max(await plans.route_views(conn, header.id), key=lambda r: len(r.stops))
    gone = route.stops[1].delivery_id  # still at the depot: a parcel on board cannot be cancelled
    await progress.cancel_delivery(services, gone, reason="customer cancelled", actor="test")
    (revision,) = await revisions(services, "cancelled")
    assert revision["vans"] == [route.driver_id]
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        now = next(r for r in await plans.route_views(conn, header.id) if r.driver_id == route.driver_id)
    assert gone not in [s.delivery_id for s in now.stops]
    was = {s.delivery_id: s.planned_arrival for s in route.stops}
    later = [s for s in now.stops if was[s.delivery_id] > route.stops[1].planned_arrival]
    assert later
    assert all(s.planned_arrival <= was[s.delivery_id] for s in later)  # none after it comes later
    assert now.duration_s < route.duration_s


async def test_a_reimported_address_leaves_its_old_stop_and_is_placed_again(
    planned_day: Services, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    services = planned_day
    row = dict(day_file["deliveries"][3])
    (moved,) = await ids_of(services, row["order_id"])
    assert moved in await stop_ids(services)
    await add(services, clock, {**row, "lat": row["lat"] + 0.01, "address": "Other Street 1, Berlin"})
    assert moved not in await stop_ids(services)  # not driven to the old address meanwhile
    clock.advance(timedelta(minutes=1))
    await tick(services)
    assert moved in await stop_ids(services)
    assert len(await revisions(services, "new-deliveries")) == 1
