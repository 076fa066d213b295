"""What a recipient wants, whatever channel it came from: the input of the use cases."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Protocol


class SafeDropPlace(StrEnum):
    FRONT_DOOR = "front_door"
    BACK_DOOR = "back_door"
    GARAGE = "garage"
    RECEPTION = "reception"
    MAILBOX = "mailbox"
    NEIGHBOUR = "neighbour"
    OTHER = "other"


@dataclass(frozen=True)
class Confirm:
    pass


@dataclass(frozen=True)
class AskSlots:
    """ "I want another time": offer the feasible ones."""


@dataclass(frozen=True)
class AskInstructions:
    """ "Where should we leave it?": tell them how to say so."""


@dataclass(frozen=True)
class Wish:
    """A time asked for in words ("tomorrow after 5"), in the recipient's local time; None is open."""

    day: date | None = None  # None: the delivery's own day
    after: time | None = None
    before: time | None = None


@dataclass(frozen=True)
class Reschedule:
    """Take offered slot number `slot` (1-based), a `window` pressed on a button, or a time asked for."""

    slot: int | None = None
    window: tuple[datetime, datetime] | None = None  # UTC; checked against what could be offered
    wish: Wish | None = None


@dataclass(frozen=True)
class SafeDrop:
    place: SafeDropPlace
    detail: str = ""  # the neighbour's name or house number, or the free text
    standing: bool = False  # for every delivery, not just this one


@dataclass(frozen=True)
class AccessCode:
    code: str


@dataclass(frozen=True)
class Rate:
    stars: int
    comment: str = ""


@dataclass(frozen=True)
class Comment:
    """Free text right after a rating: what the recipient wants to add to it."""

    text: str
    asks: bool = False  # a question or a request in it ("call me please"): a person reads it


@dataclass(frozen=True)
class NotReceived:
    pass


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Person:
    """Wants a person: asked for one, or asked something we cannot answer (`question`, their words)."""

    question: str = ""


@dataclass(frozen=True)
class Thanks:
    """Thanks or praise, nothing asked: thanked back, never taken as a confirmation."""


@dataclass(frozen=True)
class NotUnderstood:
    text: str


@dataclass(frozen=True)
class Several:
    """One message that does more than one thing ("yes fine, the code is 4711"): each part, in order.
    How to hand it over comes before the answer about the time, which may ask something back."""

    parts: "tuple[Intent, ...]"


type Intent = (
    Confirm
    | AskSlots
    | AskInstructions
    | Reschedule
    | SafeDrop
    | AccessCode
    | Rate
    | Comment
    | NotReceived
    | OptOut
    | OptIn
    | Status
    | Help
    | Person
    | Thanks
    | NotUnderstood
    | Several
)


class Reader(Protocol):
    """What reads a recipient's words as an intent (bot/handlers/sms_text.parse, given to the
    conversation by the composition root): `asked` is the question last put to them, `today` their
    local date."""

    def __call__(
        self,
        text: str,
        asked: Mapping[str, Any] | None = None,
        today: date | None = None,
        *,
        opted_out: bool = False,
    ) -> Intent: ...
