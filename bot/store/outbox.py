"""The outbox: enqueue idempotently, claim with a lease, record what each send did."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.messages import FINAL, MessageStatus, NewMessage
from bot.notify.kinds import Kind
from bot.store import links, promises, receipts
from bot.store.tables import messages


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    channel: str
    address: str
    timezone: str
    body: str
    payload: Mapping[str, Any]
    urgent: bool
    valid_until: datetime | None
    due_at: datetime
    attempts: int
    failures: int  # of our own handling (a bug, a row that cannot be read), not the provider's
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to write back for one claimed row."""

    id: int
    status: MessageStatus
    next_attempt_at: datetime | None = None
    provider_ref: str | None = None
    error: str | None = None
    sent_at: datetime | None = None
    counts_attempt: bool = True
    address_state: str | None = None  # the address no longer works (see SendError.address_state)
    moved_to: str | None = None  # the address changed (see Receipt.moved_to); not stored on the row
    internal: bool = False  # our own handling failed (counted in `failures`, not `attempts`)


async def enqueue(conn: AsyncConnection, new: Sequence[NewMessage], now: datetime) -> int:
    """Insert messages; a key already in the outbox is skipped (same change, same message, once).

    A message that states a promise (`payload["promise"]`, its version) marks that version told, in the
    same transaction: the ledger knows what each recipient has heard."""
    if not new:
        return 0
    new = await _with_links(conn, new, now)
    rows = [_row(message, now) for message in new]
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(messages)
    result = await conn.execute(insert.on_conflict_do_nothing(index_elements=["idem_key"]), rows)
    told = [(m.delivery_id, m.payload["promise"]) for m in new if m.delivery_id and "promise" in m.payload]
    await promises.mark_told(conn, told, now)
    return max(result.rowcount, 0)


async def _with_links(
    conn: AsyncConnection, new: Sequence[NewMessage], now: datetime
) -> Sequence[NewMessage]:
    """Each message that carries the recipient's page link gets a token of its own (bot/store/links.py);
    one already queued keeps the one it has (its key is skipped below)."""
    linked = [m for m in new if links.PLACEHOLDER in m.body]
    if not linked:
        return new
    query = sa.select(messages.c.idem_key).where(messages.c.idem_key.in_([m.idem_key for m in linked]))
    queued = set((await conn.scalars(query)).all())
    out: list[NewMessage] = []
    for message in new:
        fresh = links.PLACEHOLDER in message.body and message.idem_key not in queued
        body = await links.issue_in(conn, message.body, message.delivery_id, now) if fresh else message.body
        out.append(replace(message, body=body))
    return out


