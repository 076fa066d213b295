"""What happened on the road, read for eta's learning: stop events with their parcel, and the promises
the van had to wait for."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import deliveries, events, promises

KINDS = ("delivery.out_for_delivery", "delivery.arrived", "delivery.delivered", "delivery.failed")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StopEvent:
    """A stop event (or a van loading the parcel) with what the parcel's stop is learned by."""

    at: datetime
    kind: str
    delivery_id: int
    driver_id: int | None  # set on out-for-delivery; a stop event belongs to the van that loaded it
    lat: float
    lon: float
    address: str
    service_s: int
    size: int
    skills: tuple[str, ...]


async def stop_events(conn: AsyncConnection, first: date, last: date) -> list[StopEvent]:
    """The stop events of the deliveries dated `first` to `last`, in the order they happened."""
    query = (
        sa.select(
            events.c.at,
            events.c.kind,
            events.c.delivery_id,
            events.c.driver_id,
            deliveries.c.lat,
            deliveries.c.lon,
            deliveries.c.address,
            deliveries.c.service_s,
            deliveries.c.size,
            deliveries.c.skills,
        )
        .join(deliveries, deliveries.c.id == events.c.delivery_id)
        .where(deliveries.c.date.between(first, last), events.c.kind.in_(KINDS))
        .order_by(events.c.at, events.c.id)
    )
    return [StopEvent(*row[:9], tuple(row.skills or ())) for row in await conn.execute(query)]


async def window_openings(
    conn: AsyncConnection, delivery_ids: Iterable[int]
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each delivery's promises as (told at, window start), oldest first."""
    ids = sorted(set(delivery_ids))
    found: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for n in range(0, len(ids), _CHUNK):
        query = (
            sa.select(promises.c.delivery_id, promises.c.created_at, promises.c.start)
            .where(promises.c.delivery_id.in_(ids[n : n + _CHUNK]))
            .order_by(promises.c.delivery_id, promises.c.version)
        )
        for row in await conn.execute(query):
            found[row.delivery_id].append((row.created_at, row.start))
    return dict(found)
