"""How to reach a recipient: one row per channel, in order of preference, with whether it still works."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels import registry
from bot.domain.contacts import Contact, ContactState
from bot.store.tables import contacts


async def ensure(conn: AsyncConnection, recipient_id: int, channel: str, address: str, now: datetime) -> None:
    """Add the channel if it is new; an existing one keeps its state (an opt-out survives re-imports)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(contacts)
    values = {
        "recipient_id": recipient_id,
        "channel": channel,
        "address": address,
        "state": "active",
        "priority": registry.get(channel).priority,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(
        insert.values(**values).on_conflict_do_nothing(index_elements=["recipient_id", "channel"])
    )


async def link(conn: AsyncConnection, recipient_id: int, channel: str, address: str, now: datetime) -> None:
    """Reach the recipient at `address` on `channel` from now on (a new link replaces an old or dead one)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(contacts)
    values = {
        "recipient_id": recipient_id,
        "channel": channel,
        "address": address,
        "state": ContactState.ACTIVE.value,
        "priority": registry.get(channel).priority,
        "created_at": now,
        "updated_at": now,
    }
    statement = insert.values(**values).on_conflict_do_update(
        index_elements=["recipient_id", "channel"],
        set_={"address": address, "state": ContactState.ACTIVE.value, "updated_at": now},
    )
    await conn.execute(statement)


async def for_recipient(conn: AsyncConnection, recipient_id: int) -> list[Contact]:
    rows = await conn.execute(
        sa.select(contacts.c.recipient_id, contacts.c.channel, contacts.c.address, contacts.c.state)
        .where(contacts.c.recipient_id == recipient_id)
        .order_by(contacts.c.priority)
    )
    return [Contact(r.recipient_id, r.channel, r.address, ContactState(r.state)) for r in rows]


async def by_address(conn: AsyncConnection, channel: str, address: str) -> list[Contact]:
    rows = await conn.execute(
        sa.select(contacts.c.recipient_id, contacts.c.channel, contacts.c.address, contacts.c.state).where(
            contacts.c.channel == channel, contacts.c.address == address
        )
    )
    return [Contact(r.recipient_id, r.channel, r.address, ContactState(r.state)) for r in rows]


async def not_working(
    conn: AsyncConnection, addresses: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Of these (channel, address) pairs, those that must not get messages, with why (opted_out, dead...)."""
    found: dict[tuple[str, str], str] = {}
    for channel in {c for c, _ in addresses}:
        wanted = sorted({a for c, a in addresses if c == channel})
        for start in range(0, len(wanted), 500):
            query = sa.select(contacts.c.address, contacts.c.state).where(
                contacts.c.channel == channel,
                contacts.c.address.in_(wanted[start : start + 500]),
                contacts.c.state != ContactState.ACTIVE.value,
            )
            found.update(((channel, row.address), row.state) for row in await conn.execute(query))
    return found


async def set_state_of_address(
    conn: AsyncConnection, channel: str, address: str, state: ContactState, now: datetime
) -> None:
    """Every recipient reached at this address: a blocked chat or a dead number is dead for all of them."""
    await conn.execute(
        contacts.update()
        .where(contacts.c.channel == channel, contacts.c.address == address)
        .values(state=state.value, updated_at=now)
    )


async def set_state(
    conn: AsyncConnection, recipient_id: int, channel: str, state: ContactState, now: datetime
) -> None:
    await conn.execute(
        contacts.update()
        .where(contacts.c.recipient_id == recipient_id, contacts.c.channel == channel)
        .values(state=state.value, updated_at=now)
    )


async def move_address(conn: AsyncConnection, channel: str, old: str, new: str, now: datetime) -> None:
    """The provider moved an address (a Telegram group became a supergroup): everyone there follows."""
    await conn.execute(
        contacts.update()
        .where(contacts.c.channel == channel, contacts.c.address == old)
        .values(address=new, updated_at=now)
    )
