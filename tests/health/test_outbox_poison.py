"""Outbox rows the dispatcher keeps failing on (not the provider: our own code, or a row no one can
read) are counted and parked as poison; the rest of their batch goes out all the same."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels.base import Failure, SendError
from bot.channels.dispatch import Dispatcher
from bot.channels.sandbox import SandboxTransport
from bot.clock import ManualClock
from bot.config import OutboxSettings
from bot.store.db import Store
from bot.store.tables import messages
from tests.channels.conftest import enqueue, make_dispatcher, message, sandbox, statuses, store  # noqa: F401


def damage_payload(db_path: Path, key: str) -> None:
    """An outbox row no reader can load (written by hand, or by another tool)."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("update messages set payload = '{not json' where idem_key = ?", (key,))


async def outbox_row(db: Store, key: str) -> tuple[str, int, str | None]:
    query = sa.select(messages.c.status, messages.c.failures, messages.c.error).where(
        messages.c.idem_key == key
    )
    async with db.read() as conn:
        status, failures, error = (await conn.execute(query)).one()
    return status, failures, error


def sent_keys(provider: SandboxTransport) -> list[str]:
    return sorted(s.body.removeprefix("hello ") for s in provider.sent())


async def test_an_outbox_row_that_cannot_be_read_is_parked_and_the_rest_still_go(
    store: Store,  # noqa: F811
    clock: ManualClock,
    sandbox: SandboxTransport,  # noqa: F811
    tmp_path: Path,
) -> None:
    now = clock.now()
    await enqueue(store, now, message("a", now), message("b", now), message("c", now))
    damage_payload(tmp_path / "outbox.db", "b")
    dispatcher = make_dispatcher(store, clock, sandbox)

    await dispatcher.run_once()  # it raised here, every round: nothing was sent any more

    assert sent_keys(sandbox) == ["a", "c"]
    assert (await outbox_row(store, "b"))[:2] == ("queued", 1)
    await dispatcher.run_once()
    await dispatcher.run_once()
    status, failures, error = await outbox_row(store, "b")
    assert (status, failures) == ("poison", 3)
    assert error is not None
    assert error.startswith("JSONDecodeError")
    assert await dispatcher.run_once() == 0  # parked: never tried again
    assert (await statuses(store)) == {"sent": 2, "poison": 1}


async def test_a_row_whose_outcome_cannot_be_recorded_fails_alone_and_is_parked_in_the_end(
    store: Store,  # noqa: F811
    clock: ManualClock,
    sandbox: SandboxTransport,  # noqa: F811
) -> None:
    now = clock.now()
    await enqueue(store, now, message("a", now), message("b", now), message("c", now))
    bad = message("b", now).address
    sandbox.failing[bad] = SendError(Failure.PERMANENT, "unreachable", address_state="unreachable")

    async def reroute_with_a_bug(
        conn: AsyncConnection, dead: Sequence[tuple[int, str]], at: datetime
    ) -> None:
        raise ValueError("no template for this kind in this locale")

    dispatcher = Dispatcher(
        store,
        clock,
        {"sms": sandbox},
        OutboxSettings(per_recipient_seconds=0),
        on_address_failed=reroute_with_a_bug,
    )
    await dispatcher.run_once()  # it raised here, and a and c stayed `sending` though they were sent

    assert (await outbox_row(store, "a"))[0] == "sent"
    assert (await outbox_row(store, "c"))[0] == "sent"
    assert (await outbox_row(store, "b"))[:2] == ("sending", 1)  # checked once its lease runs out
    for _ in range(2):
        clock.advance(timedelta(seconds=OutboxSettings().lease_seconds + 1))
        await dispatcher.run_once()
    assert (await outbox_row(store, "b"))[:2] == ("poison", 3)
    assert sent_keys(sandbox) == ["a", "c"]


async def test_a_row_that_keeps_tripping_the_dispatcher_is_parked_instead_of_checked_forever(
    store: Store,  # noqa: F811
    clock: ManualClock,
    sandbox: SandboxTransport,  # noqa: F811
) -> None:
    now = clock.now()
    await enqueue(store, now, message("a", now), message("w", now, channel="whatsapp"))  # a newer version's
    dispatcher = make_dispatcher(store, clock, sandbox)

    for _ in range(4):
        await dispatcher.run_once()
        clock.advance(timedelta(seconds=11))

    assert sent_keys(sandbox) == ["a"]
    status, failures, error = await outbox_row(store, "w")
    assert (status, failures) == ("poison", 3)  # it was `checking` again every 10 s, for ever
    assert error is not None
    assert error.startswith("internal error: KeyError")
