"""What a page may show of a recipient: phones masked and access codes hidden, unless an admin revealed them.

Hidden, a timeline entry marked secret (a driver's stop note, the recipient's code message) shows no
text at all; every other text has the delivery's current code blotted out wherever it turns up, and any
other code written in it ("key code 9753 under the mat", "3141 is my door code").
"""

import re
from dataclasses import dataclass

from bot.console.timeline import Entry
from bot.domain.access_codes import BLOT, hide_codes

__all__ = ["BLOT", "HIDDEN_CODE", "View", "hide_codes", "mask_phone"]

HIDDEN_CODE = "hidden: contains an access code"
_DIGIT = re.compile(r"\d")


def mask_phone(phone: str) -> str:
    """'+491512345678' -> '+49 151 ••• ••78': enough to tell numbers apart, not to call them."""
    digits = _DIGIT.findall(phone)
    if len(digits) < 8:
        return "•" * len(phone)
    head, tail = "".join(digits[:2]), "".join(digits[-2:])
    middle = "".join(digits[2:5])
    return f"{'+' if phone.startswith('+') else ''}{head} {middle} ••• ••{tail}"


@dataclass(frozen=True, slots=True)
class View:
    """How much of the recipient's data this page view may show."""

    revealed: bool = False
    code: str | None = None  # the delivery's access code, to blot out of texts

    def phone(self, phone: str) -> str:
        return phone if self.revealed else mask_phone(phone)

    def text(self, text: str) -> str:
        return text if self.revealed else hide_codes(text, self.code)

    def entry_text(self, entry: Entry) -> str:
        if entry.secret and not self.revealed:
            return HIDDEN_CODE if entry.text else ""
        return self.text(entry.text)
