"""A delivery's page: who and what it is, and one timeline of everything that happened to it.

The timeline merges, oldest first: outbound messages (at when they went out, else when due),
inbound messages (when received), the event log, every promise told as a change from the window
before (None for the first) to the new one (the promise ledger, so each re-plan, reschedule and
delay shows), and escalations opened and resolved. At the same instant, sources go in `Source` order.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Delivery, Status
from bot.notify.kinds import Kind
from bot.store import deliveries as delivery_store
from bot.store import events, plans, promises
from bot.store.tables import deliveries, drivers, escalations, inbox, messages
from bot.store.tables import promises as ledger

Window = tuple[datetime, datetime]


class Source(StrEnum):
    """In the order entries at the same instant are shown: what came in, what it changed, the answer."""

    INBOUND = "inbound"
    EVENT = "event"
    PROMISE = "promise"
    ESCALATION = "escalation"
    OUTBOUND = "outbound"


_ORDER = {source: n for n, source in enumerate(Source)}
_SECRET_KINDS = frozenset({Kind.DRIVER_NOTES.value, Kind.DRIVER_STOP.value})  # carry the code to the driver
_SECRET_INTENTS = frozenset({"AccessCode"})  # the code as the recipient typed it


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    source: Source
    kind: str  # message kind, event kind, promise reason, escalation reason
    channel: str | None = None
    text: str = ""  # message body, escalation detail; never an access code (the log keeps none)
    status: str | None = None  # outbox/inbox status; "open"/"resolved" for escalations
    provider_status: str | None = None
    intent: str | None = None  # what an inbound message was read as
    actor: str | None = None  # who caused an event: recipient, driver, api, a re-plan trigger...
    old_window: Window | None = None  # promises: the window before...
    new_window: Window | None = None  # ...and after
    data: Any = None  # the event's own data, as logged
    secret: bool = False  # the text may hold the access code: a driver's stop note, a recipient's code


@dataclass(frozen=True, slots=True)
class Header:
    delivery_id: int
    order_id: str
    name: str
    phone: str
    address: str
    date: date
    timezone: str
    status: Status
    requested: Window  # the window the order came with (or the recipient moved it to)
    promise: Window | None  # the latest promise told
    safe_drop: str | None
    notes: str  # the shipper's notes for the driver
    access_code: str | None  # agents must not see it: the page decides
    paused: bool
    rating: int | None
    rating_comment: str | None
    driver_id: int | None  # on the active plan of its day
    driver_name: str | None


@dataclass(frozen=True, slots=True)
class Timeline:
    header: Header
    entries: tuple[Entry, ...]


async def timeline(conn: AsyncConnection, delivery_id: int) -> Timeline | None:
    """The delivery's header and its timeline, or None if there is no such delivery."""
    delivery = await delivery_store.get(conn, delivery_id)
    if delivery is None:
        return None
    entries = [
        *await _outbound(conn, delivery_id),
        *await _inbound(conn, delivery_id),
        *[_event(e) for e in await events.for_delivery(conn, delivery_id)],
        *await _promises(conn, delivery_id),
        *await _escalations(conn, delivery_id),
    ]
    entries.sort(key=lambda e: (e.at, _ORDER[e.source]))
    return Timeline(await _header(conn, delivery), tuple(entries))


async def _header(conn: AsyncConnection, d: Delivery) -> Header:
    promise = (await promises.current(conn, [d.id])).get(d.id)
    driver_id, driver_name = await _driver(conn, d)
    comment_of = sa.select(deliveries.c.rating_comment).where(deliveries.c.id == d.id)
    comment = (await conn.execute(comment_of)).scalar()
    return Header(
        d.id, d.order_id, d.name, d.phone, d.address, d.date, d.timezone, d.status,
        (d.window_start, d.window_end), (promise.start, promise.end) if promise else None,
        d.safe_drop, d.notes, d.access_code, d.paused, d.rating, comment, driver_id, driver_name,
    )  # fmt: skip


async def _driver(conn: AsyncConnection, d: Delivery) -> tuple[int | None, str | None]:
    header = await plans.active(conn, d.date)
    driver_id = await plans.driver_of(conn, header.id, d.id) if header else None
    if driver_id is None:
        return None, None
    name = (await conn.execute(sa.select(drivers.c.name).where(drivers.c.id == driver_id))).scalar()
    return driver_id, name


async def _outbound(conn: AsyncConnection, delivery_id: int) -> list[Entry]:
    query = sa.select(
        messages.c.kind, messages.c.channel, messages.c.body, messages.c.status,
        messages.c.provider_status, messages.c.sent_at, messages.c.due_at,
    ).where(messages.c.delivery_id == delivery_id)  # fmt: skip
    return [
        Entry(
            r.sent_at or r.due_at,
            Source.OUTBOUND,
            r.kind,
            r.channel,
            r.body,
            r.status,
            r.provider_status,
            secret=r.kind in _SECRET_KINDS,
        )
        for r in await conn.execute(query.order_by(messages.c.id))
    ]


async def _inbound(conn: AsyncConnection, delivery_id: int) -> list[Entry]:
    query = sa.select(
        inbox.c.channel, inbox.c.body, inbox.c.status, inbox.c.intent, inbox.c.received_at
    ).where(inbox.c.delivery_id == delivery_id)
    return [
        Entry(
            r.received_at,
            Source.INBOUND,
            "inbound",
            r.channel,
            r.body,
            r.status,
            intent=r.intent,
            secret=r.intent in _SECRET_INTENTS,
        )
        for r in await conn.execute(query.order_by(inbox.c.id))
    ]


def _event(e: events.Event) -> Entry:
    return Entry(e.at, Source.EVENT, e.kind, actor=e.actor, data=dict(e.data))


async def _promises(conn: AsyncConnection, delivery_id: int) -> list[Entry]:
    query = (
        sa.select(ledger.c.start, ledger.c.end, ledger.c.reason, ledger.c.created_at)
        .where(ledger.c.delivery_id == delivery_id)
        .order_by(ledger.c.version)
    )
    found, before = [], None
    for r in await conn.execute(query):
        window = (r.start, r.end)
        found.append(Entry(r.created_at, Source.PROMISE, r.reason, old_window=before, new_window=window))
        before = window
    return found


async def _escalations(conn: AsyncConnection, delivery_id: int) -> list[Entry]:
    query = sa.select(
        escalations.c.kind, escalations.c.detail, escalations.c.created_at, escalations.c.resolved_at
    ).where(escalations.c.delivery_id == delivery_id)
    found = []
    for r in await conn.execute(query.order_by(escalations.c.id)):
        found.append(Entry(r.created_at, Source.ESCALATION, r.kind, text=r.detail, status="open"))
        if r.resolved_at is not None:
            found.append(Entry(r.resolved_at, Source.ESCALATION, r.kind, text=r.detail, status="resolved"))
    return found
