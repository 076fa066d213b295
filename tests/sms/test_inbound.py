"""Twilio's webhooks through the real ASGI app: signatures (Twilio's published vectors and the proxy
case), inbound SMS stored once and answered through the outbox, delivery reports that only move on."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from bot.app import App
from bot.config import Settings
from bot.domain.messages import MessageStatus
from bot.services import Services
from bot.store import outbox
from bot.store.outbox import Outcome
from bot.store.tables import deliveries, inbox, messages, receipts
from tests.conftest import API_KEY
from tests.loop.conftest import outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.loop.test_fallback import link_telegram, states

TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://doorstep.example.com"  # what Twilio calls; the app itself sees http://doorstep.test
SMS_URL, STATUS_URL = f"{PUBLIC}/webhooks/twilio/sms", f"{PUBLIC}/webhooks/twilio/status"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        web={"api_key": API_KEY, "public_url": PUBLIC},
        eta={"exploration": 1},
        sandbox={"path": db_path.with_name("sandbox.db")},
        twilio={"auth_token": TOKEN},
        _env_file=None,
    )


@pytest.fixture
async def twilio(app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app.web), base_url="http://doorstep.test"
    ) as c:
        yield c


def signed(url: str, params: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def sms(sid: str, sender: str, body: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+4930555000", "Body": body, "NumMedia": "0"}  # fmt: skip


async def phone_of(services: Services, delivery_id: int) -> str:
    async with services.store.read() as conn:
        return str(
            (await conn.execute(sa.select(deliveries.c.phone).where(deliveries.c.id == delivery_id))).scalar()
        )


def test_twilios_published_signature_vector() -> None:
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}  # fmt: skip
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert RequestValidator("12345").compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


async def test_an_inbound_sms_is_stored_once_and_answered_through_the_outbox(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
) -> None:
    phone = await phone_of(planned_day, 1)
    form = sms("SM" + "a" * 32, phone, "1")
    answer = await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    again = await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    assert again.status_code == 200  # Twilio's retry: same answer, nothing new
    (reply,) = await outbox_rows(planned_day, kind="confirmed")
    assert (reply["channel"], reply["address"], reply["delivery_id"]) == ("sms", phone, 1)
    async with planned_day.store.read() as conn:
        stored = (await conn.execute(sa.select(inbox.c.provider_ref, inbox.c.status))).all()
    assert [tuple(r) for r in stored] == [("SM" + "a" * 32, "done")]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},  # someone else's
        "wrong-token",
        "url-the-app-sees",  # signed for the URL behind the proxy, not the public one Twilio called
    ],
)
async def test_a_bad_signature_is_refused_and_nothing_is_stored(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    headers: dict[str, str] | str,
) -> None:
    form = sms("SM" + "b" * 32, await phone_of(planned_day, 1), "1")
    if headers == "wrong-token":
        headers = signed(SMS_URL, form, token="not-the-token")
    elif headers == "url-the-app-sees":
        headers = signed("http://doorstep.test/webhooks/twilio/sms", form)
    assert isinstance(headers, dict)
    answer = await twilio.post("/webhooks/twilio/sms", data=form, headers=headers)
    assert answer.status_code == 403
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(inbox))).scalar() == 0
        assert (await conn.execute(sa.select(sa.func.count()).select_from(messages))).scalar() == 0


async def test_delivery_reports_only_move_forward_and_early_ones_wait(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
) -> None:
    services = planned_day
    phone = await phone_of(services, 1)
    form = sms("SM" + "c" * 32, phone, "1")
    await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    (reply,) = await outbox_rows(services, kind="confirmed")
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    early = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered", "To": phone}
    assert (
        await twilio.post("/webhooks/twilio/status", data=early, headers=signed(STATUS_URL, early))
    ).status_code == 204
    async with services.store.tx() as conn:  # the dispatcher records the send after the report came
        sent = Outcome(reply["id"], MessageStatus.SENT, provider_ref="SM" + "d" * 32, sent_at=now)
        await outbox.record(conn, [sent], now)
    late = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "sent", "To": phone}
    await twilio.post("/webhooks/twilio/status", data=late, headers=signed(STATUS_URL, late))
    async with services.store.read() as conn:
        status = (
            await conn.execute(sa.select(messages.c.provider_status).where(messages.c.id == reply["id"]))
        ).scalar()
        kept = (await conn.execute(sa.select(sa.func.count()).select_from(receipts))).scalar()
    assert (status, kept) == ("delivered", 0)
    unsigned = await twilio.post("/webhooks/twilio/status", data=late)
    assert unsigned.status_code == 403


@pytest.mark.parametrize(
    ("code", "state", "moved"),
    [("30006", "invalid", True), ("21610", "opted_out", True), ("30003", "active", False)],
)
async def test_a_report_that_the_number_cannot_take_sms_moves_the_message_to_the_next_channel(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
    code: str,
    state: str,
    moved: bool,
) -> None:
    services = planned_day
    now = services.clock.now()
    recipient_id, phone = await link_telegram(services, 1, now)
    form = sms("SM" + "e" * 32, phone, "1")  # they confirm by SMS; the answer goes back by SMS
    await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    (reply,) = await outbox_rows(services, kind="confirmed", channel="sms")
    async with services.store.tx() as conn:
        sent = Outcome(reply["id"], MessageStatus.SENT, provider_ref="SM" + "f" * 32, sent_at=now)
        await outbox.record(conn, [sent], now)
    report = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered", "ErrorCode": code, "To": phone}
    answer = await twilio.post("/webhooks/twilio/status", data=report, headers=signed(STATUS_URL, report))
    assert answer.status_code == 204
    assert (await states(services, recipient_id))["sms"] == state
    again = await outbox_rows(services, kind="confirmed", channel="telegram")
    assert len(again) == (1 if moved else 0)  # 30003 (handset off) says nothing lasting about the number


async def test_a_signed_form_that_is_not_an_sms_is_refused_and_nothing_is_stored(
    planned_day: Services,  # noqa: F811
    twilio: httpx.AsyncClient,
) -> None:
    form = {"From": "+4915100000001", "Body": "1"}  # no MessageSid: not a message Twilio would send
    answer = await twilio.post("/webhooks/twilio/sms", data=form, headers=signed(SMS_URL, form))
    assert answer.status_code == 400
    assert "MessageSid" in answer.text
    async with planned_day.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(inbox))).scalar() == 0
