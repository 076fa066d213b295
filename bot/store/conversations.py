"""What we last asked on a channel and address, so a bare "2" can be read as an answer."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import conversations


async def remember(
    conn: AsyncConnection, channel: str, address: str, state: dict[str, Any], expires_at: datetime
) -> None:
    await forget(conn, channel, address)
    await conn.execute(
        conversations.insert().values(channel=channel, address=address, state=state, expires_at=expires_at)
    )


async def recall(conn: AsyncConnection, channel: str, address: str, now: datetime) -> dict[str, Any] | None:
    """The open question on this address, unless it has expired."""
    query = sa.select(conversations.c.state, conversations.c.expires_at).where(
        conversations.c.channel == channel, conversations.c.address == address
    )
    row = (await conn.execute(query)).first()
    if row is None or row.expires_at <= now:
        return None
    state: dict[str, Any] = row.state
    return state


async def forget(conn: AsyncConnection, channel: str, address: str) -> None:
    await conn.execute(
        conversations.delete().where(conversations.c.channel == channel, conversations.c.address == address)
    )
