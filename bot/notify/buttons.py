"""Telegram inline buttons: what each kind of message offers, and the typed callback data behind them.

Callback data is aiogram `CallbackData` (prefix + fields, packed with ":"), at most 64 bytes, and
carries ids only, never free text. Nothing in it is trusted: the handler checks every press against
the database (bot/usecases/respond.py: a delivery this chat cannot act on is "expired").

Buttons travel in the outbox row's payload (`payload["buttons"]`: rows of {"text", "data"}), which
bot/channels/telegram.py turns into an inline keyboard. SMS ignores them: its templates number the
choices instead.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.filters.callback_data import CallbackData

from bot.domain.intents import SafeDropPlace
from bot.notify import phrases
from bot.notify.kinds import Kind

type Button = dict[str, str]
type Keyboard = list[list[Button]]

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class Act(CallbackData, prefix="a"):
    """A recipient's menu choice for a delivery: ok (confirm), time, drop (instructions), person."""

    what: str
    d: int


class Pick(CallbackData, prefix="s"):
    """A new time: the window as minutes since 2020-01-01 UTC (short, and exact to the minute)."""

    d: int
    start: int
    end: int

    def window(self) -> tuple[datetime, datetime]:
        return _at(self.start), _at(self.end)


class Stars(CallbackData, prefix="r"):
    d: int
    n: int


class Place(CallbackData, prefix="p"):
    d: int
    place: SafeDropPlace


class Lang(CallbackData, prefix="l"):
    code: str


MENU = ("ok", "time", "drop", "person")
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "ok": "✅ Confirm",
        "time": "🕒 Change time",
        "drop": "📦 Delivery instructions",
        "person": "💬 Talk to a person",
    },
    "de": {
        "ok": "✅ Bestätigen",
        "time": "🕒 Zeit ändern",
        "drop": "📦 Ablagehinweis",
        "person": "💬 Mit einem Menschen sprechen",
    },
}


def minutes(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def _at(count: int) -> datetime:
    return EPOCH + timedelta(minutes=count)


def for_message(kind: Kind, delivery_id: int, fields: Mapping[str, Any], locale: str) -> Keyboard:
    """The buttons a recipient's message of `kind` carries on Telegram (none for most kinds)."""
    if kind in (Kind.PRE_DELIVERY, Kind.OUT_FOR_DELIVERY, Kind.WINDOW_UPDATED, Kind.LINKED):
        return menu(delivery_id, locale)
    if kind in (Kind.SLOTS_OFFERED, Kind.FAILED):
        return slots(delivery_id, fields.get("slots", []))
    if kind is Kind.DELIVERED:
        return [[_button(str(n), Stars(d=delivery_id, n=n)) for n in range(1, 6)]]
    if kind is Kind.INSTRUCTIONS_ASKED:
        return places(delivery_id, locale)
    return []


def menu(delivery_id: int, locale: str) -> Keyboard:
    labels = phrases.pick(LABELS, locale)
    first, second = MENU[:2], MENU[2:]
    return [[_button(labels[w], Act(what=w, d=delivery_id)) for w in row] for row in (first, second)]


def slots(delivery_id: int, offered: Sequence[Mapping[str, Any]]) -> Keyboard:
    return [
        [
            _button(
                str(slot["label"]),
                Pick(
                    d=delivery_id,
                    start=minutes(datetime.fromisoformat(slot["start"])),
                    end=minutes(datetime.fromisoformat(slot["end"])),
                ),
            )
        ]
        for slot in offered
    ]


def places(delivery_id: int, locale: str) -> Keyboard:
    names = phrases.pick(phrases.PLACE, locale)
    presets = [p for p in SafeDropPlace if p not in (SafeDropPlace.OTHER, SafeDropPlace.NEIGHBOUR)]
    buttons = [_button(names[p].capitalize(), Place(d=delivery_id, place=p)) for p in presets]
    return [buttons[n : n + 2] for n in range(0, len(buttons), 2)]


def languages(names: Mapping[str, str]) -> Keyboard:
    return [[_button(name, Lang(code=code)) for code, name in names.items()]]


def _button(text: str, data: CallbackData) -> Button:
    packed = data.pack()
    if len(packed.encode()) > 64:  # Telegram's limit; our ids and codes stay far below it
        raise ValueError(f"callback data over 64 bytes: {packed!r}")
    return {"text": text, "data": packed}
