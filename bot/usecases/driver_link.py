"""Linking a driver's Telegram chat with a one-time code from the operator: `/driver CODE`.

The code is short and easy to type (8 characters, no 0/O or 1/I/L), valid 24 hours, used once, and
only its sha256 is stored. A chat that sends wrong codes is stopped after a few an hour (counted in
the inbox, where every attempt is kept). Linking moves the chat from any driver it belonged to, and
sends today's route and the next stop's card there.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Driver
from bot.notify.kinds import Channel
from bot.services import Services
from bot.store import events, fleet, inbox
from bot.usecases import driver_cards
from bot.usecases.errors import NotFoundError

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # read off a screen or a note without mix-ups
LENGTH = 8
VALID = timedelta(hours=24)
GUESSES = 5  # wrong codes a chat may send per GUESS_WINDOW
GUESS_WINDOW = timedelta(hours=1)
INTENT = "DriverLink"


class Linked(StrEnum):
    LINKED = "linked"
    WRONG = "wrong"  # no such code: mistyped, or used already
    EXPIRED = "expired"
    LIMITED = "limited"  # too many wrong codes from this chat lately; the code was not even looked at


@dataclass(frozen=True)
class LinkCode:
    driver_id: int
    driver_code: str
    driver_name: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Linking:
    outcome: Linked
    driver: Driver | None = None
    route_sent: bool = False  # today's route went out to the chat


def normalize(code: str) -> str:
    """As typed: any case, with spaces or dashes ("k7q4-m2xp")."""
    return "".join(code.split()).replace("-", "").upper()


def digest(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


async def issue_code(services: Services, driver: int | str, *, actor: str) -> LinkCode:
    """A new one-time code for a driver (by id or by code), valid 24 h; it replaces the one before."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    async with services.store.tx() as conn:
        now = services.clock.now()
        found = await (
            fleet.get_driver(conn, driver) if isinstance(driver, int) else fleet.driver_by_code(conn, driver)
        )
        if found is None:
            raise NotFoundError(f"no driver {driver!r}", field="driver")
        await fleet.set_link_code(conn, found.id, digest(code), now + VALID, now)
        await events.append(conn, now, "driver.link_code_issued", actor=actor, driver_id=found.id)
    return LinkCode(found.id, found.code, found.name, code, now + VALID)


async def link(services: Services, inbox_id: int, code: str, chat_id: str) -> Linking:
    """Link the chat to the code's driver and send today's route there; or say why not, changing nothing."""
    async with services.store.tx() as conn:
        now = services.clock.now()
        outcome = await _claim(conn, code, chat_id, now)
        if isinstance(outcome, Linked):
            await inbox.finish(
                conn, inbox_id, now, delivery_id=None, intent=INTENT, status="refused", error=outcome.value
            )
            return Linking(outcome)
        moved_from = await fleet.link_chat(conn, outcome, chat_id, now)
        data = {"channel": Channel.TELEGRAM.value, "moved_from_driver": moved_from}
        await events.append(conn, now, "driver.linked", actor="driver", driver_id=outcome, data=data)
        asked = f"link:{inbox_id}"
        sent = await driver_cards.send_today(
            conn, services.composer, outcome, now, asked=asked, card_again=False
        )
        await inbox.finish(conn, inbox_id, now, delivery_id=None, intent=INTENT)
        return Linking(Linked.LINKED, await fleet.get_driver(conn, outcome), sent)


async def _claim(conn: AsyncConnection, code: str, chat_id: str, now: datetime) -> int | Linked:
    """Use the code up: the driver id it links to, or why it links nothing (then nothing changed)."""
    wrong = [Linked.WRONG.value, Linked.EXPIRED.value]
    since = now - GUESS_WINDOW
    if await inbox.count_refused(conn, Channel.TELEGRAM.value, chat_id, INTENT, wrong, since) >= GUESSES:
        return Linked.LIMITED
    typed = normalize(code)
    if len(typed) != LENGTH or any(c not in ALPHABET for c in typed):
        return Linked.WRONG
    found = await fleet.by_link_code(conn, digest(typed))
    if found is None:
        return Linked.WRONG
    driver_id, expires_at = found
    if now >= expires_at:
        return Linked.EXPIRED
    used = await fleet.use_link_code(conn, driver_id, digest(typed), now)
    return driver_id if used else Linked.WRONG  # else another chat used it a moment ago
