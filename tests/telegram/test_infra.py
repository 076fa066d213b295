import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetMe, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from fastapi import FastAPI, Request, Response

from tests.telegram.emulator import SECRET_HEADER, Emulator, TgUser, loopback_server
from tests.telegram.recording import (
    BLOCKED,
    MESSAGE_TOO_LONG,
    Fault,
    RecordingSession,
    load_update,
    migrated,
    retry_after,
)

SECRET = "webhook-secret_0123456789"
RECIPIENT = TgUser(5550001, "Amélie", "amelie_l")
DRIVER = TgUser(5550101, "Marco")


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
    return InlineKeyboardMarkup(inline_keyboard=[row])


WINDOW = keyboard(("Confirm", "cf:17"), ("Change time", "rs:17"))


def throwaway_dispatcher() -> Dispatcher:
    router = Router(name="throwaway")

    @router.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Linked {command.args}. Arriving 10:00-11:00.", reply_markup=WINDOW)

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @router.callback_query(F.data == "rs:17")
    async def change_time(query: CallbackQuery) -> None:
        await query.answer("Pick a slot")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Pick a new slot:", reply_markup=keyboard(("14:00-15:00", "sl:17:3")))

    @router.callback_query(F.data == "sl:17:3")
    async def pick_slot(query: CallbackQuery, bot: Bot) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text("Moved to 14:00-15:00.")
        await bot.send_message(DRIVER.id, "Stop 4 now 14:00-15:00", reply_markup=keyboard(("Got it", "ok:4")))

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def webhook_app(bot: Bot, dispatcher: Dispatcher) -> FastAPI:
    app = FastAPI()

    @app.post("/telegram/webhook")
    async def webhook(request: Request) -> Response:
        if not secrets.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), SECRET.encode()):
            return Response(status_code=401)
        await dispatcher.feed_update(bot, Update.model_validate(await request.json(), context={"bot": bot}))
        return Response()

    return app


@pytest.fixture
async def webhook_url(telegram_emulator: Emulator) -> AsyncIterator[str]:
    bot = telegram_emulator.make_bot()
    async with loopback_server(webhook_app(bot, throwaway_dispatcher())) as base:
        yield f"{base}/telegram/webhook"


@pytest.fixture
async def webhook_bot(telegram_emulator: Emulator, webhook_url: str) -> Bot:
    bot = telegram_emulator.make_bot()
    await bot.set_webhook(webhook_url, secret_token=SECRET)
    return bot


async def test_feed_update_sends_the_exact_message(
    recording_bot: Bot, recording_session: RecordingSession
) -> None:
    await throwaway_dispatcher().feed_update(recording_bot, load_update("start_deep_link"))

    [call] = recording_session.calls
    assert call.method == SendMessage(
        chat_id=5550001, text="Linked dlv-7Qm2xK9pLr. Arriving 10:00-11:00.", reply_markup=WINDOW
    )
    assert call.form == {
        "chat_id": "5550001",
        "text": "Linked dlv-7Qm2xK9pLr. Arriving 10:00-11:00.",
        "reply_markup": '{"inline_keyboard": [[{"text": "Confirm", "callback_data": "cf:17"}, '
        '{"text": "Change time", "callback_data": "rs:17"}]]}',
    }


async def test_callback_answers_and_edits_the_message(
    recording_bot: Bot, recording_session: RecordingSession
) -> None:
    await throwaway_dispatcher().feed_update(recording_bot, load_update("callback_query"))

    assert [call.name for call in recording_session.calls] == ["answerCallbackQuery", "editMessageText"]
    [answer] = recording_session.sent(AnswerCallbackQuery)
    assert (answer.callback_query_id, answer.text) == ("2391286239188329452", "Pick a slot")
    [edit] = recording_session.sent(EditMessageText)
    assert (edit.chat_id, edit.message_id, edit.text) == (5550001, 13, "Pick a new slot:")


async def test_made_up_results_are_aiogram_types(recording_bot: Bot) -> None:
    sent = await recording_bot.send_message(5550001, "one")
    again = await recording_bot.send_message(5550001, "two")
    me = await recording_bot.get_me()

    assert (sent.message_id, again.message_id, sent.chat.type, sent.text) == (1, 2, "private", "one")
    assert me.is_bot
    assert await recording_bot.answer_callback_query("1") is True


async def test_a_queued_result_replaces_the_made_up_one(
    recording_bot: Bot, recording_session: RecordingSession
) -> None:
    recording_session.respond(GetMe, {"id": 42, "is_bot": True, "first_name": "Renamed"})

    assert (await recording_bot.get_me()).first_name == "Renamed"
    assert (await recording_bot.get_me()).first_name == "Doorstep"


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("start_deep_link", "message"),
        ("text_message", "message"),
        ("callback_query", "callback_query"),
        ("location_message", "message"),
        ("edited_live_location", "edited_message"),
        ("photo_message", "message"),
    ],
)
def test_recorded_updates_are_valid_updates(name: str, event: str) -> None:
    assert load_update(name).event_type == event


def test_overrides_are_merged_into_the_recorded_update() -> None:
    update = load_update("text_message", update_id=7, message={"text": "2"})

    assert (update.update_id, update.message and update.message.text) == (7, "2")
    assert update.message
    assert update.message.from_user
    assert update.message.from_user.first_name == "Amélie"


