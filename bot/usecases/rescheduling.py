"""Moving a delivery: which times can be offered, the cut-off, and taking a time (re-checked when taken)."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.domain.deliveries import OPEN, Delivery, Status
from bot.domain.intents import Wish
from bot.domain.promises import Promise
from bot.notify.compose import Composer
from bot.store import deliveries as delivery_store
from bot.store import events, fleet, plans, promises
from bot.usecases.day import Day, day_state, load_day
from bot.usecases.learning import Learner, retimed_replan, zones
from bot.usecases.replanning import Revision, apply_replan
from bot.usecases.specs import job_spec
from eta import slots
from eta.matrix import MatrixProvider
from eta.model import Window


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


def refusal(delivery: Delivery, promise: Promise | None, now: datetime, settings: Settings) -> str | None:
    """Why the recipient may not change this delivery now (a REFUSAL phrase key), or None."""
    if delivery.status is Status.DELIVERED:
        return "done"
    if delivery.status is Status.FAILED:
        return None  # a failed attempt can always be rebooked
    if delivery.status not in OPEN:
        return "closed"
    opens = promise.start if promise else delivery.window_start
    if now > opens - timedelta(minutes=settings.messages.cutoff_minutes):
        return "cutoff"
    return None


async def candidates(
    conn: AsyncConnection, delivery: Delivery, now: datetime, settings: Settings
) -> list[Slot]:
    """Slot-grid windows through the fleet's shifts, from the cut-off today up to N days ahead."""
    drivers = await fleet.list_drivers(conn, active_only=True)
    if not drivers:
        return []
    zone = ZoneInfo(delivery.timezone)
    opens, closes = min(d.shift_start for d in drivers), max(d.shift_end for d in drivers)
    earliest = now + timedelta(minutes=settings.messages.cutoff_minutes)
    width = timedelta(minutes=settings.messages.slot_minutes)
    found: list[Slot] = []
    first = max(delivery.date, earliest.astimezone(zone).date())
    for offset in range(settings.messages.reschedule_days + 1):
        found += _grid(first + timedelta(days=offset), opens, closes, width, zone)
    current = (delivery.window_start, delivery.window_end)
    return [s for s in found if s.start >= earliest and (s.start, s.end) != current]


def _grid(day: date, opens: time, closes: time, width: timedelta, zone: ZoneInfo) -> list[Slot]:
    start = datetime.combine(day, opens, tzinfo=zone)
    end_of_day = datetime.combine(day, closes, tzinfo=zone)
    out: list[Slot] = []
    while start + width <= end_of_day:
        out.append(Slot(start.astimezone(ZoneInfo("UTC")), (start + width).astimezone(ZoneInfo("UTC"))))
        start += width
    return out


async def offer(
    conn: AsyncConnection,
    delivery: Delivery,
    now: datetime,
    settings: Settings,
    matrix: MatrixProvider,
    wish: Wish | None = None,
    *,
    learner: Learner | None = None,
) -> list[Slot]:
    """At most K times the route can honour (and that fit the `wish`, if given): each checked by a
    re-plan on a planned day (at the pace `learner` has learned), by shifts later."""
    day = await _day(conn, delivery, now, learner)
    offered: list[Slot] = []
    limit = settings.messages.max_slots
    zone = ZoneInfo(delivery.timezone)
    grid = await candidates(conn, delivery, now, settings)
    for slot in [s for s in grid if wish is None or fits((s.start, s.end), wish, zone, delivery.date)]:
        planned = day is not None and local_date(slot, delivery) == day.plan.date
        if not planned or (day is not None and await _honoured(day, delivery, slot, now, matrix)):
            offered.append(slot)
        if len(offered) == limit:
            break
    return offered


def fits(window: tuple[datetime, datetime], wish: Wish, zone: ZoneInfo, default_day: date) -> bool:
    """Whether a UTC window lies on the wished day (the delivery's own when none was said) and inside
    the wished hours, in the recipient's time zone."""
    start, end = (moment.astimezone(zone) for moment in window)
    return (
        start.date() == (wish.day or default_day)
        and (wish.after is None or start.time() >= wish.after)
        and (wish.before is None or end.time() <= wish.before)
    )


