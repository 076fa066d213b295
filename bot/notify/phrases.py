"""Short localized phrases that go into message fields (statuses, reasons, places). No final full stop."""

from bot.domain.deliveries import Status
from bot.domain.intents import SafeDropPlace
from bot.notify.format import locale_chain

STATUS: dict[str, dict[Status, str]] = {
    "en": {
        Status.CREATED: "registered and waiting for a route",
        Status.PLANNED: "scheduled",
        Status.RESCHEDULED: "moved to a new time",
        Status.OUT_FOR_DELIVERY: "out for delivery",
        Status.ARRIVED: "at your door now",
        Status.DELIVERED: "delivered",
        Status.FAILED: "not delivered yet",
        Status.CANCELLED: "cancelled",
    },
    "de": {
        Status.CREATED: "angemeldet und wartet auf eine Tour",
        Status.PLANNED: "eingeplant",
        Status.RESCHEDULED: "auf eine neue Zeit verschoben",
        Status.OUT_FOR_DELIVERY: "unterwegs",
        Status.ARRIVED: "gerade an Ihrer Tür",
        Status.DELIVERED: "zugestellt",
        Status.FAILED: "noch nicht zugestellt",
        Status.CANCELLED: "storniert",
    },
}

PLACE: dict[str, dict[SafeDropPlace, str]] = {
    "en": {
        SafeDropPlace.FRONT_DOOR: "front door",
        SafeDropPlace.BACK_DOOR: "back door",
        SafeDropPlace.GARAGE: "garage",
        SafeDropPlace.RECEPTION: "reception",
        SafeDropPlace.MAILBOX: "mailbox",
        SafeDropPlace.NEIGHBOUR: "neighbour",
        SafeDropPlace.OTHER: "",
    },
    "de": {
        SafeDropPlace.FRONT_DOOR: "Haustür",
        SafeDropPlace.BACK_DOOR: "Hintertür",
        SafeDropPlace.GARAGE: "Garage",
        SafeDropPlace.RECEPTION: "Empfang",
        SafeDropPlace.MAILBOX: "Briefkasten",
        SafeDropPlace.NEIGHBOUR: "Nachbar",
        SafeDropPlace.OTHER: "",
    },
}

HANDED_OVER = {"en": "handed to you", "de": "persönlich übergeben"}

FAILED: dict[str, dict[str, str]] = {
    "en": {
        "not_home": "nobody was home",
        "refused": "the parcel was refused",
        "address_not_found": "we could not find the address",
        "no_access": "we could not get in",
        "damaged": "the parcel was damaged",
        "no_time": "we ran out of time today",
        "other": "something went wrong at the door",
    },
    "de": {
        "not_home": "niemand angetroffen",
        "refused": "die Annahme wurde verweigert",
        "address_not_found": "wir haben die Adresse nicht gefunden",
        "no_access": "wir kamen nicht hinein",
        "damaged": "das Paket war beschädigt",
        "no_time": "die Zeit hat heute nicht gereicht",
        "other": "an der Tür ist etwas schiefgegangen",
    },
}

REFUSAL: dict[str, dict[str, str]] = {
    "en": {
        "cutoff": "it is too close to your delivery time to change it now",
        "done": "your parcel has already been delivered",
        "closed": "this delivery can no longer be changed",
        "taken": "that time is no longer available",
        "wish": "no time is free then",
        "no_slots": "no other time is free in the next days; our team will contact you",
        "not_delivered": "we can only take a rating once your parcel has been delivered",
    },
    "de": {
        "cutoff": "Ihre Zustellung ist zu nah, um sie jetzt noch zu ändern",
        "done": "Ihr Paket wurde bereits zugestellt",
        "closed": "diese Sendung kann nicht mehr geändert werden",
        "taken": "diese Zeit ist nicht mehr frei",
        "wish": "zu dieser Zeit ist nichts frei",
        "no_slots": "in den nächsten Tagen ist keine andere Zeit frei; unser Team meldet sich bei Ihnen",
        "not_delivered": "eine Bewertung ist erst nach der Zustellung möglich",
    },
}


def pick[T](table: dict[str, T], locale: str) -> T:
    """The table of the most specific language we have for `locale` (de-AT -> de; unknown -> en)."""
    return next((table[tag] for tag in locale_chain(locale) if tag in table), table["en"])


def place(where: SafeDropPlace, detail: str, locale: str) -> str:
    """What the driver reads: the recipient's own words, or the preset's name when they gave none."""
    return detail.strip() or pick(PLACE, locale)[where]
