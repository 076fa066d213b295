"""Staff accounts and console sign-in: argon2 passwords, sessions, the sign-in rate limit, the audit trail.

A session is a random 32-byte token in a cookie; the database keeps only its SHA-256, so a copy of the
database signs nobody in. The CSRF token of a session is an HMAC of the session token, so it needs no
column and dies with the session. Failed sign-ins are counted per username and per client address in
the database (restarts and several workers share the count); once either reaches the limit within the
window, sign-in is refused without even checking the password, until the oldest counted failure ages out.
"""

import asyncio
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.services import Services
from bot.store import audit, staff
from bot.store.staff import Role, StaffSession, StaffUser
from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # longer input is refused before it is hashed
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    user: StaffUser


@dataclass(frozen=True, slots=True)
class Refused:
    """Wrong username or password, or a disabled account (the visitor is not told which)."""


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_at: datetime


type SignIn = SignedIn | Refused | Throttled


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both cases take as long."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The form token that goes with a session (or sign-in form) token."""
    return hmac.new(token.encode(), b"doorstep console csrf", hashlib.sha256).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_new_account(username: str, password: str) -> str:
    """The normalized username, or a UseCaseError that says what to change."""
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        message = "a username is 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
        raise UseCaseError(message, field="username")
    if len(password) < MIN_PASSWORD:
        raise UseCaseError(f"password too short: use at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise UseCaseError(f"password too long: at most {MAX_PASSWORD} characters", field="password")
    if name in password.lower():
        raise UseCaseError("the password must not contain the username", field="password")
    return name


async def add_user(services: Services, username: str, password: str, role: Role, *, actor: str) -> StaffUser:
    """Create a staff account; the username must be new."""
    name = check_new_account(username, password)
    password_hash = await asyncio.to_thread(hash_password, password)
    now = services.clock.now()
    async with services.store.tx() as conn:
        if await staff.user_by_name(conn, name) is not None:
            raise ConflictError(f"user {name!r} exists already", field="username")
        try:
            user_id = await staff.add_user(conn, now, name, password_hash, role)
        except sa.exc.IntegrityError:  # added by someone else in the meantime
            raise ConflictError(f"user {name!r} exists already", field="username") from None
        await audit.record(
            conn, now, None, "user_added", detail={"username": name, "role": role, "by": actor}
        )
    return StaffUser(user_id, name, password_hash, role, now, disabled=False)


async def list_users(services: Services) -> list[StaffUser]:
    async with services.store.read() as conn:
        return await staff.list_users(conn)


async def disable_user(services: Services, username: str, *, actor: str) -> None:
    """The account can no longer sign in, and its open sessions end now."""
    name = normalize_username(username)
    now = services.clock.now()
    async with services.store.tx() as conn:
        user = await staff.user_by_name(conn, name)
        if user is None:
            raise NotFoundError(f"no user {name!r}", field="username")
        await staff.disable_user(conn, user.id)
        await audit.record(conn, now, None, "user_disabled", detail={"username": name, "by": actor})


async def sign_in(services: Services, username: str, password: str, ip: str) -> SignIn:
    """Check a sign-in against the rate limit and the password; on success open a session.

    The attempt is counted (as a failure until the password checks out) in the same write transaction
    that reads the count, before the password is checked: concurrent guesses queue for that one step,
    so no more than the limit are ever checked."""
    limits = services.settings.console
    now = services.clock.now()
    name = normalize_username(username)[:64]
    window = timedelta(minutes=limits.login_window_minutes)
    who = {"username": name, "ip": ip}
    async with services.store.tx() as conn:
        user = await staff.user_by_name(conn, name)
        claim = await staff.claim_attempt(
            conn, now, now - window, limits.login_attempts_per_window, username=name, ip=ip
        )
        if claim.attempt_id is None:
            await audit.record(conn, now, user.id if user else None, "sign_in_throttled", detail=who)
            return Throttled(claim.failures[limits.login_attempts_per_window - 1] + window)
    known = user.password_hash if user else _dummy_hash()
    matches = len(password) <= MAX_PASSWORD and await asyncio.to_thread(_verify, known, password)
    if user is None or user.disabled or not matches:
        reason = "unknown user" if user is None else ("disabled" if user.disabled else "wrong password")
        async with services.store.tx() as conn:
            await audit.record(
                conn, now, user.id if user else None, "sign_in_failed", detail=who | {"reason": reason}
            )
        return Refused()
    return SignedIn(await _open_session(services, user, password, ip, claim.attempt_id), user)


async def _open_session(services: Services, user: StaffUser, password: str, ip: str, attempt_id: int) -> str:
    limits = services.settings.console
    now = services.clock.now()
    token = secrets.token_urlsafe(32)
    rehashed = None
    if _hasher().check_needs_rehash(user.password_hash):
        rehashed = await asyncio.to_thread(hash_password, password)
    async with services.store.tx() as conn:
        if rehashed is not None:
            await staff.set_password_hash(conn, user.id, rehashed)
        await staff.purge_expired(conn, now, now - timedelta(minutes=limits.idle_minutes))
        await staff.forget_attempts(conn, now - timedelta(minutes=limits.login_window_minutes))
        await staff.add_session(
            conn, token_hash(token), user.id, now, now + timedelta(hours=limits.session_hours)
        )
        await staff.attempt_succeeded(conn, attempt_id)
        await audit.record(conn, now, user.id, "sign_in", detail={"ip": ip, "rehashed": rehashed is not None})
    return token


async def current_session(services: Services, token: str) -> StaffSession | None:
    """The live session of this cookie token, or None (an ended one is deleted on the way)."""
    now = services.clock.now()
    idle = timedelta(minutes=services.settings.console.idle_minutes)
    key = token_hash(token)
    async with services.store.read() as conn:
        session = await staff.session_by_hash(conn, key)
    if session is None:
        return None
    alive = not session.user.disabled and now < session.expires_at and now < session.last_seen_at + idle
    if not alive or now - session.last_seen_at >= TOUCH_EVERY:
        async with services.store.tx() as conn:
            if alive:
                await staff.touch_session(conn, session.id, now)
            else:
                await staff.delete_session(conn, key)
    return session if alive else None


async def sign_out(services: Services, token: str, user: StaffUser | None, ip: str) -> None:
    """End the session of this token (if it is still open) and say so in the audit log."""
    now = services.clock.now()
    async with services.store.tx() as conn:
        await staff.delete_session(conn, token_hash(token))
        if user is not None:
            await audit.record(conn, now, user.id, "sign_out", detail={"ip": ip})
