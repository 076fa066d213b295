"""Telegram faults through the real dispatcher and store: what each leaves in the outbox and contacts."""

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from aiogram import Bot
from aiogram.methods import SendMessage

from bot.channels.base import Transport
from bot.channels.dispatch import CHECK_DELAY, Dispatcher
from bot.channels.limits import Limits
from bot.channels.sandbox import SandboxTransport
from bot.channels.telegram import TelegramTransport
from bot.clock import ManualClock
from bot.config import MessagesSettings, OutboxSettings
from bot.domain.messages import NewMessage
from bot.notify.compose import Composer
from bot.notify.render import Renderer, make_environment
from bot.store import contacts
from bot.store.db import Store
from bot.store.tables import messages, recipients
from bot.usecases.fallback import reroute
from tests.channels.conftest import enqueue, message
from tests.telegram.recording import (
    BLOCKED,
    Fault,
    RecordingSession,
    migrated,
    recording_bot,
    recording_session,
    retry_after,
)

__all__ = ["recording_bot", "recording_session"]  # fixtures

SUPERGROUP = -1001234567890


@pytest.fixture
def dispatcher(store: Store, clock: ManualClock, recording_bot: Bot, sandbox: SandboxTransport) -> Dispatcher:
    config = OutboxSettings()
    rates = {"sms": config.sms_per_second, "telegram": config.telegram_per_second}
    limits = Limits(rates, config.per_recipient_seconds, now=lambda: clock.now().timestamp())
    composer = Composer(Renderer(make_environment()), MessagesSettings())
    transports: dict[str, Transport] = {"telegram": TelegramTransport(recording_bot), "sms": sandbox}
    return Dispatcher(
        store,
        clock,
        transports,
        config,
        limits=limits,
        owner="test",
        on_address_failed=partial(reroute, composer=composer),
    )


def telegram(key: str, chat: int, due: datetime, **changes: Any) -> NewMessage:
    return message(key, due, channel="telegram", address=str(chat), body=f"<b>{key}</b>", **changes)


async def add_recipient(store: Store, now: datetime, chat: int, phone: str) -> int:
    async with store.tx() as conn:
        values = {"phone": phone, "name": "Amélie Laurent", "locale": "en", "timezone": "Europe/Berlin"}
        insert = recipients.insert().values(**values, created_at=now, updated_at=now)
        recipient_id: int = (await conn.execute(insert.returning(recipients.c.id))).scalar_one()
        await contacts.ensure(conn, recipient_id, "telegram", str(chat), now)
        await contacts.ensure(conn, recipient_id, "sms", phone, now)
    return recipient_id


async def rows(store: Store) -> dict[str, sa.RowMapping]:
    async with store.read() as conn:
        found = await conn.execute(sa.select(messages).order_by(messages.c.id))
        return {row["idem_key"]: row for row in found.mappings()}


async def reach(store: Store, recipient_id: int) -> list[tuple[str, str, str]]:
    async with store.read() as conn:
        return [(c.channel, c.address, c.state) for c in await contacts.for_recipient(conn, recipient_id)]


def chats(session: RecordingSession) -> list[int | str]:
    return [sent.chat_id for sent in session.sent(SendMessage)]


async def test_429_requeues_that_message_after_retry_after_and_the_batch_goes_on(
    store: Store, clock: ManualClock, dispatcher: Dispatcher, recording_session: RecordingSession
) -> None:
    start = clock.now()
    await enqueue(store, start, *(telegram(f"m{chat}", chat, start) for chat in (5550001, 5550002, 5550003)))
    recording_session.fail(SendMessage, retry_after(7))

    await dispatcher.drain()

    throttled = f"m{chats(recording_session)[0]}"
    first = await rows(store)
    waiting = first.pop(throttled)
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    assert waiting["next_attempt_at"] == start + timedelta(seconds=7)
    assert waiting["error"] == "429: Too Many Requests: retry after 7"
    assert [row["status"] for row in first.values()] == ["sent", "sent"]

    clock.advance(timedelta(seconds=7))
    await dispatcher.drain()

    again = (await rows(store))[throttled]
    assert (again["status"], again["attempts"], again["provider_ref"]) == ("sent", 2, "3")
    assert len(chats(recording_session)) == 4


async def test_403_fails_the_message_marks_the_chat_dead_and_sms_takes_over(
    store: Store,
    clock: ManualClock,
    dispatcher: Dispatcher,
    recording_session: RecordingSession,
    sandbox: SandboxTransport,
) -> None:
    now = clock.now()
    recipient_id = await add_recipient(store, now, 5550001, "+4915112345678")
    render = {"name": "Amélie", "order_id": "A-17", "fields": {}}
    await enqueue(
        store,
        now,
        telegram("help", 5550001, now, kind="help", recipient_id=recipient_id, payload={"render": render}),
    )
    recording_session.fail(SendMessage, BLOCKED)

    await dispatcher.drain()

    stored = await rows(store)
    blocked, fallback = stored["help"], stored["help>sms"]
    assert (blocked["status"], blocked["error"]) == ("failed", "403: Forbidden: bot was blocked by the user")
    assert (fallback["channel"], fallback["status"]) == ("sms", "sent")
    assert await reach(store, recipient_id) == [
        ("telegram", "5550001", "dead"),
        ("sms", "+4915112345678", "active"),
    ]
    [sms] = sandbox.sent()
    assert (sms.address, "order A-17" in sms.body) == ("+4915112345678", True)
    assert chats(recording_session) == [5550001]  # never retried


async def test_a_migrated_group_gets_the_message_and_its_contact_follows(
    store: Store, clock: ManualClock, dispatcher: Dispatcher, recording_session: RecordingSession
) -> None:
    now = clock.now()
    recipient_id = await add_recipient(store, now, -4001, "+4915112345678")
    await enqueue(store, now, telegram("notice", -4001, now, recipient_id=recipient_id))
    recording_session.fail(SendMessage, migrated(SUPERGROUP))

    await dispatcher.drain()

    notice = (await rows(store))["notice"]
    assert chats(recording_session) == [-4001, SUPERGROUP]
    assert (notice["status"], notice["provider_ref"], notice["attempts"]) == ("sent", "1", 1)
    assert await reach(store, recipient_id) == [
        ("telegram", str(SUPERGROUP), "active"),
        ("sms", "+4915112345678", "active"),
    ]


@pytest.mark.parametrize("fault", [Fault(502, "Bad Gateway"), Fault(500, "Internal Server Error")])
async def test_a_5xx_ends_unknown_and_is_never_resent(
    store: Store,
    clock: ManualClock,
    dispatcher: Dispatcher,
    recording_session: RecordingSession,
    fault: Fault,
) -> None:
    await enqueue(store, clock.now(), telegram("eta", 5550001, clock.now()))
    recording_session.fail(SendMessage, fault)

    await dispatcher.drain()
    checking = (await rows(store))["eta"]
    clock.advance(CHECK_DELAY)
    await dispatcher.drain()
    clock.advance(timedelta(hours=1))
    await dispatcher.drain()

    settled = (await rows(store))["eta"]
    assert checking["status"] == "checking"
    assert (settled["status"], settled["provider_ref"]) == ("unknown", None)
    assert settled["error"] == "outcome unknown and the provider cannot be asked; not resent"
    assert chats(recording_session) == [5550001]
