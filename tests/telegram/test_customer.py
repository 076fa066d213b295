"""Recipients on Telegram, through the real inbound path: stored update -> aiogram dispatcher -> use case ->
outbox -> Telegram transport, with a recording Bot session asserting the exact Bot API calls."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, EditMessageText, SendMessage
from aiogram.types import Message

from bot.app import App
from bot.channels.telegram import TelegramTransport
from bot.clock import ManualClock
from bot.handlers import telegram as tg
from bot.handlers import telegram_customer
from bot.notify.buttons import Act, Pick
from bot.notify.compose import To
from bot.notify.kinds import Channel
from bot.services import Services
from bot.store import contacts, plans, promises
from bot.store.tables import deliveries, inbox, messages
from bot.usecases import progress
from bot.web import state as web_state
from scheduler.jobs import fill_outbox
from tests.conftest import DAY
from tests.loop.conftest import planned_day  # noqa: F401 - the fixture, for this module
from tests.telegram.recording import RecordingSession, load_update

CHAT = 5550001  # the chat of the recorded updates
SECRET = "webhook-secret-for-tests"


@pytest.fixture
async def telegram(planned_day: Services, recording_bot: Bot) -> tg.TelegramIn:  # noqa: F811
    """The planned day with Telegram on the recording session, both ways."""
    planned_day.transports = {**planned_day.transports, "telegram": TelegramTransport(recording_bot)}
    return tg.TelegramIn(recording_bot, tg.build_dispatcher(planned_day))


@pytest.fixture
async def webhook(app: App, telegram: tg.TelegramIn) -> AsyncIterator[httpx.AsyncClient]:
    web_state.of(app.web).telegram, web_state.of(app.web).telegram_secret = telegram, SECRET
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


async def row_of(services: Services, delivery_id: int) -> sa.RowMapping:
    async with services.store.read() as conn:
        return (
            (await conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id))).mappings().one()
        )


async def deliver(services: Services, telegram: tg.TelegramIn, update: dict[str, Any]) -> int | None:
    """What the webhook does with one update: store it, then handle it; and what the dispatcher then sends."""
    inbox_id = await tg.store(services, update)
    if inbox_id is not None:
        await tg.handle(services, telegram, inbox_id)
    await services.dispatcher().drain()
    return inbox_id


async def driver_of(services: Services, delivery_id: int) -> int:
    """Whose route the delivery is on, in the day's active plan."""
    async with services.store.read() as conn:
        header = await plans.active(conn, DAY)
        assert header is not None
        driver = await plans.driver_of(conn, header.id, delivery_id)
    assert driver is not None
    return driver


def start(token: str, update_id: int = 1) -> dict[str, Any]:
    raw = load_update("start_deep_link").model_dump(mode="json", exclude_none=True, by_alias=True)
    raw["update_id"] = update_id
    raw["message"]["text"] = f"/start {token}"
    return raw


def press(data: str, update_id: int, chat: int = CHAT) -> dict[str, Any]:
    raw = load_update("callback_query").model_dump(mode="json", exclude_none=True, by_alias=True)
    raw["update_id"], raw["callback_query"]["data"] = update_id, data
    raw["callback_query"]["from"]["id"] = raw["callback_query"]["message"]["chat"]["id"] = chat
    return raw


async def linked(services: Services, telegram: tg.TelegramIn, delivery_id: int = 1) -> None:
    token = (await row_of(services, delivery_id))["tracking_token"]
    await deliver(services, telegram, start(token))