def _row(message: NewMessage, now: datetime) -> dict[str, Any]:
    values = {name: getattr(message, name) for name in NewMessage.__slots__}
    return {
        **values,
        "payload": dict(message.payload),
        "status": MessageStatus.QUEUED.value,
        "next_attempt_at": message.due_at,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _due(now: datetime, *, recheck: bool) -> sa.ColumnElement[bool]:
    if recheck:
        return sa.or_(
            sa.and_(messages.c.status == MessageStatus.SENDING.value, messages.c.lease_until <= now),
            sa.and_(messages.c.status == MessageStatus.CHECKING.value, messages.c.next_attempt_at <= now),
        )
    return sa.and_(messages.c.status == MessageStatus.QUEUED.value, messages.c.next_attempt_at <= now)


async def due_ids(conn: AsyncConnection, now: datetime, limit: int, *, recheck: bool = False) -> list[int]:
    """The ids `claim` would lease, without reading the rows themselves."""
    pick = sa.select(messages.c.id).where(_due(now, recheck=recheck))
    return list(
        (await conn.execute(pick.order_by(messages.c.next_attempt_at, messages.c.id).limit(limit))).scalars()
    )


async def claim(
    conn: AsyncConnection,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    *,
    recheck: bool = False,
    only: Sequence[int] | None = None,
) -> list[Claimed]:
    """Lease due rows to `owner`: queued ones, or (recheck) ambiguous ones and leases that ran out;
    with `only`, none but these (when still due)."""
    due = _due(now, recheck=recheck)
    if only is not None:
        due = sa.and_(due, messages.c.id.in_(list(only)))
    pick = (
        sa.select(messages.c.id)
        .where(due)
        .order_by(messages.c.next_attempt_at, messages.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await conn.execute(pick)).scalars())
    if not ids:
        return []
    await conn.execute(
        messages.update()
        .where(messages.c.id.in_(ids))
        .values(
            status=MessageStatus.SENDING.value, lease_until=now + lease, lease_owner=owner, updated_at=now
        )
    )
    rows = await conn.execute(sa.select(*_CLAIMED).where(messages.c.id.in_(ids)).order_by(messages.c.id))
    return [Claimed(**row._mapping, claimed_at=now) for row in rows]


_CLAIMED = [messages.c[name] for name in Claimed.__slots__ if name != "claimed_at"]


async def record(conn: AsyncConnection, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Write back every outcome of a batch in one statement."""
    if not outcomes:
        return
    statement = (
        messages.update()
        .where(messages.c.id == sa.bindparam("_id"))
        .values(
            status=sa.bindparam("_status"),
            next_attempt_at=sa.func.coalesce(
                sa.bindparam("_next", type_=messages.c.next_attempt_at.type), messages.c.next_attempt_at
            ),
            provider_ref=sa.func.coalesce(sa.bindparam("_ref"), messages.c.provider_ref),
            error=sa.bindparam("_error"),
            sent_at=sa.func.coalesce(
                sa.bindparam("_sent", type_=messages.c.sent_at.type), messages.c.sent_at
            ),
            attempts=messages.c.attempts + sa.bindparam("_tried"),
            failures=messages.c.failures + sa.bindparam("_failed"),
            lease_until=None,
            lease_owner=None,
            updated_at=now,
        )
    )
    await conn.execute(statement, [_bind(o) for o in outcomes])
    # A delivery report may have come before we knew the message's provider id.
    await receipts.apply_waiting(conn, [o.provider_ref for o in outcomes if o.provider_ref], now)


def _bind(o: Outcome) -> dict[str, Any]:
    return {
        "_id": o.id,
        "_status": o.status.value,
        "_next": o.next_attempt_at,
        "_ref": o.provider_ref,
        "_error": o.error,
        "_sent": o.sent_at,
        "_tried": int(o.counts_attempt),
        "_failed": int(o.internal),
    }


async def count_failure(
    conn: AsyncConnection, message_id: int, now: datetime, error: str, poison_after: int
) -> bool:
    """Count a failure of our own around a message that could not even be claimed or recorded; at
    `poison_after` it is parked (`poison`, with the error) and never sent again. True when this parked it."""
    failures = messages.c.failures + 1
    statement = (
        messages.update()
        .where(messages.c.id == message_id, messages.c.status.not_in(FINAL))
        .values(
            failures=failures,
            error=error,
            status=sa.case((failures >= poison_after, MessageStatus.POISON.value), else_=messages.c.status),
            updated_at=now,
        )
        .returning(messages.c.status)
    )
    status: str | None = (await conn.execute(statement)).scalar()
    return status == MessageStatus.POISON.value


@dataclass(frozen=True, slots=True)
class Parked:
    id: int
    kind: str
    channel: str
    due_at: datetime
    failures: int
    error: str | None


async def poisoned(conn: AsyncConnection, limit: int = 50) -> tuple[int, list[Parked]]:
    """How many messages are parked as poison, and the latest `limit` of them."""
    parked = messages.c.status == MessageStatus.POISON.value
    total = (await conn.execute(sa.select(sa.func.count()).select_from(messages).where(parked))).scalar_one()
    columns = [messages.c[name] for name in Parked.__slots__]
    query = sa.select(*columns).where(parked).order_by(messages.c.id.desc()).limit(limit)
    return int(total), [Parked(**row._mapping) for row in await conn.execute(query)]


async def counts(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(sa.select(messages.c.status, sa.func.count()).group_by(messages.c.status))
    return {status: int(n) for status, n in rows}


async def next_due(conn: AsyncConnection) -> datetime | None:
    """When the earliest queued or to-be-checked row comes due (the dispatcher sleeps until then)."""
    waiting = [MessageStatus.QUEUED.value, MessageStatus.CHECKING.value]
    query = sa.select(sa.func.min(messages.c.next_attempt_at)).where(messages.c.status.in_(waiting))
    found: datetime | None = (await conn.execute(query)).scalar()
    return found


async def replies_to(conn: AsyncConnection, inbox_id: int) -> list[str]:
    """The texts queued in answer to one inbound message, in order."""
    query = (
        sa.select(messages.c.body)
        .where(messages.c.idem_key.like(f"reply:{inbox_id}:%"))
        .order_by(messages.c.id)
    )
    return list((await conn.execute(query)).scalars())


async def get(conn: AsyncConnection, message_id: int) -> sa.RowMapping | None:
    return (await conn.execute(sa.select(messages).where(messages.c.id == message_id))).mappings().first()


async def add_photo(conn: AsyncConnection, delivery_id: int, file_id: str, now: datetime) -> bool:
    """Put a photo on the delivery's Telegram "delivered" notice if it has not gone yet, and send it now."""
    query = sa.select(messages.c.id, messages.c.payload).where(
        messages.c.delivery_id == delivery_id,
        messages.c.kind == "delivered",
        messages.c.channel == "telegram",
        messages.c.status == MessageStatus.QUEUED.value,
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return False
    payload = {**dict(row.payload), "photo": file_id}
    await conn.execute(
        messages.update()
        .where(messages.c.id == row.id, messages.c.status == MessageStatus.QUEUED.value)
        .values(payload=payload, next_attempt_at=now, updated_at=now)
    )
    return True


async def latest_sent(
    conn: AsyncConnection, kind: str, channel: str, delivery_ids: Sequence[int]
) -> dict[int, sa.RowMapping]:
    """Per delivery, the last message of `kind` that went out on `channel` (what the recipient now has)."""
    found: dict[int, sa.RowMapping] = {}
    for start in range(0, len(delivery_ids), 500):
        query = (
            sa.select(messages)
            .where(messages.c.kind == kind, messages.c.channel == channel)
            .where(messages.c.status == MessageStatus.SENT.value)
            .where(messages.c.delivery_id.in_(delivery_ids[start : start + 500]))
            .order_by(messages.c.id)
        )
        found.update((row["delivery_id"], row) for row in (await conn.execute(query)).mappings())
    return found


async def settled_keys(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    """Which of these keys belong to messages that are done: sent, or ended without being sent."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        query = sa.select(messages.c.idem_key).where(
            messages.c.idem_key.in_(keys[start : start + 500]), messages.c.status.in_(FINAL)
        )
        found.update((await conn.execute(query)).scalars())
    return found


async def known_keys(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys are in the outbox already (so nothing is rendered twice)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        query = sa.select(messages.c.idem_key).where(messages.c.idem_key.in_(keys[start : start + 500]))
        found.update((await conn.execute(query)).scalars())
    return found


async def sent_as(
    conn: AsyncConnection, channel: str, address: str, provider_ref: str
) -> sa.RowMapping | None:
    """The message that went out to `address` as the provider's message `provider_ref` (a button's)."""
    query = sa.select(messages).where(
        messages.c.address == address, messages.c.provider_ref == provider_ref, messages.c.channel == channel
    )
    return (await conn.execute(query)).mappings().first()


async def hold(conn: AsyncConnection, delivery_id: int, kinds: Sequence[str], now: datetime) -> int:
    """Keep this delivery's queued messages of these kinds from going out (until `release`)."""
    result = await conn.execute(
        messages.update()
        .where(messages.c.delivery_id == delivery_id, messages.c.kind.in_(list(kinds)))
        .where(messages.c.status == MessageStatus.QUEUED.value)
        .values(status=MessageStatus.HELD.value, updated_at=now)
    )
    return max(result.rowcount, 0)


async def release(conn: AsyncConnection, delivery_id: int, now: datetime) -> int:
    """Queue this delivery's held messages again; one past its validity expires at the dispatcher."""
    result = await conn.execute(
        messages.update()
        .where(messages.c.delivery_id == delivery_id, messages.c.status == MessageStatus.HELD.value)
        .values(status=MessageStatus.QUEUED.value, updated_at=now)
    )
    return max(result.rowcount, 0)


async def exists(conn: AsyncConnection, key: str) -> bool:
    query = sa.select(messages.c.id).where(messages.c.idem_key == key)
    return (await conn.execute(query)).first() is not None


async def of_kind_since(conn: AsyncConnection, kind: str, since: datetime) -> list[sa.RowMapping]:
    """The messages of `kind` queued at or after `since`, oldest first: id, key, driver, time and payload."""
    columns = (
        messages.c.id,
        messages.c.idem_key,
        messages.c.driver_id,
        messages.c.created_at,
        messages.c.payload,
    )
    query = sa.select(*columns).where(messages.c.kind == kind, messages.c.created_at >= since)
    return list((await conn.execute(query.order_by(messages.c.id))).mappings())


async def staff_replies(conn: AsyncConnection, delivery_id: int) -> list[tuple[datetime, str]]:
    """What support wrote to this delivery's recipient (when queued, the words), oldest first."""
    query = (
        sa.select(messages.c.created_at, messages.c.payload)
        .where(messages.c.delivery_id == delivery_id, messages.c.kind == Kind.STAFF_REPLY.value)
        .order_by(messages.c.id)
    )
    return [(row.created_at, str(row.payload.get("text", ""))) for row in await conn.execute(query)]
