"""Issue 11's Twilio findings: a repeated form key failed a genuine signature (8); a delivery report
with `ErrorCode=²` ended in a 500 (7)."""

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from bot.app import App
from bot.config import Settings
from bot.services import Services
from bot.store.tables import inbox, receipts
from tests.conftest import API_KEY

TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://doorstep.example.com"
SMS_URL, STATUS_URL = f"{PUBLIC}/webhooks/twilio/sms", f"{PUBLIC}/webhooks/twilio/status"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        web={"api_key": API_KEY, "public_url": PUBLIC},
        sandbox={"path": db_path.with_name("sandbox.db")},
        twilio={"auth_token": TOKEN},
        _env_file=None,
    )


@pytest.fixture
async def twilio(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="http://doorstep.test") as client:
        yield client


def signed(url: str, form: list[tuple[str, str]]) -> dict[str, str]:
    """The headers of Twilio's form post, its signature computed by Twilio's own validator over every
    value of every key."""
    signature = RequestValidator(TOKEN).compute_signature(url, MultiDict(form))
    return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


async def rows(services: Services, table: sa.Table) -> list[sa.RowMapping]:
    async with services.store.read() as conn:
        return list((await conn.execute(sa.select(table))).mappings())


def test_twilios_published_vector_for_repeated_keys() -> None:
    form = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert RequestValidator("12345").compute_signature(url, MultiDict(form)) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


async def test_an_inbound_sms_with_a_repeated_key_passes_its_genuine_signature(
    app: App, twilio: httpx.AsyncClient
) -> None:
    form = [("MessageSid", "SM" + "r" * 32), ("From", "+4915112345678"), ("To", "+4930555000"),
            ("Body", "1"), ("NumMedia", "0"), ("AddOns", "first"), ("AddOns", "second")]  # fmt: skip
    answer = await twilio.post("/webhooks/twilio/sms", content=urlencode(form), headers=signed(SMS_URL, form))
    assert answer.status_code == 200
    assert [r["provider_ref"] for r in await rows(app.services, inbox)] == ["SM" + "r" * 32]


async def test_every_value_of_a_repeated_key_is_signed(app: App, twilio: httpx.AsyncClient) -> None:
    form = [("MessageSid", "SM" + "s" * 32), ("From", "+4915112345678"), ("Body", "1"),
            ("AddOns", "first"), ("AddOns", "second")]  # fmt: skip
    tampered = [*form[:-1], ("AddOns", "changed")]
    sent = urlencode(tampered)
    answer = await twilio.post("/webhooks/twilio/sms", content=sent, headers=signed(SMS_URL, form))
    assert answer.status_code == 403
    assert await rows(app.services, inbox) == []


@pytest.mark.parametrize("code", ["²", "٣٠٠٠٥", "30005x", "-1", " 30005"])
async def test_a_delivery_report_with_an_odd_error_code_is_kept_not_a_500(
    app: App, twilio: httpx.AsyncClient, code: str
) -> None:
    form = [("MessageSid", "SM" + "e" * 32), ("MessageStatus", "undelivered"), ("ErrorCode", code)]
    sent = urlencode(form)
    answer = await twilio.post("/webhooks/twilio/status", content=sent, headers=signed(STATUS_URL, form))
    assert answer.status_code == 204
    [kept] = await rows(app.services, receipts)
    assert (kept["status"], kept["error_code"]) == ("undelivered", code)