async def test_a_deep_link_links_the_chat_and_greets_it_with_the_menu(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    services = planned_day
    first = await row_of(services, 1)
    await deliver(services, telegram, start(first["tracking_token"]))

    async with services.store.read() as conn:
        reach = await contacts.for_recipient(conn, first["recipient_id"])
    assert (reach[0].channel, reach[0].address, reach[0].state.value) == ("telegram", str(CHAT), "active")
    (greeting,) = recording_session.sent(SendMessage)
    assert greeting.chat_id == CHAT
    assert greeting.parse_mode == "HTML"
    assert greeting.text.startswith(f"Hi {first['name'].split()[0]}, you're all set")
    keyboard = greeting.reply_markup
    assert keyboard is not None
    assert [[b.callback_data for b in row] for row in keyboard.inline_keyboard] == [  # type: ignore[union-attr]
        [Act(what="ok", d=1).pack(), Act(what="time", d=1).pack()],
        [Act(what="drop", d=1).pack(), Act(what="person", d=1).pack()],
    ]


async def test_a_duplicated_update_gets_one_answer(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    token = (await row_of(planned_day, 1))["tracking_token"]
    assert await deliver(planned_day, telegram, start(token, update_id=7)) is not None
    assert await deliver(planned_day, telegram, start(token, update_id=7)) is None
    assert len(recording_session.sent(SendMessage)) == 1


@pytest.mark.parametrize(
    ("token", "answer"),
    [
        ("no-such-token-123", "I don't know this link."),
        ("<script>", "I don't know this link."),
    ],
)
async def test_an_unknown_link_gets_a_friendly_answer_and_changes_nothing(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    token: str,
    answer: str,
) -> None:
    await deliver(planned_day, telegram, start(token))
    (reply,) = recording_session.sent(SendMessage)
    assert reply.text.startswith(answer)
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(messages))).scalar() == 0


