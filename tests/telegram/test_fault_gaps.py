"""Faults of shared/RELIABILITY.md §4 on the Telegram webhook, through the real ASGI app on a real SQLite
file: updates that are JSON but not an update we can read (18), customer text that is awkward to store
or show (20), and a database another process holds locked (25)."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiogram.methods import SendMessage
from markupsafe import escape

from bot.app import App
from bot.channels.telegram import utf16_len
from bot.handlers import telegram as tg
from bot.services import Services
from bot.store.tables import deliveries, inbox, messages
from bot.web import state as web_state
from bot.web.telegram import SECRET_HEADER
from tests.loop.conftest import planned_day  # noqa: F401 - the fixture, for this module
from tests.telegram.recording import RecordingSession
from tests.telegram.test_customer import CHAT, SECRET, linked, start, telegram, webhook

__all__ = ["telegram", "webhook"]
SIGNED = {SECRET_HEADER: SECRET}
TELEGRAM_LIMIT = 4096  # UTF-16 code units in one message's text


async def delivery_row(services: Services, delivery_id: int) -> dict[str, object]:
    async with services.store.read() as conn:
        query = sa.select(deliveries).where(deliveries.c.id == delivery_id)
        return dict((await conn.execute(query)).mappings().one())


async def inbox_rows(services: Services) -> list[sa.RowMapping]:
    query = sa.select(inbox.c.provider_ref, inbox.c.status, inbox.c.body, inbox.c.raw, inbox.c.error)
    async with services.store.read() as conn:
        return list((await conn.execute(query.order_by(inbox.c.id))).mappings())


def text_update(update_id: int, text: str) -> dict[str, Any]:
    raw = start("x", update_id)
    raw["message"]["text"] = text
    return raw


def chatless(update_id: int) -> dict[str, Any]:
    """A message without its required `chat`: valid JSON, not a valid update."""
    raw = text_update(update_id, "1")
    del raw["message"]["chat"]
    return raw


def from_the_future(update_id: int) -> dict[str, Any]:
    """An update type this aiogram does not know (a newer Bot API)."""
    return {"update_id": update_id, "some_future_update": {"id": "f1", "from": {"id": CHAT}, "what": "?"}}


@pytest.mark.parametrize(
    ("make", "why"),
    [(chatless, "not a valid update"), (from_the_future, "unknown update type: some_future_update")],
)
async def test_an_update_we_cannot_read_is_kept_once_as_malformed_and_answered_200(
    planned_day: Services,  # noqa: F811
    webhook: httpx.AsyncClient,
    recording_session: RecordingSession,
    make: Any,
    why: str,
) -> None:
    update = make(21)
    first = await webhook.post("/webhooks/telegram", json=update, headers=SIGNED)
    again = await webhook.post("/webhooks/telegram", json=update, headers=SIGNED)  # Telegram's retry

    assert (first.status_code, again.status_code) == (200, 200)
    (row,) = await inbox_rows(planned_day)
    assert (row["provider_ref"], row["status"], row["raw"]) == ("update:21", "malformed", update)
    assert row["error"].startswith(why)
    assert recording_session.sent(SendMessage) == []
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(messages))).scalar() == 0
    ready = (await webhook.get("/readyz")).json()
    assert ready["parked"]["inbox"] == 1  # kept for someone to look at, and counted where they look


async def chat_replies(recording_session: RecordingSession) -> list[str]:
    """What went to the recipient's chat, each checked against Telegram's limit on one message."""
    sent = [m for m in recording_session.sent(SendMessage) if m.chat_id == CHAT]
    for message in sent:
        assert 1 <= utf16_len(message.text) <= TELEGRAM_LIMIT, message.text[:80]
    return [m.text for m in sent]


@pytest.mark.parametrize(
    "text",
    [
        "\u200b\u200d\u2060\ufeff",  # zero-width only: looks empty
        "\u202eשלום, איפה החבילה?\u202c",  # right-to-left, with an override
        ("👋 <b>&</b> {{ 7*7 }} 👨‍👩‍👧 " * 300)[:5000],  # past Telegram's own 4096
    ],
    ids=["zero-width", "rtl", "5000-emoji"],
)
async def test_awkward_text_is_kept_as_sent_and_gets_an_honest_answer_within_the_limit(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    webhook: httpx.AsyncClient,
    recording_session: RecordingSession,
    text: str,
) -> None:
    await linked(planned_day, telegram, 1)
    before = await delivery_row(planned_day, 1)
    update = text_update(31, text)
    assert (await webhook.post("/webhooks/telegram", json=update, headers=SIGNED)).status_code == 200
    await planned_day.dispatcher().drain()

    row = (await inbox_rows(planned_day))[-1]
    assert (row["provider_ref"], row["raw"], row["status"]) == ("update:31", update, "done")
    assert row["body"] == text[:4096]  # Telegram sends at most 4096; more is kept whole in the raw update
    assert (await chat_replies(recording_session))[-1].startswith("Sorry, we didn't understand that")
    assert await delivery_row(planned_day, 1) == before


async def test_instructions_in_html_and_template_syntax_are_echoed_escaped_and_never_run(
    planned_day: Services,  # noqa: F811
    telegram: tg.TelegramIn,
    webhook: httpx.AsyncClient,
    recording_session: RecordingSession,
) -> None:
    await linked(planned_day, telegram, 1)
    said = "<b>ring twice</b> & {{ 7*7 }} {% raw %} 🚪\u202e" + "ü" * 5000
    update = text_update(32, f"safe: {said}")
    assert (await webhook.post("/webhooks/telegram", json=update, headers=SIGNED)).status_code == 200
    await planned_day.dispatcher().drain()

    kept = (await delivery_row(planned_day, 1))["safe_drop"]
    assert isinstance(kept, str)
    # as written, but for the characters nobody sees (bot/handlers/sms_text.visible)
    assert said.replace("\u202e", "").startswith(kept)
    assert len(kept) == 500
    echo = (await chat_replies(recording_session))[-1]
    assert f"<blockquote>{escape(kept)}</blockquote>" in echo
    assert "<b>ring" not in echo
    assert "{{ 7*7 }}" in echo


@pytest.fixture
async def retrying(app: App, telegram: tg.TelegramIn) -> AsyncIterator[httpx.AsyncClient]:
    """Telegram's side of the wire: an error inside the app is the 500 it would get, not a raised error."""
    web_state.of(app.web).telegram, web_state.of(app.web).telegram_secret = telegram, SECRET
    transport = httpx.ASGITransport(app=app.web, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


@pytest.mark.slow
async def test_a_locked_database_answers_500_stores_nothing_and_the_retry_is_answered_once(
    planned_day: Services,  # noqa: F811
    retrying: httpx.AsyncClient,
    recording_session: RecordingSession,
    db_path: Path,
) -> None:
    update = text_update(41, "/start")
    with sqlite3.connect(db_path, isolation_level=None) as other:
        other.execute("BEGIN EXCLUSIVE")  # held past the store's busy timeout (10 s, bot/store/db.py)
        locked = await retrying.post("/webhooks/telegram", json=update, headers=SIGNED)
        other.execute("ROLLBACK")
    assert locked.status_code == 500
    assert await inbox_rows(planned_day) == []
    assert recording_session.sent(SendMessage) == []

    retry = await retrying.post("/webhooks/telegram", json=update, headers=SIGNED)
    again = await retrying.post("/webhooks/telegram", json=update, headers=SIGNED)
    assert (retry.status_code, again.status_code) == (200, 200)
    stored = [(r["provider_ref"], r["status"]) for r in await inbox_rows(planned_day)]
    assert stored == [("update:41", "done")]
    (welcome,) = recording_session.sent(SendMessage)
    assert "delivery assistant" in welcome.text
