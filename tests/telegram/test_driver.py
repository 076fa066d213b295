"""Drivers on Telegram, through the real inbound path: a code from the ops API, `/driver CODE`, stop cards
and their buttons, "Got it" under a note, live location; a recording Bot session asserts the Bot API calls."""

import hashlib
from datetime import timedelta
from typing import Any
from unittest.mock import AsyncMock

import httpx
import pytest
import sqlalchemy as sa
from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, SendMessage, SendPhoto
from aiogram.types import InlineKeyboardMarkup, Message

from bot.channels.telegram import TelegramTransport
from bot.clock import ManualClock
from bot.domain.deliveries import FailReason, StopEvent
from bot.domain.routes import StopView
from bot.handlers import telegram as tg
from bot.handlers import telegram_driver
from bot.notify.buttons import Failed, GotIt, Stars, StartRoute, Stop, StopAct
from bot.services import Services
from bot.store import contacts, fleet, photos
from bot.store.tables import deliveries, drivers, escalations, events, inbox, plans
from bot.usecases import progress
from bot.usecases.day import load_day
from bot.usecases.driver_link import ALPHABET
from bot.usecases.inbound import sandbox_reply
from scheduler.jobs import fill_outbox
from tests.conftest import DAY
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.telegram.recording import Fault, RecordingSession, load_update
from tests.track.images import png

CHAT = 5550101  # the driver's chat in the recorded location and photo updates
OTHER_CHAT = 5550202
EXPIRED = ("This option has expired.", True)
START_FIRST = ("Start your route first: ▶ Start route is under your route message.", True)
HELP = (
    "Your message is kept for dispatch; for anything urgent, call them.\n"
    "▶ Start route: when you leave the depot.\n"
    "📍 Arrived · ✅ Delivered · ❌ Failed: on each stop's card.\n"
    "👍 Got it: under a changed stop.\n"
    "/route: your route and current stop again."
)


@pytest.fixture
async def telegram(planned_day: Services, recording_bot: Bot) -> tg.TelegramIn:  # noqa: F811
    planned_day.transports = {**planned_day.transports, "telegram": TelegramTransport(recording_bot)}
    return tg.TelegramIn(recording_bot, tg.build_dispatcher(planned_day))


@pytest.fixture
async def route(planned_day: Services) -> tuple[int, list[int]]:  # noqa: F811
    """The first driver with stops, and their deliveries in route order."""
    async with planned_day.store.read() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "select r.driver_id, s.delivery_id from stops s join routes r on r.id = s.route_id"
                    " order by r.driver_id, s.sequence"
                )
            )
        ).all()
    driver_id = rows[0][0]
    return driver_id, [d for r, d in rows if r == driver_id]


async def deliver(
    services: Services, telegram: tg.TelegramIn, clock: ManualClock, update: dict[str, Any]
) -> None:
    """Store and handle one update, then send what it queued (a second apart per chat, as the dispatcher)."""
    inbox_id = await tg.store(services, update)
    assert inbox_id is not None
    await tg.handle(services, telegram, inbox_id)
    await settle(services, clock)


async def settle(services: Services, clock: ManualClock) -> None:
    while True:
        await services.dispatcher().drain()
        soon = clock.now() + timedelta(seconds=2)
        if not [r for r in await outbox_rows(services, status="queued") if r["next_attempt_at"] <= soon]:
            return
        clock.advance(timedelta(seconds=1))


def raw(name: str, update_id: int, **message: Any) -> dict[str, Any]:
    update = load_update(name).model_dump(mode="json", exclude_none=True, by_alias=True)
    update["update_id"] = update_id
    body = update.get("message") or update["edited_message"]
    chat = message.pop("chat", CHAT)
    body["chat"]["id"] = body["from"]["id"] = chat
    body.update(message)
    return update


def text(words: str, update_id: int, chat: int = CHAT) -> dict[str, Any]:
    return raw("text_message", update_id, chat=chat, text=words)


