"""The health check's own row: one small write that says whether the database takes writes right now."""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import health


async def touch(conn: AsyncConnection, now: datetime) -> None:
    """Write the time of this check (a real write: a full disk or a lock held elsewhere fails it)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(health)
    upsert = insert.values(id=1, checked_at=now).on_conflict_do_update(
        index_elements=["id"], set_={"checked_at": now}
    )
    await conn.execute(upsert)
