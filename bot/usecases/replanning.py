"""Apply a re-plan to the day: routes rewritten, the promise ledger kept, and everyone told what changed.

A stop whose new ETA stays inside its promise keeps the promise. One that falls outside gets a new
promise (next version) and one message: "delay" when the parcel is already on the road, "updated
window" before. A driver hears about exactly the stops whose order, window or notes changed.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.domain.deliveries import Delivery, Status
from bot.domain.escalations import Reason
from bot.domain.messages import NewMessage
from bot.domain.promises import Promise
from bot.domain.routes import NewRoute, NewStop, RouteView
from bot.notify.compose import Composer, To, driver, pick_contact, recipient
from bot.notify.kinds import Kind
from bot.notify.render import ChangedStop, StopChange
from bot.store import contacts, escalations, events, outbox, plans, promises
from bot.store import deliveries as delivery_store
from bot.usecases.day import ON_BOARD, Day
from eta.model import PlannedRoute, Replan
from eta.windows import promised_window


@dataclass
class Revision:
    """What one applied re-plan changed."""

    revision: int = 0
    promises: dict[int, Promise] = field(default_factory=dict)  # new promise per delivery
    told: list[int] = field(default_factory=list)  # deliveries whose recipient gets a changed-window message
    late: list[int] = field(default_factory=list)
    notes: dict[int, list[ChangedStop]] = field(default_factory=dict)  # per driver
    unserved: list[int] = field(default_factory=list)


async def apply_replan(
    conn: AsyncConnection,
    day: Day,
    result: Replan,
    now: datetime,
    settings: Settings,
    composer: Composer,
    *,
    changed: frozenset[int] = frozenset(),
    trigger: str,
    started: float | None = None,
) -> Revision:
    """Write `result` into the active plan and queue the messages it calls for (caller's transaction)."""
    revision = Revision(revision=await plans.bump_revision(conn, day.plan.id))
    placed = [s.job_id for r in result.routes for s in r.stops]
    await plans.remove_stops(conn, day.plan.id, placed + [u.job_id for u in result.unserved])
    for route in result.routes:
        new_stops = _stops(day, route, revision, settings, changed, now)
        await plans.rewrite_route(conn, day.plan.id, _new_route(day, route, new_stops))
        old = day.routes.get(route.vehicle_id)
        revision.notes[route.vehicle_id] = _changed_stops(
            day, old, new_stops, revision, composer, route.vehicle_id
        )
    await promises.record(conn, list(revision.promises.values()), now)
    await _statuses(conn, day, placed, result, now, revision)
    await _tell(conn, day, revision, now, settings, composer, changed)
    latency_ms = round((time.perf_counter() - started) * 1000) if started is not None else result.solve_ms
    await events.append(
        conn,
        now,
        "plan.revised",
        actor=trigger,
        plan_id=day.plan.id,
        data={
            "revision": revision.revision,
            "vans": sorted(r.vehicle_id for r in result.routes),
            "solve_ms": result.solve_ms,
            "new_promises": len(revision.promises),
            "told": len(revision.told),
            "late": revision.late,
            "latency_ms": latency_ms,
        },
    )
    return revision


def _stops(
    day: Day,
    route: PlannedRoute,
    revision: Revision,
    settings: Settings,
    changed: frozenset[int],
    now: datetime,
) -> list[NewStop]:
    """The route's finished stops as they were, then the new order with arrivals and kept or new promises."""
    old = day.routes.get(route.vehicle_id)
    done = day.done(old) if old else []
    kept = [
        NewStop(s.delivery_id, n, s.planned_arrival, s.promised_start, s.promised_end)
        for n, s in enumerate(done, 1)
    ]
    width = timedelta(minutes=settings.eta.window_minutes)
    align = timedelta(minutes=settings.eta.window_align_minutes)
    for n, stop in enumerate(route.stops, len(kept) + 1):
        delivery = day.deliveries[stop.job_id]
        promise = day.promises.get(stop.job_id)
        if stop.job_id in changed or promise is None or not promise.start <= stop.arrival <= promise.end:
            errors = day.learned.errors(stop.arrival - route.start_at)  # where parcels this far ahead came
            start, end = promised_window(
                stop.arrival, (delivery.window_start, delivery.window_end), width, align, errors=errors
            )
            reason = "planned" if promise is None else ("rescheduled" if stop.job_id in changed else "late")
            promise = Promise(stop.job_id, (promise.version if promise else 0) + 1, start, end, reason)
            revision.promises[stop.job_id] = promise
        kept.append(NewStop(stop.job_id, n, stop.arrival, promise.start, promise.end))
    return kept


def _new_route(day: Day, route: PlannedRoute, new_stops: Sequence[NewStop]) -> NewRoute:
    old = day.routes.get(route.vehicle_id)
    start = old.start_at if old and day.done(old) else route.start_at
    return NewRoute(route.vehicle_id, start, route.end_at, route.distance_m, route.duration_s, new_stops)


def _changed_stops(
    day: Day,
    old: RouteView | None,
    new: Sequence[NewStop],
    revision: Revision,
    composer: Composer,
    driver_id: int,
) -> list[ChangedStop]:
    """The stops a driver must hear about: new, gone, moved in the order, or with another window."""
    before = {s.delivery_id: s for s in (day.remaining(old) if old else [])}
    done = _done_ids(day, old)
    after = {s.delivery_id: s for s in new if s.delivery_id not in done}
    order_before = [d for d in before if d in after]
    order_after = [d for d in after if d in before]
    to = _driver_to(day, driver_id)
    changes: list[ChangedStop] = []
    for delivery_id, stop in after.items():
        marks: list[StopChange] = []
        if delivery_id not in before:
            marks.append("added")
        else:
            if order_before.index(delivery_id) != order_after.index(delivery_id):
                marks.append("order")
            if (before[delivery_id].promised_start, before[delivery_id].promised_end) != (
                stop.promised_start,
                stop.promised_end,
            ):
                marks.append("window")
        if marks:
            changes.append(_changed(day, delivery_id, stop.sequence, stop, marks, composer, to))
    for delivery_id, gone in before.items():
        if delivery_id not in after and delivery_id not in revision.promises:
            changes.append(_changed(day, delivery_id, gone.sequence, None, ["removed"], composer, to))
    return sorted(changes, key=lambda c: c["seq"])


def _done_ids(day: Day, route: RouteView | None) -> set[int]:
    return {s.delivery_id for s in day.done(route)} if route else set()


def _changed(
    day: Day,
    delivery_id: int,
    seq: int,
    stop: NewStop | None,
    marks: list[StopChange],
    composer: Composer,
    to: To,
) -> ChangedStop:
    delivery = day.deliveries[delivery_id]
    window = composer.window(to, stop.promised_start, stop.promised_end) if stop else ""
    return ChangedStop(
        delivery_id=delivery_id,
        seq=seq,
        name=delivery.name,
        address=delivery.address,
        window=window,
        notes=delivery.notes,
        instructions=delivery.safe_drop or "",
        access_code=delivery.access_code or "",
        changed=marks,
    )


def _driver_to(day: Day, driver_id: int) -> To:
    person = day.drivers[driver_id]
    return driver(person, day.depots[person.depot_id].timezone)


async def _statuses(
    conn: AsyncConnection, day: Day, placed: list[int], result: Replan, now: datetime, revision: Revision
) -> None:
    waiting = [d for d in placed if day.deliveries[d].status in {Status.CREATED, Status.RESCHEDULED}]
    await delivery_store.set_status(conn, waiting, Status.PLANNED, now)
    await delivery_store.set_status(conn, [u.job_id for u in result.unserved], Status.CREATED, now)
    for unserved in result.unserved:
        revision.unserved.append(unserved.job_id)
        await escalations.open_one(
            conn,
            now,
            Reason.LATE,
            f"cannot be served: {unserved.reason}",
            delivery_id=unserved.job_id,
        )
    revision.late = [late.job_id for late in result.late]


async def _tell(
    conn: AsyncConnection,
    day: Day,
    revision: Revision,
    now: datetime,
    settings: Settings,
    composer: Composer,
    changed: frozenset[int],
) -> None:
    """One message per new promise that moved past the threshold from the last window the recipient was
    told (not to the person who asked for it): "delay" once the parcel is on board, else "updated window".
    Nobody told yet hears the promise from the pre-delivery notice."""
    queued: list[NewMessage] = []
    for delivery_id, promise in revision.promises.items():
        told, delivery = day.told.get(delivery_id), day.deliveries[delivery_id]
        if delivery_id in changed or told is None:
            continue
        on_road = delivery.status in ON_BOARD
        rules = settings.messages
        minutes = rules.delay_threshold_minutes if on_road else rules.moved_threshold_minutes
        if abs(promise.start - told.start) <= timedelta(minutes=minutes):
            continue
        message = await window_message(conn, composer, delivery, told, promise, now)
        if message is not None:
            queued.append(message)
            revision.told.append(delivery_id)
        if promise.reason == "late" and on_road:
            await escalations.open_one(
                conn, now, Reason.LATE, "promise broken by a re-plan", delivery_id=delivery_id
            )
    queued += _driver_notes(day, revision, now, composer)
    await outbox.enqueue(conn, queued, now)


async def window_message(
    conn: AsyncConnection, composer: Composer, delivery: Delivery, old: Promise, new: Promise, now: datetime
) -> NewMessage | None:
    """A "delay" (on board) or "updated window" message from `old`, what they were told, to `new`.

    None when there is nobody to tell (no working contact, or support paused the delivery)."""
    contact = pick_contact(await contacts.for_recipient(conn, delivery.recipient_id))
    if contact is None or delivery.paused:
        return None
    to = recipient(delivery, contact)
    on_road = delivery.status in ON_BOARD
    kind = Kind.DELAY if on_road else Kind.WINDOW_UPDATED
    fields: dict[str, object] = {
        "old_window": composer.window(to, old.start, old.end),
        "window": composer.window(to, new.start, new.end),
    }
    if not on_road:
        fields["day"] = composer.day(to, new.start)
    return composer.message(
        to,
        kind,
        fields,
        key=f"{delivery.id}:{kind.value}:{new.version}",
        order_id=delivery.order_id,
        due_at=now,
        delivery_id=delivery.id,
        valid_until=new.end,
        promise=new.version,
    )


def _driver_notes(day: Day, revision: Revision, now: datetime, composer: Composer) -> list[NewMessage]:
    notes: list[NewMessage] = []
    for driver_id, changes in revision.notes.items():
        if changes:
            to = _driver_to(day, driver_id)
            key = f"notes:{day.plan.id}:{revision.revision}:{driver_id}"
            notes.append(
                composer.message(
                    to,
                    Kind.DRIVER_NOTES,
                    {"stops": changes},
                    key=key,
                    order_id=f"R{day.plan.id}-{driver_id}",
                    due_at=now,
                    about=[c["delivery_id"] for c in changes],
                )
            )
    return notes
