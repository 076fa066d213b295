"""The recipient's page links: /t/{token}, one token per message that carries a link.

A token is 128 random bits (22 URL-safe characters) and is kept only as its SHA-256: the plain token
exists in the message that carries it and nowhere else in Doorstep. A message is rendered with
`PLACEHOLDER` where its token goes (the same length, so the SMS's segments are counted right) and
`issue_in` swaps in a fresh token when the message is queued, in the same transaction. Revoking a
delivery's links revokes all of them; how long a link lives after the parcel is done is the page's
rule (bot/usecases/tracking.py).
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import links

TOKEN_BYTES = 16  # 128 bits
TOKEN_CHARS = 22  # secrets.token_urlsafe(16)
PLACEHOLDER = "T" * TOKEN_CHARS  # where a message's token goes until it is queued


@dataclass(frozen=True, slots=True)
class Link:
    delivery_id: int
    created_at: datetime
    revoked_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Could be a token at all (checked before any query)."""
    return len(token) == TOKEN_CHARS and token.isascii() and all(c.isalnum() or c in "-_" for c in token)


async def issue(conn: AsyncConnection, delivery_id: int, now: datetime) -> str:
    """A new token for the delivery's page; only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await conn.execute(
        sa.insert(links).values(delivery_id=delivery_id, token_hash=digest(token), created_at=now)
    )
    return token


async def issue_in(conn: AsyncConnection, body: str, delivery_id: int | None, now: datetime) -> str:
    """`body` with a fresh token where `PLACEHOLDER` stands (unchanged if it has none)."""
    if PLACEHOLDER not in body or delivery_id is None:
        return body
    return body.replace(PLACEHOLDER, await issue(conn, delivery_id, now))


async def find(conn: AsyncConnection, token: str) -> Link | None:
    if not well_formed(token):
        return None
    query = sa.select(links.c.delivery_id, links.c.created_at, links.c.revoked_at).where(
        links.c.token_hash == digest(token)
    )
    row = (await conn.execute(query)).first()
    return Link(row.delivery_id, row.created_at, row.revoked_at) if row else None


async def revoke(conn: AsyncConnection, delivery_ids: Sequence[int], now: datetime) -> int:
    """Revoke every link of these deliveries; returns how many were still valid."""
    query = (
        sa.update(links)
        .where(links.c.delivery_id.in_(list(delivery_ids)), links.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return max((await conn.execute(query)).rowcount, 0)
