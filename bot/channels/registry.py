"""Every channel Doorstep talks on, one entry each.

Adding a channel is an adapter (a `Transport`: bot/channels/base.py), a settings section, a
template folder (bot/templates/<name>/<locale>/<kind>.j2), a webhook that hands what arrives to
bot/usecases/inbound.receive, and one `register` call. Everything that differs between channels is
read from the entry: how a text is shaped (`Rules`), which reader may use it, which comes first
for a recipient who has several, how fast the provider lets us send, and what carries it.

A channel whose provider is not configured is carried by the sandbox (bot/channels/sandbox.py), so
the demo and the tests run every channel without credentials.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.channels import telegram, twilio
from bot.channels.base import Transport
from bot.clock import Clock
from bot.config import OutboxSettings, Settings
from bot.notify.kinds import Audience, Channel
from bot.notify.segments import Encoding, count_segments

# sendMessage: "1-4096 characters after entities parsing"; counting the HTML source over-estimates.
TELEGRAM_MAX_CHARS = 4096


def sms_parts(text: str) -> tuple[Encoding | None, int]:
    """The SMS encoding and how many segments a carrier bills."""
    return count_segments(text)


def telegram_parts(text: str) -> tuple[Encoding | None, int]:
    """How many Telegram messages of `TELEGRAM_MAX_CHARS` UTF-16 units it takes (1 unless a long route)."""
    utf16_units = len(text.encode("utf-16-le")) // 2
    return None, max(1, -(-utf16_units // TELEGRAM_MAX_CHARS))


@dataclass(frozen=True, slots=True)
class Rules:
    """How a message is shaped for the channel."""

    markup: Literal["plain", "html"]  # html: the templates autoescape what people wrote
    dash: str  # between two times: an ASCII hyphen (GSM-7) or an en dash
    plain_letters: bool  # letters folded to GSM-7 where one exists ("août" -> "aout")
    buttons: bool  # choices as buttons; else numbered "1) …", answered with the number
    edits: bool  # a sent message can be changed in place (a driver's card)
    photos: bool  # it carries the driver's photo: a "delivered" notice waits a moment for one
    parts: Callable[[str], tuple[Encoding | None, int]]  # what a text costs: (encoding, parts)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    name: str  # as stored on contacts and outbox rows, and the template folder
    label: str  # as the console shows it
    priority: int  # a recipient's channels are tried lowest first
    rules: Rules
    per_second: Callable[[OutboxSettings], float]  # the provider's send rate
    # The provider's transport, or None when it is not configured (the sandbox carries the channel).
    transport: Callable[[Settings, Clock], Transport | None]
    audiences: frozenset[Audience] = frozenset({Audience.RECIPIENT})
    settings: str = ""  # its section of bot/config.Settings (DOORSTEP_<SECTION>__…), if any
    # "module:attribute" of the FastAPI router the web app mounts for what the provider posts to us.
    webhook: str = ""
    # A folder holding <name>/<locale>/<kind>.j2, for a channel whose templates live outside bot/templates.
    templates: Path | None = None


SMS_RULES = Rules(
    markup="plain", dash="-", plain_letters=True, buttons=False, edits=False, photos=False, parts=sms_parts
)
TELEGRAM_RULES = Rules(
    markup="html", dash="–", plain_letters=False, buttons=True, edits=True, photos=True, parts=telegram_parts
)

_REGISTRY: dict[str, ChannelSpec] = {}


def register(spec: ChannelSpec) -> None:
    """Add a channel (ValueError if its name is taken or not a plain lower-case word)."""
    if not spec.name.isascii() or not spec.name.isidentifier() or spec.name != spec.name.lower():
        raise ValueError(f"a channel name is a lower-case word (templates live under it): {spec.name!r}")
    if spec.name in _REGISTRY:
        raise ValueError(f"channel {spec.name!r} is registered already")
    _REGISTRY[spec.name] = spec


def unregister(name: str) -> None:
    """Remove a channel (tests that add one put things back)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> ChannelSpec:
    """The entry of channel `name`; ValueError for a channel nobody registered."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r} (registered: {', '.join(names())})") from None


def specs() -> list[ChannelSpec]:
    """Every registered channel, in priority order."""
    return sorted(_REGISTRY.values(), key=lambda s: (s.priority, s.name))


def names(audience: Audience | None = None) -> list[str]:
    """The registered channels in priority order (only those `audience` reads, if given)."""
    return [s.name for s in specs() if audience is None or audience in s.audiences]


def _sms_transport(settings: Settings, clock: Clock) -> Transport | None:
    if not settings.twilio.configured:
        return None
    return twilio.TwilioTransport(settings.twilio, clock, public_url=settings.web.public_url)


def _telegram_transport(settings: Settings, _: Clock) -> Transport | None:
    bot = telegram.make_bot(settings.telegram)
    return telegram.TelegramTransport(bot) if bot is not None else None


register(
    ChannelSpec(
        Channel.TELEGRAM.value,
        "Telegram",
        priority=1,
        rules=TELEGRAM_RULES,
        per_second=lambda outbox: outbox.telegram_per_second,
        transport=_telegram_transport,
        audiences=frozenset({Audience.RECIPIENT, Audience.DRIVER}),
        settings="telegram",
        webhook="bot.web.telegram:router",
    )
)
register(
    ChannelSpec(
        Channel.SMS.value,
        "SMS",
        priority=2,
        rules=SMS_RULES,
        per_second=lambda outbox: outbox.sms_per_second,
        transport=_sms_transport,
        settings="twilio",
        webhook="bot.web.twilio:router",
    )
)
