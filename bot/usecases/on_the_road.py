"""Where each parcel on the road stands, for the recipient's page and its live updates.

A page view must not load the whole day (5,000 deliveries on a big one), and a re-plan must reach
hundreds of open pages within seconds. So a process keeps one `Snapshot` per day: every parcel on the
road with its narrowed window (as the out-for-delivery message gives it), its arrival, the stops
before it and its van's last reported position. It is made again only when the day changed (a new
event: every change to a plan, a stop or a van's position leaves one) or when it is `FRESH` old (the
narrowed window follows the clock), and made once for all the viewers waiting on it.

`Pulse` wakes the live pages: one poll of the newest event id per process, however many pages are
open, only while someone listens. A failed poll is logged and retried; it never ends the pulse.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery
from bot.domain.promises import Promise
from bot.store import events
from bot.store.db import Store
from bot.usecases.day import ON_BOARD, load_day
from bot.usecases.learning import WINDOW_MODEL_AGE, Learner
from eta.geo import LatLon

log = logging.getLogger(__name__)

FRESH = timedelta(seconds=30)  # a snapshot older than this is made again even if nothing changed


@dataclass(frozen=True, slots=True)
class Ahead:
    """A parcel on the road, as its page shows it."""

    window: tuple[datetime, datetime]  # the narrowed window
    arrival: datetime  # the route's planned arrival at this stop
    stops_before: int
    van: LatLon | None  # its last reported position (whether to show it: bot/usecases/tracking.py)
    van_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    marker: int  # the newest event id when it was made
    made: datetime
    made_at: float  # the event loop's clock, for REMAKE_GAP
    ahead: Mapping[int, Ahead]  # by delivery id: the parcels on the road
    deliveries: Mapping[int, Delivery]  # every parcel of the day's plan, as it stood
    promises: Mapping[int, Promise]


REMAKE_GAP = 1.0  # seconds: a snapshot this young serves a page view even if the day changed since


class Road:
    """This process's snapshots, one per day (the day asked about and the day before are kept)."""

    def __init__(self, learner: Learner, width: timedelta) -> None:
        self.learner, self.width = learner, width  # `width`: of the out-for-delivery window
        self._days: dict[date, Snapshot] = {}
        self._making = asyncio.Lock()

    async def ahead(self, conn: AsyncConnection, day: date, delivery_id: int, now: datetime) -> Ahead | None:
        """Where `delivery_id` stands on `day`'s road now, for a page view (the snapshot may be up to
        REMAKE_GAP behind); None when it is not on a route."""
        marker = await events.last_id(conn)
        snapshot = self._days.get(day)
        if snapshot is None or _stale(snapshot, marker, now, gap=REMAKE_GAP):
            snapshot = await self.snapshot(lambda: _given(conn), day, marker, now)
        return snapshot.ahead.get(delivery_id)

    async def snapshot(
        self,
        read: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        day: date,
        marker: int,
        now: datetime,
    ) -> Snapshot:
        """`day`'s snapshot as of event `marker` or later (made with a connection from `read` if the
        one kept is older). Whoever waited meanwhile takes what the first one made."""
        snapshot = self._days.get(day)
        if snapshot is not None and not _stale(snapshot, marker, now):
            return snapshot
        async with self._making:
            snapshot = self._days.get(day)
            if snapshot is not None and not _stale(snapshot, marker, now):
                return snapshot
            async with read() as conn:
                snapshot = await self._make(conn, day, max(marker, await events.last_id(conn)), now)
            self._days = {d: s for d, s in self._days.items() if d >= day - timedelta(days=1)}
            self._days[day] = snapshot
            return snapshot

    async def _make(self, conn: AsyncConnection, on: date, marker: int, now: datetime) -> Snapshot:
        made_at = asyncio.get_running_loop().time()
        day = await load_day(conn, on)
        if day is None:
            return Snapshot(marker, now, made_at, {}, {}, {})
        day = await self.learner.attach(conn, day, now, max_age=WINDOW_MODEL_AGE)
        ahead: dict[int, Ahead] = {}
        for route in day.routes.values():
            driver = day.drivers.get(route.driver_id)
            van = (
                LatLon(driver.position_lat, driver.position_lon)
                if driver and driver.position_lat is not None and driver.position_lon is not None
                else None
            )
            seen = driver.position_at if van is not None and driver else None
            for before, stop in enumerate(day.remaining(route)):
                if stop.delivery_id in day.promises and day.deliveries[stop.delivery_id].status in ON_BOARD:
                    window = day.narrowed(stop, now, self.width)
                    ahead[stop.delivery_id] = Ahead(window, stop.planned_arrival, before, van, seen)
        return Snapshot(marker, now, made_at, ahead, day.deliveries, day.promises)


def _stale(snapshot: Snapshot, marker: int, now: datetime, gap: float = 0.0) -> bool:
    """Made before event `marker` (and over `gap` seconds ago), or FRESH old by the clock."""
    if not timedelta(0) <= now - snapshot.made < FRESH:
        return True
    return snapshot.marker < marker and asyncio.get_running_loop().time() - snapshot.made_at >= gap


@asynccontextmanager
async def _given(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    yield conn


async def newest_event(store: Store) -> int:
    async with store.read() as conn:
        return await events.last_id(conn)


class Pulse:
    """Wakes whoever waits for the day to change: one poll per `every` seconds while anyone waits, and
    one at once when poked (this process committed a change: bot/store/db.py `on_commit`)."""

    def __init__(self, newest: Callable[[], Awaitable[int]], every: float = 0.5) -> None:
        self._newest, self.every = newest, every
        self.marker = 0
        self._poked = asyncio.Event()
        self._changed = asyncio.Condition()
        self._waiting = 0
        self._polling: asyncio.Task[None] | None = None

    async def wait(self, seen: int, seconds: float) -> int:
        """The newest event id once it differs from `seen`, or after `seconds` whatever it is."""
        self._waiting += 1
        if self._polling is None or self._polling.done():
            self._polling = asyncio.create_task(self._poll(), name="track-pulse")
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.marker != seen), seconds)
        except TimeoutError:
            pass
        finally:
            self._waiting -= 1
        return self.marker

    async def _poll(self) -> None:
        while self._waiting > 0:
            try:
                newest = await self._newest()
            except Exception as error:  # a locked or lost database: the pages wait, the pulse goes on
                log.warning("live page pulse could not read the store (%s: %s)", type(error).__name__, error)
            else:
                if newest != self.marker:
                    async with self._changed:
                        self.marker = newest
                        self._changed.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), self.every)
            self._poked.clear()

    def poke(self) -> None:
        if self._waiting > 0:
            self._poked.set()

    async def close(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