def local_date(slot: Slot, delivery: Delivery) -> date:
    return slot.start.astimezone(ZoneInfo(delivery.timezone)).date()


async def _day(
    conn: AsyncConnection, delivery: Delivery, now: datetime, learner: Learner | None
) -> Day | None:
    day = await load_day(conn, delivery.date)
    return await learner.attach(conn, day, now) if day is not None and learner is not None else day


async def _honoured(day: Day, delivery: Delivery, slot: Slot, now: datetime, matrix: MatrixProvider) -> bool:
    job = job_spec(delivery, day.learned)
    window: Window = (slot.start, slot.end)
    result = await slots.trial(day_state(day, now, {delivery.id: job}), job, window, matrix, now)
    return slots.honours(result, delivery.id)


async def take(
    conn: AsyncConnection,
    delivery: Delivery,
    slot: Slot,
    now: datetime,
    settings: Settings,
    composer: Composer,
    matrix: MatrixProvider,
    *,
    actor: str = "recipient",
    learner: Learner | None = None,
) -> Promise | None:
    """Move the delivery to `slot` if it is still ahead and the route can honour it (None: not any more).

    `actor`: who asked, for the event log (the recipient, or `staff:<username>` on their behalf)."""
    if slot.start < now + timedelta(minutes=settings.messages.cutoff_minutes):
        return None
    day = await _day(conn, delivery, now, learner)
    local_day = local_date(slot, delivery)
    if day is not None and local_day == day.plan.date:
        return await _same_day(conn, day, delivery, slot, now, settings, composer, matrix, actor)
    return await _other_day(conn, day, delivery, slot, local_day, now, actor)


async def _same_day(
    conn: AsyncConnection,
    day: Day,
    delivery: Delivery,
    slot: Slot,
    now: datetime,
    settings: Settings,
    composer: Composer,
    matrix: MatrixProvider,
    actor: str,
) -> Promise | None:
    started = perf_counter()
    window: Window = (slot.start, slot.end)
    job = job_spec(delivery, day.learned)
    state = day_state(day, now, {delivery.id: job})
    result = await slots.trial(state, job, window, matrix, now)
    if not slots.honours(result, delivery.id):
        return None
    moved_state = slots.with_window(state, job, window)
    result = await retimed_replan(result, moved_state, zones(day), matrix, day.learned)
    await delivery_store.update(conn, delivery.id, {"window_start": slot.start, "window_end": slot.end}, now)
    moved = replace(delivery, window_start=slot.start, window_end=slot.end)  # its promise lies inside
    revision: Revision = await apply_replan(
        conn,
        replace(day, deliveries={**day.deliveries, delivery.id: moved}),
        result,
        now,
        settings,
        composer,
        changed=frozenset({delivery.id}),
        trigger="reschedule",
        started=started,
    )
    await _log(conn, delivery, slot, now, actor)
    return revision.promises.get(delivery.id)


async def _other_day(
    conn: AsyncConnection,
    day: Day | None,
    delivery: Delivery,
    slot: Slot,
    new_date: date,
    now: datetime,
    actor: str,
) -> Promise:
    if day is not None:
        await plans.remove_stops(conn, day.plan.id, [delivery.id])
    values = {
        "date": new_date,
        "window_start": slot.start,
        "window_end": slot.end,
        "status": Status.RESCHEDULED.value,
    }
    await delivery_store.update(conn, delivery.id, values, now)
    previous = (await promises.current(conn, [delivery.id])).get(delivery.id)
    promise = Promise(
        delivery.id, (previous.version if previous else 0) + 1, slot.start, slot.end, "rescheduled"
    )
    await promises.record(conn, [promise], now)
    await _log(conn, delivery, slot, now, actor)
    return promise


async def _log(conn: AsyncConnection, delivery: Delivery, slot: Slot, now: datetime, actor: str) -> None:
    await events.append(
        conn,
        now,
        "delivery.rescheduled",
        actor=actor,
        delivery_id=delivery.id,
        data={
            "from": [delivery.window_start.isoformat(), delivery.window_end.isoformat()],
            "to": [slot.start.isoformat(), slot.end.isoformat()],
        },
    )