def press(data: str, update_id: int, chat: int = CHAT, message_id: int = 13) -> dict[str, Any]:
    update = load_update("callback_query").model_dump(mode="json", exclude_none=True, by_alias=True)
    update["update_id"], update["callback_query"]["data"] = update_id, data
    update["callback_query"]["from"]["id"] = update["callback_query"]["message"]["chat"]["id"] = chat
    update["callback_query"]["message"]["message_id"] = message_id
    return update


async def issue(api: httpx.AsyncClient, driver_id: int) -> str:
    answer = await api.post(f"/api/drivers/{driver_id}/telegram-code")
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    return code


async def link(
    api: httpx.AsyncClient, services: Services, telegram: tg.TelegramIn, clock: ManualClock, driver_id: int
) -> None:
    await deliver(services, telegram, clock, text(f"/driver {await issue(api, driver_id)}", update_id=1))


async def driver_row(services: Services, driver_id: int) -> sa.RowMapping:
    async with services.store.read() as conn:
        return (await conn.execute(sa.select(drivers).where(drivers.c.id == driver_id))).mappings().one()


async def status_of(services: Services, delivery_id: int) -> str:
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.status).where(deliveries.c.id == delivery_id)
        return str((await conn.execute(query)).scalar_one())


async def events_of(services: Services, kind: str) -> list[sa.RowMapping]:
    async with services.store.read() as conn:
        query = sa.select(events).where(events.c.kind == kind).order_by(events.c.id)
        return list((await conn.execute(query)).mappings())


def buttons_of(message: SendMessage | SendPhoto | EditMessageReplyMarkup) -> list[list[str]]:
    assert isinstance(message.reply_markup, InlineKeyboardMarkup)
    return [[b.callback_data or "" for b in row] for row in message.reply_markup.inline_keyboard]


def card_buttons(delivery_id: int) -> list[list[str]]:
    acts = (StopAct.ARRIVED, StopAct.DELIVERED, StopAct.FAILED)
    return [[Stop(d=delivery_id, act=a).pack() for a in acts]]


async def start_button(services: Services) -> list[list[str]]:
    async with services.store.read() as conn:
        plan = (await conn.execute(sa.select(plans.c.id).where(plans.c.active))).scalar_one()
    return [[StartRoute(plan=plan).pack()]]


async def escalation_details(services: Services) -> list[str]:
    async with services.store.read() as conn:
        return list(
            (await conn.execute(sa.select(escalations.c.detail).order_by(escalations.c.id))).scalars()
        )


