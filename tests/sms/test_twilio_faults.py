"""A queue at Twilio that is full or too slow (RELIABILITY.md fault 12): 21611 at create is tried again
while the notice is still useful, every send says how long it stays useful (ValidityPeriod), and a
notice that outlives that ends `expired`, never sent late. Twilio is Prism serving its own spec."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from bot.app import App
from bot.channels.dispatch import Dispatcher
from bot.channels.sandbox import SandboxTransport
from bot.channels.twilio import TwilioTransport
from bot.clock import ManualClock
from bot.config import TwilioSettings
from bot.store.db import Store
from bot.store.tables import messages
from tests.channels.conftest import MINUTE, enqueue, make_dispatcher, message, sandbox, store
from tests.sms.prism import PreferHttpClient, prefer, prism_errors
from tests.sms.test_inbound import PUBLIC, STATUS_URL, settings, signed, twilio

__all__ = ["prism_errors", "sandbox", "settings", "store", "twilio"]  # fixtures used here
TO = "+4915112345678"
POSTS = "/Messages.json"


class CountingHttp(PreferHttpClient):
    """The production http client (plus Prism's `Prefer`), keeping every form POSTed to Messages."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.posts: list[dict[str, Any]] = []

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if method == "POST" and url.endswith(POSTS):
            self.posts.append(dict(kwargs.get("data") or {}))
        return await super().request(method, url, *args, **kwargs)


@pytest.fixture
async def http() -> AsyncIterator[CountingHttp]:
    client = CountingHttp(timeout=5)
    yield client
    await client.close()


def twilio_on(base: str, clock: ManualClock, http: CountingHttp) -> TwilioTransport:
    config = TwilioSettings(
        account_sid="AC" + "0" * 32,
        auth_token=SecretStr("token"),
        from_number="+15005550006",
        api_base=base,
        timeout_seconds=5,
    )
    return TwilioTransport(config, clock, public_url=PUBLIC, http=http)


async def row(store: Store, key: str) -> sa.RowMapping:
    async with store.read() as conn:
        return (await conn.execute(sa.select(messages).where(messages.c.idem_key == key))).mappings().one()


@pytest.fixture
def dispatcher(
    store: Store, clock: ManualClock, sandbox: SandboxTransport, prism_errors: str, http: CountingHttp
) -> Dispatcher:
    sending = make_dispatcher(store, clock, sandbox)
    sending.transports = {"sms": twilio_on(prism_errors, clock, http)}
    return sending


async def test_a_full_queue_is_tried_again_and_the_retry_is_valid_only_as_long_as_the_notice(
    store: Store, clock: ManualClock, dispatcher: Dispatcher, http: CountingHttp
) -> None:
    useful_until = clock.now() + 30 * MINUTE
    await enqueue(store, clock.now(), message("eta", clock.now(), address=TO, valid_until=useful_until))
    http.prefer = prefer("overflow")
    await dispatcher.drain()
    waiting = await row(store, "eta")
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    assert waiting["error"].startswith("21611: ")

    http.prefer = None  # Twilio's queue has room again
    clock.set(waiting["next_attempt_at"])
    await dispatcher.drain()

    sent = await row(store, "eta")
    assert (sent["status"], sent["attempts"], sent["provider_ref"]) == ("sent", 2, "SM" + "a" * 32)
    first, retry = http.posts
    assert first["ValidityPeriod"] == 30 * 60
    assert retry["ValidityPeriod"] == int((useful_until - clock.now()).total_seconds())
    assert retry["ValidityPeriod"] < first["ValidityPeriod"]


async def test_a_queue_that_stays_full_ends_the_notice_expired_not_sent_late(
    store: Store, clock: ManualClock, dispatcher: Dispatcher, http: CountingHttp
) -> None:
    useful_until = clock.now() + 2 * MINUTE
    await enqueue(store, clock.now(), message("nearby", clock.now(), address=TO, valid_until=useful_until))
    http.prefer = prefer("overflow")
    for _ in range(10):
        await dispatcher.drain()
        clock.advance(timedelta(seconds=20))
    http.prefer = None  # room again, too late for this one
    clock.advance(timedelta(hours=1))
    await dispatcher.drain()

    final = await row(store, "nearby")
    assert (final["status"], final["error"], final["provider_ref"]) == ("expired", "no longer valid", None)
    assert 2 <= len(http.posts) == final["attempts"]
    assert all(p["ValidityPeriod"] <= 120 for p in http.posts)


async def sent_through_prism(app: App, prism: str, http: CountingHttp, clock: ManualClock) -> sa.RowMapping:
    """One notice, useful for 30 minutes, accepted by Twilio (queued there)."""
    services = app.services
    services.transports = {**services.transports, "sms": twilio_on(prism, clock, http)}
    notice = message("eta", clock.now(), address=TO, valid_until=clock.now() + 30 * MINUTE)
    await enqueue(services.store, clock.now(), notice)
    await services.dispatcher().drain()
    sent = await row(services.store, "eta")
    assert (sent["status"], http.posts[0]["ValidityPeriod"]) == ("sent", 1800)
    return sent


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("30001", "expired"),  # queue overflow: it sat in Twilio's queue until its validity ran out
        ("30036", "expired"),  # validity period expired
        ("30003", "sent"),  # handset unreachable: it did leave Twilio, so it was sent
    ],
)
async def test_a_notice_twilio_dropped_from_its_queue_ends_expired_and_is_not_sent_again(
    app: App,
    twilio: httpx.AsyncClient,
    prism_errors: str,
    http: CountingHttp,
    clock: ManualClock,
    code: str,
    status: str,
) -> None:
    sent = await sent_through_prism(app, prism_errors, http, clock)
    clock.advance(31 * MINUTE)
    report = {"MessageSid": sent["provider_ref"], "MessageStatus": "failed", "ErrorCode": code, "To": TO}
    answer = await twilio.post("/webhooks/twilio/status", data=report, headers=signed(STATUS_URL, report))
    assert answer.status_code == 204
    await app.services.dispatcher().drain()
    clock.advance(timedelta(hours=1))
    await app.services.dispatcher().drain()

    final = await row(app.services.store, "eta")
    assert (final["status"], final["provider_status"]) == (status, "failed")
    assert code in final["error"]
    assert len(http.posts) == 1  # never sent late
