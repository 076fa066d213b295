"""Every change of a recipient's window reaches them, once, and the notices come in order.

Each scenario ends with tests/loop/conftest.py's invariant check (no window changed untold, no message
out of order), besides what it asserts itself.
"""

import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.deliveries import FailReason, StopEvent
from bot.domain.routes import RouteView
from bot.notify.compose import To
from bot.notify.kinds import Channel
from bot.services import Services
from bot.store import plans, promises
from bot.store.tables import messages
from bot.store.tables import promises as promise_rows
from bot.usecases import progress
from bot.usecases.day import load_day
from bot.usecases.fleet import FleetIn, upsert_fleet
from bot.usecases.inbound import sandbox_reply
from bot.usecases.planning import PlanningError, PlanResult, plan_date
from bot.usecases.replanning import apply_replan
from eta.model import PlannedRoute, PlannedStop, Replan
from scheduler.jobs import fill_outbox
from tests.conftest import DAY
from tests.loop.conftest import outbox_rows

NEXT = DAY + timedelta(days=1)
EIGHT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Berlin: quiet hours are over


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Narrow windows (20 minutes on a 5-minute grid) and a 25-minute delay threshold, so that slips of
    10 minutes are windows 10 minutes later, below the threshold until they add up."""
    settings.eta.window_minutes, settings.eta.window_align_minutes = 20, 5
    settings.messages.delay_threshold_minutes = 25
    return settings


async def tick(services: Services) -> None:
    await fill_outbox(services)
    await services.dispatcher().drain()


async def sent_to(services: Services, delivery_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(kind, payload) of what went out to this delivery's recipient, in the order it went."""
    query = (
        sa.select(messages.c.kind, messages.c.payload)
        .where(messages.c.delivery_id == delivery_id, messages.c.status == "sent")
        .where(messages.c.recipient_id.is_not(None))
        .order_by(messages.c.sent_at, messages.c.id)
    )
    async with services.store.read() as conn:
        return [(r.kind, r.payload) for r in await conn.execute(query)]


async def plan(services: Services, clock: ManualClock, day: Any) -> PlanResult:
    return await plan_date(
        services.store, clock, services.settings.eta, services.matrix, day, actor="test",
        composer=services.composer,
    )  # fmt: skip


async def route_of(services: Services, day: Any, delivery_id: int) -> RouteView:
    async with services.store.read() as conn:
        loaded = await load_day(conn, day)
    assert loaded is not None
    route = loaded.route_of(delivery_id)
    assert route is not None
    return route


async def test_a_rebooked_parcel_hears_the_whole_sequence_again_on_its_new_day(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    clock.set(EIGHT)
    await tick(services)
    async with services.store.read() as conn:
        first_route = next(iter((await load_day(conn, DAY)).routes.values()))  # type: ignore[union-attr]
    parcel = first_route.stops[0].delivery_id
    await progress.start_route(services, first_route.driver_id, actor="test")
    await tick(services)
    clock.set(first_route.stops[0].planned_arrival)
    await tick(services)
    await progress.record_stop_event(
        services, parcel, StopEvent.FAILED, reason=FailReason.NOT_HOME, actor="test"
    )
    await services.dispatcher().drain()
    await sandbox_reply(services, parcel, "1")  # the first new time offered: tomorrow
    await services.dispatcher().drain()
    assert [k for k, _ in await sent_to(services, parcel)] == [
        "pre-delivery", "out-for-delivery", "nearby", "failed", "rescheduled"
    ]  # fmt: skip

    clock.set(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))  # the next day's nightly plan
    await plan(services, clock, NEXT)
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # 18:00: the evening notices
    await tick(services)
    route = await route_of(services, NEXT, parcel)
    stop = next(s for s in route.stops if s.delivery_id == parcel)
    clock.set(stop.planned_arrival - timedelta(minutes=40))
    await progress.start_route(services, route.driver_id, actor="test")
    await tick(services)
    clock.set(stop.planned_arrival - timedelta(minutes=8))
    await tick(services)
    await tick(services)

    again = [k for k, _ in await sent_to(services, parcel)][5:]
    assert again == ["pre-delivery", "out-for-delivery", "nearby"]


def off_sick(day_file: dict[str, Any], vans: int) -> FleetIn:
    """The first `vans` drivers of the day, no longer active."""
    drivers = FleetIn.model_validate({"drivers": day_file["drivers"][:vans]}).drivers
    return FleetIn(drivers=[driver.model_copy(update={"active": False}) for driver in drivers])


