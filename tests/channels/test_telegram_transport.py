import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import EditMessageText, SendMessage, SendPhoto
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.channels.base import Failure, Outgoing, Receipt, SendError
from bot.channels.telegram import TelegramTransport, keyboard, make_bot, split_html, utf16_len
from bot.config import ConfigError, TelegramSettings, load_settings
from bot.notify.kinds import Channel
from tests.telegram.emulator import BOT_TOKEN, Emulator, telegram_emulator
from tests.telegram.recording import (
    BLOCKED,
    MESSAGE_TOO_LONG,
    TOKEN,
    Fault,
    RecordingSession,
    recording_bot,
    recording_session,
    retry_after,
)

__all__ = ["recording_bot", "recording_session", "telegram_emulator"]  # fixtures

CHAT = 5550001
BODY = "Arriving <b>Mon 23 Nov, 10:00–11:00</b> &amp; tracked at <a href='https://t.example/x'>t.example</a>"
CONFIRM = [{"text": "✅ Confirm", "data": "a:ok:17"}, {"text": "🕒 Change time", "data": "a:time:17"}]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def outgoing(body: str = BODY, address: str = str(CHAT), **payload: Any) -> Outgoing:
    return Outgoing(1, Channel.TELEGRAM, address, "pre-delivery", body, payload)


def markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=list(rows))


@pytest.fixture
def transport(recording_bot: Bot) -> TelegramTransport:
    return TelegramTransport(recording_bot)


