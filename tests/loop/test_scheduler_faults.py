"""The scheduler's faults (RELIABILITY.md 23 and 24) on real SQLite files and the virtual clock.

23: the process is down past due times, across a daylight-saving change in Berlin; after the restart the
first tick finds what is due in the database: still useful goes out late, past its validity does not, and
every time is right in UTC and in the recipient's local time.
24: two schedulers and two dispatchers on one database: one re-plan per burst, one row per notice, each
sent once.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.app import build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.promises import Promise
from bot.services import Services
from bot.store import promises
from bot.store.tables import deliveries
from bot.usecases.fleet import FleetIn
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from scheduler.jobs import tick
from sim.sample import sample_day
from tests.loop.conftest import outbox_rows
from tests.loop.test_new_deliveries import add, ids_of, late_order, revisions

BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = date(2026, 10, 25)  # summer time ends at 03:00 CEST (01:00 UTC) that morning
MARCH = date(2026, 3, 29)  # summer time starts at 02:00 CET (01:00 UTC) that morning


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Wall-clock time in Berlin on `day`, as the aware UTC instant it is."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
async def restarted() -> AsyncIterator[list[Services]]:
    """Processes started later on the same database file; closed at the end."""
    started: list[Services] = []
    yield started
    for services in started:
        await services.close()


async def restart(settings: Settings, clock: ManualClock, started: list[Services]) -> Services:
    """A new process: its own engine, transports and scheduler, the same database and provider files."""
    services = (await build_app(settings, clock)).services
    started.append(services)
    return services


async def plan(services: Services, clock: ManualClock, day: date) -> None:
    day_file = sample_day(day, 24, 2, seed=5)
    fleet_in = FleetIn.model_validate({k: day_file[k] for k in ("depots", "drivers")})
    rows = list(enumerate(day_file["deliveries"], 1))
    await import_deliveries(services.store, clock, services.settings.day, rows, fleet_in=fleet_in)
    await plan_date(services.store, clock, services.settings.eta, services.matrix, day, actor="test")


async def promised(services: Services, day: date) -> dict[int, Promise]:
    async with services.store.read() as conn:
        ids = (await conn.execute(sa.select(deliveries.c.id).where(deliveries.c.date == day))).scalars()
        return await promises.current(conn, list(ids))


def local_window(promise: Promise) -> str:
    """The window as the recipient reads it, worked out here without the composer."""
    return f"{promise.start.astimezone(BERLIN):%H:%M}-{promise.end.astimezone(BERLIN):%H:%M}"


def said_to_each(services: Services) -> Counter[str]:
    return Counter(sent.address for sent in services.sandbox.sent())


async def test_down_all_night_across_the_october_change_the_first_tick_sends_only_what_is_still_useful(
    services: Services, clock: ManualClock, settings: Settings, restarted: list[Services]
) -> None:
    clock.set(at(OCTOBER - timedelta(days=1), 17))  # 17:00 CEST, 15:00 UTC: planned, nothing due yet
    await plan(services, clock, OCTOBER)
    assert await tick(services) == 0
    # Down from here: the pre-delivery notices fall due at 18:00 CEST and nothing runs until 09:50 CET.
    clock.set(at(OCTOBER, 9, 50))
    assert clock.now() == datetime(2026, 10, 25, 8, 50, tzinfo=UTC)
    again = await restart(settings, clock, restarted)
    await tick(again)
    await again.dispatcher().drain()

    windows = await promised(again, OCTOBER)
    useful = {d for d, p in windows.items() if p.start > clock.now()}
    assert 0 < len(useful) < len(windows)  # some windows began while it was down, some not yet
    told = await outbox_rows(again, kind="pre-delivery")
    assert {r["delivery_id"] for r in told} == useful
    assert {r["due_at"] for r in told} == {datetime(2026, 10, 24, 16, 0, tzinfo=UTC)}  # 18:00 CEST
    assert {r["status"] for r in told} == {"sent"}
    assert all(local_window(windows[r["delivery_id"]]) in r["body"] for r in told)
    assert "Sun 25 Oct" in told[0]["body"] or "So. 25. Okt." in told[0]["body"]
    assert set(said_to_each(again)) >= {r["address"] for r in told}
    assert await tick(again) == 0  # the next tick finds nothing more


async def test_a_tick_whose_sends_were_lost_in_a_crash_sends_them_after_the_march_change_or_expires_them(
    services: Services, clock: ManualClock, settings: Settings, restarted: list[Services]
) -> None:
    clock.set(at(MARCH - timedelta(days=1), 17))
    await plan(services, clock, MARCH)
    clock.set(at(MARCH - timedelta(days=1), 18, 5))  # 18:05 CET: the tick queues them, then the crash
    assert await tick(services) > 0
    queued = await outbox_rows(services, kind="pre-delivery")
    assert {r["due_at"] for r in queued} == {datetime(2026, 3, 28, 17, 0, tzinfo=UTC)}  # 18:00 CET
    assert services.sandbox.sent() == []

    clock.set(at(MARCH, 9, 50))
    assert clock.now() == datetime(2026, 3, 29, 7, 50, tzinfo=UTC)  # CEST now
    again = await restart(settings, clock, restarted)
    await tick(again)
    await again.dispatcher().drain()

    windows = await promised(again, MARCH)
    after = {r["delivery_id"]: r for r in await outbox_rows(again, kind="pre-delivery")}
    assert set(after) == {r["delivery_id"] for r in queued}  # the tick after the restart added none
    late = {d for d, r in after.items() if r["status"] == "sent"}
    assert late == {d for d, p in windows.items() if p.start > clock.now()}
    assert 0 < len(late) < len(after)
    assert {r["status"] for d, r in after.items() if d not in late} == {"expired"}
    assert all(local_window(windows[d]) in after[d]["body"] for d in late)
    sent_to = said_to_each(again)
    assert all(sent_to[after[d]["address"]] == 0 for d in after if d not in late)


async def test_two_schedulers_on_one_database_replan_a_burst_once_and_queue_each_notice_once(
    planned_day: Services,
    clock: ManualClock,
    settings: Settings,
    day_file: dict[str, Any],
    restarted: list[Services],
) -> None:
    first, second = planned_day, await restart(settings, clock, restarted)
    assert sorted(await asyncio.gather(tick(first), tick(second)))[0] == 0

    await add(first, clock, *(late_order(day_file, n) for n in range(3)))
    clock.advance(timedelta(seconds=first.settings.eta.replan_quiet_seconds))
    queued = await asyncio.gather(tick(first), tick(second))

    assert sorted(queued)[0] == 0  # whichever came second found the work done
    assert len(await revisions(first, "new-deliveries")) == 1
    late = await ids_of(first, "LATE-0", "LATE-1", "LATE-2")
    async with first.store.read() as conn:
        versions = await promises.current(conn, late)
    assert {d: p.version for d, p in versions.items()} == dict.fromkeys(late, 1)
    rows = await outbox_rows(first)
    per_notice = Counter((r["delivery_id"], r["kind"]) for r in rows if r["delivery_id"] is not None)
    assert per_notice.most_common(1)[0][1] == 1
    assert {(d, "pre-delivery") for d in late} <= {(r["delivery_id"], r["kind"]) for r in rows}


async def test_two_dispatchers_on_one_database_send_each_notice_once(
    planned_day: Services, clock: ManualClock, settings: Settings, restarted: list[Services]
) -> None:
    first, second = planned_day, await restart(settings, clock, restarted)
    await tick(first)
    clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))  # 08:00 in Berlin: the quiet hours end
    await asyncio.gather(first.dispatcher().drain(), second.dispatcher().drain())

    rows = await outbox_rows(first)
    sent = sorted(r["id"] for r in rows if r["status"] == "sent")
    copies = Counter(s.message_id for s in first.sandbox.sent())
    assert len(sent) > 30
    assert sorted(copies) == sent
    assert max(copies.values()) == 1
    assert all(r["valid_until"] <= clock.now() for r in rows if r["status"] != "sent")  # expired unsent
