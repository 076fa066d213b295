"""Telegram inline buttons: what each kind of message offers, and the typed callback data behind them.

Callback data is aiogram `CallbackData` (prefix + fields, packed with ":"), at most 64 bytes, and
carries ids only, never free text. Nothing in it is trusted: the handler checks every press against
the database (bot/usecases/respond.py: a delivery this chat cannot act on is "expired"; for
drivers bot/usecases/driver_chat.py: a stop that is not on this chat's driver's route).

Buttons travel in the outbox row's payload (`payload["buttons"]`: rows of {"text", "data"}), which
bot/channels/telegram.py turns into an inline keyboard. SMS ignores them: its templates number the
choices instead.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from aiogram.filters.callback_data import CallbackData

from bot.domain.deliveries import FailReason
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
LABELS: dict[str, str] = {
    "ok": "✅ Confirm",
    "time": "🕒 Change time",
    "drop": "📦 Delivery instructions",
    "person": "💬 Talk to a person",
}


class StopAct(StrEnum):
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"  # opens the list of reasons
    BACK = "back"  # from the reasons back to the stop's buttons


class Stop(CallbackData, prefix="st"):
    """A driver's press on a stop card."""

    d: int
    act: StopAct


class Failed(CallbackData, prefix="fr"):
    """Why a stop failed, chosen from the list its Failed button opened."""

    d: int
    reason: FailReason


class StartRoute(CallbackData, prefix="go"):
    """ "Start route" under a driver's route message: the plan it was sent for (the driver is the chat's)."""

    plan: int


class GotIt(CallbackData, prefix="ack"):
    """ "Got it" under a driver note. The note is the message the button is on: its stops' ids could
    outgrow 64 bytes, and the outbox row behind that message knows them."""


DRIVER_LABELS: dict[str, str] = {
    StopAct.ARRIVED: "📍 Arrived",
    StopAct.DELIVERED: "✅ Delivered",
    StopAct.FAILED: "❌ Failed",
    StopAct.BACK: "↩ Back",
    "start": "▶ Start route",
    "got_it": "👍 Got it",
}
REASON_LABELS: dict[FailReason, str] = {
    FailReason.NOT_HOME: "Nobody home",
    FailReason.REFUSED: "Refused",
    FailReason.ADDRESS_NOT_FOUND: "Address not found",
    FailReason.NO_ACCESS: "No access",
    FailReason.DAMAGED: "Damaged",
    FailReason.NO_TIME: "Out of time",
    FailReason.OTHER: "Other",
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


def for_driver(kind: Kind, delivery_id: int | None, locale: str) -> Keyboard:
    """The buttons a driver's message of `kind` carries: a stop card's, or "Got it" under a note."""
    if kind is Kind.DRIVER_STOP and delivery_id is not None:
        return stop_card(delivery_id, locale)
    if kind is Kind.DRIVER_NOTES:
        return [[_button(phrases.pick(DRIVER_LABELS, locale)["got_it"], GotIt())]]
    return []


def stop_card(delivery_id: int, locale: str) -> Keyboard:
    labels = phrases.pick(DRIVER_LABELS, locale)
    acts = (StopAct.ARRIVED, StopAct.DELIVERED, StopAct.FAILED)
    return [[_button(labels[a], Stop(d=delivery_id, act=a)) for a in acts]]


def start_route(plan_id: int, locale: str) -> Keyboard:
    """Under a driver's route message until the route starts."""
    return [[_button(phrases.pick(DRIVER_LABELS, locale)["start"], StartRoute(plan=plan_id))]]


def fail_reasons(delivery_id: int, locale: str) -> Keyboard:
    """What a stop card's Failed button opens: every reason, then the way back."""
    names = phrases.pick(REASON_LABELS, locale)
    reasons = [_button(names[r], Failed(d=delivery_id, reason=r)) for r in FailReason]
    back = _button(phrases.pick(DRIVER_LABELS, locale)[StopAct.BACK], Stop(d=delivery_id, act=StopAct.BACK))
    return [*(reasons[n : n + 2] for n in range(0, len(reasons), 2)), [back]]


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
