import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.channels.base import Failure, Outgoing, SendError
from bot.channels.dispatch import CHECK_DELAY
from bot.channels.sandbox import SandboxTransport
from bot.channels.twilio import TwilioTransport
from bot.clock import ManualClock
from bot.composition import build_services
from bot.config import TwilioSettings, load_settings
from bot.notify.kinds import Channel
from bot.store.db import Store
from tests.channels.conftest import enqueue, make_dispatcher, message, sandbox, statuses, store
from tests.sms.fake_twilio import FakeTwilio
from tests.sms.prism import PreferHttpClient, prefer, prism, prism_errors
from tests.telegram.emulator import loopback_server

__all__ = ["prism", "prism_errors", "sandbox", "store"]  # fixtures used here
ACCOUNT = "AC" + "0" * 32
TO = "+4915112345678"
PUBLIC = "https://doorstep.example"


def settings(api_base: str, **changes: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT,
        "auth_token": SecretStr("token"),
        "from_number": "+15005550006",
        "api_base": api_base,
        "timeout_seconds": 0.5,
    }
    return TwilioSettings(**(values | changes))


def outgoing(clock: ManualClock, **changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "id": 1,
        "channel": Channel.SMS,
        "address": TO,
        "kind": "pre-delivery",
        "body": "Doorstep: your parcel comes tomorrow 10:00-11:00.",
        "valid_until": clock.now() + timedelta(hours=2),
    }
    return Outgoing(**(values | changes))


@pytest.fixture
async def http() -> AsyncIterator[PreferHttpClient]:
    client = PreferHttpClient(timeout=5)
    yield client
    await client.close()


def sent_form(http: PreferHttpClient) -> dict[str, Any]:
    return dict(http._test_only_last_request.data)


async def test_a_send_goes_through_twilios_spec_and_returns_the_sid(
    prism: str, http: PreferHttpClient, clock: ManualClock
) -> None:
    transport = TwilioTransport(settings(prism), clock, public_url=PUBLIC, http=http)
    receipt = await transport.send(outgoing(clock))
    assert receipt.provider_ref.startswith("SM")
    assert sent_form(http) == {
        "To": TO,
        "From": "+15005550006",
        "Body": "Doorstep: your parcel comes tomorrow 10:00-11:00.",
        "StatusCallback": "https://doorstep.example/webhooks/twilio/status",
        "ValidityPeriod": 7200,
    }


async def test_a_messaging_service_sends_without_from_and_validity_is_clamped(
    prism: str, http: PreferHttpClient, clock: ManualClock
) -> None:
    service = "MG" + "1" * 32
    transport = TwilioTransport(settings(prism, messaging_service_sid=service), clock, http=http)
    await transport.send(outgoing(clock, valid_until=clock.now() + timedelta(days=2)))
    form = sent_form(http)
    assert form["MessagingServiceSid"] == service
    assert "From" not in form
    assert "StatusCallback" not in form  # no public URL
    assert form["ValidityPeriod"] == 36000
    await transport.send(outgoing(clock, valid_until=None))
    assert "ValidityPeriod" not in sent_form(http)


async def test_prism_rejects_a_request_twilios_spec_does_not_allow(
    prism: str, http: PreferHttpClient, clock: ManualClock
) -> None:
    transport = TwilioTransport(settings(prism), clock, public_url="not a url", http=http)
    with pytest.raises(SendError) as raised:
        await transport.send(outgoing(clock))
    assert raised.value.code == "422"
    assert raised.value.failure is Failure.PERMANENT


@pytest.mark.parametrize(
    ("example", "failure", "state", "code"),
    [
        ("optout", Failure.PERMANENT, "opted_out", "21610"),
        ("invalid", Failure.PERMANENT, "invalid", "21211"),
        ("busy", Failure.RETRYABLE, None, "20429"),
    ],
)
async def test_twilio_errors_are_classified(
    prism_errors: str,
    http: PreferHttpClient,
    clock: ManualClock,
    example: str,
    failure: Failure,
    state: str | None,
    code: str,
) -> None:
    http.prefer = prefer(example)
    transport = TwilioTransport(settings(prism_errors), clock, http=http)
    with pytest.raises(SendError) as raised:
        await transport.send(outgoing(clock))
    assert (raised.value.failure, raised.value.address_state, raised.value.code) == (failure, state, code)


