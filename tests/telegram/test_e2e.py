"""End to end, as Telegram would drive it: Doorstep's real HTTP server in webhook mode, the npm Telegram
emulator (telegram-test-api, with the shim in emulator_server.js) as the Bot API, real users' taps.

A recipient links with the deep link, taps Change time, picks a slot; the driver's chat receives the
updated stop with a Got it button; a duplicated update produces one reply.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.notify.compose import To
from bot.notify.kinds import Channel
from bot.store.tables import deliveries, promises, routes, stops
from bot.usecases.fleet import FleetIn
from bot.usecases.intake import import_deliveries
from bot.usecases.planning import plan_date
from tests.conftest import API_KEY, DAY
from tests.loop.conftest import MORNING
from tests.telegram.emulator import BOT_TOKEN, BotMessage, Emulator, TgUser, loopback_server

RECIPIENT = TgUser(7000001, "Rosa")
DRIVER = TgUser(7000101, "Marco")
SECRET = "e2e-webhook-secret_42"


@pytest.fixture
async def doorstep(
    telegram_emulator: Emulator, tmp_path: Path, clock: ManualClock, day_file: dict[str, Any]
) -> AsyncIterator[tuple[App, str]]:
    """A planned day in a running Doorstep whose Telegram bot talks to the emulator by webhook."""
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}"},
        web={"api_key": API_KEY},
        # The fewest vans: a stop moved to another time stays on the linked driver's route (with the
        # day spread over the fleet, another van may take it, and this driver reads "removed").
        eta={"exploration": 1, "spread": 0},
        sandbox={"path": tmp_path / "sandbox.db"},
        telegram={
            "token": BOT_TOKEN,
            "username": "TestNameBot",
            "api_base": telegram_emulator.url,
            "webhook_secret": SECRET,
        },
        # The per-chat limit requeues on the injected clock, which stands still here: off.
        outbox={"poll_seconds": 0.05, "per_recipient_seconds": 0},
        _env_file=None,
    )
    app = await build_app(settings, clock)
    services = app.services
    fleet_in = FleetIn.model_validate({k: day_file[k] for k in ("depots", "drivers")})
    rows = list(enumerate(day_file["deliveries"], 1))
    await import_deliveries(services.store, clock, services.settings.day, rows, fleet_in=fleet_in)
    await plan_date(services.store, clock, services.settings.eta, services.matrix, DAY, actor="test")
    clock.set(MORNING)
    async with loopback_server(app.web) as base:
        services.settings.web.public_url = base  # known once the server listens
        await app.start_background()  # registers the webhook with its secret
        try:
            yield app, base
        finally:
            await app.stop()


async def first_morning_stop(app: App) -> tuple[int, int, str]:
    """(delivery id, its driver id, its deep-link token) of the earliest promised stop."""
    query = (
        sa.select(stops.c.delivery_id, routes.c.driver_id, deliveries.c.tracking_token)
        .join(routes, routes.c.id == stops.c.route_id)
        .join(deliveries, deliveries.c.id == stops.c.delivery_id)
        .order_by(stops.c.promised_start, stops.c.delivery_id)
        .limit(1)
    )
    async with app.services.store.read() as conn:
        delivery_id, driver_id, token = (await conn.execute(query)).one()
    return delivery_id, driver_id, token


def having(prefix: str) -> Any:
    """A chat state with a message that has a button whose callback data starts with `prefix`."""
    return lambda got: any(data.startswith(prefix) for m in got for data in m.buttons().values())


def last_with(messages: list[BotMessage], prefix: str) -> tuple[BotMessage, str]:
    """The latest message with such a button, and the button's label (whatever the language)."""
    for message in reversed(messages):
        for label, data in message.buttons().items():
            if data.startswith(prefix):
                return message, label
    raise AssertionError(f"no button {prefix}* in {messages}")


