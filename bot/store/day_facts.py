"""The facts a day's figures are computed from (`bot.domain.figures`), read from the store.

The one reader behind the console's metrics page, the demo report and `bench/promise.py`.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.figures import Attempt, DayFacts, Driver, Parcel, Sent, Version
from bot.domain.messages import MessageStatus
from bot.notify.kinds import Kind
from bot.notify.segments import count_segments
from bot.store.inbox import NEEDS_PERSON
from bot.store.tables import (
    deliveries,
    depots,
    drivers,
    escalations,
    events,
    inbox,
    messages,
    plans,
    promises,
    routes,
    stops,
)
from eta.geo import LatLon

ATTEMPTS = ("delivery.delivered", "delivery.failed")


async def load(conn: AsyncConnection, day: date) -> DayFacts:
    """Everything `figures.compute` needs for `day`."""
    parcels = await _parcels(conn, day)
    ids = list(parcels)
    attempts = await _attempts(conn, ids, await _driver_of(conn, day))
    facts_today = [a for a in attempts if _local(parcels[a.delivery_id], a.at) == day]
    kinds = await _event_sets(conn, ids)
    return DayFacts(
        day=day,
        parcels=parcels,
        attempts=attempts,
        ledger=await _ledger(conn, ids),
        sent=await _sent(conn, ids),
        received=await _received(conn, ids),
        arrived=_first_on(kinds["delivery.arrived"], parcels, day),
        out_at=_first_on(kinds["delivery.out_for_delivery"], parcels, day),
        left_depot=_left_depot(kinds["delivery.out_for_delivery"], parcels, day),
        drivers=await _drivers(conn, day, {a.driver_id for a in facts_today}),
        opted_out=frozenset(d for d, _, _ in kinds["recipient.opted_out"]),
        rescheduled=frozenset(d for d, _, _ in kinds["delivery.rescheduled"]),
        escalations=await _escalations(conn, ids),
        staff_answers=await _staff_answers(conn, ids),
    )


def _local(parcel: Parcel, at: datetime) -> date:
    return at.astimezone(ZoneInfo(parcel.timezone)).date()


async def _parcels(conn: AsyncConnection, day: date) -> dict[int, Parcel]:
    """Deliveries dated `day`, and those with an attempt on it (local time: UTC ± 14 h covers every zone)."""
    around = (
        datetime.combine(day, time(), tzinfo=UTC) - timedelta(hours=14),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) + timedelta(hours=14),
    )
    tried = sa.select(events.c.delivery_id).where(
        events.c.kind.in_(ATTEMPTS), events.c.at >= around[0], events.c.at < around[1]
    )
    query = sa.select(
        deliveries.c.id,
        deliveries.c.order_id,
        deliveries.c.timezone,
        deliveries.c.lat,
        deliveries.c.lon,
        deliveries.c.service_s,
        deliveries.c.date,
    ).where(sa.or_(deliveries.c.date == day, deliveries.c.id.in_(tried)))
    rows = list(await conn.execute(query))
    found = {r.id: Parcel(r.id, r.order_id, r.timezone, LatLon(r.lat, r.lon), r.service_s) for r in rows}
    attempted = await _attempted_on(conn, found, day)
    return {r.id: found[r.id] for r in rows if r.date == day or r.id in attempted}


async def _attempted_on(conn: AsyncConnection, parcels: dict[int, Parcel], day: date) -> set[int]:
    query = sa.select(events.c.delivery_id, events.c.at).where(
        events.c.kind.in_(ATTEMPTS), events.c.delivery_id.in_(list(parcels))
    )
    return {d for d, at in await conn.execute(query) if _local(parcels[d], at) == day}


async def _driver_of(conn: AsyncConnection, day: date) -> dict[int, int]:
    """Each delivery's van on the day's plans; the active plan, then the newest version, wins."""
    query = (
        sa.select(stops.c.delivery_id, routes.c.driver_id)
        .join(routes, routes.c.id == stops.c.route_id)
        .join(plans, plans.c.id == routes.c.plan_id)
        .where(plans.c.date == day)
        .order_by(plans.c.active, plans.c.version, stops.c.sequence)
    )
    return {r.delivery_id: r.driver_id for r in await conn.execute(query)}


async def _attempts(conn: AsyncConnection, ids: Sequence[int], driver_of: dict[int, int]) -> list[Attempt]:
    query = (
        sa.select(events.c.delivery_id, events.c.at, events.c.kind, events.c.driver_id, events.c.data)
        .where(events.c.kind.in_(ATTEMPTS), events.c.delivery_id.in_(ids))
        .order_by(events.c.at, events.c.id)
    )
    return [
        Attempt(
            r.delivery_id,
            r.at,
            r.kind == "delivery.delivered",
            r.driver_id or driver_of.get(r.delivery_id),
            _data(r.data).get("reason"),
        )
        for r in await conn.execute(query)
    ]


def _data(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return loaded if isinstance(loaded, dict) else {}


async def _ledger(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, list[Version]]:
    query = (
        sa.select(
            promises.c.delivery_id,
            promises.c.version,
            promises.c.start,
            promises.c.end,
            promises.c.reason,
            promises.c.created_at,
        )
        .where(promises.c.delivery_id.in_(ids))
        .order_by(promises.c.delivery_id, promises.c.version)
    )
    found: dict[int, list[Version]] = defaultdict(list)
    for r in await conn.execute(query):
        found[r.delivery_id].append(Version(r.delivery_id, r.version, r.start, r.end, r.reason, r.created_at))
    return found


async def _sent(conn: AsyncConnection, ids: Sequence[int]) -> list[Sent]:
    query = (
        sa.select(
            messages.c.delivery_id,
            messages.c.kind,
            messages.c.channel,
            messages.c.sent_at,
            messages.c.payload,
            messages.c.body,
        )
        .where(
            messages.c.delivery_id.in_(ids),
            messages.c.recipient_id.is_not(None),
            messages.c.status == MessageStatus.SENT.value,
            messages.c.sent_at.is_not(None),
        )
        .order_by(messages.c.sent_at, messages.c.id)
    )
    return [
        Sent(
            r.delivery_id,
            r.kind,
            r.channel,
            r.sent_at,
            payload.get("promise"),
            count_segments(r.body)[1] if r.channel == "sms" else 1,
        )
        for r in await conn.execute(query)
        if "edit" not in (payload := _data(r.payload))
    ]


async def _received(conn: AsyncConnection, ids: Sequence[int]) -> dict[str, int]:
    query = (
        sa.select(inbox.c.channel, sa.func.count())
        .where(inbox.c.delivery_id.in_(ids))
        .group_by(inbox.c.channel)
    )
    return {channel: int(n) for channel, n in await conn.execute(query)}


type Happened = list[tuple[int, datetime, int | None]]  # (delivery id, when, driver id)


async def _event_sets(conn: AsyncConnection, ids: Sequence[int]) -> dict[str, Happened]:
    wanted = ("delivery.arrived", "delivery.out_for_delivery", "recipient.opted_out", "delivery.rescheduled")
    query = (
        sa.select(events.c.kind, events.c.delivery_id, events.c.at, events.c.driver_id)
        .where(events.c.kind.in_(wanted), events.c.delivery_id.in_(ids))
        .order_by(events.c.at, events.c.id)
    )
    found: dict[str, Happened] = {kind: [] for kind in wanted}
    for r in await conn.execute(query):
        found[r.kind].append((r.delivery_id, r.at, r.driver_id))
    return found


def _first_on(happened: Happened, parcels: dict[int, Parcel], day: date) -> dict[int, datetime]:
    first: dict[int, datetime] = {}
    for delivery_id, at, _ in happened:
        if _local(parcels[delivery_id], at) == day:
            first.setdefault(delivery_id, at)
    return first


def _left_depot(loaded: Happened, parcels: dict[int, Parcel], day: date) -> dict[int, datetime]:
    """When each van left: its first parcel put out for delivery on the day."""
    left: dict[int, datetime] = {}
    for delivery_id, at, driver_id in loaded:
        if driver_id is not None and _local(parcels[delivery_id], at) == day:
            left.setdefault(driver_id, at)
    return left


async def _drivers(conn: AsyncConnection, day: date, attempted: set[int | None]) -> dict[int, Driver]:
    """Drivers with a route on the day, or who made an attempt on it; where their van starts."""
    on_routes = (
        sa.select(routes.c.driver_id)
        .join(plans, plans.c.id == routes.c.plan_id)
        .where(plans.c.date == day, plans.c.active)
    )
    chosen = sa.or_(drivers.c.id.in_(on_routes), drivers.c.id.in_([d for d in attempted if d is not None]))
    query = (
        sa.select(
            drivers.c.id, drivers.c.name, drivers.c.start_lat, drivers.c.start_lon, depots.c.lat, depots.c.lon
        )
        .join(depots, depots.c.id == drivers.c.depot_id)
        .where(chosen)
        .order_by(drivers.c.id)
    )
    return {r.id: Driver(r.id, r.name, _start(r)) for r in await conn.execute(query)}


def _start(row: Any) -> LatLon:
    if row.start_lat is not None and row.start_lon is not None:
        return LatLon(row.start_lat, row.start_lon)
    return LatLon(row.lat, row.lon)


async def _escalations(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, list[str]]:
    query = (
        sa.select(escalations.c.delivery_id, escalations.c.kind)
        .where(escalations.c.delivery_id.in_(ids))
        .order_by(escalations.c.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for delivery_id, kind in await conn.execute(query):
        found[delivery_id].append(kind)
    return found


async def _staff_answers(conn: AsyncConnection, ids: Sequence[int]) -> list[tuple[datetime, datetime | None]]:
    """Per inbound message that needed a person: when it came, and the first staff reply after it."""
    first_reply = (
        sa.select(sa.func.min(messages.c.created_at))
        .where(messages.c.delivery_id == inbox.c.delivery_id, messages.c.kind == Kind.STAFF_REPLY.value)
        .where(messages.c.created_at >= inbox.c.received_at)
        .scalar_subquery()
    )
    query = sa.select(inbox.c.received_at, first_reply.label("answered_at")).where(
        inbox.c.delivery_id.in_(ids), inbox.c.intent.in_(NEEDS_PERSON)
    )
    return [(r.received_at, r.answered_at) for r in await conn.execute(query)]