@pytest.mark.parametrize("answer", ["500", "slow"])
async def test_a_5xx_or_a_timeout_after_the_request_left_is_ambiguous(
    http: PreferHttpClient, clock: ManualClock, answer: str
) -> None:
    fake = FakeTwilio(clock.now, answer=answer, delay=2.0)
    async with loopback_server(fake.app()) as url:
        transport = TwilioTransport(settings(url), clock, http=http)
        with pytest.raises(SendError) as raised:
            await transport.send(outgoing(clock))
    assert raised.value.failure is Failure.AMBIGUOUS
    assert len(fake.posts) == 1


async def test_a_refused_connection_is_retryable(http: PreferHttpClient, clock: ManualClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        transport = TwilioTransport(settings(f"http://127.0.0.1:{port}"), clock, http=http)
        with pytest.raises(SendError) as raised:
            await transport.send(outgoing(clock))
    assert raised.value.failure is Failure.RETRYABLE


async def test_lookup_finds_the_message_twilio_has_and_none_otherwise(
    http: PreferHttpClient, clock: ManualClock
) -> None:
    fake = FakeTwilio(clock.now, answer="500")
    async with loopback_server(fake.app()) as url:
        transport = TwilioTransport(settings(url), clock, http=http)
        since = clock.now()
        assert await transport.lookup(outgoing(clock), since) is None
        with pytest.raises(SendError):
            await transport.send(outgoing(clock))
        found = await transport.lookup(outgoing(clock), since)
        other = await transport.lookup(outgoing(clock, body="another text"), since)
    assert found is not None
    assert found.provider_ref == fake.stored[0]["sid"]
    assert other is None


async def test_a_5xx_is_reconciled_as_sent_without_a_second_post(
    http: PreferHttpClient, clock: ManualClock, store: Store, sandbox: SandboxTransport
) -> None:
    fake = FakeTwilio(clock.now, answer="500")
    async with loopback_server(fake.app()) as url:
        dispatcher = make_dispatcher(store, clock, sandbox)
        dispatcher.transports = {"sms": TwilioTransport(settings(url), clock, http=http)}
        await enqueue(store, clock.now(), message("m1", clock.now(), address=TO))
        await dispatcher.run_once()
        assert await statuses(store) == {"checking": 1}
        fake.answer = "ok"
        clock.advance(CHECK_DELAY)
        await dispatcher.run_once()
        await asyncio.sleep(0)
    assert await statuses(store) == {"sent": 1}
    assert len(fake.posts) == 1


async def test_services_send_sms_through_twilio_only_when_it_is_configured(tmp_path: Path) -> None:
    base = {
        "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"},
        "sandbox": {"path": tmp_path / "s.db"},
    }
    twilio = {"account_sid": ACCOUNT, "auth_token": "token", "from_number": "+15005550006"}
    web = {"public_url": PUBLIC}
    configured = await build_services(load_settings(_env_file=None, **base, twilio=twilio, web=web))
    unset = await build_services(load_settings(_env_file=None, **base, twilio=twilio | {"from_number": ""}))
    sms = configured.transports["sms"]
    try:
        assert isinstance(sms, TwilioTransport)
        assert sms.status_callback == PUBLIC + "/webhooks/twilio/status"
        assert unset.transports["sms"] == unset.sandbox
    finally:
        await configured.close()
        await unset.close()
    assert sms.http.session.closed


async def test_the_lookup_request_is_one_twilios_spec_allows(
    prism: str, http: PreferHttpClient, clock: ManualClock
) -> None:
    transport = TwilioTransport(settings(prism), clock, http=http)
    assert await transport.lookup(outgoing(clock), clock.now()) is None  # the spec's example is another body
    assert http._test_only_last_request.params["To"] == TO
    assert http._test_only_last_request.params["DateSent>"] == "2026-11-22T18:00:00Z"