class _Html(HTMLParser):
    """What Telegram would show of a part, and whether its tags nest and close."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.balanced = True
        self.shown: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.balanced &= bool(self.open) and self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        self.shown.append(data)


def shown(text: str) -> str:
    return "".join(_Html(text).shown)


async def test_a_message_with_buttons_is_one_html_send_message_with_an_inline_keyboard(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    receipt = await transport.send(outgoing(buttons=[CONFIRM]))

    [call] = recording_session.calls
    assert call.method == SendMessage(
        chat_id=CHAT,
        text=BODY,
        parse_mode="HTML",
        link_preview_options=NO_PREVIEW,
        reply_markup=markup(
            [
                InlineKeyboardButton(text="✅ Confirm", callback_data="a:ok:17"),
                InlineKeyboardButton(text="🕒 Change time", callback_data="a:time:17"),
            ]
        ),
    )
    assert (call.form["chat_id"], call.form["parse_mode"]) == ("5550001", "HTML")
    assert call.form["link_preview_options"] == '{"is_disabled": true}'
    assert receipt == Receipt("1")


async def test_a_url_button_opens_the_link(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    await transport.send(outgoing(buttons=[[{"text": "Track", "url": "https://t.example/x"}], CONFIRM[:1]]))

    [sent] = recording_session.sent(SendMessage)
    assert sent.reply_markup == markup(
        [InlineKeyboardButton(text="Track", url="https://t.example/x")],
        [InlineKeyboardButton(text="✅ Confirm", callback_data="a:ok:17")],
    )


async def test_a_message_without_buttons_has_no_keyboard(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    await transport.send(outgoing(render={"name": "Amélie"}))

    [sent] = recording_session.sent(SendMessage)
    assert sent.reply_markup is None


@pytest.mark.parametrize(
    "buttons",
    [
        [[{"text": "Too much", "data": "x" * 65}]],
        [[{"text": "Nowhere"}]],
        [{"text": "not a row"}],
    ],
)
async def test_malformed_buttons_fail_for_good_before_telegram_is_called(
    transport: TelegramTransport, recording_session: RecordingSession, buttons: Any
) -> None:
    with pytest.raises(SendError) as caught:
        await transport.send(outgoing(buttons=buttons))

    assert (caught.value.failure, caught.value.code) == (Failure.PERMANENT, "payload")
    assert recording_session.calls == []


def long_body(lines: int) -> str:
    """Stops with emoji (2 UTF-16 units each), one <b> spanning every line, an <i> per line."""
    rows = [f"Stop {n}: 🚚 <i>arriving</i> soon 📦 &amp; ok" for n in range(lines)]
    return "<b>Today:\n" + "\n".join(rows) + "</b>"


# Fits in 4096 characters, but not in 4096 UTF-16 units: every emoji counts twice.
EMOJI_BODY = "<b>" + "\n".join(f"Stop {n:03}: 🚚 📦 🏠" for n in range(250)) + "</b>"


@pytest.mark.parametrize(("body", "count"), [(EMOJI_BODY, 2), (long_body(420), 5)])
async def test_a_long_text_goes_in_parts_cut_at_line_breaks_with_the_buttons_on_the_last(
    transport: TelegramTransport, recording_session: RecordingSession, body: str, count: int
) -> None:
    receipt = await transport.send(outgoing(body, buttons=[CONFIRM]))

    parts = recording_session.sent(SendMessage)
    texts = [part.text for part in parts]
    assert len(parts) == count
    assert all(utf16_len(text) <= 4096 for text in texts)
    assert all(_Html(text).balanced and _Html(text).open == [] for text in texts)
    assert all(text.startswith("<b>") and text.endswith("</b>") for text in texts)
    assert "\n".join(shown(text) for text in texts) == shown(body)  # every cut is a line break
    assert [part.reply_markup is not None for part in parts] == [False] * (count - 1) + [True]
    assert receipt == Receipt(str(count))


def test_emoji_count_twice_toward_the_limit() -> None:
    assert len(EMOJI_BODY) <= 4096 < utf16_len(EMOJI_BODY)
    assert len(split_html(EMOJI_BODY)) == 2


def test_a_line_too_long_is_cut_at_a_space_and_never_inside_a_tag_or_entity() -> None:
    text = '<b>Fish &amp; chips</b> <a href="https://x.org/a">at the corner shop</a> &lt;3'

    assert split_html(text, limit=40) == [
        "<b>Fish &amp; chips</b>",
        '<a href="https://x.org/a">at the</a>',
        '<a href="https://x.org/a">corner</a>',
        '<a href="https://x.org/a">shop</a> &lt;3',
    ]


async def test_edit_changes_the_message_in_place(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    receipt = await transport.send(outgoing("Moved to <b>14:00–15:00</b>.", edit=13, buttons=[CONFIRM[:1]]))

    [call] = recording_session.calls
    assert call.method == EditMessageText(
        chat_id=CHAT,
        message_id=13,
        text="Moved to <b>14:00–15:00</b>.",
        parse_mode="HTML",
        link_preview_options=NO_PREVIEW,
        reply_markup=markup([InlineKeyboardButton(text="✅ Confirm", callback_data="a:ok:17")]),
    )
    assert receipt == Receipt("13")


async def test_an_edit_that_changes_nothing_is_a_success(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    recording_session.fail(
        EditMessageText,
        Fault(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message",
        ),
    )

    assert await transport.send(outgoing(edit=13)) == Receipt("13")
    assert [call.name for call in recording_session.calls] == ["editMessageText"]


@pytest.mark.parametrize(
    "description", ["Bad Request: message to edit not found", "Bad Request: message can't be edited"]
)
async def test_a_message_that_cannot_be_edited_is_sent_anew(
    transport: TelegramTransport, recording_session: RecordingSession, description: str
) -> None:
    recording_session.fail(EditMessageText, Fault(400, description))

    receipt = await transport.send(outgoing(edit=13, buttons=[CONFIRM]))

    assert [call.name for call in recording_session.calls] == ["editMessageText", "sendMessage"]
    [sent] = recording_session.sent(SendMessage)
    assert (sent.chat_id, sent.text, sent.reply_markup is not None) == (CHAT, BODY, True)
    assert receipt == Receipt("1")


@pytest.mark.parametrize(
    ("fault", "failure", "code", "state"),
    [
        (retry_after(7), Failure.RETRYABLE, "429", None),
        (BLOCKED, Failure.PERMANENT, "403", "dead"),
        (Fault(403, "Forbidden: user is deactivated"), Failure.PERMANENT, "403", "dead"),
        (Fault(403, "Forbidden: bot was kicked from the group chat"), Failure.PERMANENT, "403", "dead"),
        (Fault(400, "Bad Request: chat not found"), Failure.PERMANENT, "400", "invalid"),
        (MESSAGE_TOO_LONG, Failure.PERMANENT, "400", None),
        (Fault(401, "Unauthorized"), Failure.RETRYABLE, "401", None),
        (Fault(500, "Internal Server Error"), Failure.AMBIGUOUS, "5xx", None),
        (Fault(502, "Bad Gateway"), Failure.AMBIGUOUS, "5xx", None),
    ],
)
async def test_telegram_faults_are_classified_for_the_dispatcher(
    transport: TelegramTransport,
    recording_session: RecordingSession,
    fault: Fault,
    failure: Failure,
    code: str,
    state: str | None,
) -> None:
    recording_session.fail(SendMessage, fault)

    with pytest.raises(SendError) as caught:
        await transport.send(outgoing())

    error = caught.value
    assert (error.failure, error.code, error.address_state) == (failure, code, state)
    assert str(error) == fault.description
    assert error.retry_after == fault.retry_after


async def test_an_unreadable_answer_is_ambiguous(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    recording_session.respond(SendMessage, {"not": "a message"})

    with pytest.raises(SendError) as caught:
        await transport.send(outgoing())

    assert (caught.value.failure, caught.value.code) == (Failure.AMBIGUOUS, "undecodable")


async def test_an_address_that_is_no_chat_id_is_invalid(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    with pytest.raises(SendError) as caught:
        await transport.send(outgoing(address="driver:D7"))

    assert (caught.value.failure, caught.value.address_state) == (Failure.PERMANENT, "invalid")
    assert recording_session.calls == []


async def test_parts_already_sent_are_not_sent_again_after_a_retryable_failure(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    recording_session.respond(
        SendMessage, {"message_id": 70, "date": 0, "chat": {"id": CHAT, "type": "private"}}
    )
    recording_session.fail(SendMessage, retry_after(3))
    body = long_body(130)

    with pytest.raises(SendError):
        await transport.send(outgoing(body))
    receipt = await transport.send(outgoing(body))

    first, refused, second = recording_session.sent(SendMessage)
    assert refused == second != first
    assert receipt == Receipt("1")


async def test_lookup_cannot_ask_telegram(transport: TelegramTransport) -> None:
    with pytest.raises(NotImplementedError):
        await transport.lookup(outgoing(), since=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (in the backlog) and never answers: a request that left but got no reply."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def refused_bot(closed_port: int) -> AsyncIterator[Bot]:
    bot = make_bot(TelegramSettings(token=TOKEN, api_base=f"http://127.0.0.1:{closed_port}"))
    assert bot is not None
    yield bot
    await bot.session.close()


async def test_a_refused_connection_never_left_so_it_is_retried(refused_bot: Bot) -> None:
    with pytest.raises(SendError) as caught:
        await TelegramTransport(refused_bot).send(outgoing())

    assert (caught.value.failure, caught.value.code) == (Failure.RETRYABLE, "refused")


async def test_a_timeout_after_the_request_left_is_ambiguous(silent_server: str) -> None:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(silent_server), timeout=0.2))
    try:
        with pytest.raises(SendError) as caught:
            await TelegramTransport(bot).send(outgoing())
    finally:
        await bot.session.close()

    assert (caught.value.failure, caught.value.code) == (Failure.AMBIGUOUS, "network")


def test_no_token_no_bot() -> None:
    assert make_bot(TelegramSettings()) is None


def test_telegram_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("DOORSTEP_TELEGRAM__USERNAME", "doorstep_test_bot")
    monkeypatch.setenv("DOORSTEP_TELEGRAM__API_BASE", "http://127.0.0.1:8081/")
    monkeypatch.setenv("DOORSTEP_TELEGRAM__WEBHOOK_SECRET", "")  # copied from .env.example: unset

    telegram = load_settings(_env_file=None).telegram

    assert telegram.token is not None
    assert (telegram.token.get_secret_value(), telegram.username) == (TOKEN, "doorstep_test_bot")
    assert (telegram.api_base, telegram.webhook_secret) == ("http://127.0.0.1:8081", None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("USERNAME", "@doorstep_bot"),
        ("USERNAME", "bot"),
        ("WEBHOOK_SECRET", "has space"),
        ("WEBHOOK_SECRET", "x" * 257),
        ("API_BASE", "api.telegram.org"),
    ],
)
def test_wrong_telegram_settings_stop_start_up(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(f"DOORSTEP_TELEGRAM__{key}", value)

    with pytest.raises(ConfigError, match=f"DOORSTEP_TELEGRAM__{key}"):
        load_settings(_env_file=None)


@pytest.fixture
async def emulator_bot(telegram_emulator: Emulator) -> AsyncIterator[Bot]:
    api = TelegramAPIServer.from_base(telegram_emulator.url)
    bot = Bot(BOT_TOKEN, session=AiohttpSession(api=api))
    yield bot
    await bot.session.close()


async def test_the_user_sees_the_message_with_its_inline_keyboard(
    telegram_emulator: Emulator, emulator_bot: Bot
) -> None:
    track = {"text": "Track", "url": "https://t.example/x"}
    receipt = await TelegramTransport(emulator_bot).send(outgoing(buttons=[CONFIRM, [track]]))

    [seen] = await telegram_emulator.wait_bot_messages(CHAT)
    assert (str(seen.message_id), seen.text) == (receipt.provider_ref, BODY)
    assert seen.reply_markup == {
        "inline_keyboard": [
            [
                {"text": "✅ Confirm", "callback_data": "a:ok:17"},
                {"text": "🕒 Change time", "callback_data": "a:time:17"},
            ],
            [track],
        ]
    }


async def test_the_user_sees_the_message_edited_in_place(
    telegram_emulator: Emulator, emulator_bot: Bot
) -> None:
    transport = TelegramTransport(emulator_bot)
    first = await transport.send(outgoing(buttons=[CONFIRM]))
    again = await transport.send(
        outgoing("Moved to <b>14:00–15:00</b>.", edit=int(first.provider_ref), buttons=[CONFIRM[:1]])
    )

    [seen] = await telegram_emulator.wait_bot_messages(CHAT)
    assert again == first
    assert (seen.text, seen.buttons()) == ("Moved to <b>14:00–15:00</b>.", {"✅ Confirm": "a:ok:17"})


async def test_a_photo_carries_the_text_as_its_caption_when_it_fits(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    buttons = [[{"text": "5", "data": "r:17:5"}]]
    await transport.send(outgoing(photo="AgACfile", buttons=buttons))
    (call,) = recording_session.calls
    assert call.method == SendPhoto(
        chat_id=CHAT, photo="AgACfile", caption=BODY, parse_mode="HTML", reply_markup=keyboard(buttons)
    )


async def test_a_photo_with_a_long_text_goes_first_then_the_text(
    transport: TelegramTransport, recording_session: RecordingSession
) -> None:
    long_text = "Delivered at the back door.\n" * 60  # over a caption's 1024 units, under a message's 4096
    await transport.send(outgoing(long_text, photo="AgACfile"))
    photo, text = recording_session.calls
    assert photo.method == SendPhoto(chat_id=CHAT, photo="AgACfile")
    assert isinstance(text.method, SendMessage)
    assert text.method.text == long_text.rstrip("\n") or text.method.text == long_text
