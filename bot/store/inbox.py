"""Inbound messages, stored before they are acted on: a provider's retry of the same message is a no-op."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import inbox

# What a message was read as, when only a person can answer it (the console's queue, the figures).
NEEDS_PERSON = ("NotUnderstood", "Person", "NotReceived", "Unmatched")
POISON = "poison"  # its handling failed again and again: parked for a person, never tried again
MALFORMED = "malformed"  # it could not be read (not JSON, not a valid update, a type unknown here)
PARKED = (POISON, MALFORMED)  # what waits for a person to look at it, never tried again


@dataclass(frozen=True, slots=True)
class Inbound:
    id: int
    channel: str
    provider_ref: str
    address: str
    body: str
    status: str
    received_at: datetime


async def store(
    conn: AsyncConnection,
    channel: str,
    provider_ref: str,
    address: str,
    body: str,
    raw: Mapping[str, Any],
    now: datetime,
    *,
    status: str = "received",
    error: str | None = None,
) -> int | None:
    """The new row's id, or None when this provider message was stored before (a duplicate delivery).

    `status="malformed"` keeps what could not be read, with `error`, for someone to look at.
    """
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(inbox)
    statement = insert.values(
        channel=channel,
        provider_ref=provider_ref,
        address=address,
        body=body,
        raw=dict(raw),
        status=status,
        error=error,
        received_at=now,
    ).on_conflict_do_nothing(index_elements=["channel", "provider_ref"])
    new_id: int | None = (await conn.execute(statement.returning(inbox.c.id))).scalar()
    return new_id


async def get(conn: AsyncConnection, inbox_id: int) -> Inbound | None:
    columns = [inbox.c[name] for name in Inbound.__slots__]
    row = (await conn.execute(sa.select(*columns).where(inbox.c.id == inbox_id))).first()
    return Inbound(**row._mapping) if row else None


async def pending(conn: AsyncConnection, limit: int = 100) -> list[tuple[int, str]]:
    """(id, provider ref) of messages stored but not yet handled (a crash between storing and handling)."""
    query = (
        sa.select(inbox.c.id, inbox.c.provider_ref)
        .where(inbox.c.status == "received")
        .order_by(inbox.c.id)
        .limit(limit)
    )
    return [(row.id, row.provider_ref) for row in await conn.execute(query)]


async def unhandled(conn: AsyncConnection, channel: str, provider_ref: str) -> int | None:
    """The id of this provider message if it is stored and still waits to be handled."""
    query = sa.select(inbox.c.id).where(
        inbox.c.channel == channel, inbox.c.provider_ref == provider_ref, inbox.c.status == "received"
    )
    found: int | None = (await conn.execute(query)).scalar()
    return found


async def raw_of(conn: AsyncConnection, inbox_id: int) -> dict[str, Any] | None:
    """The message exactly as the provider sent it."""
    found = (await conn.execute(sa.select(inbox.c.raw).where(inbox.c.id == inbox_id))).scalar()
    return dict(found) if found is not None else None


async def finish(
    conn: AsyncConnection,
    inbox_id: int,
    now: datetime,
    *,
    delivery_id: int | None,
    intent: str,
    status: str = "done",
    error: str | None = None,
    only_if_received: bool = False,
) -> None:
    where = [inbox.c.id == inbox_id] + ([inbox.c.status == "received"] if only_if_received else [])
    await conn.execute(
        inbox.update()
        .where(*where)
        .values(status=status, delivery_id=delivery_id, intent=intent, error=error, processed_at=now)
    )


async def count_refused(
    conn: AsyncConnection, channel: str, address: str, intent: str, errors: Sequence[str], since: datetime
) -> int:
    """How many messages from `address` since `since` were refused for one of `errors` (rate limits)."""
    query = (
        sa.select(sa.func.count())
        .select_from(inbox)
        .where(inbox.c.address == address, inbox.c.received_at >= since)
        .where(inbox.c.channel == channel, inbox.c.intent == intent, inbox.c.status == "refused")
        .where(inbox.c.error.in_(list(errors)))
    )
    return int((await conn.execute(query)).scalar_one())


async def fail(conn: AsyncConnection, inbox_id: int, now: datetime, error: str, poison_after: int) -> bool:
    """Count a failed try to handle a stored message; at `poison_after` tries it is parked (`poison`,
    with the error) and never tried again. True when this parked it."""
    attempts = inbox.c.attempts + 1
    statement = (
        inbox.update()
        .where(inbox.c.id == inbox_id, inbox.c.status == "received")
        .values(
            attempts=attempts,
            error=error,
            status=sa.case((attempts >= poison_after, POISON), else_=inbox.c.status),
            processed_at=sa.case((attempts >= poison_after, now), else_=inbox.c.processed_at),
        )
        .returning(inbox.c.status)
    )
    status: str | None = (await conn.execute(statement)).scalar()
    return status == POISON


@dataclass(frozen=True, slots=True)
class Parked:
    id: int
    channel: str
    status: str  # poison or malformed
    received_at: datetime
    attempts: int
    error: str | None


async def poisoned(conn: AsyncConnection, limit: int = 50) -> tuple[int, list[Parked]]:
    """How many messages are parked (poison, or kept malformed), and the latest `limit` of them."""
    parked = inbox.c.status.in_(PARKED)
    total = (await conn.execute(sa.select(sa.func.count()).select_from(inbox).where(parked))).scalar_one()
    columns = [inbox.c[name] for name in Parked.__slots__]
    query = sa.select(*columns).where(parked).order_by(inbox.c.id.desc()).limit(limit)
    return int(total), [Parked(**row._mapping) for row in await conn.execute(query)]