async def test_a_second_full_plan_keeps_every_told_window_or_tells_who_moved_once(
    planned_day: Services, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    services = planned_day
    clock.set(EIGHT)
    await tick(services)  # everyone is told their window
    async with services.store.read() as conn:
        told = await promises.last_told_for_day(conn, DAY)
    assert len(told) == 40

    again = await plan(services, clock, DAY)
    assert (again.kept, again.told) == (40, 0)
    async with services.store.read() as conn:
        held = await promises.current_for_day(conn, DAY)
    assert {d: (p.start, p.end) for d, p in held.items()} == {d: (p.start, p.end) for d, p in told.items()}

    async with services.store.tx() as conn:  # two vans fewer: off sick
        await upsert_fleet(conn, clock, off_sick(day_file, 2), actor="t")
    clock.advance(timedelta(minutes=5))
    third = await plan(services, clock, DAY)
    await services.dispatcher().drain()
    async with services.store.read() as conn:
        held = await promises.current_for_day(conn, DAY)
    threshold = timedelta(minutes=services.settings.messages.moved_threshold_minutes)
    moved = {d for d, p in held.items() if abs(p.start - told[d].start) > threshold}
    assert moved, "one van cannot keep the windows three were planned for"
    assert third.told == len(moved)
    updates = await outbox_rows(services, kind="window-updated")
    assert sorted(r["delivery_id"] for r in updates) == sorted(moved)  # each once
    assert all(r["status"] == "sent" for r in updates)
    for row in updates:
        assert row["payload"]["promise"] == held[row["delivery_id"]].version


async def test_slips_that_add_up_are_told_once_with_the_new_window(
    planned_day: Services, clock: ManualClock
) -> None:
    """The van slips 10 minutes three times (re-plans with only that arrival changed, so the slips are
    exact). A slip out of the window held makes a new one, none far enough from the one before to be
    told on its own; measured from the window the recipient was told, they add up, and that is told
    once, with the new window."""
    services = planned_day
    threshold = timedelta(minutes=services.settings.messages.delay_threshold_minutes)
    clock.set(EIGHT)
    await tick(services)
    async with services.store.read() as conn:
        day = await load_day(conn, DAY)
    assert day is not None
    route = next(iter(day.routes.values()))
    parcel = route.stops[-1].delivery_id
    await progress.start_route(services, route.driver_id, actor="test")
    await tick(services)
    told = day.promises[parcel]
    for slip in (0, 10, 20):
        clock.advance(timedelta(minutes=1))
        await arrive_at(services, clock, parcel, told.end + timedelta(minutes=1 + slip))
        await services.dispatcher().drain()

    async with services.store.read() as conn:
        query = (
            sa.select(promise_rows)
            .where(promise_rows.c.delivery_id == parcel)
            .order_by(promise_rows.c.version)
        )
        ledger = list((await conn.execute(query)).mappings())
    assert len(ledger) >= 3  # the plan's window, then new ones as the arrival leaves the window held
    steps = [b["start"] - a["start"] for a, b in itertools.pairwise(ledger)]
    assert all(timedelta(0) < step <= threshold for step in steps)  # none alone is worth a message
    (delay,) = await outbox_rows(services, kind="delay", delivery_id=parcel)
    assert delay["status"] == "sent"
    (said,) = [v for v in ledger if v["version"] == delay["payload"]["promise"]]
    assert said["start"] - told.start > threshold  # the first window far enough from the one told
    assert all(v["start"] - said["start"] <= threshold for v in ledger if v["version"] > said["version"])
    to = To(Channel(delay["channel"]), delay["address"], delay["locale"], delay["timezone"], "")
    assert services.composer.window(to, said["start"], said["end"]) in delay["body"]
    assert services.composer.window(to, told.start, told.end) in delay["body"]


async def arrive_at(services: Services, clock: ManualClock, parcel: int, arrival: datetime) -> None:
    """Apply a re-plan of the parcel's van whose only change is this parcel's arrival."""
    async with services.store.tx() as conn:
        day = await load_day(conn, DAY)
        assert day is not None
        route = day.route_of(parcel)
        assert route is not None
        stops = tuple(
            PlannedStop(s.delivery_id, n, arrival if s.delivery_id == parcel else s.planned_arrival, 0)
            for n, s in enumerate(day.remaining(route), 1)
        )
        van = PlannedRoute(route.driver_id, stops, route.start_at, route.end_at, 0, 0)
        result = Replan(routes=(van,), late=(), unserved=(), cost=0, solve_ms=1)
        now = clock.now()
        await apply_replan(conn, day, result, now, services.settings, services.composer, trigger="test")


async def test_a_van_leaving_before_quiet_hours_end_says_out_for_delivery_before_nearby(
    planned_day: Services, clock: ManualClock
) -> None:
    services = planned_day
    services.settings.outbox.quiet_end = time(10, 0)  # a late end of quiet hours: 10:00 in Berlin
    quiet_until = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with services.store.read() as conn:
        day = await load_day(conn, DAY)
    assert day is not None
    route = min(day.routes.values(), key=lambda r: r.stops[0].planned_arrival)
    clock.set(route.stops[0].planned_arrival - timedelta(minutes=25))
    assert clock.now() < quiet_until, "the van leaves while quiet hours last"
    await progress.start_route(services, route.driver_id, actor="test")
    await tick(services)
    clock.advance(timedelta(seconds=10))
    await tick(services)
    first = route.stops[0].delivery_id
    async with services.store.read() as conn:
        query = (
            sa.select(messages.c.kind, messages.c.sent_at)
            .where(messages.c.delivery_id == first, messages.c.status == "sent")
            .where(messages.c.recipient_id.is_not(None))
            .order_by(messages.c.sent_at, messages.c.id)
        )
        went = [(r.sent_at, r.kind) for r in await conn.execute(query)]
    assert [kind for _, kind in went] == ["out-for-delivery", "nearby"]
    assert all(at < quiet_until for at, _ in went)  # the van is out: quiet hours hold neither


async def test_a_plan_that_would_move_told_windows_with_nobody_to_tell_them_is_refused(
    planned_day: Services, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    services = planned_day
    clock.set(EIGHT)
    await tick(services)
    async with services.store.tx() as conn:
        await upsert_fleet(conn, clock, off_sick(day_file, 2), actor="t")
    async with services.store.read() as conn:
        before = await promises.current_for_day(conn, DAY)
        header = await plans.active(conn, DAY)
    with pytest.raises(PlanningError, match="windows already told"):
        await plan_date(services.store, clock, services.settings.eta, services.matrix, DAY, actor="test")
    async with services.store.read() as conn:
        assert await promises.current_for_day(conn, DAY) == before  # nothing moved, nobody left untold
        assert await plans.active(conn, DAY) == header
