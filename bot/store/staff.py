"""Staff accounts, their console sessions, and sign-in attempts (for the rate limit)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import login_attempts, staff_sessions, staff_users

type Role = Literal["agent", "admin"]
ROLES: tuple[Role, ...] = ("agent", "admin")
SIGN_IN_LOCK = 0x5349474E  # PostgreSQL advisory lock key ("SIGN") that makes claims one at a time


@dataclass(frozen=True, slots=True)
class StaffUser:
    id: int
    username: str
    password_hash: str
    role: Role
    created_at: datetime
    disabled: bool


@dataclass(frozen=True, slots=True)
class StaffSession:
    id: int
    user: StaffUser
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


async def add_user(
    conn: AsyncConnection, now: datetime, username: str, password_hash: str, role: Role
) -> int:
    values = {"username": username, "password_hash": password_hash, "role": role, "created_at": now}
    result = await conn.execute(staff_users.insert().values(**values).returning(staff_users.c.id))
    return int(result.scalar_one())


async def user_by_name(conn: AsyncConnection, username: str) -> StaffUser | None:
    row = (await conn.execute(sa.select(staff_users).where(staff_users.c.username == username))).first()
    return StaffUser(**row._mapping) if row else None


async def list_users(conn: AsyncConnection) -> list[StaffUser]:
    rows = await conn.execute(sa.select(staff_users).order_by(staff_users.c.username))
    return [StaffUser(**row._mapping) for row in rows]


async def set_password_hash(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await conn.execute(
        staff_users.update().where(staff_users.c.id == user_id).values(password_hash=password_hash)
    )


async def disable_user(conn: AsyncConnection, user_id: int) -> None:
    """Disabled, and signed out everywhere."""
    await conn.execute(staff_users.update().where(staff_users.c.id == user_id).values(disabled=True))
    await conn.execute(staff_sessions.delete().where(staff_sessions.c.user_id == user_id))


async def add_session(
    conn: AsyncConnection, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        staff_sessions.insert().values(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at, last_seen_at=now
        )
    )


async def session_by_hash(conn: AsyncConnection, token_hash: str) -> StaffSession | None:
    """The session with this token hash and its user, whatever their state (the caller checks)."""
    s = staff_sessions.c
    query = (
        sa.select(s.id, s.created_at, s.expires_at, s.last_seen_at, *staff_users.c)
        .join(staff_users, staff_users.c.id == s.user_id)
        .where(s.token_hash == token_hash)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    user = StaffUser(**{c.name: row._mapping[c] for c in staff_users.c})
    return StaffSession(row[0], user, row.created_at, row.expires_at, row.last_seen_at)


async def touch_session(conn: AsyncConnection, session_id: int, now: datetime) -> None:
    await conn.execute(
        staff_sessions.update().where(staff_sessions.c.id == session_id).values(last_seen_at=now)
    )


async def delete_session(conn: AsyncConnection, token_hash: str) -> None:
    await conn.execute(staff_sessions.delete().where(staff_sessions.c.token_hash == token_hash))


async def purge_expired(conn: AsyncConnection, now: datetime, idle_since: datetime) -> None:
    """Forget sessions past their absolute end or idle since before `idle_since`."""
    s = staff_sessions.c
    await conn.execute(staff_sessions.delete().where((s.expires_at <= now) | (s.last_seen_at <= idle_since)))


async def add_attempt(conn: AsyncConnection, at: datetime, username: str, ip: str, *, succeeded: bool) -> int:
    insert = login_attempts.insert().values(at=at, username=username, ip=ip, succeeded=succeeded)
    return int((await conn.execute(insert.returning(login_attempts.c.id))).scalar_one())


@dataclass(frozen=True, slots=True)
class Claim:
    attempt_id: int | None  # None: refused, the limit is reached
    failures: list[datetime]  # the failures counted against it, newest first


async def claim_attempt(
    conn: AsyncConnection, at: datetime, since: datetime, limit: int, *, username: str, ip: str
) -> Claim:
    """Count failed sign-ins since `since` and, under `limit`, record this attempt as one more (until it
    succeeds, `attempt_succeeded`). Count and record are one step: call it in a write transaction."""
    if conn.dialect.name == "postgresql":  # SQLite takes one writer at a time already
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SIGN_IN_LOCK)))
    failures = await recent_failures(conn, since, username=username, ip=ip)
    if len(failures) >= limit:
        return Claim(None, failures)
    return Claim(await add_attempt(conn, at, username, ip, succeeded=False), failures)


async def attempt_succeeded(conn: AsyncConnection, attempt_id: int) -> None:
    query = login_attempts.update().where(login_attempts.c.id == attempt_id)
    await conn.execute(query.values(succeeded=True))


async def recent_failures(
    conn: AsyncConnection, since: datetime, *, username: str, ip: str
) -> list[datetime]:
    """Times of failed sign-ins since `since` for this username, and for this address: the longer list."""
    a = login_attempts.c
    found: list[list[datetime]] = []
    for key in (a.username == username, a.ip == ip):
        query = sa.select(a.at).where(key, a.at > since, a.succeeded.is_(False)).order_by(a.at.desc())
        found.append(list((await conn.execute(query)).scalars()))
    return max(found, key=len)


async def forget_attempts(conn: AsyncConnection, before: datetime) -> None:
    await conn.execute(login_attempts.delete().where(login_attempts.c.at < before))