async def test_a_code_from_the_api_links_the_chat_and_brings_the_route_and_the_first_stop(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    answer = await api.post(f"/api/drivers/{driver_id}/telegram-code")
    assert answer.status_code == 201
    code = answer.json()["code"]
    assert len(code) == 8
    assert set(code) <= set(ALPHABET)
    assert answer.json()["expires_at"].startswith("2026-11-24T06:30:00")
    assert (await driver_row(services, driver_id))["link_code_hash"] == hashlib.sha256(
        code.encode()
    ).hexdigest()

    await deliver(services, telegram, clock, text(f"/driver {code.lower()}", update_id=1))

    linked = await driver_row(services, driver_id)
    assert (linked["telegram_chat_id"], linked["link_code_hash"], linked["link_code_expires_at"]) == (
        str(CHAT),
        None,
        None,
    )
    overview, card = recording_session.sent(SendMessage)
    assert (overview.chat_id, card.chat_id) == (CHAT, CHAT)
    assert overview.text.startswith(f"Hi Driver! Your route for <b>Mon 23 Nov</b>: {len(stops)} stops.")
    assert card.text.startswith(f"<b>Stop 1 of {len(stops)}</b> · ")
    assert buttons_of(overview) == await start_button(services)
    assert buttons_of(card) == card_buttons(stops[0])


async def test_a_wrong_used_or_expired_code_links_nothing_and_guessing_is_limited(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, _) = planned_day, route
    await deliver(services, telegram, clock, text("/driver", update_id=1))
    assert recording_session.sent(SendMessage)[-1].text.startswith("Send /driver and the code")
    await deliver(services, telegram, clock, text("/driver ABCD-2345", update_id=2))
    assert recording_session.sent(SendMessage)[-1].text.startswith("This code doesn't work")
    assert (await driver_row(services, driver_id))["telegram_chat_id"] is None

    code = await issue(api, driver_id)
    await deliver(services, telegram, clock, text(f"/driver {code}", update_id=3))
    await deliver(services, telegram, clock, text(f"/driver {code}", update_id=4, chat=OTHER_CHAT))
    used = recording_session.sent(SendMessage)[-1]
    assert (used.chat_id, used.text.startswith("This code doesn't work")) == (OTHER_CHAT, True)
    assert (await driver_row(services, driver_id))["telegram_chat_id"] == str(CHAT)

    code = await issue(api, driver_id)
    for update_id in range(5, 9):
        await deliver(services, telegram, clock, text(f"/driver WXYZ{update_id}234", update_id, OTHER_CHAT))
    await deliver(services, telegram, clock, text(f"/driver {code}", update_id=9, chat=OTHER_CHAT))
    assert recording_session.sent(SendMessage)[-1].text.startswith("Too many wrong codes.")
    assert (await driver_row(services, driver_id))["telegram_chat_id"] == str(CHAT)

    clock.advance(timedelta(hours=25))
    await deliver(services, telegram, clock, text(f"/driver {code}", update_id=10, chat=OTHER_CHAT))
    assert recording_session.sent(SendMessage)[-1].text.startswith("This code has expired.")
    assert (await driver_row(services, driver_id))["telegram_chat_id"] == str(CHAT)
    async with services.store.read() as conn:
        query = sa.select(inbox.c.error).where(inbox.c.intent == "DriverLink").order_by(inbox.c.id)
        said = list((await conn.execute(query)).scalars())
    assert said == ["wrong", None, "wrong", "wrong", "wrong", "wrong", "wrong", "limited", "expired"]


async def test_stop_buttons_move_the_delivery_and_bring_the_next_stop(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    first, second, third = stops[:3]
    await link(api, services, telegram, clock, driver_id)
    sent = len(recording_session.sent(SendMessage))
    assert buttons_of(recording_session.sent(SendMessage)[-1]) == card_buttons(first)
    await progress.start_route(services, driver_id, actor="test")
    await settle(services, clock)
    assert len(recording_session.sent(SendMessage)) == sent  # the chat has this card already

    await deliver(services, telegram, clock, press(Stop(d=first, act=StopAct.ARRIVED).pack(), update_id=2))
    assert (recording_session.sent(AnswerCallbackQuery)[-1].text, await status_of(services, first)) == (
        "Arrived ✓",
        "arrived",
    )
    assert len(recording_session.sent(SendMessage)) == sent

    await deliver(services, telegram, clock, press(Stop(d=first, act=StopAct.DELIVERED).pack(), update_id=3))
    assert await status_of(services, first) == "delivered"
    prompt, card = recording_session.sent(SendMessage)[sent:]
    assert prompt.text.startswith("Delivered ✓ If you have a photo")
    assert card.text.startswith(f"<b>Stop 2 of {len(stops)}</b>")
    assert buttons_of(card) == card_buttons(second)
    recording_session.files["AgACAgQAAxkBAAIBF2dQx1sm90xPhotoLarge"] = image = png()
    await deliver(services, telegram, clock, raw("photo_message", update_id=4))
    assert recording_session.sent(SendMessage)[-1].text == "📷 Photo saved with the delivery."
    (photo,) = await events_of(services, "delivery.photo")
    assert (photo["delivery_id"], photo["data"]["file_id"]) == (
        first,
        "AgACAgQAAxkBAAIBF2dQx1sm90xPhotoLarge",
    )
    async with services.store.read() as conn:
        kept = await photos.latest(conn, first)  # downloaded: the recipient's page shows it
    assert kept is not None
    assert (kept.content_type, kept.data) == ("image/png", image)

    await deliver(services, telegram, clock, press(Stop(d=second, act=StopAct.FAILED).pack(), update_id=5))
    (reasons,) = recording_session.sent(EditMessageReplyMarkup)
    assert buttons_of(reasons)[0] == [
        Failed(d=second, reason=FailReason.NOT_HOME).pack(),
        Failed(d=second, reason=FailReason.REFUSED).pack(),
    ]
    assert buttons_of(reasons)[-1] == [Stop(d=second, act=StopAct.BACK).pack()]
    await deliver(services, telegram, clock, press(Stop(d=second, act=StopAct.BACK).pack(), update_id=50))
    assert buttons_of(recording_session.sent(EditMessageReplyMarkup)[-1]) == card_buttons(second)
    assert await status_of(services, second) == "out_for_delivery"
    await deliver(services, telegram, clock, press(Failed(d=second, reason=FailReason.NO_ACCESS).pack(), 6))
    assert await status_of(services, second) == "failed"
    assert (await events_of(services, "delivery.failed"))[-1]["data"] == {"reason": "no_access"}
    assert buttons_of(recording_session.sent(SendMessage)[-1]) == card_buttons(third)

    await deliver(services, telegram, clock, press(Stop(d=first, act=StopAct.ARRIVED).pack(), update_id=7))
    answer = recording_session.sent(AnswerCallbackQuery)[-1]
    assert (answer.text, answer.show_alert) == EXPIRED


async def test_a_forged_press_expires_and_changes_nothing(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    async with services.store.read() as conn:
        query = sa.text(
            "select s.delivery_id from stops s join routes r on r.id = s.route_id where r.driver_id != :d"
        )
        elsewhere = (await conn.execute(query, {"d": driver_id})).scalars().first()
    assert elsewhere is not None
    await link(api, services, telegram, clock, driver_id)
    for driver in {driver_id, *(await _drivers_of(services, elsewhere))}:
        await progress.start_route(services, driver, actor="test")
    await settle(services, clock)

    await deliver(
        services, telegram, clock, press(Stop(d=elsewhere, act=StopAct.DELIVERED).pack(), update_id=2)
    )
    await deliver(services, telegram, clock, press(Failed(d=elsewhere, reason=FailReason.OTHER).pack(), 3))
    mine = Stop(d=stops[0], act=StopAct.DELIVERED).pack()
    await deliver(services, telegram, clock, press(mine, update_id=4, chat=OTHER_CHAT))  # not a driver's chat
    assert [(a.text, a.show_alert) for a in recording_session.sent(AnswerCallbackQuery)] == [EXPIRED] * 3
    assert (await status_of(services, elsewhere), await status_of(services, stops[0])) == (
        "out_for_delivery",
        "out_for_delivery",
    )
    async with services.store.read() as conn:
        refused = (await conn.execute(sa.select(inbox.c.status).where(inbox.c.id > 1))).scalars().all()
    assert refused == ["refused"] * 3


async def test_start_route_under_the_route_starts_it_brings_the_first_stop_and_goes(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    async with services.store.tx() as conn:  # linked on an earlier day: this morning's route comes on its own
        await fleet.link_chat(conn, driver_id, str(CHAT), clock.now())
    await fill_outbox(services)
    await settle(services, clock)
    (overview,) = [m for m in recording_session.sent(SendMessage) if m.chat_id == CHAT]
    (start,) = (await start_button(services))[0]
    assert buttons_of(overview) == [[start]]
    (row,) = await outbox_rows(services, kind="driver-route", address=str(CHAT))
    route_message = int(row["provider_ref"])

    forged = StartRoute(plan=StartRoute.unpack(start).plan + 1).pack()
    await deliver(services, telegram, clock, press(forged, update_id=1, message_id=route_message))
    await deliver(services, telegram, clock, press(start, update_id=2, chat=OTHER_CHAT))  # no driver's chat
    assert [(a.text, a.show_alert) for a in recording_session.sent(AnswerCallbackQuery)] == [EXPIRED] * 2
    assert {await status_of(services, d) for d in stops} == {"planned"}

    recording_session.fail(EditMessageReplyMarkup, Fault(400, "Bad Request: message can't be edited"))
    await deliver(services, telegram, clock, press(start, update_id=3, message_id=route_message))
    started = recording_session.sent(AnswerCallbackQuery)[-1]
    assert (started.text, started.show_alert) == ("Route started ✓ Drive safely!", None)
    assert [await status_of(services, d) for d in stops] == ["out_for_delivery"] * len(stops)
    loaded = await events_of(services, "delivery.out_for_delivery")
    assert sorted((e["delivery_id"], e["actor"]) for e in loaded) == sorted((d, "driver") for d in stops)
    (cleared,) = recording_session.sent(EditMessageReplyMarkup)
    assert (cleared.chat_id, cleared.message_id, cleared.reply_markup) == (CHAT, route_message, None)
    card = recording_session.sent(SendMessage)[-1]
    assert (card.chat_id, card.text.startswith(f"<b>Stop 1 of {len(stops)}</b> · ")) == (CHAT, True)
    assert buttons_of(card) == card_buttons(stops[0])

    sent = len(recording_session.sent(SendMessage))
    await deliver(services, telegram, clock, press(start, update_id=4, message_id=route_message))
    assert (
        recording_session.sent(AnswerCallbackQuery)[-1].text,
        len(recording_session.sent(SendMessage)),
    ) == (
        EXPIRED[0],
        sent,
    )
    assert len(await events_of(services, "delivery.out_for_delivery")) == len(stops)
    assert len(recording_session.sent(EditMessageReplyMarkup)) == 1
    async with services.store.read() as conn:
        query = sa.select(inbox.c.intent, inbox.c.status, inbox.c.error).order_by(inbox.c.id)
        said = [tuple(r) for r in await conn.execute(query)]
    assert said == [("Start", "refused", "expired")] * 2 + [
        ("Start", "done", None),
        ("Start", "refused", "expired"),
    ]


async def test_a_stop_button_before_the_start_asks_to_start_first_and_changes_nothing(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    first = stops[0]
    await link(api, services, telegram, clock, driver_id)
    sent = len(recording_session.sent(SendMessage))

    acts = (StopAct.ARRIVED, StopAct.DELIVERED, StopAct.FAILED)
    presses = [
        *(Stop(d=first, act=a).pack() for a in acts),
        Failed(d=first, reason=FailReason.NOT_HOME).pack(),
    ]
    for update_id, data in enumerate(presses, start=2):
        await deliver(services, telegram, clock, press(data, update_id))
    assert [(a.text, a.show_alert) for a in recording_session.sent(AnswerCallbackQuery)] == [START_FIRST] * 4
    assert await status_of(services, first) == "planned"
    assert (recording_session.sent(EditMessageReplyMarkup), len(recording_session.sent(SendMessage))) == (
        [],
        sent,
    )
    async with services.store.read() as conn:
        query = sa.select(inbox.c.error).where(inbox.c.status == "refused").order_by(inbox.c.id)
        assert list((await conn.execute(query)).scalars()) == ["not_started"] * 3  # Failed only opens reasons


async def test_a_drivers_text_gets_the_help_and_is_kept_for_dispatch_not_escalated(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    await link(api, services, telegram, clock, driver_id)
    sent = len(recording_session.sent(SendMessage))

    await deliver(services, telegram, clock, text("The gate at the school is locked", update_id=2))
    (help_,) = recording_session.sent(SendMessage)[sent:]
    assert (help_.chat_id, help_.text) == (CHAT, HELP)
    (said,) = await events_of(services, "driver.message")
    assert (said["driver_id"], said["delivery_id"], said["actor"], said["data"]) == (
        driver_id,
        stops[0],  # the stop the driver is at
        "driver",
        {"text": "The gate at the school is locked"},
    )
    assert await escalation_details(services) == []

    await deliver(services, telegram, clock, text("Where is my parcel?", update_id=3, chat=OTHER_CHAT))
    assert await escalation_details(services) == ["unknown sender: Where is my parcel?"]
    assert len(await events_of(services, "driver.message")) == 1


async def test_route_sends_the_route_and_the_current_stop_again(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    await link(api, services, telegram, clock, driver_id)
    await progress.start_route(services, driver_id, actor="test")
    await deliver(
        services, telegram, clock, press(Stop(d=stops[0], act=StopAct.DELIVERED).pack(), update_id=2)
    )
    sent = len(recording_session.sent(SendMessage))

    await deliver(services, telegram, clock, text("/route", update_id=3))
    overview, card = recording_session.sent(SendMessage)[sent:]
    assert (overview.chat_id, card.chat_id) == (CHAT, CHAT)
    assert overview.text.startswith(f"Hi Driver! Your route for <b>Mon 23 Nov</b>: {len(stops) - 1} stops.")
    assert overview.reply_markup is None  # started: no Start route any more
    assert card.text.startswith(f"<b>Stop 2 of {len(stops)}</b> · ")
    assert buttons_of(card) == card_buttons(stops[1])

    await deliver(services, telegram, clock, text("/route", update_id=4))
    assert [m.text for m in recording_session.sent(SendMessage)[sent + 2 :]] == [overview.text, card.text]
    await deliver(services, telegram, clock, text("/route", update_id=5, chat=OTHER_CHAT))
    hint = recording_session.sent(SendMessage)[-1]
    assert (hint.chat_id, hint.text.startswith("This chat isn't linked to a driver yet.")) == (
        OTHER_CHAT,
        True,
    )
    assert (await events_of(services, "driver.message"), await escalation_details(services)) == ([], [])


async def test_a_changed_stop_reaches_the_driver_with_got_it_and_the_press_is_recorded_once(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    last = stops[-1]  # the latest window: far from the cut-off for changes
    await link(api, services, telegram, clock, driver_id)
    await sandbox_reply(services, last, "SAFE back door")
    await settle(services, clock)
    note = recording_session.sent(SendMessage)[-1]
    assert note.chat_id == CHAT
    assert "📝 From recipient: back door" in note.text
    assert buttons_of(note) == [[GotIt().pack()]]
    (row,) = await outbox_rows(services, kind="driver-notes")
    assert row["payload"]["deliveries"] == [last]

    for update_id in (2, 3):
        await deliver(services, telegram, clock, press("ack", update_id, message_id=int(row["provider_ref"])))
    assert [a.text for a in recording_session.sent(AnswerCallbackQuery)] == [
        "Thanks, noted ✓",
        "Already noted ✓",
    ]
    (acknowledged,) = await events_of(services, "driver.acknowledged")
    assert (acknowledged["driver_id"], acknowledged["delivery_id"]) == (driver_id, last)
    assert acknowledged["data"] == {"message_id": row["id"], "deliveries": [last]}

    await deliver(services, telegram, clock, press("ack", update_id=4, message_id=9999))  # no note of ours
    assert recording_session.sent(AnswerCallbackQuery)[-1].show_alert is True


async def test_a_live_location_moves_the_van_and_refreshes_the_etas(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    async with services.store.read() as conn:
        query = sa.select(deliveries.c.lat, deliveries.c.lon).where(deliveries.c.id == stops[0])
        lat, lon = (await conn.execute(query)).one()
    await link(api, services, telegram, clock, driver_id)
    await progress.start_route(services, driver_id, actor="test")
    await settle(services, clock)
    sent = len(recording_session.sent(SendMessage))

    await deliver(
        services, telegram, clock, raw("location_message", 2, location={"latitude": lat, "longitude": lon})
    )
    van = await driver_row(services, driver_id)
    assert (van["position_lat"], van["position_lon"], van["position_at"]) == (lat, lon, clock.now())
    (revised,) = [e for e in await events_of(services, "plan.revised") if e["actor"] == "position"]
    assert revised["data"]["vans"] == [driver_id]

    moved = {"latitude": lat + 0.001, "longitude": lon, "live_period": 28800}
    await deliver(services, telegram, clock, raw("edited_live_location", 3, location=moved))
    assert (await driver_row(services, driver_id))["position_lat"] == lat + 0.001
    assert len([e for e in await events_of(services, "plan.revised") if e["actor"] == "position"]) == 1

    await deliver(services, telegram, clock, raw("edited_live_location", 4, chat=OTHER_CHAT))
    await deliver(services, telegram, clock, raw("location_message", 5, chat=OTHER_CHAT))
    (hint,) = recording_session.sent(SendMessage)[sent:]
    assert (hint.chat_id, hint.text.startswith("This chat isn't linked to a driver yet.")) == (
        OTHER_CHAT,
        True,
    )


async def test_the_link_handler_called_directly_explains_the_command(
    recording_bot: Bot, recording_session: RecordingSession
) -> None:
    update = load_update("text_message")
    assert update.message is not None
    message = Message.model_validate(
        {**update.message.model_dump(exclude_none=True, by_alias=True), "text": "/driver"},
        context={"bot": recording_bot},
    )
    services = AsyncMock(spec=Services)
    await telegram_driver.link(message, CommandObject(command="driver"), services, inbox_id=1)
    (usage,) = recording_session.sent(SendMessage)
    assert (usage.chat_id, usage.text) == (
        message.chat.id,
        "Send /driver and the code from your dispatcher, for example: /driver K7Q4M2XP",
    )
    assert not services.mock_calls


async def _drivers_of(services: Services, delivery_id: int) -> list[int]:
    async with services.store.read() as conn:
        query = sa.text(
            "select r.driver_id from stops s join routes r on r.id = s.route_id where s.delivery_id = :d"
        )
        return list((await conn.execute(query, {"d": delivery_id})).scalars())


RECIPIENT_CHAT = 6660001


async def test_the_recipients_delivered_notice_carries_the_drivers_photo(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    first, second = stops[:2]
    async with services.store.tx() as conn:  # both recipients follow their parcel on Telegram
        for delivery_id, chat in ((first, RECIPIENT_CHAT), (second, RECIPIENT_CHAT + 1)):
            query = sa.select(deliveries.c.recipient_id).where(deliveries.c.id == delivery_id)
            recipient_id = (await conn.execute(query)).scalar_one()
            await contacts.link(conn, recipient_id, "telegram", str(chat), clock.now())
    await link(api, services, telegram, clock, driver_id)
    await progress.start_route(services, driver_id, actor="test")
    await settle(services, clock)

    await deliver(services, telegram, clock, press(Stop(d=first, act=StopAct.DELIVERED).pack(), update_id=3))
    assert not recording_session.sent(SendPhoto)
    assert not [
        m
        for m in recording_session.sent(SendMessage)
        if m.chat_id == RECIPIENT_CHAT and "Delivered!" in m.text
    ]
    await deliver(services, telegram, clock, raw("photo_message", update_id=4))
    (photo,) = recording_session.sent(SendPhoto)
    assert (photo.chat_id, photo.photo) == (RECIPIENT_CHAT, "AgACAgQAAxkBAAIBF2dQx1sm90xPhotoLarge")
    assert "07:30" in (photo.caption or "")  # the delivered notice is the caption...
    assert buttons_of(photo)[0] == [Stars(d=first, n=n).pack() for n in range(1, 6)]  # ...with its ratings

    # No photo this time: the notice waits its two minutes, then goes as text.
    await deliver(services, telegram, clock, press(Stop(d=second, act=StopAct.DELIVERED).pack(), update_id=5))
    clock.advance(progress.PHOTO_WAIT)
    await settle(services, clock)
    (told,) = [m for m in recording_session.sent(SendMessage) if m.chat_id == RECIPIENT_CHAT + 1]
    assert buttons_of(told)[0] == [Stars(d=second, n=n).pack() for n in range(1, 6)]
    assert len(recording_session.sent(SendPhoto)) == 1


async def ahead_of(services: Services, driver_id: int) -> list[StopView]:
    """The driver's remaining stops, the next one first."""
    async with services.store.read() as conn:
        day = await load_day(conn, DAY)
    assert day is not None
    return day.remaining(day.routes[driver_id])


async def stops_before(services: Services, driver_id: int, delivery_id: int) -> int:
    return [s.delivery_id for s in await ahead_of(services, driver_id)].index(delivery_id)


async def deliver_next(services: Services, clock: ManualClock, driver_id: int) -> None:
    """The driver delivers their next stop, on time."""
    stop = (await ahead_of(services, driver_id))[0]
    clock.set(max(clock.now(), stop.planned_arrival))
    await progress.record_stop_event(services, stop.delivery_id, StopEvent.DELIVERED, actor="test")


async def unconfirmed_escalations(services: Services) -> list[int]:
    async with services.store.read() as conn:
        query = sa.select(escalations.c.delivery_id).where(escalations.c.kind == "note_unconfirmed")
        return list((await conn.execute(query)).scalars())


async def test_a_note_not_confirmed_two_stops_ahead_goes_again_once_and_to_support(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    api: httpx.AsyncClient,
    clock: ManualClock,
    route: tuple[int, list[int]],
) -> None:
    services, (driver_id, stops) = planned_day, route
    unread, read = stops[-2], stops[-1]  # late windows: far from the cut-off for changes
    await link(api, services, telegram, clock, driver_id)
    await sandbox_reply(services, unread, "SAFE back door")
    await sandbox_reply(services, read, "SAFE garage")
    await settle(services, clock)
    first, second = await outbox_rows(services, kind="driver-notes")
    assert (first["payload"]["deliveries"], second["payload"]["deliveries"]) == ([unread], [read])
    await deliver(services, telegram, clock, press("ack", 2, message_id=int(second["provider_ref"])))

    await progress.start_route(services, driver_id, actor="test")
    while await stops_before(services, driver_id, unread) > 2:
        await fill_outbox(services)
        assert await unconfirmed_escalations(services) == []
        await deliver_next(services, clock, driver_id)
    await settle(services, clock)
    sent = len(recording_session.sent(SendMessage))

    for _ in range(2):
        await fill_outbox(services)
        await settle(services, clock)
    (again,) = recording_session.sent(SendMessage)[sent:]
    assert again.chat_id == CHAT
    assert "\n🔁 Sent again: please read it and press Got it\n" in again.text
    assert "\n📝 From recipient: back door" in again.text
    assert buttons_of(again) == [[GotIt().pack()]]
    assert await unconfirmed_escalations(services) == [unread]

    while await stops_before(services, driver_id, read) > 0:
        await deliver_next(services, clock, driver_id)
        await fill_outbox(services)
    notes = await outbox_rows(services, kind="driver-notes")
    assert [n["payload"]["deliveries"] for n in notes] == [[unread], [read], [unread]]
    assert await unconfirmed_escalations(services) == [unread]
