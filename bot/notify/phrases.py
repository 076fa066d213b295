"""Short phrases that go into message fields (statuses, reasons, places), in English; other languages
come from the catalogs (bot/notify/catalog.py). No final full stop."""

from collections.abc import Mapping

from bot.domain.deliveries import Status
from bot.domain.intents import SafeDropPlace
from bot.notify import catalog

STATUS: dict[Status, str] = {
    Status.CREATED: "registered and waiting for a route",
    Status.PLANNED: "scheduled",
    Status.RESCHEDULED: "moved to a new time",
    Status.OUT_FOR_DELIVERY: "out for delivery",
    Status.ARRIVED: "at your door now",
    Status.DELIVERED: "delivered",
    Status.FAILED: "not delivered yet",
    Status.CANCELLED: "cancelled",
}

PLACE: dict[SafeDropPlace, str] = {
    SafeDropPlace.FRONT_DOOR: "front door",
    SafeDropPlace.BACK_DOOR: "back door",
    SafeDropPlace.GARAGE: "garage",
    SafeDropPlace.RECEPTION: "reception",
    SafeDropPlace.MAILBOX: "mailbox",
    SafeDropPlace.NEIGHBOUR: "neighbour",
    SafeDropPlace.OTHER: "",
}

HANDED_OVER = "handed to you"

FAILED: dict[str, str] = {
    "not_home": "nobody was home",
    "refused": "the parcel was refused",
    "address_not_found": "we could not find the address",
    "no_access": "we could not get in",
    "damaged": "the parcel was damaged",
    "no_time": "we ran out of time today",
    "other": "something went wrong at the door",
}

REFUSAL: dict[str, str] = {
    "cutoff": "it is too close to your delivery time to change it now",
    "done": "your parcel has already been delivered",
    "closed": "this delivery can no longer be changed",
    "taken": "that time is no longer available",
    "wish": "no time is free then",
    "no_slots": "no other time is free in the next days; our team will contact you",
    "not_delivered": "we can only take a rating once your parcel has been delivered",
}


def pick[K](table: Mapping[K, str], locale: str) -> dict[K, str]:
    """`table` (English: the catalogs' message ids) in the most specific language we have for `locale`."""
    return {key: catalog.translate(locale, text) for key, text in table.items()}


def place(where: SafeDropPlace, detail: str, locale: str) -> str:
    """What the driver reads: the recipient's own words, or the preset's name when they gave none."""
    return detail.strip() or pick(PLACE, locale)[where]