async def test_retry_after_is_aiogram_s_own_exception(
    recording_bot: Bot, recording_session: RecordingSession
) -> None:
    recording_session.fail(SendMessage, retry_after(7))
    dispatcher = throwaway_dispatcher()

    with pytest.raises(TelegramRetryAfter) as caught:
        await dispatcher.feed_update(recording_bot, load_update("text_message"))
    await dispatcher.feed_update(recording_bot, load_update("text_message"))

    assert caught.value.retry_after == 7
    assert len(recording_session.sent(SendMessage)) == 2


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        (BLOCKED, TelegramForbiddenError, "bot was blocked by the user"),
        (migrated(-1001234567890), TelegramMigrateToChat, "migrated to a supergroup with id -1001234567890"),
        (MESSAGE_TOO_LONG, TelegramBadRequest, "message is too long"),
    ],
)
async def test_faults_become_aiogram_exceptions(
    recording_bot: Bot,
    recording_session: RecordingSession,
    fault: Fault,
    error: type[TelegramAPIError],
    match: str,
) -> None:
    recording_session.fail(SendMessage, fault)

    with pytest.raises(error, match=match):
        await recording_bot.send_message(-100, "x" * 4097)


async def test_webhook_delivers_with_the_secret_and_the_reply_reaches_the_user(
    telegram_emulator: Emulator, webhook_bot: Bot
) -> None:
    await telegram_emulator.send_text(RECIPIENT, "hello")

    [reply] = await telegram_emulator.wait_bot_messages(RECIPIENT.id, 1)
    [delivery] = await telegram_emulator.wait_deliveries(1)
    assert reply.text == "echo: hello"
    assert delivery.status == 200
    assert delivery.update["message"]["text"] == "hello"


async def test_a_location_passes_through_to_the_webhook(
    telegram_emulator: Emulator, webhook_bot: Bot
) -> None:
    await telegram_emulator.send_message(DRIVER, location={"latitude": 43.738418, "longitude": 7.424616})

    [delivery] = await telegram_emulator.wait_deliveries(1)
    update = Update.model_validate(delivery.update)
    assert update.message
    assert update.message.location
    assert (update.message.location.latitude, update.message.chat.id) == (43.738418, DRIVER.id)


async def test_a_wrong_secret_is_refused_and_the_emulator_survives(
    telegram_emulator: Emulator, webhook_url: str
) -> None:
    bot = telegram_emulator.make_bot()
    await bot.set_webhook(webhook_url, secret_token="not-the-secret")
    await telegram_emulator.send_text(RECIPIENT, "hello")
    [refused] = await telegram_emulator.wait_deliveries(1)

    await bot.set_webhook(webhook_url, secret_token=SECRET)
    await telegram_emulator.send_text(RECIPIENT, "again")
    deliveries = await telegram_emulator.wait_deliveries(2)

    assert (refused.status, deliveries[1].status) == (401, 200)
    assert [m.text for m in await telegram_emulator.wait_bot_messages(RECIPIENT.id, 1)] == ["echo: again"]


async def test_deep_link_change_time_and_slot_reach_the_driver(
    telegram_emulator: Emulator, webhook_bot: Bot
) -> None:
    await telegram_emulator.send_text(RECIPIENT, "/start dlv-7Qm2xK9pLr")
    [window] = await telegram_emulator.wait_bot_messages(RECIPIENT.id, 1)
    await telegram_emulator.press(RECIPIENT, window, "Change time")
    await telegram_emulator.wait_deliveries(2)
    [slots] = await telegram_emulator.bot_messages(RECIPIENT.id)
    await telegram_emulator.press(RECIPIENT, slots, "14:00-15:00")

    [stop] = await telegram_emulator.wait_bot_messages(DRIVER.id, 1)
    assert window.text == "Linked dlv-7Qm2xK9pLr. Arriving 10:00-11:00."
    assert slots.buttons() == {"14:00-15:00": "sl:17:3"}
    assert [m.text for m in await telegram_emulator.bot_messages(RECIPIENT.id)] == ["Moved to 14:00-15:00."]
    assert (stop.text, stop.buttons()) == ("Stop 4 now 14:00-15:00", {"Got it": "ok:4"})
    presses = [
        d.update["callback_query"]
        for d in await telegram_emulator.deliveries()
        if d.update.get("callback_query")
    ]
    assert [press["chat_instance"] for press in presses] == ["emulator-5550001"] * 2


async def test_a_redelivered_update_reaches_the_app_twice(
    telegram_emulator: Emulator, webhook_bot: Bot
) -> None:
    await telegram_emulator.send_text(RECIPIENT, "hello")
    [first] = await telegram_emulator.wait_deliveries(1)

    again = await telegram_emulator.redeliver(first.update_id)

    assert (again.update_id, again.status) == (first.update_id, 200)
    # This bot has no inbox, so it answers twice: the fault the real channel must dedupe by update_id.
    assert len(await telegram_emulator.wait_bot_messages(RECIPIENT.id, 2)) == 2


async def test_long_polling_gets_messages_and_button_presses(telegram_emulator: Emulator) -> None:
    bot = telegram_emulator.make_bot()
    dispatcher = throwaway_dispatcher()
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        await telegram_emulator.send_text(RECIPIENT, "/start dlv-7Qm2xK9pLr")
        [window] = await telegram_emulator.wait_bot_messages(RECIPIENT.id, 1)
        await telegram_emulator.press(RECIPIENT, window, "Change time")
        await telegram_emulator.wait_chat(RECIPIENT.id, lambda got: got[0].text == "Pick a new slot:")
    finally:
        await dispatcher.stop_polling()
        await polling

    assert await telegram_emulator.deliveries() == []


async def test_get_me_has_is_bot_and_unknown_methods_are_telegram_errors(telegram_emulator: Emulator) -> None:
    bot = telegram_emulator.make_bot()

    me = await bot(GetMe())

    assert (me.id, me.is_bot, me.username) == (666, True, "TestNameBot")
    with pytest.raises(TelegramAPIError, match="getWebhookInfo' is not supported"):
        await bot.get_webhook_info()
