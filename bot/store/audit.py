"""The audit log: who did what in the console (or to staff accounts from the CLI), and when."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    action: str
    delivery_id: int | None
    detail: Mapping[str, Any]


async def record(
    conn: AsyncConnection,
    now: datetime,
    user: int | None,
    action: str,
    delivery_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry: `user` is the staff user's id (None: the CLI, or nobody known)."""
    await conn.execute(
        audit_log.insert().values(
            at=now, user_id=user, action=action, delivery_id=delivery_id, detail=dict(detail or {})
        )
    )


async def entries(
    conn: AsyncConnection, *, action: str | None = None, delivery_id: int | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The newest entries first, optionally of one action or about one delivery."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if delivery_id is not None:
        query = query.where(audit_log.c.delivery_id == delivery_id)
    return [AuditEntry(**row._mapping) for row in await conn.execute(query)]
