"""Recipients and deliveries: upsert by external order id, look up, filter, change status."""

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import OPEN, Delivery, Status
from bot.domain.intake import DeliveryInput
from bot.store.tables import deliveries, recipients

_COLUMNS = [deliveries.c[f] for f in Delivery.__slots__]
# Fields whose change invalidates the delivery's place in a plan.
PLAN_FIELDS = ("date", "window_start", "window_end", "lat", "lon", "service_s", "size", "skills", "depot_id")
_CHUNK = 500
_STATUS, _SKILLS = Delivery.__slots__.index("status"), Delivery.__slots__.index("skills")


def _delivery(row: sa.Row[Any]) -> Delivery:
    """A row of `_COLUMNS` (the Delivery fields, in order); by position: a day is read in one go."""
    values = list(row)
    values[_STATUS], values[_SKILLS] = Status(values[_STATUS]), tuple(values[_SKILLS])
    return Delivery(*values)


def new_tracking_token() -> str:
    """An unguessable per-delivery token (Telegram deep links, tracking pages)."""
    return secrets.token_urlsafe(18)


def delivery_values(item: DeliveryInput, depot_id: int | None) -> dict[str, Any]:
    """The delivery columns an input row sets (status and token are the store's)."""
    return {
        "order_id": item.order_id,
        "name": item.name,
        "phone": item.phone,
        "locale": item.locale,
        "timezone": item.timezone,
        "address": item.address,
        "lat": item.lat,
        "lon": item.lon,
        "date": item.date,
        "window_start": item.window_start,
        "window_end": item.window_end,
        "service_s": item.service_s,
        "size": item.size,
        "skills": list(item.skills),
        "notes": item.notes,
        "depot_id": depot_id,
    }


async def by_order_ids(conn: AsyncConnection, order_ids: Iterable[str]) -> dict[str, Delivery]:
    found: dict[str, Delivery] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), _CHUNK):
        query = sa.select(*_COLUMNS).where(deliveries.c.order_id.in_(ids[start : start + _CHUNK]))
        found.update((row.order_id, _delivery(row)) for row in await conn.execute(query))
    return found


async def get(conn: AsyncConnection, delivery_id: int) -> Delivery | None:
    row = (await conn.execute(sa.select(*_COLUMNS).where(deliveries.c.id == delivery_id))).first()
    return _delivery(row) if row else None


@dataclass(frozen=True)
class DeliveryFilter:
    day: date | None = None
    statuses: Sequence[Status] = ()
    depot_id: int | None = None
    search: str | None = None
    phone: str | None = None  # E.164, matched exactly (alongside `search`)
    limit: int = 100
    offset: int = 0


async def find(conn: AsyncConnection, where: DeliveryFilter) -> list[Delivery]:
    query = sa.select(*_COLUMNS).order_by(deliveries.c.date, deliveries.c.window_start, deliveries.c.id)
    if where.day is not None:
        query = query.where(deliveries.c.date == where.day)
    if where.statuses:
        query = query.where(deliveries.c.status.in_([s.value for s in where.statuses]))
    if where.depot_id is not None:
        query = query.where(deliveries.c.depot_id == where.depot_id)
    if where.search:
        pattern = f"%{escape_like(where.search)}%"
        query = query.where(
            sa.or_(
                deliveries.c.order_id.ilike(pattern, escape="\\"),
                deliveries.c.name.ilike(pattern, escape="\\"),
                deliveries.c.phone.like(pattern, escape="\\"),
                deliveries.c.phone == where.phone,
            )
        )
    rows = (await conn.execute(query.limit(where.limit).offset(where.offset))).all()
    return [_delivery(row) for row in rows]


def escape_like(text: str) -> str:
    """Search text is literal: % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def by_token(conn: AsyncConnection, token: str) -> Delivery | None:
    """The delivery a tracking or deep-link token names."""
    query = sa.select(*_COLUMNS).where(deliveries.c.tracking_token == token)
    row = (await conn.execute(query)).first()
    return _delivery(row) if row else None


async def for_recipient(conn: AsyncConnection, recipient_id: int) -> list[Delivery]:
    query = (
        sa.select(*_COLUMNS)
        .where(deliveries.c.recipient_id == recipient_id)
        .order_by(deliveries.c.window_start)
    )
    return [_delivery(row) for row in await conn.execute(query)]


async def set_language(
    conn: AsyncConnection, recipient_ids: Sequence[int], locale: str, now: datetime
) -> None:
    """The recipients' language, and that of their deliveries not finished yet (messages use the latter)."""
    await conn.execute(
        recipients.update().where(recipients.c.id.in_(recipient_ids)).values(locale=locale, updated_at=now)
    )
    await conn.execute(
        deliveries.update()
        .where(deliveries.c.recipient_id.in_(recipient_ids))
        .where(deliveries.c.status.in_([s.value for s in OPEN]))
        .values(locale=locale, updated_at=now)
    )


async def set_standing_safe_drop(
    conn: AsyncConnection, recipient_id: int, text: str | None, now: datetime
) -> None:
    """The recipient's place for every delivery (applied to new ones as they are imported)."""
    await conn.execute(
        recipients.update().where(recipients.c.id == recipient_id).values(safe_drop=text, updated_at=now)
    )


async def upsert_recipients(
    conn: AsyncConnection, items: Sequence[DeliveryInput], now: datetime
) -> dict[str, int]:
    """One recipient per phone number; the latest row's name, e-mail, locale and zone win."""
    latest = {item.phone: item for item in items}
    existing: dict[str, int] = {}
    phones = list(latest)
    for start in range(0, len(phones), _CHUNK):
        query = sa.select(recipients.c.phone, recipients.c.id).where(
            recipients.c.phone.in_(phones[start : start + _CHUNK])
        )
        existing.update((row.phone, row.id) for row in await conn.execute(query))
    for phone, item in latest.items():
        values = {"name": item.name, "email": item.email, "locale": item.locale, "timezone": item.timezone}
        if phone in existing:
            await conn.execute(
                recipients.update().where(recipients.c.id == existing[phone]).values(**values, updated_at=now)
            )
        else:
            insert = recipients.insert().values(phone=phone, **values, created_at=now, updated_at=now)
            existing[phone] = (await conn.execute(insert.returning(recipients.c.id))).scalar_one()
    return existing


async def insert(conn: AsyncConnection, values: Mapping[str, Any], recipient_id: int, now: datetime) -> int:
    """A new delivery; it starts with the recipient's standing safe-drop place, if they gave one."""
    standing = sa.select(recipients.c.safe_drop).where(recipients.c.id == recipient_id).scalar_subquery()
    statement = deliveries.insert().values(
        **{"safe_drop": standing, **values},
        recipient_id=recipient_id,
        status=Status.CREATED.value,
        tracking_token=new_tracking_token(),
        created_at=now,
        updated_at=now,
    )
    return int((await conn.execute(statement.returning(deliveries.c.id))).scalar_one())


async def update(conn: AsyncConnection, delivery_id: int, values: Mapping[str, Any], now: datetime) -> None:
    await conn.execute(
        deliveries.update().where(deliveries.c.id == delivery_id).values(**values, updated_at=now)
    )


async def set_status(conn: AsyncConnection, ids: Sequence[int], status: Status, now: datetime) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await conn.execute(
            deliveries.update().where(deliveries.c.id.in_(chunk)).values(status=status.value, updated_at=now)
        )
