"""Every message Doorstep sends, read top-down: kind -> who gets it, whether it is urgent, what it needs.

Templates live in bot/templates/{channel}/{locale}/{kind}.j2 and receive exactly the fields listed
here (plus the common ones), already formatted for the recipient's locale and time zone.
"""

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """The names of the channels Doorstep ships with. Code that handles any channel takes a `str` and
    reads the channel's entry in bot/channels/registry.py (where others are registered); the
    transport behind a channel (Twilio, Telegram, sandbox) is separate."""

    SMS = "sms"
    TELEGRAM = "telegram"


class Audience(StrEnum):
    RECIPIENT = "recipient"
    DRIVER = "driver"


class Kind(StrEnum):
    # Scheduled notices to recipients.
    PRE_DELIVERY = "pre-delivery"
    OUT_FOR_DELIVERY = "out-for-delivery"
    NEARBY = "nearby"
    DELAY = "delay"
    WINDOW_UPDATED = "window-updated"
    DELIVERED = "delivered"
    FAILED = "failed"
    # Answers to what a recipient wrote or pressed.
    CONFIRMED = "confirmed"
    SLOTS_OFFERED = "slots-offered"
    RESCHEDULED = "rescheduled"
    CHANGE_REFUSED = "change-refused"
    INSTRUCTIONS_ASKED = "instructions-asked"
    INSTRUCTIONS_SAVED = "instructions-saved"
    ACCESS_CODE_SAVED = "access-code-saved"
    STATUS = "status"
    HELP = "help"
    PERSON_REQUESTED = "person-requested"
    THANKED = "thanked"
    RATED = "rated"
    COMMENTED = "commented"
    NOT_RECEIVED = "not-received"
    OPTED_OUT = "opted-out"
    OPTED_IN = "opted-in"
    NOT_UNDERSTOOD = "not-understood"
    WHICH_DELIVERY = "which-delivery"
    STAFF_REPLY = "staff-reply"
    LINKED = "linked"  # a Telegram chat now follows the delivery
    # To drivers (Telegram).
    DRIVER_ROUTE = "driver-route"
    DRIVER_NOTES = "driver-notes"
    DRIVER_STOP = "driver-stop"  # the next stop, with Arrived / Delivered / Failed


@dataclass(frozen=True)
class KindSpec:
    audience: Audience
    urgent: bool  # urgent kinds ignore quiet hours
    fields: tuple[str, ...]


# Every template also gets: brand, name (first name of the person addressed), order_id.
COMMON = ("brand", "name", "order_id")
# Formatted values: `window` = "14:00-15:00", `day` = "Mon 23 Nov" / "Mo. 23. Nov.", `time` = "14:20".
KINDS: dict[Kind, KindSpec] = {
    Kind.PRE_DELIVERY: KindSpec(Audience.RECIPIENT, False, ("day", "window", "track_url")),
    # Urgent: quiet hours must not hold it past the van's departure, or "nearby" would come first.
    Kind.OUT_FOR_DELIVERY: KindSpec(Audience.RECIPIENT, True, ("window", "track_url")),
    Kind.NEARBY: KindSpec(Audience.RECIPIENT, True, ("minutes", "stops_away", "time")),
    Kind.DELAY: KindSpec(Audience.RECIPIENT, True, ("old_window", "window")),
    Kind.WINDOW_UPDATED: KindSpec(Audience.RECIPIENT, False, ("day", "old_window", "window")),
    Kind.DELIVERED: KindSpec(Audience.RECIPIENT, True, ("time", "place")),
    Kind.FAILED: KindSpec(Audience.RECIPIENT, True, ("reason", "slots")),
    Kind.CONFIRMED: KindSpec(Audience.RECIPIENT, True, ("day", "window")),
    Kind.SLOTS_OFFERED: KindSpec(Audience.RECIPIENT, True, ("slots",)),
    Kind.RESCHEDULED: KindSpec(Audience.RECIPIENT, True, ("day", "window")),
    Kind.CHANGE_REFUSED: KindSpec(Audience.RECIPIENT, True, ("reason",)),
    Kind.INSTRUCTIONS_ASKED: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.INSTRUCTIONS_SAVED: KindSpec(Audience.RECIPIENT, True, ("instructions", "standing")),
    Kind.ACCESS_CODE_SAVED: KindSpec(Audience.RECIPIENT, True, ()),  # no character of the code
    Kind.STATUS: KindSpec(Audience.RECIPIENT, True, ("status", "day", "window")),
    Kind.HELP: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.PERSON_REQUESTED: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.RATED: KindSpec(Audience.RECIPIENT, True, ("rating",)),
    Kind.COMMENTED: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.NOT_RECEIVED: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.OPTED_OUT: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.OPTED_IN: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.NOT_UNDERSTOOD: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.THANKED: KindSpec(Audience.RECIPIENT, True, ()),
    Kind.WHICH_DELIVERY: KindSpec(Audience.RECIPIENT, True, ("choices",)),
    Kind.STAFF_REPLY: KindSpec(Audience.RECIPIENT, True, ("text",)),
    Kind.LINKED: KindSpec(Audience.RECIPIENT, True, ("status", "day", "window")),
    Kind.DRIVER_ROUTE: KindSpec(Audience.DRIVER, True, ("day", "stops")),
    Kind.DRIVER_NOTES: KindSpec(Audience.DRIVER, True, ("stops",)),
    Kind.DRIVER_STOP: KindSpec(Audience.DRIVER, True, ("stop", "total")),
}
