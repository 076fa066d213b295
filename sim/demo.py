"""`doorstep demo`: a whole delivery day, simulated on a virtual clock, on a fresh SQLite file.

The day runs through the real system: import, the nightly VROOM plan, the scheduler tick, the
outbox dispatcher (into the sandbox provider), replies through the inbound path, re-plans and ETA
refreshes after driver events. Only the people are simulated (sim/people.py).
"""

import contextlib
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.composition import build_services
from bot.config import Settings
from bot.domain.deliveries import Status
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store import links
from bot.usecases import progress
from bot.usecases.day import FINISHED, load_day
from bot.usecases.errors import ConflictError
from bot.usecases.fleet import FleetIn
from bot.usecases.inbound import sandbox_reply
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from eta.geo import LatLon
from scheduler.jobs import tick
from sim import report
from sim.people import Person, Recipients, Van, habits
from sim.sample import BERLIN, City, sample_day
from sim.traffic import Truth, World

TICK = timedelta(minutes=3)  # while vans drive; the real scheduler ticks every few seconds
EVENING_TICK = timedelta(minutes=6)  # before the vans leave: only replies to the evening notice
POSITION_EVERY = timedelta(minutes=15)
FAIL_RATE = 0.08
MONACO = City("Monaco", 43.7384, 7.4246, 0.012, "Europe/Monaco")

type Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DemoOptions:
    folder: Path
    day: date
    deliveries: int = 120
    drivers: int = 4
    seed: int = 7
    osm_pbf: Path | None = None  # real streets (Monaco extract) when given
    truth: Truth = field(default_factory=Truth)  # how the world really drives and delivers (sim/traffic.py)
    learning: bool = True  # DOORSTEP_ETA__LEARNING


@dataclass(frozen=True)
class DemoResult:
    db_path: Path
    summary: report.Summary
    report_path: Path
    link: str | None = None  # a recipient's page (/t/{token}) of one delivered parcel, for `doorstep serve`


def monaco_extract() -> Path | None:
    """The shared Monaco extract (`DOORSTEP_SHARED_DATA`, else ../shared/data), if it is there."""
    configured = os.environ.get("DOORSTEP_SHARED_DATA")
    base = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "data"
    found = base / "osm" / "monaco.osm.pbf"
    return found if found.is_file() else None


def demo_settings(options: DemoOptions) -> Settings:
    """Settings for a simulated day: its own files, and provider limits that keep up with a day a minute."""
    roads: dict[str, Any] = (
        {
            "matrix": "osrm",
            "osm_pbf": options.osm_pbf,
            "osrm_cache_dir": options.folder.parent / ".cache" / "osrm",
        }
        if options.osm_pbf
        else {}
    )
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{options.folder / 'doorstep.db'}"},
        sandbox={"path": options.folder / "sandbox.db"},
        eta={"exploration": 3, "learning": options.learning, **roads},
        outbox={"sms_per_second": 10_000, "telegram_per_second": 10_000, "per_recipient_seconds": 0},
        _env_file=None,
    )


async def run_demo(options: DemoOptions, progress_to: Progress | None = None) -> DemoResult:
    options.folder.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo((MONACO if options.osm_pbf else BERLIN).timezone)
    clock = ManualClock(datetime.combine(options.day - timedelta(days=1), time(16, 0), tzinfo=zone))
    services = await build_services(demo_settings(options), clock)
    try:
        day = Day(services, clock, options, zone, progress_to or (lambda _share, _what: None))
        await day.prepare()
        await day.run()
        link = await a_page_link(services, options.day)
    finally:
        await services.close()
    db_path = options.folder / "doorstep.db"
    summary = await report.summarize(db_path, options.day)
    html = report.write_html(
        summary, db_path, options.folder / "report.html", osm=options.osm_pbf is not None
    )
    return DemoResult(db_path, summary, html, link)


