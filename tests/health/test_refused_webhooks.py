"""Fault 1 and 16 of shared/RELIABILITY.md §4, as an operator sees them: every webhook refused for a
missing or wrong Twilio signature or Telegram secret is counted on GET /readyz and logged once, and
the log line holds neither the signature, the secret, nor the sender's number."""

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiogram import Bot

from bot.app import App
from bot.handlers import telegram as tg
from bot.store.tables import inbox
from bot.web import state as web_state
from bot.web.telegram import SECRET_HEADER
from tests.sms.test_inbound import SMS_URL, STATUS_URL, TOKEN, settings, signed, sms
from tests.telegram.recording import FIXTURES, recording_bot, recording_session

__all__ = ["recording_bot", "recording_session", "settings"]  # Twilio on, at its public URL

SECRET = "telegram-secret-for-refusals"
SENDER = "+4915112345678"
FORGED = "AAAAforgedSignatureBBBB0123456789="


@pytest.fixture
async def web(app: App, recording_bot: Bot) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with Twilio's and Telegram's webhooks on, asked without any key."""
    web_state.of(app.web).telegram = tg.TelegramIn(recording_bot, tg.build_dispatcher(app.services))
    web_state.of(app.web).telegram_secret = SECRET
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


def update(update_id: int) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((FIXTURES / "text_message.json").read_text())
    return {**raw, "update_id": update_id}


async def refused(web: httpx.AsyncClient) -> dict[str, int]:
    answer = await web.get("/readyz")
    assert answer.status_code == 200
    counts: dict[str, int] = answer.json()["refused_webhooks"]
    return counts


async def stored(app: App) -> int:
    async with app.services.store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(inbox))).scalar_one())


async def test_forged_webhooks_are_counted_on_readyz_and_genuine_ones_are_not(
    app: App, web: httpx.AsyncClient
) -> None:
    assert await refused(web) == {"twilio": 0, "telegram": 0}
    form = sms("SM" + "1" * 32, SENDER, "1")
    report = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "To": SENDER}
    forged = [
        await web.post("/webhooks/twilio/sms", data=form),
        await web.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": FORGED}),
        await web.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form, token="other")),
        await web.post("/webhooks/twilio/status", data=report),
        await web.post("/webhooks/telegram", json=update(1)),
        await web.post("/webhooks/telegram", json=update(1), headers={SECRET_HEADER: "nope"}),
    ]
    assert [a.status_code for a in forged] == [403, 403, 403, 403, 401, 401]
    assert await refused(web) == {"twilio": 4, "telegram": 2}
    assert await stored(app) == 0

    genuine = [
        await web.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form)),
        await web.post("/webhooks/twilio/status", data=report, headers=signed(STATUS_URL, report)),
        await web.post("/webhooks/telegram", json=update(2), headers={SECRET_HEADER: SECRET}),
    ]
    assert [a.status_code for a in genuine] == [200, 204, 200]
    assert await refused(web) == {"twilio": 4, "telegram": 2}
    assert await stored(app) == 2  # the SMS and the update; a report is not an inbound message


async def test_each_refusal_is_one_warning_without_signature_secret_or_number(
    web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    form = sms("SM" + "3" * 32, SENDER, "my door code is 4711")
    wrong_secret = SECRET[:-1] + "X"
    with caplog.at_level(logging.INFO):
        await web.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": FORGED})
        await web.post("/webhooks/twilio/sms", data=form)
        await web.post("/webhooks/telegram", json=update(3), headers={SECRET_HEADER: wrong_secret})
        await web.post("/webhooks/telegram", json=update(4))

    lines = [r for r in caplog.records if r.name == "bot.web.refused"]
    assert [r.levelno for r in lines] == [logging.WARNING] * 4
    said = [r.getMessage() for r in lines]
    assert "wrong X-Twilio-Signature" in said[0]
    assert "/webhooks/twilio/sms" in said[0]
    assert "missing X-Twilio-Signature" in said[1]
    assert "wrong X-Telegram-Bot-Api-Secret-Token" in said[2]
    assert "/webhooks/telegram" in said[2]
    assert "missing X-Telegram-Bot-Api-Secret-Token" in said[3]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    digits = SENDER.removeprefix("+")
    for secret in (FORGED, wrong_secret, SECRET, TOKEN, digits, digits[-8:], "4711", "5550001"):
        assert secret not in everything
