"""Faults of shared/RELIABILITY.md §4 on Twilio's inbound webhook, through the real ASGI app on a real
SQLite file: customer text that is awkward to read, store or show (20), and a database another process
holds locked while Twilio posts (25)."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape

from bot.app import App
from bot.notify.segments import count_segments
from bot.services import Services
from bot.store.tables import deliveries, escalations, inbox
from tests.console.conftest import add_staff, sign_in
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.sms.test_inbound import PUBLIC, SMS_URL, phone_of, settings, signed, sms, twilio

__all__ = ["settings", "twilio"]
TWILIO_MAX_CHARS = 1600  # the most Twilio takes in one message body, and the most it delivers in one
DIDNT_GET_IT = "Doorstep: Sorry, we didn't get that; our team will read it."


async def inbox_rows(services: Services) -> list[sa.RowMapping]:
    query = sa.select(inbox.c.provider_ref, inbox.c.status, inbox.c.body, inbox.c.raw, inbox.c.intent)
    async with services.store.read() as conn:
        return list((await conn.execute(query.order_by(inbox.c.id))).mappings())


async def delivery_row(services: Services, delivery_id: int) -> dict[str, object]:
    async with services.store.read() as conn:
        query = sa.select(deliveries).where(deliveries.c.id == delivery_id)
        return dict((await conn.execute(query)).mappings().one())


async def open_escalations(services: Services) -> list[tuple[str, int | None, str]]:
    query = sa.select(escalations.c.kind, escalations.c.delivery_id, escalations.c.detail)
    async with services.store.read() as conn:
        return [tuple(r) for r in await conn.execute(query.where(escalations.c.status == "open"))]


async def post_text(services: Services, twilio: httpx.AsyncClient, body: str) -> httpx.Response:
    """What recipient 1 texts, signed as Twilio signs it."""
    form = sms("SM" + "5" * 32, await phone_of(services, 1), body)
    return await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))


async def fits_sms(services: Services) -> list[str]:
    """The kinds of every message queued, each checked against what one SMS to Twilio may carry; none
    echoes the recipient's text, so none is pushed into UCS-2 (70 characters a segment) by their emoji."""
    queued = await outbox_rows(services)
    for message in queued:
        assert len(message["body"]) <= TWILIO_MAX_CHARS
        assert count_segments(message["body"])[0] == "GSM-7", message["body"][:80]
    return [m["kind"] for m in queued]


@pytest.fixture
async def console(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A browser at the public (https) URL: the console's cookies are Secure there."""
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        yield client


@pytest.mark.parametrize("body", ["", "   ", "\u200b\u200c\u200d\ufeff\u2060", " \u200b\n\t\u200b "])
async def test_an_empty_or_invisible_sms_is_told_we_didnt_get_it_and_changes_nothing(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    body: str,
) -> None:
    before = await delivery_row(planned_day, 1)
    answer = await post_text(planned_day, twilio, body)

    assert answer.status_code == 200
    (row,) = await inbox_rows(planned_day)
    assert (row["body"], row["raw"]["Body"], row["status"]) == (body, body, "done")
    assert row["intent"] == "NotUnderstood"
    assert await fits_sms(planned_day) == ["not-understood"]
    (reply,) = await outbox_rows(planned_day)
    assert reply["body"].startswith(DIDNT_GET_IT)
    assert await open_escalations(planned_day) == [("not_understood", 1, body)]
    assert await delivery_row(planned_day, 1) == before


async def test_rtl_html_and_template_like_text_is_stored_as_sent_and_shown_escaped(
    planned_day: Services,  # noqa: F811
    app: App,
    twilio: httpx.AsyncClient,
    console: httpx.AsyncClient,
) -> None:
    text = "\u202eשלום, איפה החבילה?\u202c <b>bold</b> & <i onmouseover=x>{{ 7*7 }} {% if 1 %}x{% endif %}"
    assert (await post_text(planned_day, twilio, text)).status_code == 200

    (row,) = await inbox_rows(planned_day)
    assert (row["body"], row["raw"]["Body"], row["intent"]) == (text, text, "NotUnderstood")
    assert await fits_sms(planned_day) == ["not-understood"]
    await add_staff(app, "agent")
    await sign_in(console, "agent")
    page = (await console.get("/console/deliveries/1")).text
    shown = f'<p class="text">{escape(text)}</p>'
    assert shown in page  # what they wrote, escaped and untemplated (the braces are still there)
    assert "<b>bold" not in page
    assert "<i onmouseover" not in page


async def test_a_5000_character_sms_with_emoji_is_kept_whole_and_answered_within_the_limits(
    planned_day: Services,  # noqa: F811
    app: App,
    twilio: httpx.AsyncClient,
    console: httpx.AsyncClient,
) -> None:
    text = ("Hallo 👋 <b>&</b> 👨‍👩‍👧 🌧️ " * 300)[:5000]
    assert len(text) == 5000
    assert (await post_text(planned_day, twilio, text)).status_code == 200

    (row,) = await inbox_rows(planned_day)
    assert row["raw"]["Body"] == text  # exactly as sent
    assert row["body"] == text[:TWILIO_MAX_CHARS]  # what is read and shown: as much as Twilio ever sends
    assert row["intent"] == "NotUnderstood"
    assert await fits_sms(planned_day) == ["not-understood"]
    ((kind, delivery_id, detail),) = await open_escalations(planned_day)
    assert (kind, delivery_id, detail) == ("not_understood", 1, text[:500])
    await add_staff(app, "agent")
    await sign_in(console, "agent")
    page = (await console.get("/console/deliveries/1")).text
    assert f'<p class="text">{escape(text[:TWILIO_MAX_CHARS])}</p>' in page
    assert "<b>&</b>" not in page


@pytest.fixture
async def retrying(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """Twilio's side of the wire: an error inside the app is the 500 it would get, not a raised error."""
    transport = httpx.ASGITransport(app=app.web, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


@pytest.mark.slow
async def test_a_locked_database_answers_500_stores_nothing_and_twilios_retry_is_answered_once(
    planned_day: Services,  # noqa: F811
    retrying: httpx.AsyncClient,
    db_path: Path,
) -> None:
    phone = await phone_of(planned_day, 1)
    form = sms("SM" + "7" * 32, phone, "1")
    with sqlite3.connect(db_path, isolation_level=None) as other:
        other.execute("BEGIN EXCLUSIVE")  # held past the store's busy timeout (10 s, bot/store/db.py)
        locked = await retrying.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
        other.execute("ROLLBACK")
    assert locked.status_code == 500
    assert await inbox_rows(planned_day) == []
    assert await outbox_rows(planned_day, kind="confirmed") == []

    retry = await retrying.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    again = await retrying.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    assert (retry.status_code, again.status_code) == (200, 200)
    (row,) = await inbox_rows(planned_day)
    assert (row["provider_ref"], row["status"], row["intent"]) == ("SM" + "7" * 32, "done", "Confirm")
    (reply,) = await outbox_rows(planned_day, kind="confirmed")
    assert (reply["channel"], reply["address"], reply["delivery_id"]) == ("sms", phone, 1)
