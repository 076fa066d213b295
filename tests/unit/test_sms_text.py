"""The keyword layer of SMS replies: numbers against the last question, carrier keywords, safe-drop places."""

from datetime import date, time, timedelta

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
        ("who is this", None, intents.Help()),
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
    ("text", "expected"),
    [
        ("\u200bSTOP", intents.OptOut()),
        ("ST\u200bOP", intents.OptOut()),
        ("\ufeffStop.", intents.OptOut()),
        ("\u202eSTOP", intents.OptOut()),
        ("HE\u200dLP", intents.Help()),
        ("\u200b\u200c\u2060", intents.NotUnderstood("\u200b\u200c\u2060")),
    ],
)
def test_characters_nobody_sees_do_not_hide_a_keyword(text: str, expected: intents.Intent) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "place", "detail", "standing"),
    [
        ("SAFE back door", SafeDropPlace.BACK_DOOR, "back door", False),
        ("SAFE back door, always", SafeDropPlace.BACK_DOOR, "back door", True),
        ("safe: always at the garage", SafeDropPlace.GARAGE, "at the garage", True),
        ("ABLAGE Nachbar Nr. 12", SafeDropPlace.NEIGHBOUR, "Nachbar Nr. 12", False),
        ("Ablage immer Briefkasten", SafeDropPlace.MAILBOX, "Briefkasten", True),
        ("leave behind the bin", SafeDropPlace.OTHER, "leave behind the bin", False),
        ("Leave it with no. 12 please", SafeDropPlace.NEIGHBOUR, "Leave it with no. 12 please", False),
        ("behind the bin", SafeDropPlace.OTHER, "behind the bin", False),
        ("bitte immer beim Nachbarn abgeben", SafeDropPlace.NEIGHBOUR, "bitte beim Nachbarn abgeben", True),
    ],
)
def test_safe_drop_places(text: str, place: SafeDropPlace, detail: str, standing: bool) -> None:
    assert parse(text) == intents.SafeDrop(place, detail, standing=standing)


MONDAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "day", "after", "before"),
    [
        ("tomorrow after 5", MONDAY + timedelta(days=1), time(17), None),
        ("Friday morning", date(2026, 12, 4), time(8), time(12)),
        ("morgen ab 17 Uhr", MONDAY + timedelta(days=1), time(17), None),
        ("not home until 6", None, time(18), None),
        ("Bin bis 18 Uhr arbeiten, danach jederzeit", None, time(18), None),
        ("between 2 and 4 on Wednesday please", date(2026, 12, 2), time(14), time(16)),
        ("am 3.12. vormittags", date(2026, 12, 3), time(8), time(12)),
        ("ab halb 6", None, time(17, 30), None),
        ("Not tomorrow, Thursday evening would be better", date(2026, 12, 3), time(17), time(21)),
    ],
)
def test_times_in_words_are_read_as_a_wish(
    text: str, day: date | None, after: time, before: time | None
) -> None:
    assert parse(text, None, MONDAY) == intents.Reschedule(wish=intents.Wish(day, after, before))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the gate code is 4711#", intents.AccessCode("4711#")),
        ("Code fürs Tor 0815", intents.AccessCode("0815")),
        ("my order number is 12345678", intents.NotUnderstood("my order number is 12345678")),
        ("not today", intents.AskSlots()),
        ("Kommt das heute noch??", intents.Status()),
        ("please stop texting me at night", intents.NotUnderstood("please stop texting me at night")),
        ("Tracking says left at front door. It's not there.", intents.NotReceived()),
        ("5 stars", intents.Rate(5)),
    ],
)
def test_free_text(text: str, expected: intents.Intent) -> None:
    assert parse(text, None, MONDAY) == expected


def test_a_number_beyond_the_slots_offered_is_not_a_choice() -> None:
    asked = {"question": "slot", "slots": [["a", "b"], ["c", "d"]]}
    assert parse("2", asked) == intents.Reschedule(slot=2)
    assert parse("the second one please", asked) == intents.Reschedule(slot=2)
    assert parse("3", asked) == intents.NotUnderstood("3")


def test_yes_re_enables_a_number_that_sent_stop_and_confirms_otherwise() -> None:
    assert parse("YES", opted_out=True) == intents.OptIn()
    assert parse("yes") == intents.Confirm()
    assert parse(" start ") == intents.OptIn()


@pytest.mark.parametrize(
    ("text", "asked", "expected"),
    [
        # a negative never confirms; a yes idiom with "no" in it still does
        ("ich bin leider erst um 5 zu Hause, vorher ist niemand da", None, None),
        ("yes no problem", None, intents.Confirm()),
        ("Ja, kein Problem", None, intents.Confirm()),
        # a number word is a rating on its own, or with a star; not inside a sentence
        ("fünf ⭐", {"question": "rating"}, intents.Rate(5)),
        ("five, driver was lovely", {"question": "rating"}, intents.Rate(5, "driver was lovely")),
        ("Fünf! Super netter Fahrer", {"question": "rating"}, intents.Rate(5, "Super netter Fahrer")),
        # "what is doorstep?" asks who we are (the brand), "leave it on the doorstep" names a place
        ("what is doorstep? whose parcel is this", None, intents.Help()),
        # the lines a message quotes are ours, not theirs
        (
            "> Doorstep: Reply SAFE and the place, e.g. SAFE back door. CODE 1234\nYes",
            None,
            intents.Confirm(),
        ),
        # a question beside an instruction is answered too, or handed to a person
        (
            "where is it? and can you leave it in the garage",
            None,
            intents.Several(
                (
                    intents.SafeDrop(SafeDropPlace.GARAGE, "where is it? and can you leave it in the garage"),
                    intents.Status(),
                )
            ),
        ),
        (
            "Yes that's fine. Do I need to sign for it?",
            None,
            intents.Several((intents.Confirm(), intents.Person("Do I need to sign for it?"))),
        ),
        (
            "can you leave it in the garage?",
            None,
            intents.SafeDrop(SafeDropPlace.GARAGE, "can you leave it in the garage?"),
        ),
    ],
)
def test_readings_that_must_not_act_on_half_a_message(
    text: str, asked: dict[str, str] | None, expected: intents.Intent | None
) -> None:
    got = parse(text, asked, date(2026, 11, 30))
    if expected is None:
        assert not isinstance(got, intents.Confirm), got
        assert isinstance(got, intents.Reschedule | intents.NotUnderstood), got
    else:
        assert got == expected


def test_one_of_the_best_is_no_one_star_rating() -> None:
    got = parse("one of the best deliveries ever", {"question": "rating"}, date(2026, 11, 30))
    assert not isinstance(got, intents.Rate)


def test_erst_um_is_a_time_from_which() -> None:
    got = parse("bin erst um 5 zu Hause", None, date(2026, 11, 30))
    assert isinstance(got, intents.Reschedule)
    assert got.wish is not None
    assert got.wish.after == time(17, 0)
