"""The keyword layer of SMS replies: numbers against the last question, carrier keywords, safe-drop places."""

import pytest

from bot.domain import intents
from bot.domain.intents import SafeDropPlace
from bot.handlers.sms_text import parse


@pytest.mark.parametrize(
    ("text", "asked", "expected"),
    [
        ("1", None, intents.Confirm()),
        (" 2 ", None, intents.AskSlots()),
        ("3", None, intents.AskInstructions()),
        ("2", {"question": "slot"}, intents.Reschedule(slot=2)),
        ("4", {"question": "rating"}, intents.Rate(4)),
        ("stop", None, intents.OptOut()),
        ("Stop.", None, intents.OptOut()),
        ("HILFE", None, intents.Help()),
        ("ok thanks", None, intents.Confirm()),
        ("Ja, danke!", None, intents.Confirm()),
        ("who is this", None, intents.NotUnderstood("who is this")),
        ("Yes!", None, intents.Confirm()),
        ("where is it?", None, intents.Status()),
        ("CODE 4711", None, intents.AccessCode("4711")),
        ("Tor: 12#34", None, intents.AccessCode("12#34")),
        ("never arrived", None, intents.NotReceived()),
        ("Lovely driver, thanks!", {"question": "comment"}, intents.Comment("Lovely driver, thanks!")),
        ("STOP", {"question": "comment"}, intents.OptOut()),
        ("never arrived", {"question": "comment"}, intents.NotReceived()),
    ],
)
def test_keywords(text: str, asked: dict[str, str] | None, expected: intents.Intent) -> None:
    assert parse(text, asked) == expected


@pytest.mark.parametrize(
    ("text", "place", "detail", "standing"),
    [
        ("SAFE back door", SafeDropPlace.BACK_DOOR, "back door", False),
        ("SAFE back door, always", SafeDropPlace.BACK_DOOR, "back door", True),
        ("safe: always at the garage", SafeDropPlace.GARAGE, "at the garage", True),
        ("ABLAGE Nachbar Nr. 12", SafeDropPlace.NEIGHBOUR, "Nachbar Nr. 12", False),
        ("Ablage immer Briefkasten", SafeDropPlace.MAILBOX, "Briefkasten", True),
        ("leave behind the bin", SafeDropPlace.OTHER, "behind the bin", False),
    ],
)
def test_safe_drop_places(text: str, place: SafeDropPlace, detail: str, standing: bool) -> None:
    assert parse(text) == intents.SafeDrop(place, detail, standing=standing)
