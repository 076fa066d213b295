"""The escalation queue: what a person has to look at, oldest first.

Two kinds of item:
- every open escalation (not understood, asked for a person, not received, low rating, late,
  failed delivery, unreachable, a stop note the driver has not confirmed:
  `bot.store.escalations.Reason`);
- a reply unanswered longer than the SLA that no open escalation already stands for: an inbound
  message the bot could not answer itself (read as NotUnderstood, Person or NotReceived, or
  parked as Unmatched: from nobody we know or about nothing open) or never handled at all
  (still `received`, or parked as `poison` after its answering failed again and again), with no
  staff reply since it came and no escalation raised while it was handled (an open one lists it
  already; a resolved one means someone dealt with it).

A staff reply is an outbound message of kind `staff-reply` (what support sends through the
outbox): to the same delivery, or to the same channel and address. An item is `overdue` when it
has waited longer than the SLA with no staff reply since it began.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.notify.kinds import Kind
from bot.store import inbox as inbox_store
from bot.store import outbox
from bot.store.inbox import NEEDS_PERSON, POISON
from bot.store.tables import deliveries, escalations, inbox, messages

UNANSWERED = "unanswered"


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


async def queue(conn: AsyncConnection, now: datetime, sla_minutes: int) -> list[Item]:
    """Open escalations and replies unanswered for longer than `sla_minutes`, oldest first."""
    cutoff = now - timedelta(minutes=sla_minutes)
    items = [_escalation(row, cutoff) for row in await conn.execute(_OPEN)]
    items += [_unanswered(row) for row in await conn.execute(_WAITING.where(inbox.c.received_at <= cutoff))]
    return sorted(items, key=lambda item: (item.since, item.escalation_id or 0, item.inbox_id or 0))


async def parked(conn: AsyncConnection) -> tuple[int, int]:
    """How many inbound and outbound messages are parked as poison (`doorstep status` lists them)."""
    return (await inbox_store.poisoned(conn, limit=0))[0], (await outbox.poisoned(conn, limit=0))[0]


def _staff_reply_since(since: sa.ColumnElement[datetime], *to: sa.ColumnElement[bool]) -> sa.Exists:
    """A staff reply at or after `since` to any of `to` (the delivery, the recipient, the address)."""
    return sa.exists().where(
        messages.c.kind == Kind.STAFF_REPLY.value, messages.c.created_at >= since, sa.or_(*to)
    )


_WHO = (deliveries.c.order_id, deliveries.c.name, deliveries.c.timezone)
_OPEN = (
    sa.select(
        escalations.c.kind,
        escalations.c.created_at,
        escalations.c.detail,
        escalations.c.id,
        escalations.c.delivery_id,
        *_WHO,
        _staff_reply_since(
            escalations.c.created_at,
            messages.c.delivery_id == escalations.c.delivery_id,
            messages.c.recipient_id == escalations.c.recipient_id,
        ).label("answered"),
        escalations.c.assigned_to,
        deliveries.c.access_code,
    )
    .outerjoin(deliveries, deliveries.c.id == escalations.c.delivery_id)
    .where(escalations.c.status == "open")
)
# An escalation about the same delivery (or about none, for a message about none) raised while the
# message was being handled: an open one lists it already, a resolved one means someone dealt with it.
_RAISED_WHILE_HANDLED = sa.exists().where(
    sa.or_(
        escalations.c.delivery_id == inbox.c.delivery_id,
        sa.and_(escalations.c.delivery_id.is_(None), inbox.c.delivery_id.is_(None)),
    ),
    escalations.c.created_at.between(inbox.c.received_at, inbox.c.processed_at),
)
# Inbound messages that needed a person (or were never handled) with nobody on it: see the docstring.
_WAITING = (
    sa.select(
        inbox.c.received_at,
        inbox.c.body,
        inbox.c.id,
        inbox.c.delivery_id,
        *_WHO,
        inbox.c.channel,
        inbox.c.address,
        deliveries.c.access_code,
    )
    .outerjoin(deliveries, deliveries.c.id == inbox.c.delivery_id)
    .where(sa.or_(inbox.c.intent.in_(NEEDS_PERSON), inbox.c.status.in_(["received", POISON])))
    .where(
        ~_staff_reply_since(
            inbox.c.received_at,
            messages.c.delivery_id == inbox.c.delivery_id,
            sa.and_(messages.c.channel == inbox.c.channel, messages.c.address == inbox.c.address),
        )
    )
    .where(~_RAISED_WHILE_HANDLED)
)


# Rows are read by position, in Item's field order: by name costs about 0.5 µs a column.
def _escalation(row: Sequence[Any], cutoff: datetime) -> Item:
    kind, since, detail, escalation_id, delivery_id, order_id, name, zone, answered, taken_by, code = row
    return Item(
        kind, since, since <= cutoff and not answered, detail, escalation_id, None, delivery_id, order_id,
        name, zone, assigned_to=taken_by, access_code=code,
    )  # fmt: skip


def _unanswered(row: Sequence[Any]) -> Item:
    received_at, body, inbox_id, delivery_id, order_id, name, timezone, channel, address, code = row
    return Item(
        UNANSWERED, received_at, True, body, None, inbox_id, delivery_id, order_id, name, timezone, channel,
        address, access_code=code,
    )  # fmt: skip
