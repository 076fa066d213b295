"""Issue 11, finding 7: a Telegram update nested ~1000 levels deep ended in a RecursionError (a 500, and
nothing stored); RELIABILITY.md fault 18 says keep the raw update, answer 200, park it."""

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from aiogram import Bot

from bot.app import App
from bot.handlers import telegram as tg
from bot.store.tables import inbox
from bot.web import state as web_state

SECRET = "webhook-secret-for-tests"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}


@pytest.fixture
async def webhook(app: App, recording_bot: Bot) -> AsyncIterator[httpx.AsyncClient]:
    telegram = tg.TelegramIn(recording_bot, tg.build_dispatcher(app.services))
    web_state.of(app.web).telegram, web_state.of(app.web).telegram_secret = telegram, SECRET
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


def nested(depth: int, update_id: int = 900) -> bytes:
    return b'{"update_id": %d, "message": %s%s}' % (update_id, b"[" * depth, b"]" * depth)


@pytest.mark.parametrize("depth", [1000, 5000, 100_000])
async def test_a_deeply_nested_update_is_kept_raw_and_parked(
    app: App, webhook: httpx.AsyncClient, depth: int
) -> None:
    body = nested(depth)
    answer = await webhook.post("/webhooks/telegram", content=body, headers=HEADERS)
    assert answer.status_code == 200
    again = await webhook.post("/webhooks/telegram", content=body, headers=HEADERS)
    assert again.status_code == 200
    async with app.services.store.read() as conn:
        rows = (await conn.execute(sa.select(inbox.c.status, inbox.c.raw, inbox.c.error))).all()
    [(status, raw, error)] = rows  # once, however often it comes
    assert status == "malformed"
    assert raw == {"body": body.decode()[:20_000]}  # as much as any malformed body keeps
    assert "nested" in error


async def test_an_update_of_ordinary_depth_is_still_read(webhook: httpx.AsyncClient) -> None:
    keyboard = b'{"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}'
    raw, why = tg.read(b'{"update_id": 1, "message": {"reply_markup": %s}}' % keyboard)
    assert why is None
    assert raw is not None
    assert raw["update_id"] == 1