async def a_page_link(services: Services, day: date) -> str | None:
    """A link to the page of the day's first delivered parcel (as its messages carry one)."""
    async with services.store.tx() as conn:
        done = await delivery_store.find(
            conn, delivery_store.DeliveryFilter(day=day, statuses=[Status.DELIVERED], limit=1)
        )
        return f"/t/{await links.issue(conn, done[0].id, services.clock.now())}" if done else None


class Day:
    """The simulated day: a loop over virtual time, ticking the system and letting the people act."""

    def __init__(
        self,
        services: Services,
        clock: ManualClock,
        options: DemoOptions,
        zone: ZoneInfo,
        progress_to: Progress,
    ) -> None:
        self.services, self.clock, self.options, self.zone, self.report = (
            services,
            clock,
            options,
            zone,
            progress_to,
        )
        self.rng = random.Random(options.seed)
        self.world = World(options.truth, random.Random(self.rng.random()), zone)
        self.recipients = Recipients(self.rng, {})
        self.vans: dict[int, Van] = {}
        self.seen = len(services.sandbox.sent())  # an earlier day's messages in the same folder are read
        self.end = datetime.combine(options.day, time(20, 30), tzinfo=zone)

    async def prepare(self) -> None:
        city = MONACO if self.options.osm_pbf else BERLIN
        data = sample_day(
            self.options.day, self.options.deliveries, self.options.drivers, seed=self.options.seed, city=city
        )
        fleet_in = FleetIn.model_validate({k: data[k] for k in ("depots", "drivers")})
        rows = list(enumerate(data["deliveries"], 1))
        store, settings = self.services.store, self.services.settings
        await import_deliveries(store, self.clock, settings.day, rows, fleet_in=fleet_in, actor="demo")
        self.report(0.0, "planning the day with VROOM")
        await plan_date(
            store,
            self.clock,
            settings.eta,
            self.services.matrix,
            self.options.day,
            actor="demo",
            composer=self.services.composer,
        )
        await self._meet_everyone()

    async def _meet_everyone(self) -> None:
        async with self.services.store.read() as conn:
            day = await load_day(conn, self.options.day)
        assert day is not None
        chosen = habits(self.rng, len(day.deliveries))
        people = {
            d.phone: Person(d.id, d.locale, habit)
            for d, habit in zip(day.deliveries.values(), chosen, strict=True)
        }
        self.recipients.people.update(people)
        for driver in day.drivers.values():
            depot = day.depots[driver.depot_id]
            start = datetime.combine(self.options.day, driver.shift_start, tzinfo=ZoneInfo(depot.timezone))
            home = LatLon(depot.lat, depot.lon)
            self.vans[driver.id] = Van(driver.id, start, self.world.pace(driver.id), home)

    async def run(self) -> None:
        begin = self.clock.now()
        while self.clock.now() < self.end:
            await self._tick()
            share = (self.clock.now() - begin) / (self.end - begin)
            self.report(share, f"{self.clock.now().astimezone(self.zone):%a %H:%M}")
            await self._until(self.clock.now() + self._step())
        await self._tick()

    async def _until(self, moment: datetime) -> None:
        """Move the clock to `moment`, and each van on the way at the very second it reaches a door or
        leaves one (the system ticks only every few minutes; stop events keep their own time). What a stop
        event queues goes out then, as the running dispatcher sends it within a second: not at the next
        tick, after the van has already handed the parcel over."""
        while (soonest := self._next_move()) is not None and soonest < moment:
            self.clock.set(soonest)
            for van in self.vans.values():
                await self._drive(van)
            await self.services.dispatcher().drain()
        self.clock.set(moment)

    def _next_move(self) -> datetime | None:
        now = self.clock.now()
        return min(
            (m for van in self.vans.values() if (m := van.next_move) is not None and m > now), default=None
        )

    def _step(self) -> timedelta:
        """A few minutes while vans drive, more in the evening; overnight, straight to the first thing due."""
        local = self.clock.now().astimezone(self.zone)
        if time(22, 0) <= local.time() or local.time() < time(7, 0):
            wake = datetime.combine(self.options.day, time(7, 0), tzinfo=self.zone)
            nxt = min([wake, *(p.at for p in self.recipients.queue)])
            return max(TICK, nxt - self.clock.now())
        return EVENING_TICK if local.date() < self.options.day else TICK

    async def _tick(self) -> None:
        await tick(self.services)
        await self.services.dispatcher().drain()
        fresh = self.services.sandbox.sent()[self.seen :]
        self.seen += len(fresh)
        self.recipients.read(fresh, self.clock.now())
        for planned in self.recipients.due(self.clock.now()):
            await sandbox_reply(self.services, planned.delivery_id, planned.text)
        for van in self.vans.values():
            await self._drive(van)

    async def _drive(self, van: Van) -> None:
        """Everything the van has come to by now: leave the depot, reach a door, finish there."""
        while (move := van.next_move) is not None and move <= self.clock.now():
            if not van.started:
                van.started = True
                await progress.start_route(self.services, van.driver_id, actor="driver")
                await self._head_on(van)
            elif van.busy_until is None:
                await self._arrive(van)
            else:
                await self._at_the_door(van)
                await self._head_on(van)

    async def _arrive(self, van: Van) -> None:
        """At the door: "arrived", a wait if the promised window has not opened, then the stop's real time."""
        assert van.heading_to is not None
        assert van.arrives is not None
        with contextlib.suppress(ConflictError):  # rescheduled or cancelled meanwhile: drive on
            await progress.record_stop_event(
                self.services, van.heading_to, progress.StopEvent.ARRIVED, actor="driver"
            )
        begins = max(van.arrives, van.opens) if van.opens is not None else van.arrives
        van.busy_until = begins + self.world.service(van.service_s)

    async def _at_the_door(self, van: Van) -> None:
        delivery_id = van.heading_to
        assert delivery_id is not None
        failed = self.rng.random() < FAIL_RATE
        event = progress.StopEvent.FAILED if failed else progress.StopEvent.DELIVERED
        reason = (
            self.rng.choice([progress.FailReason.NOT_HOME] * 3 + [progress.FailReason.NO_ACCESS])
            if failed
            else None
        )
        with contextlib.suppress(ConflictError):  # rescheduled or cancelled meanwhile: drive on
            await progress.record_stop_event(self.services, delivery_id, event, reason=reason, actor="driver")
        van.heading_to, van.arrives, van.busy_until = None, None, None

    async def _head_on(self, van: Van) -> None:
        """Pick the next stop of the van's *current* route (re-plans may have changed it) and drive there."""
        nxt = await self._next_stop(van)
        if nxt is None:
            van.done = True
            return
        delivery_id, location, promised_start, service_s = nxt
        matrix = await self.services.day_matrix(self.options.day).table([van.at, location])
        now = self.clock.now()
        van.arrives = now + self.world.drive(float(matrix.durations[0, 1]), van.pace, now)
        van.at, van.heading_to, van.opens, van.service_s = location, delivery_id, promised_start, service_s
        if self.rng.random() < 0.5:  # about half the drivers share their live location
            await progress.update_position(
                self.services, van.driver_id, location.lat, location.lon, actor="driver"
            )

    async def _next_stop(self, van: Van) -> tuple[int, LatLon, datetime, int] | None:
        async with self.services.store.read() as conn:
            day = await load_day(conn, self.options.day)
        route = day.routes.get(van.driver_id) if day else None
        if day is None or route is None:
            return None
        for stop in route.stops:
            delivery = day.deliveries[stop.delivery_id]
            if delivery.status not in FINISHED and delivery.status is Status.OUT_FOR_DELIVERY:
                return (
                    delivery.id,
                    LatLon(delivery.lat, delivery.lon),
                    stop.promised_start,
                    delivery.service_s,
                )
        return None