async def test_a_link_already_followed_elsewhere_is_refused(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    token = (await row_of(planned_day, 1))["tracking_token"]
    await deliver(planned_day, telegram, start(token, update_id=1))
    other = start(token, update_id=2)
    other["message"]["chat"]["id"] = other["message"]["from"]["id"] = 777
    await deliver(planned_day, telegram, other)
    assert recording_session.sent(SendMessage)[-1].text.startswith("This delivery is already followed")
    async with planned_day.store.read() as conn:
        reach = await contacts.for_recipient(conn, (await row_of(planned_day, 1))["recipient_id"])
    assert ("telegram", str(CHAT)) in [(c.channel, c.address) for c in reach]


async def test_change_time_offers_slots_and_a_pick_replans(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    services = planned_day
    target = await _morning_delivery(services)
    await linked(services, telegram, target)
    await deliver(services, telegram, press(Act(what="time", d=target).pack(), update_id=2))
    offer = recording_session.sent(SendMessage)[-1]
    assert offer.reply_markup is not None
    picks = [Pick.unpack(row[0].callback_data or "") for row in offer.reply_markup.inline_keyboard]  # type: ignore[union-attr]
    assert picks
    assert all(p.d == target for p in picks)
    assert recording_session.sent(AnswerCallbackQuery)[-1].show_alert is not True

    chosen = picks[0]
    await deliver(services, telegram, press(chosen.pack(), update_id=3))
    (cleared,) = recording_session.sent(EditMessageReplyMarkup)  # the chosen offer loses its buttons
    assert (cleared.chat_id, cleared.reply_markup) == (CHAT, None)
    done = recording_session.sent(SendMessage)[-1]
    assert "14:" in done.text or "<b>" in done.text
    async with services.store.read() as conn:
        promise = (await promises.current(conn, [target]))[target]
    start, end = chosen.window()
    assert start <= promise.start < promise.end <= end
    assert services.composer.window(_to(), promise.start, promise.end).split("–")[0] in done.text


async def test_a_forged_press_for_someone_elses_parcel_expires_and_changes_nothing(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    services = planned_day
    await linked(services, telegram, 1)
    before = await row_of(services, 2)
    await deliver(services, telegram, press(Act(what="ok", d=2).pack(), update_id=5))
    (answer,) = recording_session.sent(AnswerCallbackQuery)
    assert (answer.text, answer.show_alert) == ("This option has expired.", True)
    assert await row_of(services, 2) == before
    async with services.store.read() as conn:
        status = (
            await conn.execute(sa.select(inbox.c.status).where(inbox.c.provider_ref == "update:5"))
        ).scalar()
    assert status == "refused"


async def test_a_press_for_a_delivered_parcel_is_explained(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    clock: ManualClock,
) -> None:
    services = planned_day
    await linked(services, telegram, 1)
    driver = await driver_of(services, 1)
    await progress.start_route(services, driver, actor="test")
    await progress.record_stop_event(services, 1, progress.StopEvent.DELIVERED, actor="test")
    await services.dispatcher().drain()
    assert recording_session.sent(SendMessage)[-1].text.startswith("Delivered!")
    await deliver(services, telegram, press(Act(what="time", d=1).pack(), update_id=6))
    assert "already been delivered" in recording_session.sent(SendMessage)[-1].text
    assert (await row_of(services, 1))["status"] == "delivered"


async def test_the_webhook_wants_the_secret_and_keeps_what_it_cannot_read(
    planned_day: Services,  # noqa: F811
    webhook: httpx.AsyncClient,
    recording_session: RecordingSession,
) -> None:
    token = (await row_of(planned_day, 1))["tracking_token"]
    update = start(token, update_id=11)
    assert (await webhook.post("/webhooks/telegram", json=update)).status_code == 401
    wrong = {tg_header(): "nope"}
    assert (await webhook.post("/webhooks/telegram", json=update, headers=wrong)).status_code == 401
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(inbox))).scalar() == 0

    right = {tg_header(): SECRET}
    assert (await webhook.post("/webhooks/telegram", json=update, headers=right)).status_code == 200
    assert (await webhook.post("/webhooks/telegram", json=update, headers=right)).status_code == 200
    bad = await webhook.post("/webhooks/telegram", content=b"{not json", headers=right)
    assert bad.status_code == 200
    async with planned_day.store.read() as conn:
        rows = (await conn.execute(sa.select(inbox.c.provider_ref, inbox.c.status))).all()
    assert sorted(tuple(r) for r in rows)[0][1] == "malformed"
    assert ("update:11", "done") in [tuple(r) for r in rows]
    assert len(rows) == 2  # the duplicate was not stored again


async def test_a_handler_called_directly_answers_a_bare_start(
    recording_bot: Bot, recording_session: RecordingSession
) -> None:
    update = load_update("text_message")
    assert update.message is not None
    message = Message.model_validate(
        {**update.message.model_dump(exclude_none=True, by_alias=True), "text": "/start"},
        context={"bot": recording_bot},
    )
    await telegram_customer.start(message)
    (welcome,) = recording_session.sent(SendMessage)
    assert welcome.chat_id == message.chat.id
    assert "delivery assistant" in welcome.text


def tg_header() -> str:
    return "X-Telegram-Bot-Api-Secret-Token"


async def _morning_delivery(services: Services) -> int:
    async with services.store.read() as conn:
        query = sa.text("select delivery_id from stops order by promised_start, delivery_id limit 1")
        return int((await conn.execute(query)).scalar_one())


def _to() -> To:
    return To(Channel.TELEGRAM, str(CHAT), "en", "Europe/Berlin", "x")


async def test_language_switches_the_chats_messages(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    services = planned_day
    await linked(services, telegram, 1)
    command = start("x", update_id=20)
    command["message"]["text"] = "/language"
    await deliver(services, telegram, command)
    offer = recording_session.sent(SendMessage)[-1]
    assert offer.reply_markup is not None
    codes = [b.callback_data for b in offer.reply_markup.inline_keyboard[0]]  # type: ignore[union-attr]
    assert codes == ["l:en", "l:de", "l:fr"]
    await deliver(services, telegram, press("l:de", update_id=21))
    assert recording_session.sent(AnswerCallbackQuery)[-1].text == "Ich schreibe Ihnen ab jetzt auf Deutsch."
    assert (await row_of(services, 1))["locale"] == "de"
    await deliver(services, telegram, press(Act(what="ok", d=1).pack(), update_id=22))
    assert recording_session.sent(SendMessage)[-1].text.startswith("Danke")


async def test_french_is_a_language_like_the_others(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    """The third locale through the catalogs and the fr templates: the switch, a reply, the buttons."""
    services = planned_day
    await linked(services, telegram, 1)
    await deliver(services, telegram, press("l:fr", update_id=31))
    assert recording_session.sent(AnswerCallbackQuery)[-1].text == "Je vous écris désormais en français."
    assert (await row_of(services, 1))["locale"] == "fr"

    await deliver(services, telegram, press(Act(what="time", d=1).pack(), update_id=32))
    offer = recording_session.sent(SendMessage)[-1]
    assert offer.text.startswith(
        "Rosa, quel nouveau créneau vous convient ? Choisissez-en un ci-dessous :\n• lun. "
    )
    expired = press("zz:1", update_id=33)
    expired["callback_query"]["from"]["language_code"] = "fr"
    await deliver(services, telegram, expired)
    assert recording_session.sent(AnswerCallbackQuery)[-1].text == "Ce choix a expiré."


async def test_the_eta_line_is_edited_in_place_not_sent_again(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    clock: ManualClock,
) -> None:
    services = planned_day
    await linked(services, telegram, 1)
    driver = await driver_of(services, 1)
    clock.advance(timedelta(minutes=35))  # 08:05 in Berlin: after the quiet hours
    await progress.start_route(services, driver, actor="test")
    await fill_outbox(services)
    await services.dispatcher().drain()
    (on_its_way,) = [m for m in recording_session.sent(SendMessage) if "on its way" in m.text]
    first_id = len(recording_session.sent(SendMessage))  # the recording session numbers messages from 1

    async with services.store.tx() as conn:  # a refresh moved the ETA 20 minutes, still inside the promise
        await conn.execute(
            sa.text(
                "update stops set planned_arrival = datetime(planned_arrival, '+20 minutes')"
                " where delivery_id = 1"
            )
        )
        await conn.execute(
            sa.text(
                "update stops set promised_end = datetime(promised_end, '+60 minutes') where delivery_id = 1"
            )
        )
        await conn.execute(
            sa.text('update promises set "end" = datetime("end", \'+60 minutes\') where delivery_id = 1')
        )
    await fill_outbox(services)
    await services.dispatcher().drain()
    await fill_outbox(services)  # nothing new to show: no second edit
    await services.dispatcher().drain()
    (edit,) = recording_session.sent(EditMessageText)
    assert edit.chat_id == CHAT
    assert edit.message_id in range(1, first_id + 1)
    assert edit.text != on_its_way.text
    assert "on its way" in (edit.text or "")
    assert edit.reply_markup == on_its_way.reply_markup
    assert [m for m in recording_session.sent(SendMessage) if "on its way" in m.text] == [on_its_way]


async def test_a_link_to_a_long_finished_delivery_has_expired(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
    clock: ManualClock,
) -> None:
    services = planned_day
    async with services.store.tx() as conn:
        await conn.execute(sa.update(deliveries).where(deliveries.c.id == 1).values(status="delivered"))
    clock.advance(timedelta(days=4))
    await deliver(services, telegram, start((await row_of(services, 1))["tracking_token"]))
    (reply,) = recording_session.sent(SendMessage)
    assert reply.text == "This link has expired: that delivery is finished."
    async with services.store.read() as conn:
        reach = await contacts.for_recipient(conn, (await row_of(services, 1))["recipient_id"])
    assert [c.channel for c in reach] == ["sms"]


async def test_one_chat_follows_several_deliveries(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    recording_session: RecordingSession,
) -> None:
    services = planned_day
    await deliver(services, telegram, start((await row_of(services, 1))["tracking_token"], update_id=1))
    await deliver(services, telegram, start((await row_of(services, 2))["tracking_token"], update_id=2))
    greetings = recording_session.sent(SendMessage)
    assert [m.chat_id for m in greetings] == [CHAT, CHAT]
    await deliver(services, telegram, press(Act(what="ok", d=2).pack(), update_id=3))
    await deliver(services, telegram, press(Act(what="ok", d=1).pack(), update_id=4))
    assert all(not a.show_alert for a in recording_session.sent(AnswerCallbackQuery))
    assert (await row_of(services, 1))["confirmed_at"] is not None
    assert (await row_of(services, 2))["confirmed_at"] is not None
