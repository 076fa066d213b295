"""The escalation queue: what a person has to look at, oldest first.

Two kinds of item:
- every open escalation (not understood, asked for a person, not received, low rating, late,
  failed delivery, unreachable: `bot.store.escalations.Reason`);
- a reply unanswered longer than the SLA that no open escalation already stands for: an inbound
  message the bot could not answer itself (read as NotUnderstood, Person or NotReceived, or
  parked as Unmatched: from nobody we know or about nothing open) or never handled at all
  (still `received`), with no staff reply since it came and no escalation raised while it was
  handled (an open one lists it already; a resolved one means someone dealt with it).

A staff reply is an outbound message of kind `staff-reply` (what support sends through the
outbox): to the same delivery, or to the same channel and address. An item is `overdue` when it
has waited longer than the SLA with no staff reply since it began.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.notify.kinds import Kind
from bot.store.tables import deliveries, escalations, inbox, messages

Row = sa.Row[Any]
UNANSWERED = "unanswered"
NEEDS_PERSON = ("NotUnderstood", "Person", "NotReceived", "Unmatched")


@dataclass(frozen=True, slots=True)
class Item:
    reason: str  # an escalation's kind, or UNANSWERED
    since: datetime  # raised, or received
    overdue: bool
    detail: str  # the escalation's detail, or the message as written
    escalation_id: int | None
    inbox_id: int | None
    delivery_id: int | None
    order_id: str | None
    name: str | None
    timezone: str | None
    channel: str | None = None  # an unanswered reply's
    address: str | None = None
    assigned_to: int | None = None  # an escalation's: the staff user who took it
    access_code: str | None = None  # the delivery's: pages blot it out of `detail` (privacy.View)


@dataclass(frozen=True, slots=True)
class _Reply:
    at: datetime
    delivery_id: int | None
    recipient_id: int | None
    channel: str
    address: str


async def queue(conn: AsyncConnection, now: datetime, sla_minutes: int) -> list[Item]:
    """Open escalations and replies unanswered for longer than `sla_minutes`, oldest first."""
    cutoff = now - timedelta(minutes=sla_minutes)
    opened = await _open(conn)
    waiting = await _waiting(conn, cutoff)
    raised = await _raised_for(conn, [row.delivery_id for row in waiting])
    replies = await _staff_replies(conn, [*opened, *waiting])
    items = [_escalation(row, cutoff, replies) for row in opened]
    by_delivery: dict[int | None, list[datetime]] = {}
    for delivery_id, at in raised:
        by_delivery.setdefault(delivery_id, []).append(at)
    items += [_unanswered(row) for row in waiting if not _dealt_with(row, replies, by_delivery)]
    return sorted(items, key=lambda item: (item.since, item.escalation_id or 0, item.inbox_id or 0))


_WHO = (deliveries.c.order_id, deliveries.c.name, deliveries.c.timezone, deliveries.c.access_code)


async def _open(conn: AsyncConnection) -> Sequence[Row]:
    query = (
        sa.select(escalations, *_WHO)
        .outerjoin(deliveries, deliveries.c.id == escalations.c.delivery_id)
        .where(escalations.c.status == "open")
    )
    return (await conn.execute(query)).all()


async def _waiting(conn: AsyncConnection, cutoff: datetime) -> Sequence[Row]:
    """Inbound messages older than the cutoff that needed a person (or were never handled)."""
    query = (
        sa.select(inbox.c.id, inbox.c.channel, inbox.c.address, inbox.c.body, inbox.c.delivery_id)
        .add_columns(inbox.c.received_at, inbox.c.processed_at, deliveries.c.recipient_id, *_WHO)
        .outerjoin(deliveries, deliveries.c.id == inbox.c.delivery_id)
        .where(sa.or_(inbox.c.intent.in_(NEEDS_PERSON), inbox.c.status == "received"))
        .where(inbox.c.received_at <= cutoff)
    )
    return (await conn.execute(query)).all()


async def _raised_for(
    conn: AsyncConnection, delivery_ids: Sequence[int | None]
) -> list[tuple[int | None, datetime]]:
    """(delivery id, raised at) of every escalation, open or not, about these deliveries or none."""
    known = [d for d in delivery_ids if d is not None]
    query = sa.select(escalations.c.delivery_id, escalations.c.created_at).where(
        sa.or_(escalations.c.delivery_id.in_(known), escalations.c.delivery_id.is_(None))
    )
    return [(row.delivery_id, row.created_at) for row in await conn.execute(query)] if delivery_ids else []


async def _staff_replies(conn: AsyncConnection, rows: Sequence[Row]) -> list[_Reply]:
    if not rows:
        return []
    since = min(r.created_at if "created_at" in r._fields else r.received_at for r in rows)
    query = sa.select(
        messages.c.created_at, messages.c.delivery_id, messages.c.recipient_id, messages.c.channel,
        messages.c.address,
    ).where(messages.c.kind == Kind.STAFF_REPLY.value, messages.c.created_at >= since)  # fmt: skip
    return [_Reply(*row) for row in await conn.execute(query)]


def _answered(
    replies: Sequence[_Reply],
    since: datetime,
    delivery_id: int | None,
    recipient_id: int | None = None,
    address: tuple[str, str] | None = None,
) -> bool:
    """A staff reply at or after `since` to the delivery, the recipient, or the (channel, address)."""
    return any(
        reply.at >= since
        and (
            (delivery_id is not None and reply.delivery_id == delivery_id)
            or (recipient_id is not None and reply.recipient_id == recipient_id)
            or (reply.channel, reply.address) == address
        )
        for reply in replies
    )


def _escalation(row: Row, cutoff: datetime, replies: Sequence[_Reply]) -> Item:
    answered = _answered(replies, row.created_at, row.delivery_id, row.recipient_id)
    return Item(
        row.kind, row.created_at, row.created_at <= cutoff and not answered, row.detail, row.id, None,
        row.delivery_id, row.order_id, row.name, row.timezone, assigned_to=row.assigned_to,
        access_code=row.access_code,
    )  # fmt: skip


def _dealt_with(row: Row, replies: Sequence[_Reply], raised: Mapping[int | None, Sequence[datetime]]) -> bool:
    if _answered(replies, row.received_at, row.delivery_id, address=(row.channel, row.address)):
        return True
    handled = row.processed_at
    return handled is not None and any(
        row.received_at <= at <= handled for at in raised.get(row.delivery_id, ())
    )


def _unanswered(row: Row) -> Item:
    return Item(
        UNANSWERED, row.received_at, True, row.body, None, row.id, row.delivery_id, row.order_id,
        row.name, row.timezone, row.channel, row.address, access_code=row.access_code,
    )  # fmt: skip
