"""From "tell this person this" to an outbox row: pick the channel, add the common fields, render."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.channels import registry
from bot.config import MessagesSettings
from bot.domain.contacts import Contact, ContactState
from bot.domain.deliveries import Delivery, Driver
from bot.domain.messages import NewMessage
from bot.notify import buttons
from bot.notify import format as fmt
from bot.notify.kinds import KINDS, Channel, Kind
from bot.notify.render import Renderer
from bot.store import links


@dataclass(frozen=True, slots=True)
class To:
    """Who reads a message, where, and in which language and time zone."""

    channel: str  # a registered channel (bot/channels/registry.py)
    address: str
    locale: str
    timezone: str
    name: str
    recipient_id: int | None = None
    driver_id: int | None = None


def pick_contact(contacts: Sequence[Contact]) -> Contact | None:
    """The recipient's first working channel in order of preference, or None: nobody to tell."""
    return next((c for c in contacts if c.state is ContactState.ACTIVE), None)


def _plain(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields as JSON keeps them (they are strings, numbers and lists of those already)."""
    plain: dict[str, Any] = json.loads(json.dumps(dict(fields), default=str))
    return plain


def first_name(full: str) -> str:
    parts = full.split(maxsplit=1)
    return parts[0] if parts else full


def recipient(delivery: Delivery, contact: Contact) -> To:
    return To(
        contact.channel,
        contact.address,
        delivery.locale,
        delivery.timezone,
        first_name(delivery.name),
        recipient_id=delivery.recipient_id,
    )


def driver(person: Driver, timezone: str, locale: str = "en") -> To:
    """Drivers read Telegram: their linked chat, else (not linked yet) the sandbox address of their code."""
    return To(
        Channel.TELEGRAM.value,
        person.telegram_chat_id or f"driver:{person.code}",
        locale,
        timezone,
        first_name(person.name),
        driver_id=person.id,
    )


def _buttons(to: To, kind: Kind, fields: Mapping[str, Any], delivery_id: int | None) -> buttons.Keyboard:
    if to.driver_id is not None:
        return buttons.for_driver(kind, delivery_id, to.locale)
    if to.recipient_id is not None and delivery_id is not None:
        return buttons.for_message(kind, delivery_id, fields, to.locale)
    return []


class Composer:
    """Renders a kind for one reader and wraps it as an outbox row with its idempotency key."""

    def __init__(
        self,
        renderer: Renderer,
        settings: MessagesSettings,
        telegram_username: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self.renderer = renderer
        self.settings = settings
        self.telegram_username = telegram_username
        self.public_url = (public_url or "").rstrip("/")  # where recipients reach Doorstep's own pages

    def message(
        self,
        to: To,
        kind: Kind,
        fields: Mapping[str, Any],
        *,
        key: str,
        order_id: str,
        due_at: datetime,
        delivery_id: int | None = None,
        valid_until: datetime | None = None,
        keyboard: buttons.Keyboard | None = None,
        about: Sequence[int] = (),
        edit: int | None = None,
        promise: int | None = None,
    ) -> NewMessage:
        """Render for `to`. On a channel with buttons a message gets those its kind offers
        (bot/notify/buttons.py), unless `keyboard` says otherwise. `about`: the deliveries a driver's
        note is about (kept in the payload for the note's "Got it"). `promise`: the version of the
        delivery's promise this message states, which queuing it marks as told (bot/store/promises.py)."""
        common = {"brand": self.settings.brand, "name": to.name, "order_id": order_id}
        rendered = self.renderer.render(to.channel, to.locale, kind, {**common, **fields})
        # What it takes to render it again for the recipient's next channel, if this one stops working.
        payload: dict[str, Any] = (
            {"render": {"name": to.name, "order_id": order_id, "fields": _plain(fields)}}
            if to.recipient_id is not None
            else {}
        )
        rules = registry.get(to.channel).rules
        if keyboard is None and rules.buttons:
            keyboard = _buttons(to, kind, fields, delivery_id)
        if keyboard and rules.buttons:
            payload["buttons"] = keyboard
        if about:
            payload["deliveries"] = list(about)
        if edit is not None and rules.edits:
            payload["edit"] = edit  # the Telegram message to change in place, instead of a new one
        if promise is not None:
            payload["promise"] = promise
        return NewMessage(
            idem_key=key,
            kind=kind.value,
            channel=to.channel,
            address=to.address,
            locale=rendered.locale,
            timezone=to.timezone,
            body=rendered.text,
            due_at=due_at,
            urgent=KINDS[kind].urgent,
            valid_until=valid_until,
            payload=payload,
            delivery_id=delivery_id,
            recipient_id=to.recipient_id,
            driver_id=to.driver_id,
        )

    def track_url(self, delivery: Delivery) -> str:
        """The delivery's link: the operator's own tracking page if configured, else the recipient's page
        of this Doorstep (with a public URL; the token is issued when the message is queued:
        bot/store/links.py), else the bot's deep link, else none ("")."""
        if self.settings.track_url:
            return self.settings.track_url.format(token=delivery.tracking_token)
        if self.public_url:
            return f"{self.public_url}/t/{links.PLACEHOLDER}"
        return self.deep_link(delivery)

    def deep_link(self, delivery: Delivery) -> str:
        """`t.me/<bot>?start=<token>`: opening it links the chat to the delivery ("" without a bot name)."""
        if not self.telegram_username:
            return ""
        return f"https://t.me/{self.telegram_username}?start={delivery.tracking_token}"

    def window(self, to: To, start: datetime, end: datetime) -> str:
        return fmt.window(start, end, to.timezone, to.channel)

    def day(self, to: To, moment: datetime | date) -> str:
        local = fmt.local_date(moment, to.timezone) if isinstance(moment, datetime) else moment
        return fmt.day(local, to.locale, to.channel)

    def clock(self, to: To, moment: datetime) -> str:
        return fmt.clock(moment, to.timezone)