async def test_a_recipient_moves_the_time_and_the_driver_gets_the_stop_to_acknowledge(
    doorstep: tuple[App, str], telegram_emulator: Emulator
) -> None:
    app, base = doorstep
    delivery_id, driver_id, token = await first_morning_stop(app)
    emulator = telegram_emulator

    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": API_KEY}) as api:
        issued = await api.post(f"/api/drivers/{driver_id}/telegram-code")
    assert issued.status_code == 201, issued.text
    await emulator.send_text(DRIVER, f"/driver {issued.json()['code']}")
    route = await emulator.wait_chat(DRIVER.id, lambda got: len(got) >= 1, within=10)

    await emulator.send_text(RECIPIENT, f"/start {token}")
    greeted = await emulator.wait_chat(RECIPIENT.id, having("a:time:"), within=10)
    greeting, change_time = last_with(greeted, "a:time:")
    await emulator.press(RECIPIENT, greeting, change_time)

    offered = await emulator.wait_chat(RECIPIENT.id, having("s:"), within=10)
    slots, first_slot = last_with(offered, "s:")
    await emulator.press(RECIPIENT, slots, first_slot)
    told = await emulator.wait_chat(RECIPIENT.id, lambda got: len(got) > len(offered), within=10)
    assert told[-1].buttons() == {}  # the new window, as a plain message
    # (the offer's keyboard is cleared with an edit; the emulator keeps a keyboard an edit omits, where
    # Telegram drops it, so test_customer checks that call instead)

    driver_chat = await emulator.wait_chat(DRIVER.id, having("ack"), within=10)
    note, got_it = last_with(driver_chat, "ack")
    assert note.text is not None
    assert got_it.endswith("Got it")
    assert len(driver_chat) > len(route)
    async with app.services.store.read() as conn:
        promise = (
            await conn.execute(
                sa.select(promises.c.start, promises.c.end, promises.c.version)
                .where(promises.c.delivery_id == delivery_id)
                .order_by(promises.c.version.desc())
                .limit(1)
            )
        ).one()
    assert promise.version >= 2
    reader = To(Channel.TELEGRAM, str(RECIPIENT.id), "en", "Europe/Berlin", "Rosa")
    new_window = app.services.composer.window(reader, promise.start, promise.end)
    assert new_window in (told[-1].text or "")  # the recipient reads the new window...
    assert new_window in note.text  # ...and so does the driver, on the changed stop

    # Telegram delivers the /start update again (after a slow answer, say): nobody hears twice.
    start_update = next(
        d for d in await emulator.deliveries() if "/start" in str(d.update.get("message", {}).get("text", ""))
    )
    before = len(await emulator.bot_messages(RECIPIENT.id))
    again = await emulator.redeliver(start_update.update_id)
    assert again.status == 200
    await app.services.dispatcher().drain()
    assert len(await emulator.bot_messages(RECIPIENT.id)) == before


async def test_without_a_public_url_the_bot_polls(
    telegram_emulator: Emulator, tmp_path: Path, clock: ManualClock, day_file: dict[str, Any]
) -> None:
    """Long polling: the same store-then-handle path, for a bot Telegram cannot reach."""
    settings = Settings(
        store={"url": f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}"},
        web={"api_key": API_KEY},
        eta={"exploration": 1},
        sandbox={"path": tmp_path / "sandbox.db"},
        telegram={"token": BOT_TOKEN, "api_base": telegram_emulator.url},
        outbox={"poll_seconds": 0.05, "per_recipient_seconds": 0},
        _env_file=None,
    )
    app = await build_app(settings, clock)
    fleet_in = FleetIn.model_validate({k: day_file[k] for k in ("depots", "drivers")})
    rows = list(enumerate(day_file["deliveries"], 1))
    await import_deliveries(app.services.store, clock, app.services.settings.day, rows, fleet_in=fleet_in)
    clock.set(MORNING)
    await app.start_background()
    try:
        async with app.services.store.read() as conn:
            token = (await conn.execute(sa.select(deliveries.c.tracking_token).limit(1))).scalar_one()
        await telegram_emulator.send_text(RECIPIENT, f"/start {token}")
        greeted = await telegram_emulator.wait_chat(RECIPIENT.id, having("a:ok:"), within=15)
        assert len(greeted) == 1
        async with app.services.store.read() as conn:
            stored = (await conn.execute(sa.text("select provider_ref, status from inbox"))).all()
        assert [tuple(row) for row in stored] == [(f"update:{greeted[0].message_id - 1}", "done")] or len(
            stored
        ) == 1
    finally:
        await app.stop()
