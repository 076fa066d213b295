"""Locale-aware formatting of the values templates receive, independent of the OS locale.

Every helper takes aware datetimes and the recipient's zone, and returns the exact text a template
prints. SMS text stays inside GSM-7 (ASCII hyphen); Telegram gets typographic dashes.
"""

import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import TypedDict
from zoneinfo import ZoneInfo

from bot.channels import registry
from bot.notify import segments

Zone = tzinfo | str
DEFAULT_LOCALE = "en"
_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")

_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
    "de-AT": ("Jän.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
}
_DAY_PATTERNS = {
    "en": "{weekday} {day} {month}",
    "de": "{weekday} {day}. {month}",
    "fr": "{weekday} {day} {month}",
}


class Slot(TypedDict):
    """One numbered choice of a new delivery time (see render.py for every list field)."""

    n: int
    day: str
    window: str
    label: str
    start: str  # the window in UTC, ISO 8601: what a Telegram button for this choice carries
    end: str


def locale_chain(locale: str) -> tuple[str, ...]:
    """Locales to try, most specific first: "de-AT" -> ("de-AT", "de", "en"); anything odd -> ("en",)."""
    tag = locale.strip().replace("_", "-")
    if not _TAG.fullmatch(tag):
        return (DEFAULT_LOCALE,)
    language, _, rest = (part.lower() for part in tag.partition("-"))
    specific = f"{language}-{rest.upper() if len(rest) == 2 else rest}" if rest else language
    return tuple(dict.fromkeys((specific, language, DEFAULT_LOCALE)))


def clock(moment: datetime, zone: Zone) -> str:
    """The wall-clock time in `zone`: "14:20"."""
    return _local(moment, zone).strftime("%H:%M")


def window(start: datetime, end: datetime, zone: Zone, channel: str) -> str:
    """SMS "14:00-15:00" (GSM-7 hyphen); Telegram gets an en dash between the times (the channel's rules)."""
    return f"{clock(start, zone)}{registry.get(channel).rules.dash}{clock(end, zone)}"


def day(value: date, locale: str, channel: str | None = None) -> str:
    """A short date: "Mon 23 Nov" (en), "Mo. 23. Nov." (de), "Fr. 1. Jän." (de-AT), "dim. 23 août" (fr);
    for SMS in GSM-7 letters ("23 aout"), so a month's accent does not make the message UCS-2."""
    weekday = _WEEKDAYS[_pick(_WEEKDAYS, locale)][value.weekday()]
    month = _MONTHS[_pick(_MONTHS, locale)][value.month - 1]
    pattern = _DAY_PATTERNS[_pick(_DAY_PATTERNS, locale)]
    said = pattern.format(weekday=weekday, day=value.day, month=month)
    return gsm7_letters(said) if channel and registry.get(channel).rules.plain_letters else said


def gsm7_letters(text: str) -> str:
    """`text` with each letter outside GSM-7 written without its accent ("û" -> "u"), where that is GSM-7."""
    return "".join(ch if segments.encoding_of(ch) == "GSM-7" else _plain_letter(ch) for ch in text)


def _plain_letter(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)[0]
    return base if segments.encoding_of(base) == "GSM-7" else ch


def slots(windows: Sequence[tuple[datetime, datetime]], zone: Zone, locale: str, channel: str) -> list[Slot]:
    """Numbered choices from 1; SMS label "1) Mon 23 Nov 14:00-16:00"; with buttons (Telegram)
    "Mon 23 Nov, 14:00-16:00"."""
    return [_slot(n, start, end, zone, locale, channel) for n, (start, end) in enumerate(windows, start=1)]


def _slot(n: int, start: datetime, end: datetime, zone: Zone, locale: str, channel: str) -> Slot:
    on = day(_local(start, zone).date(), locale, channel)
    hours = window(start, end, zone, channel)
    label = f"{on}, {hours}" if registry.get(channel).rules.buttons else f"{n}) {on} {hours}"
    utc = (start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat())
    return Slot(n=n, day=on, window=hours, label=label, start=utc[0], end=utc[1])


def _pick(table: Collection[str], locale: str) -> str:
    return next(tag for tag in (*locale_chain(locale), DEFAULT_LOCALE) if tag in table)


def _local(moment: datetime, zone: Zone) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; pass an aware datetime")
    return moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)


def local_date(moment: datetime, zone: Zone) -> date:
    """The calendar day `moment` falls on in `zone`."""
    return _local(moment, zone).date()
