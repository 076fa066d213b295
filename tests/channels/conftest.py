"""A real store and a sandbox provider on disk, a manual clock, and a dispatcher wired to them."""

import zlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.dispatch import Dispatcher
from bot.channels.limits import Limits
from bot.channels.sandbox import SandboxTransport
from bot.clock import ManualClock
from bot.config import OutboxSettings
from bot.domain.messages import NewMessage
from bot.store import outbox
from bot.store.db import Store, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    yield opened
    await opened.close()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxTransport]:
    transport = SandboxTransport(tmp_path / "sandbox.db")
    yield transport
    await transport.close()


def make_dispatcher(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, **settings: Any
) -> Dispatcher:
    config = OutboxSettings(**settings)
    rates = {"sms": config.sms_per_second, "telegram": config.telegram_per_second}
    limits = Limits(rates, config.per_recipient_seconds, now=lambda: clock.now().timestamp())
    return Dispatcher(
        store, clock, {"sms": sandbox, "telegram": sandbox}, config, limits=limits, owner="test"
    )


@pytest.fixture
def dispatcher(store: Store, clock: ManualClock, sandbox: SandboxTransport) -> Dispatcher:
    return make_dispatcher(store, clock, sandbox)


def message(key: str, due: datetime, **changes: Any) -> NewMessage:
    values: dict[str, Any] = {
        "idem_key": key,
        "kind": "pre-delivery",
        "channel": "sms",
        "address": f"+49151{zlib.crc32(key.encode()) % 10**8:08d}",
        "locale": "en",
        "timezone": "Europe/Berlin",
        "body": f"hello {key}",
        "due_at": due,
        "urgent": False,
    }
    return NewMessage(**{**values, **changes})


async def enqueue(store: Store, now: datetime, *messages: NewMessage) -> int:
    async with store.tx() as conn:
        return await outbox.enqueue(conn, messages, now)


async def statuses(store: Store) -> dict[str, int]:
    async with store.read() as conn:
        return await outbox.counts(conn)


MINUTE = timedelta(minutes=1)
