"""The SMS transport: outbox rows out through Twilio's Messages API, failures classified.

`Outgoing.address` is the recipient's E.164 number and `body` the SMS text. Every send carries
`ValidityPeriod` (seconds until `valid_until`, clamped to Twilio's 1..36000; omitted without one) and,
when DOORSTEP_WEB__PUBLIC_URL is set, a `StatusCallback` URL.

The Twilio client runs on `AsyncTwilioHttpClient` without `max_retries`: a POST retried after a 5xx
can send an SMS twice, so the dispatcher decides about retries, never the http client.

Failures (twilio-python raises `TwilioRestException` with the HTTP status and Twilio's error code):

- 429, or code 20429: RETRYABLE (Twilio did not process it).
- 21611 (the sender's queue at Twilio holds its 10 hours already): RETRYABLE, not created; the
  dispatcher tries again later and expires it once past `valid_until`.
- 21610 (the recipient texted STOP): PERMANENT, address "opted_out".
- 21211 (not a valid number), 21614 (not SMS-capable): PERMANENT, address "invalid".
- Any other 4xx: PERMANENT.
- 5xx, a timeout, a dropped connection or an unreadable answer: AMBIGUOUS. `lookup` asks Twilio for
  the messages sent to that number since, before anything is sent again.
- A connection refused before the request left: RETRYABLE.
"""

import asyncio
from datetime import datetime

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import Failure, Outgoing, Receipt, SendError
from bot.clock import Clock
from bot.config import TwilioSettings

MAX_VALIDITY_S = 36000  # Twilio's ValidityPeriod range is 1..36000 seconds
LOOKUP_PAGE = 1000  # the largest page Twilio serves
OPTED_OUT, INVALID = {21610}, {21211, 21614}
# In a delivery report: 30005 unknown handset (no such number), 30006 a landline or unreachable carrier.
# 30003 (handset off) and 30007 (carrier filtering) say nothing lasting about the number.
UNDELIVERABLE = {30005, 30006}


def address_state(error_code: str | None) -> str | None:
    """What a delivery report's error says about the number itself: opted_out, invalid, or nothing."""
    code = int(error_code) if error_code and error_code.isascii() and error_code.isdigit() else None
    if code in OPTED_OUT:
        return "opted_out"
    return "invalid" if code in INVALID | UNDELIVERABLE else None


TOO_MANY = 20429
QUEUE_FULL = 21611


class TwilioTransport:
    """Sends outbox rows as SMS through Twilio (see the module docstring for the failure contract)."""

    def __init__(
        self,
        settings: TwilioSettings,
        clock: Clock,
        *,
        public_url: str | None = None,
        http: AsyncTwilioHttpClient | None = None,
    ) -> None:
        if settings.account_sid is None or settings.auth_token is None:
            raise ValueError("the Twilio transport needs DOORSTEP_TWILIO__ACCOUNT_SID and __AUTH_TOKEN")
        self.settings, self.clock = settings, clock
        # No max_retries. Its `timeout` is stored but never applied to a request (twilio 9.13
        # async_http_client.py), so each call is bounded by asyncio.timeout below instead.
        self.http = http or AsyncTwilioHttpClient()
        self.client = Client(
            settings.account_sid, settings.auth_token.get_secret_value(), http_client=self.http
        )
        # Domain.base_url is what every api.twilio.com URL is built from (twilio/base/domain.py).
        self.client.api.base_url = settings.api_base
        base = public_url.rstrip("/") if public_url else None
        self.status_callback = base + settings.status_callback_path if base else None

    async def send(self, message: Outgoing) -> Receipt:
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                created = await self.client.messages.create_async(**self._params(message))
        except (TwilioRestException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise classify(exc) from exc
        return Receipt(str(created.sid))

    async def lookup(self, message: Outgoing, since: datetime) -> Receipt | None:
        """The message Twilio has to this number with this body, created at or after `since`."""
        try:
            # One page: far more than one number gets in a day (list_async would follow every page).
            async with asyncio.timeout(self.settings.timeout_seconds):
                sent = await self.client.messages.page_async(
                    to=message.address, date_sent_after=since, page_size=LOOKUP_PAGE
                )
        except (TwilioRestException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise classify(exc) from exc
        for found in sent:
            at = found.date_created or found.date_sent
            if found.body == message.body and (at is None or at >= since):
                return Receipt(str(found.sid))
        return None

    async def close(self) -> None:
        await self.http.close()

    def _params(self, message: Outgoing) -> dict[str, object]:
        params: dict[str, object] = {"to": message.address, "body": message.body}
        if self.settings.messaging_service_sid:
            params["messaging_service_sid"] = self.settings.messaging_service_sid
        else:
            params["from_"] = self.settings.from_number
        if self.status_callback is not None:
            params["status_callback"] = self.status_callback
        if message.valid_until is not None:
            left = (message.valid_until - self.clock.now()).total_seconds()
            params["validity_period"] = max(1, min(MAX_VALIDITY_S, int(left)))
        return params


def classify(exc: BaseException) -> SendError:
    """What a Twilio or network failure means for the dispatcher."""
    if isinstance(exc, TwilioRestException):
        return _rest_error(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused or unresolvable: the request never left
        return SendError(Failure.RETRYABLE, str(exc), code="refused")
    if isinstance(exc, TimeoutError):
        return SendError(Failure.AMBIGUOUS, "no answer in time", code="timeout")
    if isinstance(exc, ValueError):
        return SendError(Failure.AMBIGUOUS, f"unreadable answer: {exc}", code="undecodable")
    return SendError(Failure.AMBIGUOUS, str(exc) or type(exc).__name__, code="network")


def _rest_error(exc: TwilioRestException) -> SendError:
    status, code = int(exc.status), exc.code
    said = f"{exc.msg} (HTTP {status}, code {code})"
    label = str(code or status)
    if status == 429 or code in (TOO_MANY, QUEUE_FULL):
        return SendError(Failure.RETRYABLE, said, code=label)
    if code in OPTED_OUT:
        return SendError(Failure.PERMANENT, said, code=label, address_state="opted_out")
    if code in INVALID:
        return SendError(Failure.PERMANENT, said, code=label, address_state="invalid")
    if status >= 500:
        return SendError(Failure.AMBIGUOUS, said, code=label)
    return SendError(Failure.PERMANENT, said, code=label)
